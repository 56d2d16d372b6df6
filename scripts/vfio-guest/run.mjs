#!/usr/bin/env node
// The VFIO test tier: boots a QEMU guest (Debian 12's QEMU 7.2, TCG, emulated Intel IOMMU, QEMU's edu) built from Debian's archive and runs the checkout's VFIO checks inside it.
//
// Steps (ENVIRONMENT.md, "Real VFIO inside a QEMU guest"): make sure qemu-system-x86 and cpio
// are installed (apt-get when root, a clear failure otherwise); resolve the current Debian
// kernel package (`apt-cache depends linux-image-amd64`), `apt-get download` it and
// busybox-static into .vfio-cache/, unpack only the kernel, its config and the modules the
// guest needs; build an initrd (busybox, modules, init); boot QEMU with edu at 00:04.0 and
// the host root shared read-only over 9p plus a writable results share; inside, chroot into
// the host root and run scripts/vfio-guest/guest.sh on this checkout with the host's node.
// The guest reports its verdict through isa-debug-exit. Anything missing is a FAILURE with a
// message, never a silent pass. Exit code: 0 when the guest reported success.
//
// Usage: node scripts/vfio-guest/run.mjs [--timeout SECONDS] [--keep] [--devices rich] [-- GUEST_ARGS...]
// `--devices rich` adds the PCI Express topology of RICH_DEVICES; `-- capture` copies the guest's
// sysfs tree and lspci's output to the results share (scripts/vfio-guest/capture.sh).

import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cached, DebianError, download, ensureTools, kernelPackage, moduleClosure, packInitramfs, sh, unpack } from '../lib/debian.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const checkout = resolve(here, '..', '..');
const cache = process.env.RAWPCI_VFIO_CACHE ?? join(checkout, '.vfio-cache');
const args = process.argv.slice(2);
const dash = args.indexOf('--');
const guestArgs = dash >= 0 ? args.slice(dash + 1) : [];
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 && (dash < 0 || i < dash) ? args[i + 1] : dflt;
};
const timeoutS = Number(opt('--timeout', '300'));
const deviceSet = opt('--devices', 'edu');
if (deviceSet !== 'edu' && deviceSet !== 'rich') die(`--devices ${deviceSet}: the device sets are 'edu' (default) and 'rich'`);

/**
 * The rich device set (QEMU 7.2, q35): root ports (generic and ioh3420), a switch (upstream +
 * downstream ports), a PCIe-to-PCI bridge and a DMI-to-PCI bridge with a conventional PCI bridge
 * (SHPC) and conventional devices behind them, NVMe with SR-IOV (capture.sh enables its VFs),
 * virtio with ATS and AER, e1000e, xHCI, HD audio, a PCIe expander bridge, and CXL (a CXL host
 * bridge, root port, switch and type-3 memory devices); q35's own ICH9 functions (LPC, SATA
 * AHCI, SMBus) are always there. RICH_DRIVERS are loaded so the functions have drivers bound.
 */
