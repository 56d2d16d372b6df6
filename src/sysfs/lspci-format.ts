// lspci-style text: the terse line (-nn -D -k), the verbose decode (-v, -vv) and hex dumps (-x, -xxx, -xxxx).

import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_TYPE_1M,
  PCI_BASE_ADDRESS_MEM_TYPE_32,
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_MEM_TYPE_MASK,
  PCI_BASE_ADDRESS_SPACE,
  PCI_BASE_ADDRESS_SPACE_IO,
  PCI_BIST,
  PCI_BIST_CAPABLE,
  PCI_BIST_CODE_MASK,
  PCI_BIST_START,
  PCI_BRIDGE_CONTROL,
  PCI_BRIDGE_CTL_BUS_RESET,
  PCI_BRIDGE_CTL_FAST_BACK,
  PCI_BRIDGE_CTL_ISA,
  PCI_BRIDGE_CTL_MASTER_ABORT,
  PCI_BRIDGE_CTL_PARITY,
  PCI_BRIDGE_CTL_SERR,
  PCI_BRIDGE_CTL_VGA,
  PCI_CACHE_LINE_SIZE,
  PCI_CAP_ID_SSVID,
  PCI_CAPABILITY_LIST,
  PCI_CB_CAPABILITY_LIST,
  PCI_CB_SUBSYSTEM_ID,
  PCI_CB_SUBSYSTEM_VENDOR_ID,
  PCI_COMMAND,
  PCI_COMMAND_FAST_BACK,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_INVALIDATE,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_COMMAND_PARITY,
  PCI_COMMAND_SERR,
  PCI_COMMAND_SPECIAL,
  PCI_COMMAND_VGA_PALETTE,
  PCI_COMMAND_WAIT,
  PCI_HEADER_TYPE,
  PCI_HEADER_TYPE_BRIDGE,
  PCI_HEADER_TYPE_CARDBUS,
  PCI_HEADER_TYPE_MASK,
  PCI_HEADER_TYPE_NORMAL,
  PCI_INTERRUPT_PIN,
  PCI_IO_BASE,
  PCI_IO_BASE_UPPER16,
  PCI_IO_LIMIT,
  PCI_IO_LIMIT_UPPER16,
  PCI_IO_RANGE_MASK,
  PCI_IO_RANGE_TYPE_16,
  PCI_IO_RANGE_TYPE_32,
  PCI_IO_RANGE_TYPE_MASK,
  PCI_LATENCY_TIMER,
  PCI_MAX_LAT,
  PCI_MEMORY_BASE,
  PCI_MEMORY_LIMIT,
  PCI_MEMORY_RANGE_MASK,
  PCI_MEMORY_RANGE_TYPE_MASK,
  PCI_MIN_GNT,
  PCI_PREF_BASE_UPPER32,
  PCI_PREF_LIMIT_UPPER32,
  PCI_PREF_MEMORY_BASE,
  PCI_PREF_MEMORY_LIMIT,
  PCI_PREF_RANGE_MASK,
  PCI_PREF_RANGE_TYPE_32,
  PCI_PREF_RANGE_TYPE_64,
  PCI_PREF_RANGE_TYPE_MASK,
  PCI_PRIMARY_BUS,
  PCI_REVISION_ID,
  PCI_ROM_ADDRESS,
  PCI_ROM_ADDRESS_ENABLE,
  PCI_ROM_ADDRESS_MASK,
  PCI_ROM_ADDRESS1,
  PCI_SEC_LATENCY_TIMER,
  PCI_SEC_STATUS,
  PCI_SECONDARY_BUS,
  PCI_SSVID_DEVICE_ID,
  PCI_SSVID_VENDOR_ID,
  PCI_STATUS,
  PCI_STATUS_66MHZ,
  PCI_STATUS_CAP_LIST,
  PCI_STATUS_DETECTED_PARITY,
  PCI_STATUS_DEVSEL_FAST,
  PCI_STATUS_DEVSEL_MASK,
  PCI_STATUS_DEVSEL_MEDIUM,
  PCI_STATUS_DEVSEL_SLOW,
  PCI_STATUS_FAST_BACK,
  PCI_STATUS_INTERRUPT,
  PCI_STATUS_PARITY,
  PCI_STATUS_REC_MASTER_ABORT,
  PCI_STATUS_REC_TARGET_ABORT,
  PCI_STATUS_SIG_SYSTEM_ERROR,
  PCI_STATUS_SIG_TARGET_ABORT,
  PCI_STATUS_UDF,
  PCI_SUBORDINATE_BUS,
  PCI_SUBSYSTEM_ID,
  PCI_SUBSYSTEM_VENDOR_ID,
} from '../../shared/linux/pci-regs.js';
import { findCapability } from '../../shared/pci/capabilities.js';
import type { PciDeviceRecord } from '../../shared/sysfs/source.js';
import { type CapabilityInfo, decodeCapabilities } from './caps.js';
import { ConfigView } from './config-view.js';
import type { KernelModules } from './modules.js';
import type { IdMode, PciIds } from './pci-ids.js';

