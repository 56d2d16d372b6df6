// HyperTransport capability (ls-caps.c cap_ht, cap_ht_pri, cap_ht_sec): the link interface blocks and the named other types, as lspci -v/-vv prints them.

import { FLAG, hex, hexBig } from './cap-format.js';
import type { CapabilityInfo, CapContext } from './caps.js';
import {
  PCI_HT_CMD_TYP,
  PCI_HT_CMD_TYP_AM,
  PCI_HT_CMD_TYP_DR,
  PCI_HT_CMD_TYP_ECSA,
  PCI_HT_CMD_TYP_HI,
  PCI_HT_CMD_TYP_HI_PRI,
  PCI_HT_CMD_TYP_HI_SEC,
  PCI_HT_CMD_TYP_IDC,
  PCI_HT_CMD_TYP_MSIM,
  PCI_HT_CMD_TYP_RID,
  PCI_HT_CMD_TYP_RM,
  PCI_HT_CMD_TYP_SW,
  PCI_HT_CMD_TYP_UIDC,
  PCI_HT_CMD_TYP_VCS,
  PCI_HT_CMD_TYP_X86,
  PCI_HT_EH_CF,
  PCI_HT_EH_CRCFE,
  PCI_HT_EH_CRCNFE,
  PCI_HT_EH_EOCFE,
  PCI_HT_EH_EOCNFE,
  PCI_HT_EH_OFE,
  PCI_HT_EH_OFLE,
  PCI_HT_EH_ONFE,
  PCI_HT_EH_PFE,
  PCI_HT_EH_PFLE,
  PCI_HT_EH_PNFE,
  PCI_HT_EH_RE,
  PCI_HT_EH_RFE,
  PCI_HT_EH_RNFE,
  PCI_HT_EH_SERRFE,
  PCI_HT_EH_SERRNFE,
  PCI_HT_FTR_64BA,
  PCI_HT_FTR_CRCTM,
  PCI_HT_FTR_ECTLT,
  PCI_HT_FTR_ISOCFC,
  PCI_HT_FTR_LDTSTOP,
  PCI_HT_FTR_UIDRD,
  PCI_HT_LCNF_DFI,
  PCI_HT_LCNF_DFIE,
  PCI_HT_LCNF_DFO,
  PCI_HT_LCNF_DFOE,
  PCI_HT_LCNF_LWI,
  PCI_HT_LCNF_LWO,
  PCI_HT_LCNF_MLWI,
  PCI_HT_LCNF_MLWO,
  PCI_HT_LCTR_64B,
  PCI_HT_LCTR_CFE,
  PCI_HT_LCTR_CFLE,
  PCI_HT_LCTR_CRCERR,
  PCI_HT_LCTR_CST,
  PCI_HT_LCTR_EOC,
  PCI_HT_LCTR_EXTCTL,
  PCI_HT_LCTR_INIT,
  PCI_HT_LCTR_ISOCEN,
  PCI_HT_LCTR_LKFAIL,
  PCI_HT_LCTR_LSEN,
  PCI_HT_LCTR_TXO,
  PCI_HT_LFCAP_200,
  PCI_HT_LFCAP_300,
  PCI_HT_LFCAP_400,
  PCI_HT_LFCAP_500,
  PCI_HT_LFCAP_600,
  PCI_HT_LFCAP_800,
  PCI_HT_LFCAP_1000,
  PCI_HT_LFCAP_1200,
  PCI_HT_LFCAP_1400,
  PCI_HT_LFCAP_1600,
  PCI_HT_LFCAP_VEND,
  PCI_HT_LFRER_CTLT,
  PCI_HT_LFRER_EOC,
  PCI_HT_LFRER_FREQ,
  PCI_HT_LFRER_OV,
  PCI_HT_LFRER_PROT,
  PCI_HT_MSIM_ADDR_HI,
  PCI_HT_MSIM_ADDR_LO,
  PCI_HT_MSIM_CMD_EN,
  PCI_HT_MSIM_CMD_FIXD,
  PCI_HT_PRI_BN,
  PCI_HT_PRI_CMD_BUID,
  PCI_HT_PRI_CMD_DD,
  PCI_HT_PRI_CMD_DUL,
  PCI_HT_PRI_CMD_MH,
  PCI_HT_PRI_CMD_UC,
  PCI_HT_PRI_EH,
  PCI_HT_PRI_FTR,
  PCI_HT_PRI_LCNF0,
  PCI_HT_PRI_LCNF1,
  PCI_HT_PRI_LCTR0,
  PCI_HT_PRI_LCTR1,
  PCI_HT_PRI_LFCAP0,
  PCI_HT_PRI_LFCAP1,
  PCI_HT_PRI_LFRER0,
  PCI_HT_PRI_LFRER1,
  PCI_HT_PRI_MBU,
  PCI_HT_PRI_MLU,
  PCI_HT_PRI_RID,
  PCI_HT_PRI_SIZEOF,
  PCI_HT_RID_MAJ,
  PCI_HT_RID_MIN,
  PCI_HT_SEC_CMD_AS,
  PCI_HT_SEC_CMD_CS,
  PCI_HT_SEC_CMD_DE,
  PCI_HT_SEC_CMD_DN,
  PCI_HT_SEC_CMD_DUL,
  PCI_HT_SEC_CMD_HH,
  PCI_HT_SEC_CMD_HIECE,
  PCI_HT_SEC_CMD_WR,
  PCI_HT_SEC_EH,
  PCI_HT_SEC_FTR,
  PCI_HT_SEC_FTR_EXTRS,
  PCI_HT_SEC_FTR_UCNFE,
  PCI_HT_SEC_LCNF,
  PCI_HT_SEC_LCTR,
  PCI_HT_SEC_LFCAP,
  PCI_HT_SEC_LFRER,
  PCI_HT_SEC_MBU,
  PCI_HT_SEC_MLU,
  PCI_HT_SEC_RID,
  PCI_HT_SEC_SIZEOF,
} from './pciutils-header.js';

