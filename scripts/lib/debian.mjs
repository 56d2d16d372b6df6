// Fetching from Debian's archive for the guest tiers (VFIO in QEMU, the guest OS in v86): host tools, kernel ABI resolution, `apt-get download` and `dpkg-deb` unpacking, never installing a guest package.
//
// One copy for both tiers (scripts/vfio-guest/run.mjs, scripts/guest-os/fetch.mjs). Facts it
// relies on are in ../shared/ENVIRONMENT.md ("Real VFIO inside a QEMU guest") and V86.md ("What
// boots"): the kernel metapackage (`linux-image-amd64`, `linux-image-686:i386`) depends on the
// current `linux-image-6.1.0-NN-FLAVOUR` whose NN changes with security updates; the archive is
// reachable; host tools may be installed with apt-get when running as root.
//
// Every failure is a `DebianError` whose message names the cause and the fix; the tiers turn it
// into their FAILED line.

import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** A fetch step that failed; `message` says what failed and what to do about it. */
export class DebianError extends Error {
  name = 'DebianError';
}

/** True when `cmd` is on PATH. */
export function have(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/** The last `n` non-empty lines of a command's output joined with ' | ': the part of an apt error worth quoting. */
function tail(text, n = 3) {
  return (text || '').trim().split('\n').slice(-n).join(' | ');
}

/**
 * Runs `cmd` with sh and returns its stdout; throws DebianError naming `what` and quoting the end
 * of the command's output when it exits non-zero.
 */
export function sh(cmd, what) {
  const r = spawnSync('sh', ['-c', cmd], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new DebianError(`${what} failed (${cmd}): ${tail(r.stderr || r.stdout, 5)}`);
  return r.stdout;
}

/** True when this process may install packages (root). */
const isRoot = () => process.getuid?.() === 0;

/** `apt-get update`, output discarded: the retry step when the lists are stale or absent. */
function aptUpdate() {
  spawnSync('apt-get', ['update'], { stdio: 'ignore' });
}

/**
 * Makes sure the host commands in `tools` (command → Debian package providing it) exist: installs
 * the missing ones with `apt-get install --no-install-recommends` when root (one `apt-get update`
 * retry), else throws naming the sudo command to run. apt-get and dpkg-deb themselves must exist
 * (a Debian-like host).
 * @param {Record<string, string>} tools e.g. `{ cpio: 'cpio', 'qemu-system-x86_64': 'qemu-system-x86' }`
 * @param {{ log?: (msg: string) => void }} [opts]
 */
export function ensureTools(tools, { log = () => {} } = {}) {
  const missing = [...Object.keys(tools), 'dpkg-deb', 'apt-get'].filter((c) => !have(c));
  if (missing.length === 0) return;
  if (missing.includes('apt-get') || missing.includes('dpkg-deb'))
    throw new DebianError(`${missing.join(', ')} missing: this tier needs a Debian-like host (apt-get, dpkg-deb)`);
  const pkgs = [...new Set(missing.map((c) => tools[c]))];
  if (!isRoot())
    throw new DebianError(`${missing.join(', ')} missing and not root: run 'sudo apt-get install -y --no-install-recommends ${pkgs.join(' ')}' first`);
  log(`installing ${pkgs.join(' ')} (missing: ${missing.join(', ')})`);
  const install = () =>
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], {
      encoding: 'utf8',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
  let r = install();
  if (r.status !== 0) {
    aptUpdate();
    r = install();
    if (r.status !== 0) throw new DebianError(`apt-get install ${pkgs.join(' ')} failed: ${tail(r.stderr)}`);
  }
  const still = Object.keys(tools).filter((c) => !have(c));
  if (still.length) throw new DebianError(`${still.join(', ')} still missing after apt-get install`);
}

/**
 * Makes apt know packages of a foreign architecture (`i386` for the v86 guest): `dpkg
 * --add-architecture ARCH` and `apt-get update` when dpkg does not list it yet. Needs root then;
 * otherwise throws naming the commands to run.
 * @param {string} arch a dpkg architecture name
 * @param {{ log?: (msg: string) => void }} [opts]
 */
export function ensureArchitecture(arch, { log = () => {} } = {}) {
  const native = sh('dpkg --print-architecture', 'asking dpkg its architecture').trim();
  const foreign = sh('dpkg --print-foreign-architectures', 'asking dpkg its foreign architectures').split('\n');
  if (arch === native || foreign.includes(arch)) return;
  if (!isRoot())
    throw new DebianError(`apt does not know ${arch} packages and not root: run 'sudo dpkg --add-architecture ${arch} && sudo apt-get update' first`);
  log(`dpkg --add-architecture ${arch}; apt-get update`);
  sh(`dpkg --add-architecture ${arch}`, `adding the ${arch} architecture`);
  sh('apt-get update', 'apt-get update');
}

/**
 * The concrete kernel package a metapackage depends on, e.g. `linux-image-amd64` →
 * `linux-image-6.1.0-41-amd64`, `linux-image-686:i386` → `linux-image-6.1.0-41-686:i386` (the
 * `:ARCH` suffix is kept when the metapackage has one). Retries once after `apt-get update` when
 * root; throws when apt-cache names no `linux-image-N…` dependency.
 * @param {string} meta the metapackage, with `:ARCH` for a foreign architecture
 */
export function kernelPackage(meta) {
  const resolve = () => {
    const r = spawnSync('apt-cache', ['depends', meta], { encoding: 'utf8' });
    return { out: r.stdout || r.stderr || '', pkg: /Depends:\s+(linux-image-\d\S*)/.exec(r.stdout || '')?.[1] };
  };
  let got = resolve();
  if (!got.pkg && isRoot()) {
    aptUpdate();
    got = resolve();
  }
  if (!got.pkg) throw new DebianError(`'apt-cache depends ${meta}' names no linux-image-6.x package (run 'apt-get update'): ${got.out.trim()}`);
  return got.pkg;
}

/** `pkg[:arch]` split into name and architecture (undefined when none is given). */
function splitArch(pkg) {
  const i = pkg.indexOf(':');
  return i < 0 ? { name: pkg, arch: undefined } : { name: pkg.slice(0, i), arch: pkg.slice(i + 1) };
}

/** The cached .deb of `pkg[:arch]` in `debs`, if any: `NAME_VERSION_ARCH.deb` (any version; the architecture when given, or `all`). */
function cachedDeb(pkg, debs) {
  const { name, arch } = splitArch(pkg);
  return readdirSync(debs).find((f) => f.startsWith(`${name}_`) && f.endsWith('.deb') && (!arch || f.endsWith(`_${arch}.deb`) || f.endsWith('_all.deb')));
}

/**
 * The path of `pkg`'s .deb in `debs`, downloaded with `apt-get download` unless one is cached
 * there; retries once after `apt-get update`. Throws when the download fails (archive unreachable,
 * unknown package).
 * @param {string} pkg a package name, with `:ARCH` for a foreign architecture
 * @param {string} debs the download directory (created)
 * @param {{ log?: (msg: string) => void }} [opts]
 */
export function download(pkg, debs, { log = () => {} } = {}) {
  mkdirSync(debs, { recursive: true });
  const cached = cachedDeb(pkg, debs);
  if (cached) return join(debs, cached);
  log(`apt-get download ${pkg}`);
  let r = spawnSync('apt-get', ['download', pkg], { cwd: debs, encoding: 'utf8' });
  if (r.status !== 0) {
    aptUpdate();
    r = spawnSync('apt-get', ['download', pkg], { cwd: debs, encoding: 'utf8' });
  }
  const got = cachedDeb(pkg, debs);
  if (r.status !== 0 || !got) throw new DebianError(`'apt-get download ${pkg}' failed (is Debian's archive reachable?): ${tail(r.stderr)}`);
  return join(debs, got);
}

/**
 * Unpacks `deb` into `dir` (`dpkg-deb --fsys-tarfile | tar -x`), all of it or only the members
 * matching the tar wildcards in `members` (e.g. `./boot/vmlinuz-*`).
 * @param {string} deb path of the .deb
 * @param {string} dir destination (created)
 * @param {string[]} [members] tar `--wildcards` patterns; all members when absent
 */
export function unpack(deb, dir, members) {
  mkdirSync(dir, { recursive: true });
  const only = members?.length ? ` --wildcards ${members.map((w) => `'${w}'`).join(' ')}` : '';
  sh(`dpkg-deb --fsys-tarfile '${deb}' | tar -x -C '${dir}'${only}`, `unpacking ${deb}`);
}

/**
 * Runs `build(dir)` to fill `dir` unless a previous run finished it: the directory is complete
 * when it holds the marker file `.complete`, which is written after `build` returns; an
 * incomplete directory is removed and rebuilt. Returns `dir`.
 * @param {string} dir the cache directory
 * @param {(dir: string) => void} build fills it (throws on failure)
 */
export function cached(dir, build) {
  if (existsSync(join(dir, '.complete'))) return dir;
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  build(dir);
  writeFileSync(join(dir, '.complete'), 'ok\n');
  return dir;
}

/**
 * `names` and every module they need, in load order (dependencies first), read from a
 * depmod-style `modules.dep` (`kernel/a/b.ko: kernel/c.ko ...`). Module names match with `-` and
 * `_` alike, as modprobe does. Returns paths relative to lib/modules/RELEASE. Throws when a name
 * is not in modules.dep (built into the kernel, or renamed).
 * @param {string} modDir lib/modules/RELEASE of an unpacked kernel package
 * @param {string[]} names module names, e.g. `['uio_pci_generic']`
 */
export function moduleClosure(modDir, names) {
  const deps = new Map();
  for (const line of readFileSync(join(modDir, 'modules.dep'), 'utf8').split('\n')) {
    const i = line.indexOf(':');
    if (i > 0)
      deps.set(
        line.slice(0, i),
        line
          .slice(i + 1)
          .trim()
          .split(/\s+/)
          .filter(Boolean),
      );
  }
  const byName = new Map([...deps.keys()].map((k) => [moduleName(k), k]));
  const order = [];
  const visit = (path) => {
    if (order.includes(path)) return;
    for (const d of deps.get(path) ?? []) visit(d);
    order.push(path);
  };
  for (const n of names) {
    const path = byName.get(n.replace(/-/g, '_'));
    if (!path) throw new DebianError(`module ${n} is not in ${modDir}/modules.dep (built in, or renamed in this kernel?)`);
    visit(path);
  }
  return order;
}

/** A module's name from its path in modules.dep: `kernel/drivers/uio/uio_pci_generic.ko` → `uio_pci_generic` (dashes as underscores). */
export function moduleName(path) {
  return path
    .split('/')
    .pop()
    .replace(/\.ko(\.\w+)?$/, '')
    .replace(/-/g, '_');
}

/**
 * Packs the directory `root` into a gzipped newc cpio archive at `out` (the initramfs format
 * Linux unpacks: Documentation/filesystems/ramfs-rootfs-initramfs.rst), with `find | cpio -o -H
 * newc | gzip -1`. Needs cpio on the host (ensureTools({ cpio: 'cpio' })).
 * @param {string} root the tree to pack; its `init` is what the kernel runs
 * @param {string} out path of the .cpio.gz to write
 */
export function packInitramfs(root, out) {
  sh(`cd '${root}' && find . | cpio -o -H newc --quiet | gzip -1 > '${out}'`, 'building the initramfs');
  return out;
}
