// lspci-style text: the terse line (-nn -D -k), the verbose decode (-v, -vv) and hex dumps (-x, -xxx, -xxxx).

import {
  PCI_BIST,
  PCI_BIST_CAPABLE,
  PCI_BIST_CODE_MASK,
  PCI_BIST_START,
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
  PCI_HEADER_TYPE_BRIDGE,
  PCI_HEADER_TYPE_CARDBUS,
  PCI_HEADER_TYPE_NORMAL,
  PCI_INTERRUPT_PIN,
  PCI_LATENCY_TIMER,
  PCI_MAX_LAT,
  PCI_MIN_GNT,
  PCI_REVISION_ID,
  PCI_ROM_ADDRESS,
  PCI_SSVID_DEVICE_ID,
  PCI_SSVID_VENDOR_ID,
  PCI_STATUS,
  PCI_STATUS_66MHZ,
  PCI_STATUS_CAP_LIST,
  PCI_STATUS_DETECTED_PARITY,
  PCI_STATUS_FAST_BACK,
  PCI_STATUS_INTERRUPT,
  PCI_STATUS_PARITY,
  PCI_STATUS_REC_MASTER_ABORT,
  PCI_STATUS_REC_TARGET_ABORT,
  PCI_STATUS_SIG_SYSTEM_ERROR,
  PCI_STATUS_SIG_TARGET_ABORT,
  PCI_STATUS_UDF,
  PCI_SUBSYSTEM_ID,
  PCI_SUBSYSTEM_VENDOR_ID,
} from '../../shared/linux/pci-regs.js';
import { findCapability } from '../../shared/pci/capabilities.js';
import type { PciDeviceRecord } from '../../shared/sysfs/source.js';
import { devsel, FLAG, hex } from './cap-format.js';
import { type CapabilityInfo, decodeCapabilities } from './caps.js';
import { ConfigView, headerType } from './config-view.js';
import { baseInfo, basesLines, type DecodedBar, type RomInfo, romLines } from './lspci-bases.js';
import { bridgeLines, cardbusLines, unknownHeaderLines } from './lspci-bridge.js';
import type { KernelModules } from './modules.js';
import type { IdMode, PciIds } from './pci-ids.js';

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
 * Header types 0, 1 and 2 (CardBus) are decoded in full; unknown types and unreadable config get what sysfs `resource` says.
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
    if (intPin || rec.irq) lines.push(`\tInterrupt: pin ${intPin ? String.fromCharCode((64 + intPin) & 0xff) : '?'} routed to IRQ ${rec.irq}`);
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
    const b = cardbusLines(rec, cfg, bi, verbose);
    lines.push(...b.lines);
    decode.bars = b.bars;
    if (b.rest) {
      const c = decodeCapabilities(capCtx, PCI_CB_CAPABILITY_LIST);
      lines.push(...c.lines);
      decode.capabilities = c.caps;
    }
  } else {
    const b = unknownHeaderLines(rec, cfg, bi, verbose);
    lines.push(...b.lines);
    decode.bars = b.bars;
    if (b.rom) decode.rom = b.rom;
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