const RICH_DEVICES = [
  'pcie-root-port,id=rp1,chassis=1,slot=1,bus=pcie.0,addr=08.0',
  'pcie-root-port,id=rp2,chassis=2,slot=2,bus=pcie.0,addr=09.0',
  'pcie-root-port,id=rp3,chassis=3,slot=3,bus=pcie.0,addr=0a.0',
  'ioh3420,id=rp4,chassis=5,slot=5,bus=pcie.0,addr=0e.0',
  'nvme-subsys,id=nvmesub,nqn=rawpci',
  'nvme,serial=rawpci0,bus=rp1,subsys=nvmesub,sriov_max_vfs=2,sriov_vq_flexible=4,sriov_vi_flexible=2,max_ioqpairs=8,msix_qsize=8',
  'x3130-upstream,id=up1,bus=rp2',
  'xio3130-downstream,id=dn1,bus=up1,chassis=4,slot=4',
  'virtio-net-pci,bus=dn1,disable-legacy=on,ats=on,aer=on',
  'e1000e,bus=rp3',
  'virtio-rng-pci,bus=rp4,disable-legacy=on',
  'pcie-pci-bridge,id=pb1,bus=pcie.0,addr=0b.0',
  'ich9-intel-hda,bus=pb1,addr=01.0',
  'qemu-xhci,bus=pcie.0,addr=0c.0',
  'i82801b11-bridge,id=dmi1,bus=pcie.0,addr=0d.0',
  'pci-bridge,id=pcib1,chassis_nr=6,bus=dmi1,addr=01.0',
  'rtl8139,bus=pcib1,addr=02.0',
  'pxb-pcie,id=pxb1,bus_nr=0x20,bus=pcie.0,addr=0f.0',
  'pcie-root-port,id=rp5,chassis=7,slot=7,bus=pxb1,addr=00.0',
  'virtio-rng-pci,bus=rp5,disable-legacy=on',
  'pxb-cxl,id=cxl1,bus_nr=0x30,bus=pcie.0,addr=10.0',
  'cxl-rp,id=crp0,port=0,chassis=8,slot=8,bus=cxl1',
  'cxl-type3,id=cxlmem0,bus=crp0,memdev=cxlmem0,lsa=cxllsa0',
  'cxl-rp,id=crp1,port=1,chassis=9,slot=9,bus=cxl1',
  'cxl-upstream,id=cxlup1,bus=crp1',
  'cxl-downstream,id=cxldn1,port=0,chassis=10,slot=10,bus=cxlup1',
  'cxl-type3,id=cxlmem1,bus=cxldn1,memdev=cxlmem1,lsa=cxllsa1',
];
/** QEMU options the rich set needs besides its -device list: CXL on, a fixed memory window, the type-3 devices' memory. */
const RICH_QEMU_ARGS = [
  '-machine',
  'cxl=on,cxl-fmw.0.targets.0=cxl1,cxl-fmw.0.size=4G',
  ...['cxlmem0', 'cxllsa0', 'cxlmem1', 'cxllsa1'].flatMap((id) => ['-object', `memory-backend-ram,id=${id},size=${id.includes('lsa') ? '1M' : '256M'}`]),
];
/** Drivers the rich set loads (with what modules.dep says they need), so lspci -k shows drivers in use and kernel modules. */
const RICH_DRIVERS = [
  'nvme',
  'e1000e',
  'virtio_net',
  'virtio_rng',
  'xhci_pci',
  'snd_hda_intel',
  'ahci',
  'i2c_i801',
  'lpc_ich',
  '8139cp',
  'cxl_pci',
  'cxl_acpi',
  'cxl_mem',
];
const t0 = Date.now();
const log = (msg) => console.error(`[vfio-tier +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

/** Fails the tier with a message naming the cause and the fix. */
function die(msg) {
  console.error(`vfio tier FAILED: ${msg}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// ---- 1. host tools ----
/** Host commands the tier runs, and the Debian package of each (depmod only for the rich set). */
const TOOLS = { 'qemu-system-x86_64': 'qemu-system-x86', cpio: 'cpio', ...(deviceSet === 'rich' ? { depmod: 'kmod' } : {}) };

// ---- 2. guest kernel and busybox from Debian's archive ----
/** Guest modules in load order (plain insmod: no modules.dep in the package). */
const MODULES = [
  'drivers/virtio/virtio_ring',
  'drivers/virtio/virtio',
  'drivers/virtio/virtio_pci_modern_dev',
  'drivers/virtio/virtio_pci_legacy_dev',
  'drivers/virtio/virtio_pci',
  'net/9p/9pnet',
  'net/9p/9pnet_virtio',
  'fs/netfs/netfs',
  'fs/fscache/fscache',
  'fs/9p/9p',
  'virt/lib/irqbypass',
  'drivers/vfio/vfio',
  'drivers/vfio/vfio_iommu_type1',
  'drivers/vfio/vfio_virqfd',
  'drivers/vfio/pci/vfio-pci-core',
  'drivers/vfio/pci/vfio-pci',
  'drivers/uio/uio',
  'drivers/uio/uio_pci_generic',
];

function fetchGuest() {
  const debs = join(cache, 'debs');
  mkdirSync(debs, { recursive: true });
  const kpkg = kernelPackage('linux-image-amd64');
  const kdir = cached(join(cache, kpkg), (dir) => {
    const deb = download(kpkg, debs, { log });
    log(`unpacking ${kpkg} (kernel + ${MODULES.length} modules)`);
    unpack(deb, dir, ['./boot/vmlinuz-*', './boot/config-*', ...MODULES.map((m) => `./lib/modules/*/kernel/${m}.ko`)]);
  });
  const vmlinuzOf = () => (existsSync(join(kdir, 'boot')) ? readdirSync(join(kdir, 'boot')).find((f) => f.startsWith('vmlinuz-')) : undefined);
  const vmlinuz = vmlinuzOf();
  if (!vmlinuz) die(`${kpkg} has no boot/vmlinuz-*`);
  const release = vmlinuz.slice('vmlinuz-'.length);
  const bbdir = join(cache, 'busybox');
  if (!existsSync(join(bbdir, 'bin', 'busybox'))) {
    unpack(download('busybox-static', debs, { log }), bbdir, ['./bin/busybox']);
  }
  const g = {
    kpkg,
    release,
    vmlinuz: join(kdir, 'boot', vmlinuz),
    modules: join(kdir, 'lib', 'modules', release, 'kernel'),
    busybox: join(bbdir, 'bin', 'busybox'),
  };
  if (deviceSet === 'rich') g.full = fullModules(kpkg, release, debs);
  return g;
}

/**
 * The rich set's drivers: the kernel package's whole modules tree, unpacked once, with depmod's
 * indexes (modules.dep, modules.alias and their .bin forms) built for it, so the guest loads
 * drivers with their dependencies and lspci -k finds `Kernel modules:` as libkmod does on an
 * installed kernel. Returns the directory holding lib/modules/RELEASE.
 */
function fullModules(kpkg, release, debs) {
  return cached(join(cache, `${kpkg}-full`), (dir) => {
    const deb = download(kpkg, debs, { log });
    log(`unpacking all of ${kpkg}'s modules and running depmod (rich set)`);
    unpack(deb, dir, ['./lib/modules']);
    sh(`depmod -b '${dir}' '${release}'`, 'depmod');
  });
}

// ---- 3. initrd ----
const INIT = `#!/bin/busybox sh
/bin/busybox mkdir -p /proc /sys /dev /host /results /usr/bin /usr/sbin /sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
verdict() { echo "rawpci-guest: exit $1"; printf "\\\\$(printf %03o "$1")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null; poweroff -f; }
for m in $(cat /modules.order); do insmod /modules/$m.ko || { echo "rawpci-guest: insmod $m failed"; verdict 90; }; done
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 hostroot /host || verdict 91
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000 results /host/tmp || verdict 92
for d in dev proc sys; do mount --bind /$d /host/$d || verdict 93; done
DIR=$(sed -n 's/.*rawpci.dir=\\([^ ]*\\).*/\\1/p' /proc/cmdline)
# The checkout has its own share: it may live on a path the results share hides (/tmp) or on
# another filesystem than the root. Under /tmp its mount point is made in the writable share.
mkdir -p /host$DIR 2>/dev/null
mount -t 9p -o trans=virtio,version=9p2000.L,ro,cache=loose,msize=512000 checkout /host$DIR || verdict 94
if grep -q "'capture'" /guest-args; then
  # Outside the chroot: lspci's libkmod then reads this kernel's depmod indexes (/lib/modules).
  echo "rawpci-guest: kernel $(uname -r), capturing the PCI tree"
  LSPCI="/host$(cat /host-loader) --library-path /host/lib/x86_64-linux-gnu /host$(cat /host-lspci)" IDS=/host/usr/share/misc/pci.ids \
    sh /host$DIR/scripts/vfio-guest/capture.sh /host/tmp/capture && { echo "guest: PASS capture"; verdict 0; }
  echo "guest: FAIL capture"
  verdict 1
fi
echo "rawpci-guest: kernel $(uname -r), chroot to the host root, checkout $DIR"
chroot /host /bin/sh -c "cd $DIR && exec /bin/sh scripts/vfio-guest/guest.sh $(cat /guest-args)"
verdict $?
`;

function buildInitrd(g, work) {
  const root = join(work, 'initrd');
  rmSync(root, { recursive: true, force: true });
  mkdirSync(join(root, 'bin'), { recursive: true });
  mkdirSync(join(root, 'modules'), { recursive: true });
  copyFileSync(g.busybox, join(root, 'bin', 'busybox'));
  chmodSync(join(root, 'bin', 'busybox'), 0o755);
  const order = [];
  for (const m of MODULES) {
    const base = m.split('/').pop();
    const src = join(g.modules, `${m}.ko`);
    if (!existsSync(src)) die(`${src} is missing from ${g.kpkg}: delete ${cache} and retry`);
    copyFileSync(src, join(root, 'modules', `${base}.ko`));
    order.push(base);
  }
  if (g.full) {
    // The rich set: RICH_DRIVERS and their dependencies after the base modules, and depmod's
    // indexes where libkmod looks for them (lspci -k runs outside the chroot in capture mode).
    const modDir = join(g.full, 'lib', 'modules', g.release);
    const have = new Set(order);
    for (const rel of moduleClosure(modDir, RICH_DRIVERS)) {
      const base = rel.split('/').pop().replace(/\.ko$/, '');
      if (have.has(base)) continue;
      copyFileSync(join(modDir, rel), join(root, 'modules', `${base}.ko`));
      order.push(base);
      have.add(base);
    }
    const idx = join(root, 'lib', 'modules', g.release);
    mkdirSync(idx, { recursive: true });
    for (const f of readdirSync(modDir)) if (f.startsWith('modules.')) copyFileSync(join(modDir, f), join(idx, f));
  }
  writeFileSync(join(root, 'modules.order'), `${order.join('\n')}\n`);
  if (guestArgs.includes('capture')) {
    // The capture runs the host's lspci through the host's dynamic loader from the 9p share.
    const lspci = sh('command -v lspci || true', 'finding lspci').trim();
    const loader = '/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2';
    if (!lspci) die("capture needs the host's lspci: apt-get install pciutils");
    if (!existsSync(loader)) die(`capture runs lspci through ${loader}, which this host lacks (not x86-64 Debian?)`);
    writeFileSync(join(root, 'host-lspci'), lspci);
    writeFileSync(join(root, 'host-loader'), loader);
  }
  writeFileSync(join(root, 'guest-args'), guestArgs.map((a) => `'${a.replace(/'/g, '')}'`).join(' '));
  writeFileSync(join(root, 'init'), INIT);
  chmodSync(join(root, 'init'), 0o755);
  const initrd = join(work, 'initrd.cpio.gz');
  return packInitramfs(root, initrd);
}

// ---- 4. boot ----
async function boot(g, initrd, results) {
  const qemuArgs = [
    '-accel',
    'tcg,thread=multi',
    '-cpu',
    'max',
    '-machine',
    'q35,kernel-irqchip=split',
    '-smp',
    '2',
    '-m',
    '1024',
    '-nodefaults',
    '-no-user-config',
    '-display',
    'none',
    '-nographic',
    '-serial',
    'stdio',
    '-monitor',
    'none',
    '-no-reboot',
    '-device',
    'intel-iommu,intremap=on',
    '-device',
    'edu,addr=04.0',
    // Two functions of one multifunction slot: without ACS they share an IOMMU group, the real-kernel case of a GPU and its audio function (cli-checks.sh attaches them together).
    '-device',
    'edu,addr=05.0,multifunction=on',
    '-device',
    'edu,addr=05.1',
    '-device',
    'isa-debug-exit,iobase=0xf4,iosize=0x04',
    '-virtfs',
    'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-virtfs',
    `local,path=${results},mount_tag=results,security_model=none,multidevs=remap`,
    '-virtfs',
    `local,path=${checkout},mount_tag=checkout,security_model=none,readonly=on,multidevs=remap`,
    // After the 9p devices, which QEMU would otherwise plug into the newest bus (a CXL or expander host bridge takes only ports).
    ...(deviceSet === 'rich' ? [...RICH_QEMU_ARGS, ...RICH_DEVICES.flatMap((d) => ['-device', d])] : []),
    '-kernel',
    g.vmlinuz,
    '-initrd',
    initrd,
    '-append',
    `console=ttyS0 intel_iommu=on panic=-1 quiet rawpci.dir=${checkout}`,
  ];
  log(`booting QEMU (timeout ${timeoutS} s)`);
  const child = spawn('timeout', ['--kill-after=5', String(timeoutS), 'qemu-system-x86_64', ...qemuArgs], { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines = [];
  const take = (buf) => {
    const s = buf.toString('utf8');
    process.stdout.write(s);
    lines.push(s);
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  const code = await new Promise((res) => child.on('close', (c) => res(c)));
  return { code, output: lines.join('') };
}

// ---- main ----
// The shared Debian steps throw DebianError: the tier's FAILED line, not a stack trace.
process.on('uncaughtException', (e) => {
  if (e instanceof DebianError) die(e.message);
  throw e;
});
ensureTools(TOOLS, { log });
if (!existsSync(join(checkout, 'dist', 'r0', 'worker.js'))) die(`${checkout}/dist is not built: run 'npx tsc -p tsconfig.json' first`);
const g = fetchGuest();
const work = join(cache, 'work');
mkdirSync(work, { recursive: true });
const initrd = buildInitrd(g, work);
const results = join(cache, 'results');
rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });
log(`guest ready: ${g.kpkg}`);
const { code, output } = await boot(g, initrd, results);
const secs = () => ((Date.now() - t0) / 1000).toFixed(1);
// Counts for CI: each ava test in the guest, and each other guest check (demo, cli), by name.
const avaOk = (output.match(/^\s+ok \d+ /gm) ?? []).length;
const avaFail = (output.match(/^\s+not ok \d+ /gm) ?? []).length;
const checksOk = (output.match(/^guest: PASS (?!ava-vfio)/gm) ?? []).length;
const checksFail = (output.match(/^guest: FAIL (?!ava-vfio)/gm) ?? []).length;
let passed = avaOk + checksOk;
let failed = avaFail + checksFail;
if (code === 124 || code === 137) die(`the guest did not finish within ${timeoutS} s (killed by timeout)`);
// QEMU exits 1 both for the guest's exit code 0 and for its own start-up errors: only the guest's verdict line tells them apart.
const verdict = /^rawpci-guest: exit (\d+)/m.exec(output);
if (code !== 1 || verdict?.[1] !== '0') {
  console.error(
    `vfio tier FAILED: ${verdict ? `the guest reported exit code ${verdict[1]} (see its output above)` : `QEMU exited with ${code} without a guest verdict (QEMU failed to start, or the guest crashed)`}, tier took ${secs()} s`,
  );
  console.log(`${passed} passed, ${Math.max(1, failed)} failed`);
  process.exit(1);
}
const obs = join(results, 'edu-observations.json');
if (guestArgs.length === 0 || guestArgs.includes('tests')) {
  log('differential check: simulated edu vs QEMU edu through VFIO');
  const d = spawnSync(process.execPath, [join(here, 'differential.mjs'), obs], { stdio: 'inherit', env: { ...process.env, RAWPCI_LOG: 'error' } });
  if (d.status === 0) passed++;
  else failed++;
}
log(`guest ${failed ? 'or differential check FAILED' : 'reported success'}; tier took ${secs()} s; results in ${results}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
