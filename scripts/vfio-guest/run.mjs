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
const timeoutS = Number(opt('--timeout', '170'));
const deviceSet = opt('--devices', 'edu');
if (deviceSet !== 'edu' && deviceSet !== 'rich') die(`--devices ${deviceSet}: the device sets are 'edu' (default) and 'rich'`);

/**
 * The rich device set (QEMU 7.2, q35): root ports, a switch (upstream + downstream ports), a
 * PCIe-to-PCI bridge with a conventional device behind it, NVMe, virtio with ATS, e1000e, xHCI,
 * HD audio; q35's own ICH9 functions (LPC, SATA AHCI, SMBus) are always there.
 */
const RICH_DEVICES = [
  'pcie-root-port,id=rp1,chassis=1,slot=1,bus=pcie.0,addr=08.0',
  'pcie-root-port,id=rp2,chassis=2,slot=2,bus=pcie.0,addr=09.0',
  'pcie-root-port,id=rp3,chassis=3,slot=3,bus=pcie.0,addr=0a.0',
  'nvme,serial=rawpci0,bus=rp1',
  'x3130-upstream,id=up1,bus=rp2',
  'xio3130-downstream,id=dn1,bus=up1,chassis=4,slot=4',
  'virtio-net-pci,bus=dn1,disable-legacy=on,ats=on',
  'e1000e,bus=rp3',
  'pcie-pci-bridge,id=pb1,bus=pcie.0,addr=0b.0',
  'ich9-intel-hda,bus=pb1,addr=01.0',
  'qemu-xhci,bus=pcie.0,addr=0c.0',
];
const t0 = Date.now();
const log = (msg) => console.error(`[vfio-tier +${((Date.now() - t0) / 1000).toFixed(1)}s] ${msg}`);