/** Kernel resource flags (include/linux/ioport.h IORESOURCE_*), as sysfs `resource` reports them. */
export const IORESOURCE_IO = 0x100n;
export const IORESOURCE_MEM = 0x200n;
export const IORESOURCE_PREFETCH = 0x2000n;
export const IORESOURCE_MEM_64 = 0x100000n;
export const IORESOURCE_TYPE_BITS = 0x1f00n;
/** Enhanced Allocation BAR (IORESOURCE_PCI_EA_BEI, bit 5). */
export const IORESOURCE_PCI_EA_BEI = 0x20n;

/** Bridge control bits pci_regs.h does not name (PCI-to-PCI Bridge spec 1.2, 3.2.5.18). */
const PCI_BRIDGE_CTL_VGA_16BIT = 0x10;
const PCI_BRIDGE_CTL_PRI_DISCARD_TIMER = 0x100;
const PCI_BRIDGE_CTL_SEC_DISCARD_TIMER = 0x200;
const PCI_BRIDGE_CTL_DISCARD_TIMER_STATUS = 0x400;
const PCI_BRIDGE_CTL_DISCARD_TIMER_SERR_EN = 0x800;
const PCI_CLASS_BRIDGE_PCI = 0x0604;
const PCI_BASE_CLASS_BRIDGE = 0x06;

/** How to print: lspci's -n/-nn, -D, -v count, -k, -x count. */
export interface LspciOptions {
  /** Name mode: `mixed` is -nn. */
  mode: IdMode;
  /** -D: always print the domain. Without it the domain appears when any device has one. */
  domains: boolean;
  /** -v count (0 terse, 1, 2, 3). */
  verbose: number;
  /** -k: kernel driver lines. */
  kernel: boolean;
  /** -x count (0 none, 1 = 64 bytes, 3 = 256 bytes, 4 = 4096 bytes). */
  hex: number;
  /** Where `Kernel modules:` come from (the running kernel's modules.alias); none: no such line. */
  modules?: KernelModules | undefined;
  /** -P / -PP: each device's bridge path (src/sysfs/tree.ts slotPaths), keyed by `Bdf.toString()`; none: `bb:dd.f`. */
  paths?: Map<string, string> | undefined;
}

const FLAG = (x: number, y: number): string => ((x & y) !== 0 ? '+' : '-');

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

