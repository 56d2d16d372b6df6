#!/usr/bin/env node
// Builds the guest-OS tier's initramfs: busybox with its applet links made at boot, /init (init.sh), the uio modules, lspci with its i386 libraries and pci.ids, and the guest programs compiled from progs/*.c.
//
// `node scripts/guest-os/initramfs.mjs [tier|vm]` fetches what is missing (fetch.mjs) and prints the
// path of the gzipped newc archive; imported, `buildInitramfs(guest)` returns it. The archive is packed by
// scripts/lib/debian.mjs's packInitramfs, the same cpio step the VFIO tier uses.

import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DebianError, ensureTools, packInitramfs } from '../lib/debian.mjs';
import { cacheDir, fetchGuest } from './fetch.mjs';

const here = dirname(fileURLToPath(import.meta.url));
/** How the guest programs are built (../shared/V86.md): freestanding static i386, raw int 0x80 syscalls from progs/sys.h, no libc. */
export const GUEST_CFLAGS = ['-m32', '-static', '-nostdlib', '-ffreestanding', '-fno-pic', '-no-pie', '-fno-stack-protector', '-march=i686', '-O2', '-Wall'];

/** Compiles every progs/*.c into `outDir` (one binary each, named after the file); returns their paths. Throws DebianError when gcc fails. */
export function buildPrograms(outDir) {
  ensureTools({ gcc: 'gcc' });
  mkdirSync(outDir, { recursive: true });
  const src = join(here, 'progs');
  return readdirSync(src)
    .filter((f) => f.endsWith('.c'))
    .map((f) => {
      const out = join(outDir, basename(f, '.c'));
      try {
        execFileSync('gcc', [...GUEST_CFLAGS, '-o', out, join(src, f)], { stdio: ['ignore', 'ignore', 'pipe'] });
      } catch (e) {
        throw new DebianError(
          `gcc ${GUEST_CFLAGS.join(' ')} ${f} failed (gcc with -m32 support needed): ${String(e.stderr).trim().split('\n').slice(-3).join(' | ')}`,
        );
      }
      return out;
    });
}

/** The two guests: the tier's checks (init.sh) and the default guest of `rawpci vm` (vm-init.sh, with demo.sh for `rawpci demo --os`). */
export const GUESTS = {
  tier: { init: 'init.sh', extra: {}, out: 'initramfs-tier.cpio.gz' },
  vm: { init: 'vm-init.sh', extra: { 'demo.sh': 'demo.sh' }, out: 'initramfs.cpio.gz' },
};

/**
 * Assembles and packs an initramfs from what fetchGuest() returned. Layout: /bin/busybox (applet
 * links made by /init), /init, /lib/modules/RELEASE/kernel/... with depmod's indexes and
 * /etc/modules-load listing them (relative to /lib/modules) in load order, /usr/bin/lspci with /lib/ld-linux.so.2 and /lib/i386-linux-gnu/*.so*,
 * /usr/share/misc/pci.ids, /progs/* (progs/*.c) and the guest's extra files at /.
 * @param {ReturnType<typeof fetchGuest>} g the fetched kernel, busybox and pciutils
 * @param {{ guest?: keyof typeof GUESTS, out?: string }} [opts] which guest (default `tier`) and where to write it (default .guest-cache/work/ + the guest's name)
 * @returns {string} the path of the .cpio.gz
 */
export function buildInitramfs(g, { guest = 'tier', out } = {}) {
  const spec = GUESTS[guest];
  if (!spec) throw new TypeError(`buildInitramfs: guest ${guest} is none of ${Object.keys(GUESTS).join(', ')}`);
  out ??= join(cacheDir, 'work', spec.out);
  const root = join(dirname(out), `${basename(out, '.cpio.gz')}.d`);
  rmSync(root, { recursive: true, force: true });
  // Mount points and the directories busybox --install links into exist before /init runs (vm-init.sh mounts without mkdir).
  for (const d of ['bin', 'sbin', 'etc', 'proc', 'sys', 'dev', 'tmp', 'progs', 'usr/bin', 'usr/sbin', 'usr/share/misc', 'lib/i386-linux-gnu'])
    mkdirSync(join(root, d), { recursive: true });
  const exec = (src, dst) => {
    copyFileSync(src, join(root, dst));
    chmodSync(join(root, dst), 0o755);
  };
  exec(g.busybox, 'bin/busybox');
  exec(join(here, spec.init), 'init');
  for (const [src, dst] of Object.entries(spec.extra)) exec(join(here, src), dst);
  // Modules where libkmod looks (/lib/modules/RELEASE, with depmod's indexes: lspci -k reads them).
  const modRoot = join(root, 'lib', 'modules', g.release);
  for (const m of g.modules) {
    mkdirSync(dirname(join(modRoot, m)), { recursive: true });
    copyFileSync(join(g.modDir, m), join(modRoot, m));
  }
  for (const f of readdirSync(g.modDir)) if (f.startsWith('modules.')) copyFileSync(join(g.modDir, f), join(modRoot, f));
  writeFileSync(join(root, 'etc', 'modules-load'), g.modules.map((m) => `${g.release}/${m}\n`).join(''));
  // lspci and its libraries where i386's ld.so looks by default (its multiarch /lib/i386-linux-gnu).
  const p = g.pciutils;
  exec(join(p.root, p.lspci), 'usr/bin/lspci');
  exec(join(p.root, p.loader), 'lib/ld-linux.so.2');
  for (const l of p.libs) copyFileSync(join(p.root, l), join(root, 'lib', 'i386-linux-gnu', basename(l)));
  copyFileSync(join(p.root, p.pciIds), join(root, 'usr', 'share', 'misc', 'pci.ids'));
  buildPrograms(join(root, 'progs'));
  ensureTools({ cpio: 'cpio' });
  return packInitramfs(root, out);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const guest = process.argv[2] ?? 'tier';
    console.log(buildInitramfs(fetchGuest({ log: (m) => console.error(`[initramfs] ${m}`) }), { guest }));
  } catch (e) {
    console.error(`initramfs FAILED: ${e instanceof DebianError ? e.message : e.stack}`);
    process.exit(1);
  }
}
