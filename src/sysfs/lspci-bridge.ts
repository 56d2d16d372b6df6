// lspci's bridge headers: PCI-to-PCI (lspci.c show_htype1, show_range) and CardBus (show_htype2), without their capability lists; and show_htype_unknown, which shows what sysfs knows of a function with an unknown header or no readable config space.

import {
  PCI_BRIDGE_CONTROL,
  PCI_BRIDGE_CTL_BUS_RESET,
  PCI_BRIDGE_CTL_FAST_BACK,
  PCI_BRIDGE_CTL_ISA,
  PCI_BRIDGE_CTL_MASTER_ABORT,
  PCI_BRIDGE_CTL_PARITY,
  PCI_BRIDGE_CTL_SERR,
  PCI_BRIDGE_CTL_VGA,
  PCI_CB_BRIDGE_CONTROL,
  PCI_CB_BRIDGE_CTL_16BIT_INT,
  PCI_CB_BRIDGE_CTL_CB_RESET,
  PCI_CB_BRIDGE_CTL_ISA,
  PCI_CB_BRIDGE_CTL_MASTER_ABORT,
  PCI_CB_BRIDGE_CTL_PARITY,
  PCI_CB_BRIDGE_CTL_POST_WRITES,
  PCI_CB_BRIDGE_CTL_PREFETCH_MEM0,
  PCI_CB_BRIDGE_CTL_SERR,
  PCI_CB_BRIDGE_CTL_VGA,
  PCI_CB_CARD_BUS,
  PCI_CB_IO_BASE_0,
  PCI_CB_IO_LIMIT_0,
  PCI_CB_IO_RANGE_MASK,
  PCI_CB_LATENCY_TIMER,
  PCI_CB_LEGACY_MODE_BASE,
  PCI_CB_MEMORY_BASE_0,
  PCI_CB_MEMORY_LIMIT_0,
  PCI_CB_PRIMARY_BUS,
  PCI_CB_SEC_STATUS,
  PCI_CB_SUBORDINATE_BUS,
  PCI_COMMAND,
  PCI_COMMAND_IO,
  PCI_COMMAND_MEMORY,
  PCI_IO_BASE,
  PCI_IO_BASE_UPPER16,
  PCI_IO_LIMIT,
  PCI_IO_LIMIT_UPPER16,
  PCI_IO_RANGE_MASK,
  PCI_IO_RANGE_TYPE_16,
  PCI_IO_RANGE_TYPE_32,
  PCI_IO_RANGE_TYPE_MASK,
  PCI_MEMORY_BASE,
  PCI_MEMORY_LIMIT,
  PCI_MEMORY_RANGE_MASK,
  PCI_MEMORY_RANGE_TYPE_MASK,
  PCI_PREF_BASE_UPPER32,
  PCI_PREF_LIMIT_UPPER32,
  PCI_PREF_MEMORY_BASE,
  PCI_PREF_MEMORY_LIMIT,
  PCI_PREF_RANGE_MASK,
  PCI_PREF_RANGE_TYPE_32,
  PCI_PREF_RANGE_TYPE_64,
  PCI_PREF_RANGE_TYPE_MASK,
  PCI_PRIMARY_BUS,
  PCI_ROM_ADDRESS1,
  PCI_SEC_LATENCY_TIMER,
  PCI_SEC_STATUS,
  PCI_SECONDARY_BUS,
  PCI_STATUS_66MHZ,
  PCI_STATUS_DETECTED_PARITY,
  PCI_STATUS_FAST_BACK,
  PCI_STATUS_PARITY,
  PCI_STATUS_REC_MASTER_ABORT,
  PCI_STATUS_REC_TARGET_ABORT,
  PCI_STATUS_SIG_SYSTEM_ERROR,
  PCI_STATUS_SIG_TARGET_ABORT,
  PCI_SUBORDINATE_BUS,
} from '../../shared/linux/pci-regs.js';
import type { PciDeviceRecord } from '../../shared/sysfs/source.js';
import { devsel, FLAG, hex, hexBig } from './cap-format.js';
import type { ConfigView } from './config-view.js';
import {
  type BaseInfo,
  basesLines,
  type DecodedBar,
  IORESOURCE_IO,
  IORESOURCE_IO_16BIT_ADDR,
  IORESOURCE_MEM,
  IORESOURCE_MEM_64,
  IORESOURCE_PREFETCH,
  type RomInfo,
  romLines,
  showSize,
} from './lspci-bases.js';
import {
  PCI_BRIDGE_CTL_DISCARD_TIMER_SERR_EN,
  PCI_BRIDGE_CTL_DISCARD_TIMER_STATUS,
  PCI_BRIDGE_CTL_PRI_DISCARD_TIMER,
  PCI_BRIDGE_CTL_SEC_DISCARD_TIMER,
  PCI_BRIDGE_CTL_VGA_16BIT,
} from './pciutils-header.js';