/** Header type without the multi-function bit. */
export function headerType(cfg: ConfigView): number {
  return cfg.byte(PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK;
}

/** Fills BAR, ROM and bridge-window info from a record (see {@link BaseInfo}). */
export function baseInfo(rec: PciDeviceRecord, cfg: ConfigView): BaseInfo {
  const res = rec.resources;
  if (res && res.length > 0) {
    const info: BaseInfo = { baseAddr: [], size: [], ioFlags: [], romBase: 0n, romSize: 0n, romFlags: 0n };
    for (let i = 0; i < Math.min(res.length, 7 + 6 + 4 + 1); i++) {
      const r = res[i]!;
      const size = r.end > r.start ? r.end - r.start + 1n : 0n;
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
        return { base: r.start, size: r.end > r.start ? r.end - r.start + 1n : 0n, flags: r.flags };
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
  const romReg = ht === PCI_HEADER_TYPE_NORMAL ? PCI_ROM_ADDRESS : ht === PCI_HEADER_TYPE_BRIDGE ? PCI_ROM_ADDRESS1 : 0;
  if (romReg) {
    const u = cfg.long(romReg);
    if (u !== 0xffffffff) info.romBase = BigInt(u);
  }
  return info;
}

/** `DDDD:BB:DD.F` or `BB:DD.F`, or with -P/-PP `[DDDD:]path` (lspci show_slot_name, show_slot_path). */
export function slotName(rec: PciDeviceRecord, domains: boolean, paths?: Map<string, string>): string {
  const path = paths?.get(rec.bdf.toString()) ?? rec.bdf.toShortString();
  return domains ? `${rec.bdf.domain.toString(16).padStart(4, '0')}:${path}` : path;
}

/** Revision ID: sysfs `revision`, else config byte 8 (lib/sysfs.c). */
export function revisionOf(rec: PciDeviceRecord, cfg: ConfigView): number {
  return rec.revision ?? (cfg.has(PCI_REVISION_ID) ? cfg.byte(PCI_REVISION_ID) : 0);
}

/**
 * Subsystem IDs: sysfs `subsystem_vendor`/`subsystem_device`, else from config by header type
 * (type 0: 0x2c/0x2e; CardBus: 0x40/0x42; bridges only through an SSVID capability, which
 * lspci then shows as a capability). Undefined when there are none.
 */
export function subsystemOf(rec: PciDeviceRecord, cfg: ConfigView): { vendor: number; device: number } | undefined {
  if (rec.subsystemVendor !== undefined) return { vendor: rec.subsystemVendor, device: rec.subsystemDevice ?? 0 };
  if (cfg.size === 0) return undefined;
  const ht = headerType(cfg);
  if (ht === PCI_HEADER_TYPE_NORMAL) return { vendor: cfg.word(PCI_SUBSYSTEM_VENDOR_ID), device: cfg.word(PCI_SUBSYSTEM_ID) };
  if (ht === PCI_HEADER_TYPE_BRIDGE) {
    // lib/generic.c: a bridge's subsystem is in its SSVID capability.
    const at = findCapability(cfg.read, PCI_CAP_ID_SSVID);
    if (at !== undefined && cfg.has(at + PCI_SSVID_DEVICE_ID, 2))
      return { vendor: cfg.word(at + PCI_SSVID_VENDOR_ID), device: cfg.word(at + PCI_SSVID_DEVICE_ID) };
  }
  if (ht === PCI_HEADER_TYPE_CARDBUS && cfg.has(PCI_CB_SUBSYSTEM_ID, 2))
    return { vendor: cfg.word(PCI_CB_SUBSYSTEM_VENDOR_ID), device: cfg.word(PCI_CB_SUBSYSTEM_ID) };
  return undefined;
}

/** Modules whose aliases match the device's modalias (lspci next_module_filtered), none without a modalias. */
export function modulesOf(rec: PciDeviceRecord, modules: KernelModules | undefined): string[] {
  return modules && rec.modalias ? modules.lookup(rec.modalias) : [];
}

/** Kernel driver and module lines (lspci ls-kernel.c show_kernel): `Kernel driver in use:`, `Kernel modules: a, b`. */
export function kernelLines(rec: PciDeviceRecord, modules?: KernelModules): string[] {
  const out = rec.driver ? [`\tKernel driver in use: ${rec.driver}`] : [];
  const mods = modulesOf(rec, modules);
  if (mods.length) out.push(`\tKernel modules: ${mods.join(', ')}`);
  return out;
}

/** The terse lines (lspci show_terse): slot, class, vendor/device, rev, [prog-if], DeviceName, Subsystem. */
export function terseLines(rec: PciDeviceRecord, ids: PciIds, opts: LspciOptions, domains: boolean): string[] {
  const cfg = new ConfigView(rec.config);
  const cls = rec.classCode >> 8;
  let line = `${slotName(rec, domains, opts.paths)} ${ids.formatClass(cls, opts.mode)}: ${ids.formatVendorDevice(rec.vendor, rec.device, opts.mode)}`;
  const rev = revisionOf(rec, cfg);
  if (rev) line += ` (rev ${hex(rev, 2)})`;
  if (opts.verbose) {
    const c = rec.classCode & 0xff;
    const x = ids.progIfName(cls, c);
    if (c || x !== undefined) line += ` (prog-if ${hex(c, 2)}${x !== undefined ? ` [${x}]` : ''})`;
  }
  const out = [line];
  if (opts.verbose || opts.kernel) {
    // lspci prints the label without adding a newline (sysfs' label ends with one).
    let pending = '';
    if (rec.label !== undefined) pending = `\tDeviceName: ${rec.label}`;
    const ss = subsystemOf(rec, cfg);
    if (ss?.vendor && ss.vendor !== 0xffff) {
      out.push(...`${pending}\tSubsystem: ${ids.formatSubsystem(rec.vendor, rec.device, ss.vendor, ss.device, opts.mode)}`.split('\n'));
      pending = '';
    }
    if (pending) {
      const parts = pending.split('\n');
      out.push(...parts.slice(0, -1));
      if (parts.at(-1)) out.push(parts.at(-1)!);
    }
  }
  return out;
}

function showSize(x: bigint): string {
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

/** lspci show_bases: BAR lines plus their decoded form. */
export function basesLines(_rec: PciDeviceRecord, cfg: ConfigView, bi: BaseInfo, cnt: number, verbose: number): { lines: string[]; bars: DecodedBar[] } {
  const cmd = cfg.word(PCI_COMMAND);
  const lines: string[] = [];
  const bars: DecodedBar[] = [];
  for (let i = 0; i < cnt; i++) {
    const pos = bi.baseAddr[i]!;
    const len = bi.size[i] ?? 0n;
    const ioflg = bi.ioFlags ? bi.ioFlags[i]! : 0n;
    let flg = bi.ioFlags ? ioflgToPciflg(ioflg) : cfg.long(PCI_BASE_ADDRESS_0 + 4 * i);
    let hwLower = 0;
    let hwUpper = 0;
    let broken = false;
    let virt = false;
    if (flg === 0xffffffff) flg = 0;
    if (!pos && !flg && !len) continue;
    let s = verbose > 1 ? `\tRegion ${i}: ` : '\t';
    const index = i;
    if (bi.ioFlags) {
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

/** lspci show_rom. `reg` is PCI_ROM_ADDRESS or PCI_ROM_ADDRESS1. */
export function romLines(cfg: ConfigView, bi: BaseInfo, reg: number): { lines: string[]; rom?: RomInfo } {
  const rom = bi.romBase;
  const len = bi.romSize;
  const ioflg = bi.ioFlags ? bi.romFlags : 0n;
  let flg = cfg.long(reg);
  const cmd = cfg.word(PCI_COMMAND);
  let virt = false;
  // lspci's PCI_ROM_ADDRESS_MASK is ~0x7ff as a 64-bit pciaddr_t.
  const romMask = BigInt.asUintN(64, ~0x7ffn);
  if (!rom && !flg && !len) return { lines: [] };
  if (rom & romMask && !(flg & PCI_ROM_ADDRESS_MASK) && !(ioflg & IORESOURCE_PCI_EA_BEI)) {
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

function showRange(prefix: string, base: bigint, limit: bigint, bits: number, disabled: boolean, verbose: number): string {
  let s = `${prefix}:`;
  const w = Math.floor((bits + 3) / 4);
  if (base <= limit || verbose > 2) s += ` ${hexBig(BigInt.asUintN(64, base), w)}-${hexBig(BigInt.asUintN(64, limit), w)}`;
  if (!disabled && base <= limit) s += showSize(limit - base + 1n);
  else s += ' [disabled]';
  if (bits) s += ` [${bits}-bit]`;
  return s;
}

/** lspci show_htype1 (PCI-to-PCI bridge), without the capability list. */
function bridgeLines(rec: PciDeviceRecord, cfg: ConfigView, bi: BaseInfo, verbose: number): { lines: string[]; bars: DecodedBar[]; rom?: RomInfo } {
  const lines: string[] = [];
  let ioBase = cfg.byte(PCI_IO_BASE);
  let ioLimit = cfg.byte(PCI_IO_LIMIT);
  const ioType = ioBase & PCI_IO_RANGE_TYPE_MASK;
  let memBase = cfg.word(PCI_MEMORY_BASE);
  let memLimit = cfg.word(PCI_MEMORY_LIMIT);
  const memType = memBase & PCI_MEMORY_RANGE_TYPE_MASK;
  const prefBase = cfg.word(PCI_PREF_MEMORY_BASE);
  const prefLimit = cfg.word(PCI_PREF_MEMORY_LIMIT);
  const prefType = prefBase & PCI_PREF_RANGE_TYPE_MASK;
  const secStat = cfg.word(PCI_SEC_STATUS);
  const brc = cfg.word(PCI_BRIDGE_CONTROL);
  const bb = bi.bridge;
  const ioDisabled = !!bb && !bb[0]!.size;
  const memDisabled = !!bb && !bb[1]!.size;
  const prefDisabled = !!bb && !bb[2]!.size;
  const bases = basesLines(rec, cfg, bi, 2, verbose);
  lines.push(...bases.lines);
  lines.push(
    `\tBus: primary=${hex(cfg.byte(PCI_PRIMARY_BUS), 2)}, secondary=${hex(cfg.byte(PCI_SECONDARY_BUS), 2)}, subordinate=${hex(cfg.byte(PCI_SUBORDINATE_BUS), 2)}, sec-latency=${cfg.byte(PCI_SEC_LATENCY_TIMER)}`,
  );
  if (bb && !ioDisabled) {
    const b = bb[0]!.base & RANGE_MASK64;
    const t = Number(bb[0]!.base & BigInt(PCI_IO_RANGE_TYPE_MASK));
    lines.push(showRange('\tI/O behind bridge', b, b + bb[0]!.size - 1n, t === PCI_IO_RANGE_TYPE_32 ? 32 : 16, ioDisabled, verbose));
  } else if (ioType !== (ioLimit & PCI_IO_RANGE_TYPE_MASK) || (ioType !== PCI_IO_RANGE_TYPE_16 && ioType !== PCI_IO_RANGE_TYPE_32)) {
    lines.push(`\t!!! Unknown I/O range types ${ioBase.toString(16)}/${ioLimit.toString(16)}`);
  } else {
    ioBase = ((ioBase & PCI_IO_RANGE_MASK) << 8) >>> 0;
    ioLimit = ((ioLimit & PCI_IO_RANGE_MASK) << 8) >>> 0;
    if (ioType === PCI_IO_RANGE_TYPE_32) {
      ioBase = (ioBase | (cfg.word(PCI_IO_BASE_UPPER16) << 16)) >>> 0;
      ioLimit = (ioLimit | (cfg.word(PCI_IO_LIMIT_UPPER16) << 16)) >>> 0;
    }
    if (!(ioBase === 0 && ioLimit === 0 && ioDisabled)) {
      ioLimit = (ioLimit + 0xfff) >>> 0;
      lines.push(showRange('\tI/O behind bridge', BigInt(ioBase), BigInt(ioLimit), ioType === PCI_IO_RANGE_TYPE_32 ? 32 : 16, ioDisabled, verbose));
    }
  }
  if (bb && !memDisabled) {
    const b = bb[1]!.base & RANGE_MASK64;
    lines.push(showRange('\tMemory behind bridge', b, b + bb[1]!.size - 1n, 32, memDisabled, verbose));
  } else if (memType !== (memLimit & PCI_MEMORY_RANGE_TYPE_MASK) || memType) {
    lines.push(`\t!!! Unknown memory range types ${memBase.toString(16)}/${memLimit.toString(16)}`);
  } else {
    memBase = ((memBase & PCI_MEMORY_RANGE_MASK) << 16) >>> 0;
    memLimit = ((memLimit & PCI_MEMORY_RANGE_MASK) << 16) >>> 0;
    lines.push(showRange('\tMemory behind bridge', BigInt(memBase), BigInt((memLimit + 0xfffff) >>> 0), 32, memDisabled, verbose));
  }
  if (bb && !prefDisabled) {
    const b = bb[2]!.base & RANGE_MASK64;
    const t = Number(bb[2]!.base & BigInt(PCI_MEMORY_RANGE_TYPE_MASK));
    lines.push(showRange('\tPrefetchable memory behind bridge', b, b + bb[2]!.size - 1n, t === PCI_PREF_RANGE_TYPE_64 ? 64 : 32, prefDisabled, verbose));
  } else if (prefType !== (prefLimit & PCI_PREF_RANGE_TYPE_MASK) || (prefType !== PCI_PREF_RANGE_TYPE_32 && prefType !== PCI_PREF_RANGE_TYPE_64)) {
    lines.push(`\t!!! Unknown prefetchable memory range types ${prefBase.toString(16)}/${prefLimit.toString(16)}`);
  } else {
    let b = BigInt(((prefBase & PCI_PREF_RANGE_MASK) << 16) >>> 0);
    let l = BigInt(((prefLimit & PCI_PREF_RANGE_MASK) << 16) >>> 0);
    if (prefType === PCI_PREF_RANGE_TYPE_64) {
      b |= BigInt(cfg.long(PCI_PREF_BASE_UPPER32)) << 32n;
      l |= BigInt(cfg.long(PCI_PREF_LIMIT_UPPER32)) << 32n;
    }
    if (!(b === 0n && l === 0n && prefDisabled))
      lines.push(showRange('\tPrefetchable memory behind bridge', b, l + 0xfffffn, prefType === PCI_PREF_RANGE_TYPE_64 ? 64 : 32, prefDisabled, verbose));
  }
  if (verbose > 1)
    lines.push(
      `\tSecondary status: 66MHz${FLAG(secStat, PCI_STATUS_66MHZ)} FastB2B${FLAG(secStat, PCI_STATUS_FAST_BACK)} ParErr${FLAG(secStat, PCI_STATUS_PARITY)} DEVSEL=${devsel(secStat)} >TAbort${FLAG(secStat, PCI_STATUS_SIG_TARGET_ABORT)} <TAbort${FLAG(secStat, PCI_STATUS_REC_TARGET_ABORT)} <MAbort${FLAG(secStat, PCI_STATUS_REC_MASTER_ABORT)} <SERR${FLAG(secStat, PCI_STATUS_SIG_SYSTEM_ERROR)} <PERR${FLAG(secStat, PCI_STATUS_DETECTED_PARITY)}`,
    );
  const rom = romLines(cfg, bi, PCI_ROM_ADDRESS1);
  lines.push(...rom.lines);
  if (verbose > 1) {
    lines.push(
      `\tBridgeCtl: Parity${FLAG(brc, PCI_BRIDGE_CTL_PARITY)} SERR${FLAG(brc, PCI_BRIDGE_CTL_SERR)} NoISA${FLAG(brc, PCI_BRIDGE_CTL_ISA)} VGA${FLAG(brc, PCI_BRIDGE_CTL_VGA)} VGA16${FLAG(brc, PCI_BRIDGE_CTL_VGA_16BIT)} MAbort${FLAG(brc, PCI_BRIDGE_CTL_MASTER_ABORT)} >Reset${FLAG(brc, PCI_BRIDGE_CTL_BUS_RESET)} FastB2B${FLAG(brc, PCI_BRIDGE_CTL_FAST_BACK)}`,
    );
    lines.push(
      `\t\tPriDiscTmr${FLAG(brc, PCI_BRIDGE_CTL_PRI_DISCARD_TIMER)} SecDiscTmr${FLAG(brc, PCI_BRIDGE_CTL_SEC_DISCARD_TIMER)} DiscTmrStat${FLAG(brc, PCI_BRIDGE_CTL_DISCARD_TIMER_STATUS)} DiscTmrSERREn${FLAG(brc, PCI_BRIDGE_CTL_DISCARD_TIMER_SERR_EN)}`,
    );
  }
  return { lines, bars: bases.bars, ...(rom.rom ? { rom: rom.rom } : {}) };
}

/** lspci's PCI_IO_RANGE_MASK / PCI_MEMORY_RANGE_MASK (~0x0f) applied to a 64-bit window base. */
const RANGE_MASK64 = BigInt.asUintN(64, ~0xfn);

function devsel(status: number): string {
  const d = status & PCI_STATUS_DEVSEL_MASK;
  return d === PCI_STATUS_DEVSEL_SLOW ? 'slow' : d === PCI_STATUS_DEVSEL_MEDIUM ? 'medium' : d === PCI_STATUS_DEVSEL_FAST ? 'fast' : '??';
}

/** Everything `show` decodes: lspci's lines plus structured fields for --json. */
export interface DeviceDecode {
  lines: string[];
  headerType: number;
  bars: DecodedBar[];
  rom?: RomInfo;
  capabilities: CapabilityInfo[];
  command: number;
  status: number;
  interruptPin: number;
}

/**
 * lspci show_verbose + show_kernel (the -v/-vv body of one device, no trailing blank line).
 * Header types 0 and 1 are decoded in full; CardBus and unknown types get the header lines only.
 */
export function verboseDecode(rec: PciDeviceRecord, ids: PciIds, opts: LspciOptions, domains: boolean): DeviceDecode {
  const cfg = new ConfigView(rec.config);
  const verbose = opts.verbose;
  const lines = terseLines(rec, ids, opts, domains);
  const cls = rec.classCode >> 8;
  const noConfig = cfg.size < 64;
  const htype = noConfig ? -1 : headerType(cfg);
  let bist = 0;
  let maxLat = 0;
  let minGnt = 0;
  let unknownConfig = false;
  switch (htype) {
    case PCI_HEADER_TYPE_NORMAL:
      if (cls === PCI_CLASS_BRIDGE_PCI) lines.push(`\t!!! Invalid class ${hex(cls, 4)} for header type ${hex(htype, 2)}`);
      bist = cfg.byte(PCI_BIST);
      maxLat = cfg.byte(PCI_MAX_LAT);
      minGnt = cfg.byte(PCI_MIN_GNT);
      break;
    case PCI_HEADER_TYPE_BRIDGE:
    case PCI_HEADER_TYPE_CARDBUS:
      if (cls >> 8 !== PCI_BASE_CLASS_BRIDGE) lines.push(`\t!!! Invalid class ${hex(cls, 4)} for header type ${hex(htype, 2)}`);
      bist = cfg.byte(PCI_BIST);
      break;
    default:
      if (!noConfig) lines.push(`\t!!! Unknown header type ${hex(htype, 2)}`);
      unknownConfig = true;
  }
  if (rec.physSlot) lines.push(`\tPhysical Slot: ${rec.physSlot}`);
  const cmd = cfg.word(PCI_COMMAND);
  const status = cfg.word(PCI_STATUS);
  const numa = rec.numaNode ?? -1;
  if (!unknownConfig && verbose > 1) {
    lines.push(
      `\tControl: I/O${FLAG(cmd, PCI_COMMAND_IO)} Mem${FLAG(cmd, PCI_COMMAND_MEMORY)} BusMaster${FLAG(cmd, PCI_COMMAND_MASTER)} SpecCycle${FLAG(cmd, PCI_COMMAND_SPECIAL)} MemWINV${FLAG(cmd, PCI_COMMAND_INVALIDATE)} VGASnoop${FLAG(cmd, PCI_COMMAND_VGA_PALETTE)} ParErr${FLAG(cmd, PCI_COMMAND_PARITY)} Stepping${FLAG(cmd, PCI_COMMAND_WAIT)} SERR${FLAG(cmd, PCI_COMMAND_SERR)} FastB2B${FLAG(cmd, PCI_COMMAND_FAST_BACK)} DisINTx${FLAG(cmd, PCI_COMMAND_INTX_DISABLE)}`,
    );
    lines.push(
      `\tStatus: Cap${FLAG(status, PCI_STATUS_CAP_LIST)} 66MHz${FLAG(status, PCI_STATUS_66MHZ)} UDF${FLAG(status, PCI_STATUS_UDF)} FastB2B${FLAG(status, PCI_STATUS_FAST_BACK)} ParErr${FLAG(status, PCI_STATUS_PARITY)} DEVSEL=${devsel(status)} >TAbort${FLAG(status, PCI_STATUS_SIG_TARGET_ABORT)} <TAbort${FLAG(status, PCI_STATUS_REC_TARGET_ABORT)} <MAbort${FLAG(status, PCI_STATUS_REC_MASTER_ABORT)} >SERR${FLAG(status, PCI_STATUS_SIG_SYSTEM_ERROR)} <PERR${FLAG(status, PCI_STATUS_DETECTED_PARITY)} INTx${FLAG(status, PCI_STATUS_INTERRUPT)}`,
    );
    if (cmd & PCI_COMMAND_MASTER) {
      let s = `\tLatency: ${cfg.byte(PCI_LATENCY_TIMER)}`;
      if (minGnt || maxLat) {
        s += ' (';
        if (minGnt) s += `${minGnt * 250}ns min`;
        if (minGnt && maxLat) s += ', ';
        if (maxLat) s += `${maxLat * 250}ns max`;
        s += ')';
      }
      const cl = cfg.byte(PCI_CACHE_LINE_SIZE);
      if (cl) s += `, Cache Line Size: ${cl * 4} bytes`;
      lines.push(s);
    }
  }
  const intPin = unknownConfig ? 0 : cfg.byte(PCI_INTERRUPT_PIN);
  if (verbose > 1) {
    if (intPin || rec.irq) lines.push(`\tInterrupt: pin ${intPin ? String.fromCharCode(64 + intPin) : '?'} routed to IRQ ${rec.irq}`);
    if (numa !== -1) lines.push(`\tNUMA node: ${numa}`);
    if (rec.iommuGroup !== undefined) lines.push(`\tIOMMU group: ${rec.iommuGroup}`);
  }
  if (!unknownConfig && verbose <= 1) {
    let s = '\tFlags: ';
    if (cmd & PCI_COMMAND_MASTER) s += 'bus master, ';
    if (cmd & PCI_COMMAND_VGA_PALETTE) s += 'VGA palette snoop, ';
    if (cmd & PCI_COMMAND_WAIT) s += 'stepping, ';
    if (cmd & PCI_COMMAND_FAST_BACK) s += 'fast Back2Back, ';
    if (status & PCI_STATUS_66MHZ) s += '66MHz, ';
    if (status & PCI_STATUS_UDF) s += 'user-definable features, ';
    s += `${devsel(status)} devsel`;
    if (cmd & PCI_COMMAND_MASTER) s += `, latency ${cfg.byte(PCI_LATENCY_TIMER)}`;
    if (rec.irq) s += `, IRQ ${rec.irq}`;
    if (numa !== -1) s += `, NUMA node ${numa}`;
    if (rec.iommuGroup !== undefined) s += `, IOMMU group ${rec.iommuGroup}`;
    lines.push(s);
  }
  if (bist & PCI_BIST_CAPABLE) lines.push(bist & PCI_BIST_START ? '\tBIST is running' : `\tBIST result: ${hex(bist & PCI_BIST_CODE_MASK, 2)}`);
  const bi = baseInfo(rec, cfg);
  const capCtx = {
    cfg,
    verbose,
    device: rec.bdf.device,
    fn: rec.bdf.fn,
    hasMemoryBar: bi.baseAddr.some((b, i) => (b !== 0n || bi.size[i] !== 0n) && (b & 1n) === 0n),
    formatSubsystem: (sv: number, sd: number) => ids.formatSubsystem(rec.vendor, rec.device, sv, sd, opts.mode),
  };
  const decode: DeviceDecode = { lines, headerType: htype, bars: [], capabilities: [], command: cmd, status, interruptPin: intPin };
  if (htype === PCI_HEADER_TYPE_NORMAL) {
    const b = basesLines(rec, cfg, bi, 6, verbose);
    lines.push(...b.lines);
    decode.bars = b.bars;
    const r = romLines(cfg, bi, PCI_ROM_ADDRESS);
    lines.push(...r.lines);
    if (r.rom) decode.rom = r.rom;
    const c = decodeCapabilities(capCtx, PCI_CAPABILITY_LIST);
    lines.push(...c.lines);
    decode.capabilities = c.caps;
  } else if (htype === PCI_HEADER_TYPE_BRIDGE) {
    const b = bridgeLines(rec, cfg, bi, verbose);
    lines.push(...b.lines);
    decode.bars = b.bars;
    if (b.rom) decode.rom = b.rom;
    const c = decodeCapabilities(capCtx, PCI_CAPABILITY_LIST);
    lines.push(...c.lines);
    decode.capabilities = c.caps;
  } else if (htype === PCI_HEADER_TYPE_CARDBUS) {
    lines.push('\t(CardBus bridge windows not decoded by rawpci: use lspci -vv)');
    const c = decodeCapabilities(capCtx, PCI_CB_CAPABILITY_LIST);
    lines.push(...c.lines);
    decode.capabilities = c.caps;
  }
  lines.push(...kernelLines(rec, opts.modules));
  return decode;
}

/**
 * lspci show_hex_dump: `-x` 64 bytes (128 for CardBus), `-xxx` 256, `-xxxx` 4096, each only if
 * readable (a non-root reader of real sysfs gets 64). Lines `oo: xx xx ...`, 16 bytes each.
 */
export function hexDumpLines(rec: PciDeviceRecord, level: number): string[] {
  const cfg = new ConfigView(rec.config);
  if (cfg.size < 64) return ['WARNING: Cannot show hex-dump of the config space'];
  let cnt = headerType(cfg) === PCI_HEADER_TYPE_CARDBUS && cfg.has(64, 64) ? 128 : 64;
  if (level >= 3 && cfg.has(cnt, 256 - cnt)) {
    cnt = 256;
    if (level >= 4 && cfg.has(256, 4096 - 256)) cnt = 4096;
  }
  const out: string[] = [];
  for (let i = 0; i < cnt; i += 16) {
    let s = `${hex(i, 2)}:`;
    for (let j = 0; j < 16; j++) s += ` ${hex(cfg.byte(i + j), 2)}`;
    out.push(s);
  }
  return out;
}

/**
 * lspci show_device for one record: terse or verbose body, kernel lines, hex dump, and the
 * blank line lspci prints after each device when -v or -x is given.
 */
export function deviceLines(rec: PciDeviceRecord, ids: PciIds, opts: LspciOptions, domains: boolean): string[] {
  const out = opts.verbose
    ? verboseDecode(rec, ids, opts, domains).lines
    : [...terseLines(rec, ids, opts, domains), ...(opts.kernel ? kernelLines(rec, opts.modules) : [])];
  if (opts.hex) out.push(...hexDumpLines(rec, opts.hex));
  if (opts.verbose || opts.hex) out.push('');
  return out;
}

/**
 * The whole listing as lspci prints it (text ending in a newline, or '' for no devices).
 * `anyDomain`: some device on the host (before filtering) has a non-zero domain, so lspci shows domains.
 */
export function formatListing(records: PciDeviceRecord[], ids: PciIds, opts: LspciOptions, anyDomain = records.some((r) => r.bdf.domain !== 0)): string {
  const domains = opts.domains || anyDomain;
  const lines = records.flatMap((r) => deviceLines(r, ids, opts, domains));
  return lines.length ? `${lines.join('\n')}\n` : '';
}

function hex(v: number, width: number): string {
  return (v >>> 0).toString(16).padStart(width, '0');
}

function hexBig(v: bigint, width: number): string {
  return v.toString(16).padStart(width, '0');
}
