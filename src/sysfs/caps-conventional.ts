// Conventional PCI capabilities with register bodies, as lspci -vv prints them: ports of pciutils 3.9.0 ls-caps.c cap_agp, cap_pcix (nobridge and bridge), cap_sata_hba, cap_af and cap_ea.

import {
  PCI_AF_CAP,
  PCI_AF_CAP_FLR,
  PCI_AF_CAP_TP,
  PCI_AF_CTRL,
  PCI_AF_CTRL_FLR,
  PCI_AF_STATUS,
  PCI_AF_STATUS_TP,
  PCI_AGP_COMMAND,
  PCI_AGP_SIZEOF,
  PCI_AGP_STATUS,
  PCI_HEADER_TYPE,
  PCI_HEADER_TYPE_BRIDGE,
  PCI_HEADER_TYPE_NORMAL,
  PCI_X_BRIDGE_SSTATUS,
  PCI_X_BRIDGE_STATUS,
  PCI_X_CMD,
  PCI_X_CMD_DPERR_E,
  PCI_X_CMD_ERO,
  PCI_X_STATUS,
} from '../../shared/linux/pci-regs.js';
import { BITS, ecapBody, FLAG, hex } from './cap-format.js';
import type { CapabilityInfo, CapContext } from './caps.js';
import {
  PCI_EA_CAP_TYPE1_SECONDARY,
  PCI_EA_CAP_TYPE1_SUBORDINATE,
  PCI_PCIX_BRIDGE_DOWNSTREAM_SPLIT_TRANS_CTRL,
  PCI_PCIX_BRIDGE_UPSTREAM_SPLIT_TRANS_CTRL,
  PCI_SATA_HBA_BARS,
} from './pciutils-header.js';

/** ls-caps.c format_agp_rate: `x1,x2,x4` (or x4/x8/x16 in AGP3 mode), `<none>` when no rate bit is set. */
function agpRate(rate: number, agp3: boolean): string {
  const r: string[] = [];
  for (let i = 0; i <= 2; i++) if (rate & (1 << i)) r.push(`x${1 << (i + (agp3 ? 2 : 0))}`);
  return r.length ? r.join(',') : '<none>';
}

/** AGP (AGP 3.0, 2.5; ls-caps.c cap_agp). */
export function capAgp(ctx: CapContext, where: number, cap: number, info: CapabilityInfo): void {
  const { cfg } = ctx;
  const ver = (cap >> 4) & 0x0f;
  if (!ecapBody(ctx, info, `AGP version ${ver.toString(16)}.${(cap & 0x0f).toString(16)}`, where + PCI_AGP_STATUS, PCI_AGP_SIZEOF - PCI_AGP_STATUS, true))
    return;
  let t = cfg.long(where + PCI_AGP_STATUS);
  const agp3 = ver >= 3 && (t & 0x8) !== 0;
  info.details.push(
    `Status: RQ=${(t >>> 24) + 1} Iso${FLAG(t, 0x10000)} ArqSz=${BITS(t, 13, 3)} Cal=${BITS(t, 10, 3)} SBA${FLAG(t, 0x200)} ITACoh${FLAG(t, 0x100)} GART64${FLAG(t, 0x80)} HTrans${FLAG(t, 0x40)} 64bit${FLAG(t, 0x20)} FW${FLAG(t, 0x10)} AGP3${FLAG(t, 0x8)} Rate=${agpRate(t & 7, agp3)}`,
  );
  t = cfg.long(where + PCI_AGP_COMMAND);
  info.details.push(
    `Command: RQ=${(t >>> 24) + 1} ArqSz=${BITS(t, 13, 3)} Cal=${BITS(t, 10, 3)} SBA${FLAG(t, 0x200)} AGP${FLAG(t, 0x100)} GART64${FLAG(t, 0x80)} 64bit${FLAG(t, 0x20)} FW${FLAG(t, 0x10)} Rate=${agpRate(t & 7, agp3)}`,
  );
}

const PCIX_MAX_OUTSTANDING = [1, 2, 3, 4, 8, 12, 16, 32];
const PCIX_SEC_CLOCK = ['conv', '66MHz', '100MHz', '133MHz', '?4', '?5', '?6', '?7'];

/**
 * PCI-X (PCI-X 2.0, 7.2 and 8.6; ls-caps.c cap_pcix): the device form on a type 0 header, the
 * bridge form on a type 1 header; lspci prints nothing for other header types.
 */
