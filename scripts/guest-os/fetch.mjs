#!/usr/bin/env node
// Fetches what a v86 guest needs from Debian's archive (the i386 kernel, busybox, pciutils with its libraries, SeaBIOS) into .guest-cache/, unpacked, never installed.
//
// Run it as `node scripts/guest-os/fetch.mjs` (or `npm run fetch:guest`): it also builds the default
// guest's initramfs and writes .guest-cache/guest.json (kernel, initrd, seabios), which `rawpci vm`
// reads, and prints the paths. Imported, `fetchGuest()` returns them. Facts it
// relies on: ../shared/V86.md "What boots" (v86 is 32-bit x86: Debian's 686 flavour; SeaBIOS's
// bios.bin + vgabios-stdvga.bin). The Debian steps themselves are scripts/lib/debian.mjs, shared
// with the VFIO tier.

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cached, DebianError, download, ensureArchitecture, ensureTools, kernelPackage, moduleClosure, sh, unpack } from '../lib/debian.mjs';

const here = dirname(fileURLToPath(import.meta.url));
/** The checkout this script belongs to. */
export const checkout = resolve(here, '..', '..');
/** Where everything is cached (RAWPCI_GUEST_CACHE overrides): debs/, the unpacked packages, work/, results/. */
export const cacheDir = process.env.RAWPCI_GUEST_CACHE ?? join(checkout, '.guest-cache');

/** The kernel metapackage whose dependency names the current i386 kernel (`linux-image-6.1.0-NN-686:i386`). */
const KERNEL_META = 'linux-image-686:i386';
/** Modules the guest loads, by name; their dependencies come from modules.dep. */
export const GUEST_MODULES = ['uio_pci_generic'];
/** Host commands the fetch runs, with their Debian packages. */
const TOOLS = { cpio: 'cpio', depmod: 'kmod', readelf: 'binutils', gzip: 'gzip' };
/** i386's dynamic loader, as lspci's PT_INTERP names it. */
const LOADER = 'lib/ld-linux.so.2';

/**
 * The kernel: vmlinuz, its config, and the GUEST_MODULES with their dependencies and a modules.dep
 * (Debian's package has none: depmod builds one for the unpacked drivers/uio subset).
 * @returns {{ kpkg: string, release: string, vmlinuz: string, config: string, modDir: string, modules: string[], uio: Record<string, string> }}
 *   modules: paths relative to modDir in load order; uio: CONFIG_UIO and CONFIG_UIO_PCI_GENERIC as the config says (`m`, `y` or absent)
 */
function fetchKernel(debs, log) {
  const kpkg = kernelPackage(KERNEL_META);
  const name = kpkg.replace(/:.*/, '');
  const dir = cached(join(cacheDir, name), (d) => {
    const deb = download(kpkg, debs, { log });
    log(`unpacking ${kpkg} (vmlinuz, config, drivers/uio, modules.builtin*)`);
    // modules.builtin* too: libkmod (lspci -k) refuses an index without modules.builtin.bin.
    unpack(deb, d, [
      './boot/vmlinuz-*',
      './boot/config-*',
      './lib/modules/*/kernel/drivers/uio/*',
      './lib/modules/*/modules.builtin*',
      './lib/modules/*/modules.order',
    ]);
    const rel = readdirSync(join(d, 'lib', 'modules'))[0];
    sh(`depmod -b '${d}' '${rel}'`, 'depmod for the guest modules');
  });
  const vmlinuz = readdirSync(join(dir, 'boot')).find((f) => f.startsWith('vmlinuz-'));
  if (!vmlinuz) throw new DebianError(`${kpkg} has no boot/vmlinuz-*: delete ${dir} and retry`);
  const release = vmlinuz.slice('vmlinuz-'.length);
  const config = join(dir, 'boot', `config-${release}`);
  const conf = readFileSync(config, 'utf8');
  const uio = Object.fromEntries(['CONFIG_UIO', 'CONFIG_UIO_PCI_GENERIC'].map((k) => [k, new RegExp(`^${k}=(\\w)`, 'm').exec(conf)?.[1] ?? 'absent']));
  if (uio.CONFIG_UIO_PCI_GENERIC !== 'm' && uio.CONFIG_UIO_PCI_GENERIC !== 'y')
    throw new DebianError(`${kpkg} has no uio_pci_generic (CONFIG_UIO_PCI_GENERIC ${uio.CONFIG_UIO_PCI_GENERIC}): the INTx check needs it`);
  const modDir = join(dir, 'lib', 'modules', release);
  const modules = uio.CONFIG_UIO_PCI_GENERIC === 'm' ? moduleClosure(modDir, GUEST_MODULES) : [];
  return { kpkg, release, vmlinuz: join(dir, 'boot', vmlinuz), config, modDir, modules, uio };
}

