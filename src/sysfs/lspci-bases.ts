// lspci's BAR and ROM lines (lspci.c show_bases, show_rom) and where their values come from: sysfs `resource` (lib/sysfs.c sysfs_get_resources) or config space (lib/generic.c).

import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_TYPE_1M,
  PCI_BASE_ADDRESS_MEM_TYPE_32,
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_MEM_TYPE_MASK,
  PCI_BASE_ADDRESS_SPACE,
  PCI_BASE_ADDRESS_SPACE_IO,
  PCI_COMMAND,
  PCI_COMMAND_IO,
  PCI_COMMAND_MEMORY,
  PCI_HEADER_TYPE_BRIDGE,
  PCI_HEADER_TYPE_CARDBUS,
  PCI_HEADER_TYPE_NORMAL,
  PCI_ROM_ADDRESS,
  PCI_ROM_ADDRESS_ENABLE,
  PCI_ROM_ADDRESS_MASK,
  PCI_ROM_ADDRESS1,
} from '../../shared/linux/pci-regs.js';
import type { PciDeviceRecord } from '../../shared/sysfs/source.js';
import { hexBig } from './cap-format.js';
import { type ConfigView, headerType } from './config-view.js';

/** Kernel resource flags (include/linux/ioport.h IORESOURCE_*), as sysfs `resource` reports them. */
export const IORESOURCE_IO = 0x100n;
export const IORESOURCE_MEM = 0x200n;
export const IORESOURCE_PREFETCH = 0x2000n;
export const IORESOURCE_MEM_64 = 0x100000n;
export const IORESOURCE_TYPE_BITS = 0x1f00n;
/** A bridge I/O window decoding only 16 address bits (pciutils PCI_IORESOURCE_IO_16BIT_ADDR, bit 0). */
export const IORESOURCE_IO_16BIT_ADDR = 0x1n;
/** Enhanced Allocation BAR (IORESOURCE_PCI_EA_BEI, bit 5). */
export const IORESOURCE_PCI_EA_BEI = 0x20n;

/**
 * What lspci's pci_fill_info gives for BARs: from sysfs `resource` when present (lib/sysfs.c
 * sysfs_get_resources), else decoded from config space (lib/generic.c).
 */
export interface BaseInfo {
  baseAddr: bigint[];
  size: bigint[];
  /** IORESOURCE_* flags; undefined when the bases came from config space. */
  ioFlags?: bigint[];
  romBase: bigint;
  romSize: bigint;
  romFlags: bigint;
  /** Bridge windows (I/O, memory, prefetchable, unused) when `resource` had them. */
  bridge?: { base: bigint; size: bigint; flags: bigint }[];
}

/** Fills BAR, ROM and bridge-window info from a record (see {@link BaseInfo}). */
export function baseInfo(rec: PciDeviceRecord, cfg: ConfigView): BaseInfo {
  const res = rec.resources;
  if (res && res.length > 0) {
    const info: BaseInfo = { baseAddr: [], size: [], ioFlags: [], romBase: 0n, romSize: 0n, romFlags: 0n };
    for (let i = 0; i < Math.min(res.length, 7 + 6 + 4 + 1); i++) {
      const r = res[i]!;
      const size = r.end > r.start ? BigInt.asUintN(64, r.end - r.start + 1n) : 0n;
      if (i < 6) {
        info.ioFlags!.push(r.flags);
        info.baseAddr.push(r.start | (r.flags & 0xfn));
        info.size.push(size);
      } else if (i === 6) {
        info.romFlags = r.flags;
        info.romBase = r.start | (r.flags & 0xfn);
        info.romSize = size;
      }
    }
    // No ROM line: lib/sysfs.c leaves the ROM to lib/generic.c, which reads the ROM register.
    if (res.length < 7) info.romBase = romFromConfig(cfg);
    while (info.baseAddr.length < 6) {
      info.baseAddr.push(0n);
      info.size.push(0n);
      info.ioFlags!.push(0n);
    }
    const n = Math.min(res.length, 18);
    if (n === 7 + 4 || n === 7 + 6 + 4) {
      const off = n === 17 ? 13 : 7;
      info.bridge = [0, 1, 2, 3].map((k) => {
        const r = res[off + k]!;
        return { base: r.start, size: r.end > r.start ? BigInt.asUintN(64, r.end - r.start + 1n) : 0n, flags: r.flags };
      });
    }
    return info;
  }
  const info: BaseInfo = {
    baseAddr: [0n, 0n, 0n, 0n, 0n, 0n],
    size: (rec.sizes ?? []).slice(0, 6).concat([0n, 0n, 0n, 0n, 0n, 0n]).slice(0, 6),
    romBase: 0n,
    romSize: rec.sizes?.[6] ?? 0n,
    romFlags: 0n,
  };
  const ht = headerType(cfg);
  const cnt = ht === PCI_HEADER_TYPE_NORMAL ? 6 : ht === PCI_HEADER_TYPE_BRIDGE ? 2 : ht === PCI_HEADER_TYPE_CARDBUS ? 1 : 0;
  for (let i = 0; i < cnt; i++) {
    const x = cfg.long(PCI_BASE_ADDRESS_0 + i * 4);
    if (!x || x === 0xffffffff) continue;
    if ((x & PCI_BASE_ADDRESS_SPACE) === PCI_BASE_ADDRESS_SPACE_IO || (x & PCI_BASE_ADDRESS_MEM_TYPE_MASK) !== PCI_BASE_ADDRESS_MEM_TYPE_64)
      info.baseAddr[i] = BigInt(x);
    else if (i < cnt - 1) {
      const y = cfg.long(PCI_BASE_ADDRESS_0 + (i + 1) * 4);
      info.baseAddr[i] = BigInt(x) | (BigInt(y) << 32n);
      i++;
    }
  }
  info.romBase = romFromConfig(cfg);
  return info;
}