export function capPcix(ctx: CapContext, where: number, info: CapabilityInfo): void {
  const { cfg } = ctx;
  const htype = cfg.byte(PCI_HEADER_TYPE) & 0x7f;
  const d = info.details;
  if (htype === PCI_HEADER_TYPE_NORMAL) {
    info.summary = 'PCI-X non-bridge device';
    if (ctx.verbose < 2 || !cfg.has(where + PCI_X_STATUS, 4)) return;
    const c = cfg.word(where + PCI_X_CMD);
    const s = cfg.long(where + PCI_X_STATUS);
    d.push(
      `Command: DPERE${FLAG(c, PCI_X_CMD_DPERR_E)} ERO${FLAG(c, PCI_X_CMD_ERO)} RBC=${1 << (9 + BITS(c, 2, 2))} OST=${PCIX_MAX_OUTSTANDING[BITS(c, 4, 3)]}`,
    );
    d.push(
      `Status: Dev=${hex(BITS(s, 8, 8), 2)}:${hex(BITS(s, 3, 5), 2)}.${s & 7} 64bit${FLAG(s, 0x1_0000)} 133MHz${FLAG(s, 0x2_0000)} SCD${FLAG(s, 0x4_0000)} USC${FLAG(s, 0x8_0000)} DC=${s & 0x10_0000 ? 'bridge' : 'simple'} DMMRBC=${1 << (9 + BITS(s, 21, 2))} DMOST=${PCIX_MAX_OUTSTANDING[BITS(s, 23, 3)]} DMCRS=${1 << (3 + BITS(s, 26, 3))} RSCEM${FLAG(s, 0x2000_0000)} 266MHz${FLAG(s, 0x4000_0000)} 533MHz${FLAG(s, 0x8000_0000)}`,
    );
  } else if (htype === PCI_HEADER_TYPE_BRIDGE) {
    info.summary = 'PCI-X bridge device';
    if (ctx.verbose < 2 || !cfg.has(where + PCI_X_BRIDGE_STATUS, 12)) return;
    const ss = cfg.word(where + PCI_X_BRIDGE_SSTATUS);
    d.push(
      `Secondary Status: 64bit${FLAG(ss, 1)} 133MHz${FLAG(ss, 2)} SCD${FLAG(ss, 4)} USC${FLAG(ss, 8)} SCO${FLAG(ss, 0x10)} SRD${FLAG(ss, 0x20)} Freq=${PCIX_SEC_CLOCK[BITS(ss, 6, 3)]}`,
    );
    const s = cfg.long(where + PCI_X_BRIDGE_STATUS);
    d.push(
      `Status: Dev=${hex(BITS(s, 8, 8), 2)}:${hex(BITS(s, 3, 5), 2)}.${s & 7} 64bit${FLAG(s, 0x1_0000)} 133MHz${FLAG(s, 0x2_0000)} SCD${FLAG(s, 0x4_0000)} USC${FLAG(s, 0x8_0000)} SCO${FLAG(s, 0x10_0000)} SRD${FLAG(s, 0x20_0000)}`,
    );
    const up = cfg.long(where + PCI_PCIX_BRIDGE_UPSTREAM_SPLIT_TRANS_CTRL);
    d.push(`Upstream: Capacity=${up & 0xffff} CommitmentLimit=${up >>> 16}`);
    const down = cfg.long(where + PCI_PCIX_BRIDGE_DOWNSTREAM_SPLIT_TRANS_CTRL);
    d.push(`Downstream: Capacity=${down & 0xffff} CommitmentLimit=${down >>> 16}`);
  }
}

/** SATA HBA (AHCI 1.3, 2.3; ls-caps.c cap_sata_hba): the register location joins the first line at -vv. */
export function capSataHba(ctx: CapContext, where: number, cap: number, info: CapabilityInfo): void {
  const { cfg } = ctx;
  if (!ecapBody(ctx, info, `SATA HBA v${BITS(cap, 4, 4)}.${BITS(cap, 0, 4)}`, where + PCI_SATA_HBA_BARS, 4, true)) return;
  const bars = cfg.long(where + PCI_SATA_HBA_BARS);
  const bar = BITS(bars, 0, 4);
  if (bar >= 4 && bar <= 9) info.summary += ` BAR${bar - 4} Offset=${hex(BITS(bars, 4, 20), 8)}`;
  else if (bar === 15) info.summary += ' InCfgSpace';
  else info.summary += ` BAR??${bar}`;
}