/** The first HyperTransport revision (2.02 as 0x22) whose registers lspci decodes in full; below it the 1.x layout. */
const HT_RID_2_02 = 0x22;

/** ls-caps.c ht_link_width: a Link Config width field. */
const htLinkWidth = (w: number): string => ['8bit', '16bit', '[2]', '32bit', '2bit', '4bit', '[6]', 'N/C'][w]!;

/** ls-caps.c ht_link_freq: a Link Frequency field. */
const htLinkFreq = (f: number): string =>
  ['200MHz', '300MHz', '400MHz', '500MHz', '600MHz', '800MHz', '1.0GHz', '1.2GHz', '1.4GHz', '1.6GHz', '[a]', '[b]', '[c]', '[d]', '[e]', 'Vend'][f]!;

/** `Revision ID: 2.02` from a revision byte (major bits 7..5, minor bits 4..0). */
const htRevision = (rid: number): string => `${(rid & PCI_HT_RID_MAJ) >> 5}.${String(rid & PCI_HT_RID_MIN).padStart(2, '0')}`;

/** A Link Control register (HT spec 7.5.4.3): the 1.x flags, then the 2.x ones from revision 2.02. */
function linkControl(label: string, lctr: number, rid: number): string {
  let s = `${label}: CFlE${FLAG(lctr, PCI_HT_LCTR_CFLE)} CST${FLAG(lctr, PCI_HT_LCTR_CST)} CFE${FLAG(lctr, PCI_HT_LCTR_CFE)} <LkFail${FLAG(lctr, PCI_HT_LCTR_LKFAIL)} Init${FLAG(lctr, PCI_HT_LCTR_INIT)} EOC${FLAG(lctr, PCI_HT_LCTR_EOC)} TXO${FLAG(lctr, PCI_HT_LCTR_TXO)} <CRCErr=${((lctr & PCI_HT_LCTR_CRCERR) >> 8).toString(16)}`;
  if (rid >= HT_RID_2_02)
    s += ` IsocEn${FLAG(lctr, PCI_HT_LCTR_ISOCEN)} LSEn${FLAG(lctr, PCI_HT_LCTR_LSEN)} ExtCTL${FLAG(lctr, PCI_HT_LCTR_EXTCTL)} 64b${FLAG(lctr, PCI_HT_LCTR_64B)}`;
  return s;
}

/** A Link Config register (HT spec 7.5.4.4): widths, with the doubleword flow control flags from revision 2.02. */
function linkConfig(label: string, lcnf: number, rid: number): string {
  const mlwi = htLinkWidth(lcnf & PCI_HT_LCNF_MLWI);
  const mlwo = htLinkWidth((lcnf & PCI_HT_LCNF_MLWO) >> 4);
  const lwi = htLinkWidth((lcnf & PCI_HT_LCNF_LWI) >> 8);
  const lwo = htLinkWidth((lcnf & PCI_HT_LCNF_LWO) >> 12);
  if (rid < HT_RID_2_02) return `${label}: MLWI=${mlwi} MLWO=${mlwo} LWI=${lwi} LWO=${lwo}`;
  return `${label}: MLWI=${mlwi} DwFcIn${FLAG(lcnf, PCI_HT_LCNF_DFI)} MLWO=${mlwo} DwFcOut${FLAG(lcnf, PCI_HT_LCNF_DFO)} LWI=${lwi} DwFcInEn${FLAG(lcnf, PCI_HT_LCNF_DFIE)} LWO=${lwo} DwFcOutEn${FLAG(lcnf, PCI_HT_LCNF_DFOE)}`;
}