/**
 * lspci show_range: a bridge window `PREFIX: base-limit [size=..]`, ` [disabled]` when disabled or
 * empty (base > limit), the range of an empty one shown only at -vvv. Base and limit are lspci's
 * u64 values (wrapped here to 64 bits).
 */
function showRange(prefix: string, base: bigint, limit: bigint, bits: number, disabled: boolean, verbose: number): string {
  const b = BigInt.asUintN(64, base);
  const l = BigInt.asUintN(64, limit);
  let s = `${prefix}:`;
  const w = Math.floor((bits + 3) / 4);
  if (b <= l || verbose > 2) s += ` ${hexBig(b, w)}-${hexBig(l, w)}`;
  if (!disabled && b <= l) s += showSize(BigInt.asUintN(64, l - b + 1n));
  else s += ' [disabled]';
  if (bits) s += ` [${bits}-bit]`;
  return s;
}

/** A window from sysfs `resource` as show_htype1 takes it: base without the type bits, limit = base + size - 1, both truncated to `width` bits (lspci keeps I/O and memory windows in u32 variables). */
function resourceWindow(w: { base: bigint; size: bigint }, width: 32 | 64): [bigint, bigint] {
  const base = BigInt.asUintN(width, w.base & RANGE_MASK64);
  return [base, BigInt.asUintN(width, base + w.size - 1n)];
}

/**
 * lspci show_htype1 (PCI-to-PCI Bridge spec 1.2, 3.2): BARs 0-1, bus numbers, the I/O, memory and
 * prefetchable windows (from sysfs `resource` when it lists them and the window is not empty, else
 * decoded from config space: 16/32-bit I/O, 32/64-bit prefetchable), secondary status, ROM and
 * bridge control; without the capability list.
 */