/** lib/generic.c's PCI_FILL_ROM_BASE: the ROM register of a type 0 or 1 header (0 when absent or all ones). */
function romFromConfig(cfg: ConfigView): bigint {
  const ht = headerType(cfg);
  const romReg = ht === PCI_HEADER_TYPE_NORMAL ? PCI_ROM_ADDRESS : ht === PCI_HEADER_TYPE_BRIDGE ? PCI_ROM_ADDRESS1 : 0;
  const u = romReg ? cfg.long(romReg) : 0xffffffff;
  return u !== 0xffffffff ? BigInt(u) : 0n;
}

/** lspci show_size: ` [size=N<K|M|G|T>]`, nothing for 0. */
export function showSize(x: bigint): string {
  if (!x) return '';
  const suffix = ['', 'K', 'M', 'G', 'T'];
  let i = 0;
  for (; i < suffix.length - 1; i++) {
    if (x % 1024n) break;
    x /= 1024n;
  }
  return ` [size=${Number(BigInt.asUintN(32, x))}${suffix[i]}]`;
}

function ioflgToPciflg(ioflg: bigint): number {
  if (ioflg & IORESOURCE_IO) return PCI_BASE_ADDRESS_SPACE_IO;
  if (!(ioflg & IORESOURCE_MEM)) return 0;
  let flg = ioflg & IORESOURCE_MEM_64 ? PCI_BASE_ADDRESS_MEM_TYPE_64 : PCI_BASE_ADDRESS_MEM_TYPE_32;
  if (ioflg & IORESOURCE_PREFETCH) flg |= PCI_BASE_ADDRESS_MEM_PREFETCH;
  return flg;
}

/** One decoded BAR, for JSON and for attach checks. */
export interface DecodedBar {
  index: number;
  kind: 'io' | 'mem32' | 'mem64' | 'mem1m' | 'mem-type3';
  prefetchable: boolean;
  /** Bus address (hex string, 64-bit safe), or null when unassigned. */
  address: string | null;
  /** Size in bytes (decimal string, 64-bit safe). */
  size: string;
  disabled: boolean;
  virtual: boolean;
}