/** Fails the tier with a message naming the cause and the fix. */
function die(msg) {
  console.error(`vfio tier FAILED: ${msg}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

function sh(cmd, what) {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) die(`${what} failed (${cmd}): ${(r.stderr || r.stdout || '').trim().split('\n').slice(-5).join(' | ')}`);
  return r.stdout;
}

// ---- 1. host tools ----
function ensureTools() {
  const missing = ['qemu-system-x86_64', 'cpio', 'dpkg-deb', 'apt-get'].filter((c) => !have(c));
  if (missing.length === 0) return;
  if (missing.includes('apt-get') || missing.includes('dpkg-deb')) die(`${missing.join(', ')} missing: this tier needs a Debian-like host (apt-get, dpkg-deb)`);
  if (process.getuid?.() !== 0)
    die(`${missing.join(', ')} missing and not root: run 'sudo apt-get install -y --no-install-recommends qemu-system-x86 cpio' first`);
  log(`installing qemu-system-x86 cpio (missing: ${missing.join(', ')})`);
  const r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'qemu-system-x86', 'cpio'], {
    encoding: 'utf8',
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
  });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'ignore' });
    const r2 = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'qemu-system-x86', 'cpio'], {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (r2.status !== 0) die(`apt-get install qemu-system-x86 cpio failed: ${r2.stderr.trim().split('\n').slice(-3).join(' | ')}`);
  }
  const still = ['qemu-system-x86_64', 'cpio'].filter((c) => !have(c));
  if (still.length) die(`${still.join(', ')} still missing after apt-get install`);
}

// ---- 2. guest kernel and busybox from Debian's archive ----
function kernelPackage() {
  const out = sh('apt-cache depends linux-image-amd64', 'resolving the kernel package');
  const m = out.match(/Depends:\s+(linux-image-\d[^\s]*-amd64)/);
  if (!m) die(`'apt-cache depends linux-image-amd64' names no linux-image-6.x-amd64 package (run 'apt-get update'): ${out.trim()}`);
  return m[1];
}

function download(pkg, debs) {
  const have = readdirSync(debs).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (have) return join(debs, have);
  log(`apt-get download ${pkg}`);
  let r = spawnSync('apt-get', ['download', pkg], { cwd: debs, encoding: 'utf8' });
  if (r.status !== 0) {
    spawnSync('apt-get', ['update'], { stdio: 'ignore' });
    r = spawnSync('apt-get', ['download', pkg], { cwd: debs, encoding: 'utf8' });
  }
  const got = readdirSync(debs).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (r.status !== 0 || !got)
    die(`'apt-get download ${pkg}' failed (is Debian's archive reachable?): ${(r.stderr || '').trim().split('\n').slice(-3).join(' | ')}`);
  return join(debs, got);
}

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
  const kpkg = kernelPackage();
  const kdir = join(cache, kpkg);
  const vmlinuzOf = () => (existsSync(join(kdir, 'boot')) ? readdirSync(join(kdir, 'boot')).find((f) => f.startsWith('vmlinuz-')) : undefined);
  if (!vmlinuzOf() || !existsSync(join(kdir, '.complete'))) {
    const deb = download(kpkg, debs);
    log(`unpacking ${kpkg} (kernel + ${MODULES.length} modules)`);
    rmSync(kdir, { recursive: true, force: true });
    mkdirSync(kdir, { recursive: true });
    const wild = ['./boot/vmlinuz-*', './boot/config-*', ...MODULES.map((m) => `./lib/modules/*/kernel/${m}.ko`)];
    sh(`dpkg-deb --fsys-tarfile '${deb}' | tar -x -C '${kdir}' --wildcards ${wild.map((w) => `'${w}'`).join(' ')}`, `unpacking ${deb}`);
    writeFileSync(join(kdir, '.complete'), 'ok\n');
  }
  const vmlinuz = vmlinuzOf();
  if (!vmlinuz) die(`${kpkg} has no boot/vmlinuz-*`);
  const release = vmlinuz.slice('vmlinuz-'.length);
  const bbdir = join(cache, 'busybox');
  if (!existsSync(join(bbdir, 'bin', 'busybox'))) {
    const deb = download('busybox-static', debs);
    mkdirSync(bbdir, { recursive: true });
    sh(`dpkg-deb --fsys-tarfile '${deb}' | tar -x -C '${bbdir}' ./bin/busybox`, `unpacking ${deb}`);
  }
  return { kpkg, vmlinuz: join(kdir, 'boot', vmlinuz), modules: join(kdir, 'lib', 'modules', release, 'kernel'), busybox: join(bbdir, 'bin', 'busybox') };
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
  writeFileSync(join(root, 'modules.order'), `${order.join('\n')}\n`);
  writeFileSync(join(root, 'guest-args'), guestArgs.map((a) => `'${a.replace(/'/g, '')}'`).join(' '));
  writeFileSync(join(root, 'init'), INIT);
  chmodSync(join(root, 'init'), 0o755);
  const initrd = join(work, 'initrd.cpio.gz');
  sh(`cd '${root}' && find . | cpio -o -H newc --quiet | gzip -1 > '${initrd}'`, 'building the initrd');
  return initrd;
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
    '1',
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
    ...(deviceSet === 'rich' ? RICH_DEVICES.flatMap((d) => ['-device', d]) : []),
    '-device',
    'isa-debug-exit,iobase=0xf4,iosize=0x04',
    '-virtfs',
    'local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap',
    '-virtfs',
    `local,path=${results},mount_tag=results,security_model=none,multidevs=remap`,
    '-virtfs',
    `local,path=${checkout},mount_tag=checkout,security_model=none,readonly=on,multidevs=remap`,
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
ensureTools();
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
if (code !== 1) {
  const guestCode = code !== null && code & 1 ? code >> 1 : undefined;
  console.error(
    `vfio tier FAILED: ${guestCode !== undefined ? `the guest reported exit code ${guestCode} (see its output above)` : `QEMU exited with ${code} without a verdict (guest crashed or QEMU failed)`}, tier took ${secs()} s`,
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
