// Test helper: a fake kernel modules directory built by depmod from tiny .ko files (only a .modinfo section), and lspci run against it in a private mount namespace.

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureDebianTool, type FakeSysfs } from './fake-sysfs.js';

/** A module and the modaliases it declares (MODULE_DEVICE_TABLE's `alias=` entries). */
export interface FakeModule {
  name: string;
  aliases: string[];
}

/**
 * A minimal ELF64 relocatable object with one .modinfo section holding `key=value\0` strings,
 * which is all depmod reads to write modules.alias.
 */
export function modinfoElf(entries: string[]): Uint8Array {
  const modinfo = Buffer.from(entries.map((e) => `${e}\0`).join(''), 'latin1');
  const shstr = Buffer.from('\0.modinfo\0.shstrtab\0', 'latin1');
  const offMi = 64;
  const offSh = offMi + modinfo.length;
  const offShdr = (offSh + shstr.length + 7) & ~7;
  const buf = Buffer.alloc(offShdr + 3 * 64);
  buf.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1], 0); // ELF, 64-bit, little-endian, version 1
  buf.writeUInt16LE(1, 16); // ET_REL
  buf.writeUInt16LE(62, 18); // EM_X86_64
  buf.writeUInt32LE(1, 20);
  buf.writeBigUInt64LE(BigInt(offShdr), 40); // e_shoff
  buf.writeUInt16LE(64, 52); // e_ehsize
  buf.writeUInt16LE(64, 58); // e_shentsize
  buf.writeUInt16LE(3, 60); // e_shnum
  buf.writeUInt16LE(2, 62); // e_shstrndx
  modinfo.copy(buf, offMi);
  shstr.copy(buf, offSh);
  const sh = (i: number, name: number, type: number, flags: number, off: number, size: number) => {
    const o = offShdr + 64 * i;
    buf.writeUInt32LE(name, o);
    buf.writeUInt32LE(type, o + 4);
    buf.writeBigUInt64LE(BigInt(flags), o + 8);
    buf.writeBigUInt64LE(BigInt(off), o + 24);
    buf.writeBigUInt64LE(BigInt(size), o + 32);
    buf.writeBigUInt64LE(1n, o + 48);
  };
  sh(1, 1, 1, 3, offMi, modinfo.length); // .modinfo, PROGBITS, WA
  sh(2, 10, 3, 0, offSh, shstr.length); // .shstrtab, STRTAB
  return buf;
}

/** {@link ensureDebianTool} for depmod (Debian's kmod). */
export function ensureDepmod(): string {
  return ensureDebianTool('depmod', ['kmod'], 'so Kernel modules can be compared with lspci');
}

/** A fake modules directory: `base/lib/modules/RELEASE` (`dir`), RELEASE being the running kernel's (what libkmod opens). */
export interface FakeModules {
  base: string;
  dir: string;
}

/**
 * Writes one .ko per module (in `modules` order, which becomes modules.order and depmod's
 * order), modules.builtin and modules.builtin.modinfo for `builtin`, and runs `depmod -b`.
 */
export function buildFakeModules(modules: FakeModule[], builtin: FakeModule[]): FakeModules {
  const depmod = ensureDepmod();
  const base = mkdtempSync(join(tmpdir(), 'rawpci-modules-'));
  const rel = release();
  const dir = join(base, 'lib/modules', rel);
  mkdirSync(join(dir, 'kernel/drivers'), { recursive: true });
  for (const m of modules) writeFileSync(join(dir, `kernel/drivers/${m.name}.ko`), modinfoElf([...m.aliases.map((a) => `alias=${a}`), 'license=GPL']));
  writeFileSync(join(dir, 'modules.order'), modules.map((m) => `kernel/drivers/${m.name}.ko\n`).join(''));
  // libkmod refuses an empty modules.builtin.bin, so there is always one built-in module.
  const bi = builtin.length ? builtin : [{ name: 'rawpci_none', aliases: [] }];
  writeFileSync(join(dir, 'modules.builtin'), bi.map((m) => `kernel/drivers/${m.name}.ko\n`).join(''));
  writeFileSync(
    join(dir, 'modules.builtin.modinfo'),
    bi.flatMap((m) => [...m.aliases.map((a) => `${m.name}.alias=${a}\0`), `${m.name}.license=GPL\0`]).join(''),
  );
  execFileSync(depmod, ['-b', base, rel], { stdio: ['ignore', 'ignore', 'ignore'] });
  return { base, dir };
}

/** Runs lspci with `/usr/lib/modules` replaced by the fake one (an overlay in a private mount namespace; the system is untouched). */
export function lspciWithModules(mods: FakeModules, args: string[]): string {
  return execFileSync(
    'unshare',
    ['-m', 'sh', '-c', `mount -t overlay overlay -o lowerdir=${mods.base}/lib:/usr/lib /usr/lib && exec "$@"`, 'sh', 'lspci', ...args],
    {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    },
  );
}

/** The modalias Linux gives a PCI function (drivers/pci/pci-sysfs.c modalias_show). */
export function pciModalias(v: { vendor: number; device: number; subsystemVendor?: number; subsystemDevice?: number; classCode: number }): string {
  const h = (x: number, w: number) => x.toString(16).toUpperCase().padStart(w, '0');
  const c = v.classCode;
  return `pci:v${h(v.vendor, 8)}d${h(v.device, 8)}sv${h(v.subsystemVendor ?? 0, 8)}sd${h(v.subsystemDevice ?? 0, 8)}bc${h(c >> 16, 2)}sc${h((c >> 8) & 0xff, 2)}i${h(c & 0xff, 2)}\n`;
}

/** Writes each fake device's `modalias` file. */
export function addModaliases(fake: FakeSysfs): void {
  for (const d of fake.devices) writeFileSync(join(fake.dev(d.bdf), 'modalias'), pciModalias(d));
}

/** Reads a device's modalias back (for assertions). */
export function modaliasOf(fake: FakeSysfs, bdf: string): string {
  return readFileSync(join(fake.dev(bdf), 'modalias'), 'utf8').trim();
}
