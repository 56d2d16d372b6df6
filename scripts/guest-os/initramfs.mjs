#!/usr/bin/env node
// Builds the guest-OS tier's initramfs: busybox with its applet links made at boot, /init (init.sh), the uio modules, lspci with its i386 libraries and pci.ids, and the guest programs compiled from progs/*.c.
//
// `node scripts/guest-os/initramfs.mjs` fetches what is missing (fetch.mjs) and prints the path of
// the gzipped newc archive; imported, `buildInitramfs(guest)` returns it. The archive is packed by
// scripts/lib/debian.mjs's packInitramfs, the same cpio step the VFIO tier uses.

import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DebianError, ensureTools, moduleName, packInitramfs } from '../lib/debian.mjs';
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

/**
 * Assembles and packs the initramfs from what fetchGuest() returned.
 * @param {ReturnType<typeof fetchGuest>} g the fetched kernel, busybox and pciutils
 * @param {{ out?: string }} [opts] where to write it (default .guest-cache/work/initramfs.cpio.gz)
 * @returns {string} the path of the .cpio.gz
 */
export function buildInitramfs(g, { out = join(cacheDir, 'work', 'initramfs.cpio.gz') } = {}) {
  const root = join(dirname(out), 'initramfs');
  rmSync(root, { recursive: true, force: true });
  for (const d of ['bin', 'modules', 'progs', 'usr/bin', 'usr/share/misc', 'lib/i386-linux-gnu']) mkdirSync(join(root, d), { recursive: true });
  copyFileSync(g.busybox, join(root, 'bin', 'busybox'));
  chmodSync(join(root, 'bin', 'busybox'), 0o755);
  copyFileSync(join(here, 'init.sh'), join(root, 'init'));
  chmodSync(join(root, 'init'), 0o755);
  for (const m of g.modules) copyFileSync(join(g.modDir, m), join(root, 'modules', `${moduleName(m)}.ko`));
  writeFileSync(join(root, 'modules.order'), g.modules.map((m) => `${moduleName(m)}\n`).join(''));
  // lspci and its libraries where i386's ld.so looks by default (its multiarch /lib/i386-linux-gnu).
  const p = g.pciutils;
  copyFileSync(join(p.root, p.lspci), join(root, 'usr', 'bin', 'lspci'));
  chmodSync(join(root, 'usr', 'bin', 'lspci'), 0o755);
  copyFileSync(join(p.root, p.loader), join(root, 'lib', 'ld-linux.so.2'));
  chmodSync(join(root, 'lib', 'ld-linux.so.2'), 0o755);
  for (const l of p.libs) copyFileSync(join(p.root, l), join(root, 'lib', 'i386-linux-gnu', basename(l)));
  copyFileSync(join(p.root, p.pciIds), join(root, 'usr', 'share', 'misc', 'pci.ids'));
  buildPrograms(join(root, 'progs'));
  ensureTools({ cpio: 'cpio' });
  return packInitramfs(root, out);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    console.log(buildInitramfs(fetchGuest({ log: (m) => console.error(`[initramfs] ${m}`) })));
  } catch (e) {
    console.error(`initramfs FAILED: ${e instanceof DebianError ? e.message : e.stack}`);
    process.exit(1);
  }
}