export function bridgeLines(rec: PciDeviceRecord, cfg: ConfigView, bi: BaseInfo, verbose: number): { lines: string[]; bars: DecodedBar[]; rom?: RomInfo } {
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
    const [b, l] = resourceWindow(bb[0]!, 32);
    const t = Number(bb[0]!.base & BigInt(PCI_IO_RANGE_TYPE_MASK));
    lines.push(showRange('\tI/O behind bridge', b, l, t === PCI_IO_RANGE_TYPE_32 ? 32 : 16, ioDisabled, verbose));
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
    const [b, l] = resourceWindow(bb[1]!, 32);
    lines.push(showRange('\tMemory behind bridge', b, l, 32, memDisabled, verbose));
  } else if (memType !== (memLimit & PCI_MEMORY_RANGE_TYPE_MASK) || memType) {
    lines.push(`\t!!! Unknown memory range types ${memBase.toString(16)}/${memLimit.toString(16)}`);
  } else {
    memBase = ((memBase & PCI_MEMORY_RANGE_MASK) << 16) >>> 0;
    memLimit = ((memLimit & PCI_MEMORY_RANGE_MASK) << 16) >>> 0;
    lines.push(showRange('\tMemory behind bridge', BigInt(memBase), BigInt((memLimit + 0xfffff) >>> 0), 32, memDisabled, verbose));
  }
  if (bb && !prefDisabled) {
    const [b, l] = resourceWindow(bb[2]!, 64);
    const t = Number(bb[2]!.base & BigInt(PCI_MEMORY_RANGE_TYPE_MASK));
    lines.push(showRange('\tPrefetchable memory behind bridge', b, l, t === PCI_PREF_RANGE_TYPE_64 ? 64 : 32, prefDisabled, verbose));
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

/**
 * lspci show_htype2 (CardBus bridge: PC Card Standard 8.0, Electrical Spec 4.5): BAR 0, bus
 * numbers, memory windows 0-1 (with their prefetch bits from bridge control) and I/O windows 0-1
 * (16-bit unless the base says 32), each shown when base <= limit or at -vvv and `[disabled]` when
 * the command register disables its space; `Secondary status: SERR`; bridge control at -vv; then,
 * when bytes 0x40-0x7f are readable, the 16-bit legacy (ExCa) base. `rest` says whether they were:
 * lspci shows the capability list (at PCI_CB_CAPABILITY_LIST) only then.
 */
export function cardbusLines(rec: PciDeviceRecord, cfg: ConfigView, bi: BaseInfo, verbose: number): { lines: string[]; bars: DecodedBar[]; rest: boolean } {
  const cmd = cfg.word(PCI_COMMAND);
  const brc = cfg.word(PCI_CB_BRIDGE_CONTROL);
  const verb = verbose > 2;
  const bases = basesLines(rec, cfg, bi, 1, verbose);
  const lines = [...bases.lines];
  lines.push(
    `\tBus: primary=${hex(cfg.byte(PCI_CB_PRIMARY_BUS), 2)}, secondary=${hex(cfg.byte(PCI_CB_CARD_BUS), 2)}, subordinate=${hex(cfg.byte(PCI_CB_SUBORDINATE_BUS), 2)}, sec-latency=${cfg.byte(PCI_CB_LATENCY_TIMER)}`,
  );
  for (let i = 0; i < 2; i++) {
    const base = cfg.long(PCI_CB_MEMORY_BASE_0 + 8 * i);
    const limit = (cfg.long(PCI_CB_MEMORY_LIMIT_0 + 8 * i) + 0xfff) >>> 0;
    if (base <= limit || verb)
      lines.push(
        `\tMemory window ${i}: ${hex(base, 8)}-${hex(limit, 8)}${cmd & PCI_COMMAND_MEMORY ? '' : ' [disabled]'}${brc & (PCI_CB_BRIDGE_CTL_PREFETCH_MEM0 << i) ? ' (prefetchable)' : ''}`,
      );
  }
  for (let i = 0; i < 2; i++) {
    let base = cfg.long(PCI_CB_IO_BASE_0 + 8 * i);
    let limit = cfg.long(PCI_CB_IO_LIMIT_0 + 8 * i);
    if (!(base & PCI_IO_RANGE_TYPE_32)) {
      base &= 0xffff;
      limit &= 0xffff;
    }
    base = (base & PCI_CB_IO_RANGE_MASK) >>> 0;
    limit = ((limit & PCI_CB_IO_RANGE_MASK) + 3) >>> 0;
    if (base <= limit || verb) lines.push(`\tI/O window ${i}: ${hex(base, 8)}-${hex(limit, 8)}${cmd & PCI_COMMAND_IO ? '' : ' [disabled]'}`);
  }
  if (cfg.word(PCI_CB_SEC_STATUS) & PCI_STATUS_SIG_SYSTEM_ERROR) lines.push('\tSecondary status: SERR');
  if (verbose > 1)
    lines.push(
      `\tBridgeCtl: Parity${FLAG(brc, PCI_CB_BRIDGE_CTL_PARITY)} SERR${FLAG(brc, PCI_CB_BRIDGE_CTL_SERR)} ISA${FLAG(brc, PCI_CB_BRIDGE_CTL_ISA)} VGA${FLAG(brc, PCI_CB_BRIDGE_CTL_VGA)} MAbort${FLAG(brc, PCI_CB_BRIDGE_CTL_MASTER_ABORT)} >Reset${FLAG(brc, PCI_CB_BRIDGE_CTL_CB_RESET)} 16bInt${FLAG(brc, PCI_CB_BRIDGE_CTL_16BIT_INT)} PostWrite${FLAG(brc, PCI_CB_BRIDGE_CTL_POST_WRITES)}`,
    );
  if (!cfg.has(64, 64)) {
    lines.push('\t<access denied to the rest>');
    return { lines, bars: bases.bars, rest: false };
  }
  const exca = cfg.word(PCI_CB_LEGACY_MODE_BASE);
  if (exca) lines.push(`\t16-bit legacy interface ports at ${hex(exca, 4)}`);
  return { lines, bars: bases.bars, rest: true };
}

/**
 * lspci show_htype_unknown: for a header type lspci does not know, or config space it cannot
 * read, the six BARs and the ROM as sysfs `resource` has them (decoding taken as on) and each
 * non-zero bridge window sysfs lists, typed by its IORESOURCE_* flags.
 */
export function unknownHeaderLines(
  rec: PciDeviceRecord,
  cfg: ConfigView,
  bi: BaseInfo,
  verbose: number,
): { lines: string[]; bars: DecodedBar[]; rom?: RomInfo } {
  const bases = basesLines(rec, cfg, bi, 6, verbose, true);
  const lines = [...bases.lines];
  for (const w of bi.bridge ?? []) {
    if (!w.base) continue;
    let bits = 0;
    let prefix = '\tUnknown resource behind bridge';
    if (w.flags & IORESOURCE_IO) {
      bits = w.flags & IORESOURCE_IO_16BIT_ADDR ? 16 : 32;
      prefix = '\tI/O behind bridge';
    } else if (w.flags & IORESOURCE_MEM) {
      bits = w.flags & IORESOURCE_MEM_64 ? 64 : 32;
      prefix = w.flags & IORESOURCE_PREFETCH ? '\tPrefetchable memory behind bridge' : '\tMemory behind bridge';
    }
    lines.push(showRange(prefix, w.base, w.base + w.size - 1n, bits, false, verbose));
  }
  const rom = romLines(cfg, bi, -1);
  lines.push(...rom.lines);
  return { lines, bars: bases.bars, ...(rom.rom ? { rom: rom.rom } : {}) };
}