/** A Link Frequency/Error register (HT spec 7.5.4.8): two lines, `Link Frequency N:` and `Link Error N:`. */
function linkFreqError(suffix: string, lfrer: number): string[] {
  return [
    `Link Frequency${suffix}: ${htLinkFreq(lfrer & PCI_HT_LFRER_FREQ)}`,
    `Link Error${suffix}: <Prot${FLAG(lfrer, PCI_HT_LFRER_PROT)} <Ovfl${FLAG(lfrer, PCI_HT_LFRER_OV)} <EOC${FLAG(lfrer, PCI_HT_LFRER_EOC)} CTLTm${FLAG(lfrer, PCI_HT_LFRER_CTLT)}`,
  ];
}

/** A Link Frequency Capability register (HT spec 7.5.4.9). */
function linkFreqCap(suffix: string, c: number): string {
  return `Link Frequency Capability${suffix}: 200MHz${FLAG(c, PCI_HT_LFCAP_200)} 300MHz${FLAG(c, PCI_HT_LFCAP_300)} 400MHz${FLAG(c, PCI_HT_LFCAP_400)} 500MHz${FLAG(c, PCI_HT_LFCAP_500)} 600MHz${FLAG(c, PCI_HT_LFCAP_600)} 800MHz${FLAG(c, PCI_HT_LFCAP_800)} 1.0GHz${FLAG(c, PCI_HT_LFCAP_1000)} 1.2GHz${FLAG(c, PCI_HT_LFCAP_1200)} 1.4GHz${FLAG(c, PCI_HT_LFCAP_1400)} 1.6GHz${FLAG(c, PCI_HT_LFCAP_1600)} Vend${FLAG(c, PCI_HT_LFCAP_VEND)}`;
}

/** The Feature register's flags both interface blocks share (HT spec 7.5.4.10). */
function featureFlags(ftr: number): string {
  return `IsocFC${FLAG(ftr, PCI_HT_FTR_ISOCFC)} LDTSTOP${FLAG(ftr, PCI_HT_FTR_LDTSTOP)} CRCTM${FLAG(ftr, PCI_HT_FTR_CRCTM)} ECTLT${FLAG(ftr, PCI_HT_FTR_ECTLT)} 64bA${FLAG(ftr, PCI_HT_FTR_64BA)} UIDRD${FLAG(ftr, PCI_HT_FTR_UIDRD)}`;
}

/** The Error Handling register (HT spec 7.5.4.12). */
function errorHandling(eh: number): string {
  return `Error Handling: PFlE${FLAG(eh, PCI_HT_EH_PFLE)} OFlE${FLAG(eh, PCI_HT_EH_OFLE)} PFE${FLAG(eh, PCI_HT_EH_PFE)} OFE${FLAG(eh, PCI_HT_EH_OFE)} EOCFE${FLAG(eh, PCI_HT_EH_EOCFE)} RFE${FLAG(eh, PCI_HT_EH_RFE)} CRCFE${FLAG(eh, PCI_HT_EH_CRCFE)} SERRFE${FLAG(eh, PCI_HT_EH_SERRFE)} CF${FLAG(eh, PCI_HT_EH_CF)} RE${FLAG(eh, PCI_HT_EH_RE)} PNFE${FLAG(eh, PCI_HT_EH_PNFE)} ONFE${FLAG(eh, PCI_HT_EH_ONFE)} EOCNFE${FLAG(eh, PCI_HT_EH_EOCNFE)} RNFE${FLAG(eh, PCI_HT_EH_RNFE)} CRCNFE${FLAG(eh, PCI_HT_EH_CRCNFE)} SERRNFE${FLAG(eh, PCI_HT_EH_SERRNFE)}`;
}

/** The Memory Base/Limit Upper registers' line. */
const memUpper = (mbu: number, mlu: number): string => `Prefetchable memory behind bridge Upper: ${hex(mbu, 2)}-${hex(mlu, 2)}`;