/** PCI Advanced Features (PCI AF ECN; ls-caps.c cap_af). */
export function capAf(ctx: CapContext, where: number, info: CapabilityInfo): void {
  const { cfg } = ctx;
  if (!ecapBody(ctx, info, 'PCI Advanced Features', where + PCI_AF_CAP, 3, true)) return;
  let r = cfg.byte(where + PCI_AF_CAP);
  info.details.push(`AFCap: TP${FLAG(r, PCI_AF_CAP_TP)} FLR${FLAG(r, PCI_AF_CAP_FLR)}`);
  r = cfg.byte(where + PCI_AF_CTRL);
  info.details.push(`AFCtrl: FLR${FLAG(r, PCI_AF_CTRL_FLR)}`);
  r = cfg.byte(where + PCI_AF_STATUS);
  info.details.push(`AFStatus: TP${FLAG(r, PCI_AF_STATUS_TP)}`);
}

/** ls-caps.c cap_ea_property: an EA entry's primary/secondary properties, undefined for a reserved value. */
function eaProperty(p: number, secondary: boolean): string | undefined {
  const names: Record<number, string> = {
    0: 'memory space, non-prefetchable',
    1: 'memory space, prefetchable',
    2: 'I/O space',
    3: 'VF memory space, prefetchable',
    4: 'VF memory space, non-prefetchable',
    5: 'allocation behind bridge, non-prefetchable memory',
    6: 'allocation behind bridge, prefetchable memory',
    7: 'allocation behind bridge, I/O space',
    253: 'memory space resource unavailable for use',
    254: 'I/O space resource unavailable for use',
    255: secondary ? 'entry unavailable for use, PrimaryProperties should be used' : 'entry unavailable for use',
  };
  return names[p];
}

function eaBei(bei: number): string {
  if (bei <= 5) return `BAR ${bei}`;
  if (bei === 6) return 'resource behind function';
  if (bei === 7) return 'not indicated';
  if (bei === 8) return 'expansion ROM';
  if (bei <= 14) return `VF-BAR ${bei - 9}`;
  return 'reserved';
}

/** Enhanced Allocation (PCI EA ECN, 6.9; ls-caps.c cap_ea): entry count (and fixed buses on a bridge), then each entry at -vv. */
export function capEa(ctx: CapContext, where: number, cap: number, info: CapabilityInfo): void {
  const { cfg } = ctx;
  const n = BITS(cap, 0, 6);
  let base = where + 4;
  info.summary = `Enhanced Allocation (EA): NumEntries=${n}`;
  if ((cfg.byte(PCI_HEADER_TYPE) & 0x7f) === PCI_HEADER_TYPE_BRIDGE) {
    base += 4;
    if (!cfg.has(where + 4, 2)) return;
    info.summary += `, secondary=${cfg.byte(where + PCI_EA_CAP_TYPE1_SECONDARY)}, subordinate=${cfg.byte(where + PCI_EA_CAP_TYPE1_SUBORDINATE)}`;
  }
  if (ctx.verbose < 2) return;
  const d = info.details;
  for (let e = 0; e < n; e++) {
    if (!cfg.has(base, 4)) return;
    const h = cfg.long(base);
    const es = BITS(h, 0, 3);
    if (!cfg.has(base + 4, es * 4)) return;
    d.push(`Entry ${e}: Enable${FLAG(h, 0x8000_0000)} Writable${FLAG(h, 0x4000_0000)} EntrySize=${es}`);
    d.push(`\t BAR Equivalent Indicator: ${eaBei(BITS(h, 4, 4))}`);
    const pp = BITS(h, 8, 8);
    const sp = BITS(h, 16, 8);
    d.push(`\t PrimaryProperties: ${eaProperty(pp, false) ?? `[${hex(pp, 2)}]`}`);
    d.push(`\t SecondaryProperties: ${eaProperty(sp, true) ?? `[${hex(sp, 2)}]`}`);
    const b = cfg.long(base + 4);
    const m = cfg.long(base + 8);
    let highPos = base + 12;
    let s = '\t Base: ';
    if (b & 2) {
      s += cfg.long(base + 12).toString(16);
      highPos += 4;
    }
    d.push(`${s}${hex((b & ~3) >>> 0, 8)}`);
    s = '\t MaxOffset: ';
    if (m & 2) s += cfg.long(highPos).toString(16);
    d.push(`${s}${hex((m | 3) >>> 0, 8)}`);
    base += 4 + 4 * es;
  }
}