/** The shared objects an ELF file needs (`readelf -d` NEEDED entries), e.g. `['libpci.so.3', 'libc.so.6']`. */
function needed(elf) {
  const out = execFileSync('readelf', ['-d', elf], { encoding: 'utf8' });
  return [...out.matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
}

/**
 * pciutils:i386 and its run-time libraries, unpacked into one tree: lspci, the shared objects it
 * needs (NEEDED chased transitively through readelf -d, looked up in the tree's lib/i386-linux-gnu
 * and usr/lib/i386-linux-gnu), ld-linux.so.2 and pci.ids. The packages are pciutils's Depends
 * closure (`apt-cache depends --recurse`), so a library moving between packages is still found.
 * @returns {{ root: string, lspci: string, loader: string, libs: string[], pciIds: string }} libs and loader are paths inside root
 */
function fetchPciutils(debs, log) {
  const root = cached(join(cacheDir, 'pciutils-i386'), (d) => {
    const out = sh(
      "apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks --no-replaces --no-enhances 'pciutils:i386'",
      "resolving pciutils:i386's dependencies",
    );
    const pkgs = [...new Set(out.split('\n').filter((l) => /^[a-z0-9]/.test(l)))].map((p) => p.trim());
    log(`pciutils:i386 and its libraries: ${pkgs.join(' ')}`);
    for (const p of pkgs) unpack(download(p, debs, { log }), d);
  });
  const libDirs = ['lib/i386-linux-gnu', 'usr/lib/i386-linux-gnu'];
  const lspci = ['usr/bin/lspci', 'bin/lspci'].find((p) => existsSync(join(root, p)));
  if (!lspci) throw new DebianError(`pciutils:i386 unpacked in ${root} has no lspci: delete it and retry`);
  const libs = [];
  const todo = needed(join(root, lspci));
  while (todo.length) {
    const so = todo.shift();
    if (libs.some((l) => l.endsWith(`/${so}`))) continue;
    const at = libDirs.map((d) => `${d}/${so}`).find((p) => existsSync(join(root, p)));
    if (!at) throw new DebianError(`lspci needs ${so}, which no package of pciutils:i386's Depends holds (in ${root})`);
    libs.push(at);
    todo.push(...needed(join(root, at)));
  }
  if (!existsSync(join(root, LOADER))) throw new DebianError(`${root}/${LOADER} is missing (libc6:i386 not unpacked?)`);
  const pciIds = ['usr/share/misc/pci.ids', 'usr/share/hwdata/pci.ids'].find((p) => existsSync(join(root, p)));
  if (!pciIds) throw new DebianError(`no pci.ids in ${root} (the pci.ids package not unpacked?)`);
  return { root, lspci, loader: LOADER, libs, pciIds };
}

/** SeaBIOS unpacked from Debian's seabios package: the directory holding bios.bin and vgabios-stdvga.bin (where `rawpci vm` looks last). */
function fetchSeabios(debs, log) {
  const dir = cached(join(cacheDir, 'seabios'), (d) => unpack(download('seabios', debs, { log }), d, ['./usr/share/seabios/*']));
  return join(dir, 'usr', 'share', 'seabios');
}

/**
 * Fetches (or finds cached) everything the guest tier and `rawpci vm` need. Throws DebianError
 * naming the cause and the fix (archive unreachable, not root where apt must change, a package
 * without what it should hold).
 * @param {{ log?: (msg: string) => void }} [opts] progress lines (default: none)
 * @returns the kernel (fetchKernel), `busybox` (path), `pciutils` (fetchPciutils) and `bios` (directory)
 */
export function fetchGuest({ log = () => {} } = {}) {
  ensureTools(TOOLS, { log });
  ensureArchitecture('i386', { log });
  const debs = join(cacheDir, 'debs');
  const kernel = fetchKernel(debs, log);
  const bbdir = cached(join(cacheDir, 'busybox-i386'), (d) => unpack(download('busybox-static:i386', debs, { log }), d, ['./bin/busybox']));
  return { ...kernel, busybox: join(bbdir, 'bin', 'busybox'), pciutils: fetchPciutils(debs, log), bios: fetchSeabios(debs, log) };
}

/** The command-line run: fetch, build the default guest's initramfs, write the manifest, print the paths. */
async function main() {
  const g = fetchGuest({ log: (m) => console.error(`[fetch:guest] ${m}`) });
  console.log(`kernel   ${g.vmlinuz} (${g.kpkg})`);
  console.log(`uio      CONFIG_UIO=${g.uio.CONFIG_UIO} CONFIG_UIO_PCI_GENERIC=${g.uio.CONFIG_UIO_PCI_GENERIC}; modules: ${g.modules.join(' ') || 'built in'}`);
  console.log(`busybox  ${g.busybox}`);
  console.log(`lspci    ${join(g.pciutils.root, g.pciutils.lspci)} (+ ${g.pciutils.libs.length} libraries, ${g.pciutils.loader})`);
  console.log(`seabios  ${g.bios}`);
  // The default guest of `rawpci vm`, and the manifest it reads (src/vm/v86-vm.ts guestCacheFiles).
  // Imported here, not at the top: initramfs.mjs imports this module.
  const { buildInitramfs } = await import('./initramfs.mjs');
  const initrd = buildInitramfs(g, { guest: 'vm' });
  writeFileSync(join(cacheDir, 'guest.json'), `${JSON.stringify({ kernel: g.vmlinuz, initrd, seabios: g.bios }, null, 2)}\n`);
  console.log(`initrd   ${initrd} (rawpci vm's default guest; the tier's: node scripts/guest-os/initramfs.mjs tier)`);
  console.log(`manifest ${join(cacheDir, 'guest.json')}: 'npx rawpci vm' boots it`);
}

// No top-level await: initramfs.mjs imports this module, and a cycle under a pending top-level
// await never settles.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((e) => {
    console.error(`fetch:guest FAILED: ${e instanceof DebianError ? e.message : e.stack}`);
    process.exit(1);
  });
}