/**
 * The preamble both interface blocks share: names the block in `info`; at -vv, when its registers
 * from `from` up to `size` are readable, returns its revision byte (at `ridAt`), after lspci's
 * warning for the revisions between 1.x and 2.02 whose layout it may not know; else undefined.
 */
function htInterface(
  ctx: CapContext,
  where: number,
  info: CapabilityInfo,
  name: string,
  regs: { from: number; size: number; ridAt: number },
): number | undefined {
  info.summary = `HyperTransport: ${name}`;
  if (ctx.verbose < 2 || !ctx.cfg.has(where + regs.from, regs.size - regs.from)) return undefined;
  const rid = ctx.cfg.byte(where + regs.ridAt);
  if (rid < HT_RID_2_02 && rid > 0x11) info.details.push('!!! Possibly incomplete decoding');
  return rid;
}

/** Slave or Primary Interface block (HT spec 7.5.3; ls-caps.c cap_ht_pri): two links, then at revision 2.02 and later frequencies, errors and features. */
function capHtPri(ctx: CapContext, where: number, cmd: number, info: CapabilityInfo): void {
  const rid = htInterface(ctx, where, info, 'Slave or Primary Interface', { from: PCI_HT_PRI_LCTR0, size: PCI_HT_PRI_SIZEOF, ridAt: PCI_HT_PRI_RID });
  if (rid === undefined) return;
  const { cfg } = ctx;
  const d = info.details;
  let c = `Command: BaseUnitID=${cmd & PCI_HT_PRI_CMD_BUID} UnitCnt=${(cmd & PCI_HT_PRI_CMD_UC) >> 5} MastHost${FLAG(cmd, PCI_HT_PRI_CMD_MH)} DefDir${FLAG(cmd, PCI_HT_PRI_CMD_DD)}`;
  if (rid >= HT_RID_2_02) c += ` DUL${FLAG(cmd, PCI_HT_PRI_CMD_DUL)}`;
  d.push(c);
  d.push(linkControl('Link Control 0', cfg.word(where + PCI_HT_PRI_LCTR0), rid));
  d.push(linkConfig('Link Config 0', cfg.word(where + PCI_HT_PRI_LCNF0), rid));
  d.push(linkControl('Link Control 1', cfg.word(where + PCI_HT_PRI_LCTR1), rid));
  d.push(linkConfig('Link Config 1', cfg.word(where + PCI_HT_PRI_LCNF1), rid));
  d.push(`Revision ID: ${htRevision(rid)}`);
  if (rid < HT_RID_2_02) return;
  d.push(...linkFreqError(' 0', cfg.byte(where + PCI_HT_PRI_LFRER0)));
  d.push(linkFreqCap(' 0', cfg.byte(where + PCI_HT_PRI_LFCAP0)));
  d.push(`Feature Capability: ${featureFlags(cfg.byte(where + PCI_HT_PRI_FTR))}`);
  d.push(...linkFreqError(' 1', cfg.byte(where + PCI_HT_PRI_LFRER1)));
  d.push(linkFreqCap(' 1', cfg.byte(where + PCI_HT_PRI_LFCAP1)));
  d.push(errorHandling(cfg.word(where + PCI_HT_PRI_EH)));
  d.push(memUpper(cfg.byte(where + PCI_HT_PRI_MBU), cfg.byte(where + PCI_HT_PRI_MLU)));
  d.push(`Bus Number: ${hex(cfg.byte(where + PCI_HT_PRI_BN), 2)}`);
}