/** lspci show_bases: BAR lines plus their decoded form; `withoutConfig` as for an unknown header (decoding on, no config-space checks). */
export function basesLines(
  _rec: PciDeviceRecord,
  cfg: ConfigView,
  bi: BaseInfo,
  cnt: number,
  verbose: number,
  withoutConfig = false,
): { lines: string[]; bars: DecodedBar[] } {
  const cmd = withoutConfig ? PCI_COMMAND_IO | PCI_COMMAND_MEMORY : cfg.word(PCI_COMMAND);
  const lines: string[] = [];
  const bars: DecodedBar[] = [];
  for (let i = 0; i < cnt; i++) {
    const pos = bi.baseAddr[i]!;
    const len = bi.size[i] ?? 0n;
    const ioflg = bi.ioFlags ? bi.ioFlags[i]! : 0n;
    let flg = bi.ioFlags ? ioflgToPciflg(ioflg) : withoutConfig ? 0 : cfg.long(PCI_BASE_ADDRESS_0 + 4 * i);
    let hwLower = 0;
    let hwUpper = 0;
    let broken = false;
    let virt = false;
    if (flg === 0xffffffff) flg = 0;
    if (!pos && !flg && !len) continue;
    let s = verbose > 1 ? `\tRegion ${i}: ` : '\t';
    const index = i;
    if (bi.ioFlags && !withoutConfig) {
      hwLower = cfg.long(PCI_BASE_ADDRESS_0 + 4 * i);
      if ((hwLower & PCI_BASE_ADDRESS_SPACE) === (ioflgToPciflg(ioflg) & PCI_BASE_ADDRESS_SPACE)) {
        if ((ioflg & IORESOURCE_TYPE_BITS) === IORESOURCE_MEM && (hwLower & PCI_BASE_ADDRESS_MEM_TYPE_MASK) === PCI_BASE_ADDRESS_MEM_TYPE_64) {
          if (i >= cnt - 1) broken = true;
          // lspci 3.9 reads the upper half at +1 (not +4): reproduced so [virtual] matches it.
          else hwUpper = cfg.long(PCI_BASE_ADDRESS_0 + 4 * i + 1);
        }
        if (pos && !hwLower && !hwUpper && !(ioflg & IORESOURCE_PCI_EA_BEI)) virt = true;
      }
    }
    let bar: DecodedBar;
    if (flg & PCI_BASE_ADDRESS_SPACE_IO) {
      const a = pos & ~3n;
      s += 'I/O ports at ';
      if (a || cmd & PCI_COMMAND_IO) s += hexBig(a, 4);
      else if (hwLower) s += '<ignored>';
      else s += '<unassigned>';
      const disabled = !(cmd & PCI_COMMAND_IO);
      if (virt) s += ' [virtual]';
      else if (disabled) s += ' [disabled]';
      bar = {
        index,
        kind: 'io',
        prefetchable: false,
        address: a || cmd & PCI_COMMAND_IO ? `0x${a.toString(16)}` : null,
        size: len.toString(),
        disabled,
        virtual: virt,
      };
    } else {
      const t = flg & PCI_BASE_ADDRESS_MEM_TYPE_MASK;
      const a = pos & ~0xfn;
      s += 'Memory at ';
      if (broken) s += '<broken-64-bit-slot>';
      else if (a) s += hexBig(a, 8);
      else if (hwLower || hwUpper) s += '<ignored>';
      else s += '<unassigned>';
      const typeName =
        t === PCI_BASE_ADDRESS_MEM_TYPE_32
          ? '32-bit'
          : t === PCI_BASE_ADDRESS_MEM_TYPE_64
            ? '64-bit'
            : t === PCI_BASE_ADDRESS_MEM_TYPE_1M
              ? 'low-1M'
              : 'type 3';
      const pf = (flg & PCI_BASE_ADDRESS_MEM_PREFETCH) !== 0;
      s += ` (${typeName}, ${pf ? '' : 'non-'}prefetchable)`;
      const disabled = !(cmd & PCI_COMMAND_MEMORY);
      if (virt) s += ' [virtual]';
      else if (disabled) s += ' [disabled]';
      const kind =
        t === PCI_BASE_ADDRESS_MEM_TYPE_32
          ? 'mem32'
          : t === PCI_BASE_ADDRESS_MEM_TYPE_64
            ? 'mem64'
            : t === PCI_BASE_ADDRESS_MEM_TYPE_1M
              ? 'mem1m'
              : 'mem-type3';
      bar = { index, kind, prefetchable: pf, address: a ? `0x${a.toString(16)}` : null, size: len.toString(), disabled, virtual: virt };
    }
    if (ioflg & IORESOURCE_PCI_EA_BEI) s += ' [enhanced]';
    s += showSize(len);
    lines.push(s);
    bars.push(bar);
  }
  return { lines, bars };
}

/** The expansion ROM, decoded. */
export interface RomInfo {
  address: string | null;
  size: string;
  enabled: boolean;
  virtual: boolean;
}

/** lspci show_rom. `reg` is PCI_ROM_ADDRESS or PCI_ROM_ADDRESS1, or -1 for an unknown header (flags from sysfs only). */
export function romLines(cfg: ConfigView, bi: BaseInfo, reg: number): { lines: string[]; rom?: RomInfo } {
  const rom = bi.romBase;
  const len = bi.romSize;
  const ioflg = bi.ioFlags ? bi.romFlags : 0n;
  let flg = reg >= 0 ? cfg.long(reg) : ioflgToPciflg(ioflg);
  const cmd = reg >= 0 ? cfg.word(PCI_COMMAND) : PCI_COMMAND_MEMORY;
  let virt = false;
  // lspci's PCI_ROM_ADDRESS_MASK is ~0x7ff as a 64-bit pciaddr_t.
  const romMask = BigInt.asUintN(64, ~0x7ffn);
  if (!rom && !flg && !len) return { lines: [] };
  if (reg >= 0 && rom & romMask && !(flg & PCI_ROM_ADDRESS_MASK) && !(ioflg & IORESOURCE_PCI_EA_BEI)) {
    flg = Number(rom & 0xffffffffn);
    virt = true;
  }
  let s = '\tExpansion ROM at ';
  if (rom & romMask) s += hexBig(rom & romMask, 8);
  else if (flg & PCI_ROM_ADDRESS_MASK) s += '<ignored>';
  else s += '<unassigned>';
  if (virt) s += ' [virtual]';
  if (!(flg & PCI_ROM_ADDRESS_ENABLE)) s += ' [disabled]';
  else if (!virt && !(cmd & PCI_COMMAND_MEMORY)) s += ' [disabled by cmd]';
  if (ioflg & IORESOURCE_PCI_EA_BEI) s += ' [enhanced]';
  s += showSize(len);
  return {
    lines: [s],
    rom: {
      address: rom & romMask ? `0x${(rom & romMask).toString(16)}` : null,
      size: len.toString(),
      enabled: (flg & PCI_ROM_ADDRESS_ENABLE) !== 0,
      virtual: virt,
    },
  };
}