/** Host or Secondary Interface block (HT spec 7.5.4; ls-caps.c cap_ht_sec): one link, then at revision 2.02 and later its frequency, errors and features. */
function capHtSec(ctx: CapContext, where: number, cmd: number, info: CapabilityInfo): void {
  const rid = htInterface(ctx, where, info, 'Host or Secondary Interface', { from: PCI_HT_SEC_LCTR, size: PCI_HT_SEC_SIZEOF, ridAt: PCI_HT_SEC_RID });
  if (rid === undefined) return;
  const { cfg } = ctx;
  const d = info.details;
  let c = `Command: WarmRst${FLAG(cmd, PCI_HT_SEC_CMD_WR)} DblEnd${FLAG(cmd, PCI_HT_SEC_CMD_DE)}`;
  if (rid >= HT_RID_2_02)
    c += ` DevNum=${(cmd & PCI_HT_SEC_CMD_DN) >> 2} ChainSide${FLAG(cmd, PCI_HT_SEC_CMD_CS)} HostHide${FLAG(cmd, PCI_HT_SEC_CMD_HH)} Slave${FLAG(cmd, PCI_HT_SEC_CMD_AS)} <EOCErr${FLAG(cmd, PCI_HT_SEC_CMD_HIECE)} DUL${FLAG(cmd, PCI_HT_SEC_CMD_DUL)}`;
  d.push(c);
  d.push(linkControl('Link Control', cfg.word(where + PCI_HT_SEC_LCTR), rid));
  d.push(linkConfig('Link Config', cfg.word(where + PCI_HT_SEC_LCNF), rid));
  d.push(`Revision ID: ${htRevision(rid)}`);
  if (rid < HT_RID_2_02) return;
  d.push(...linkFreqError('', cfg.byte(where + PCI_HT_SEC_LFRER)));
  d.push(linkFreqCap('', cfg.byte(where + PCI_HT_SEC_LFCAP)));
  const ftr = cfg.word(where + PCI_HT_SEC_FTR);
  d.push(`Feature Capability: ${featureFlags(ftr)} ExtRS${FLAG(ftr, PCI_HT_SEC_FTR_EXTRS)} UCnfE${FLAG(ftr, PCI_HT_SEC_FTR_UCNFE)}`);
  if (!(ftr & PCI_HT_SEC_FTR_EXTRS)) return;
  d.push(errorHandling(cfg.word(where + PCI_HT_SEC_EH)));
  d.push(memUpper(cfg.byte(where + PCI_HT_SEC_MBU), cfg.byte(where + PCI_HT_SEC_MLU)));
}

/** Names of the HyperTransport capability types (command bits 15..11) lspci prints without a body. */
const HT_TYPE_NAMES: Record<number, string> = {
  [PCI_HT_CMD_TYP_SW]: 'Switch',
  [PCI_HT_CMD_TYP_IDC]: 'Interrupt Discovery and Configuration',
  [PCI_HT_CMD_TYP_UIDC]: 'UnitID Clumping',
  [PCI_HT_CMD_TYP_ECSA]: 'Extended Configuration Space Access',
  [PCI_HT_CMD_TYP_AM]: 'Address Mapping',
  [PCI_HT_CMD_TYP_DR]: 'DirectRoute',
  [PCI_HT_CMD_TYP_VCS]: 'VCSet',
  [PCI_HT_CMD_TYP_RM]: 'Retry Mode',
  [PCI_HT_CMD_TYP_X86]: 'X86 (reserved)',
};

/**
 * HyperTransport capability (HyperTransport I/O Link spec 3.10, 7.5; ls-caps.c cap_ht): the
 * interface blocks by command bits 15..13, the other types by bits 15..11 (Revision ID and MSI
 * Mapping with their fields, the MSI mapping address at -vv when not fixed; unknown types as `#nn`).
 */
export function capHt(ctx: CapContext, where: number, cmd: number, info: CapabilityInfo): void {
  const hi = cmd & PCI_HT_CMD_TYP_HI;
  if (hi === PCI_HT_CMD_TYP_HI_PRI) capHtPri(ctx, where, cmd, info);
  else if (hi === PCI_HT_CMD_TYP_HI_SEC) capHtSec(ctx, where, cmd, info);
  else capHtOther(ctx, where, cmd, info);
}

/** The HyperTransport types after the interface blocks (ls-caps.c cap_ht's second switch). */
function capHtOther(ctx: CapContext, where: number, cmd: number, info: CapabilityInfo): void {
  const type = cmd & PCI_HT_CMD_TYP;
  const { cfg } = ctx;
  if (type === PCI_HT_CMD_TYP_RID) info.summary = `HyperTransport: Revision ID: ${htRevision(cmd)}`;
  else if (type === PCI_HT_CMD_TYP_MSIM) {
    info.summary = `HyperTransport: MSI Mapping Enable${FLAG(cmd, PCI_HT_MSIM_CMD_EN)} Fixed${FLAG(cmd, PCI_HT_MSIM_CMD_FIXD)}`;
    if (ctx.verbose >= 2 && !(cmd & PCI_HT_MSIM_CMD_FIXD) && cfg.has(where + PCI_HT_MSIM_ADDR_LO, 8)) {
      const lo = cfg.long(where + PCI_HT_MSIM_ADDR_LO) & 0xfff0_0000;
      const addr = (BigInt(cfg.long(where + PCI_HT_MSIM_ADDR_HI)) << 32n) | BigInt(lo >>> 0);
      info.details.push(`Mapping Address Base: ${hexBig(addr, 16)}`);
    }
  } else info.summary = `HyperTransport: ${HT_TYPE_NAMES[type] ?? `#${hex(type >> 11, 2)}`}`;
}
