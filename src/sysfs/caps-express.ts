// The PCI Express capability as lspci -vv prints it: a port of pciutils 3.9.0 ls-caps.c cap_express and its helpers (cap_express_dev, _link, _slot, _root, _dev2, _link2).

import {
  PCI_EXP_DEVCAP,
  PCI_EXP_DEVCAP_ATN_BUT,
  PCI_EXP_DEVCAP_ATN_IND,
  PCI_EXP_DEVCAP_EXT_TAG,
  PCI_EXP_DEVCAP_FLR,
  PCI_EXP_DEVCAP_L0S,
  PCI_EXP_DEVCAP_L1,
  PCI_EXP_DEVCAP_PAYLOAD,
  PCI_EXP_DEVCAP_PHANTOM,
  PCI_EXP_DEVCAP_PWR_IND,
  PCI_EXP_DEVCAP_PWR_SCL,
  PCI_EXP_DEVCAP_PWR_VAL,
  PCI_EXP_DEVCAP_RBER,
  PCI_EXP_DEVCAP2,
  PCI_EXP_DEVCAP2_ARI,
  PCI_EXP_DEVCAP2_ATOMIC_COMP32,
  PCI_EXP_DEVCAP2_ATOMIC_COMP64,
  PCI_EXP_DEVCAP2_ATOMIC_COMP128,
  PCI_EXP_DEVCAP2_ATOMIC_ROUTE,
  PCI_EXP_DEVCAP2_COMP_TMOUT_DIS,
  PCI_EXP_DEVCAP2_EE_PREFIX,
  PCI_EXP_DEVCAP2_LTR,
  PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL_AUX_PME,
  PCI_EXP_DEVCTL_BCR_FLR,
  PCI_EXP_DEVCTL_CERE,
  PCI_EXP_DEVCTL_EXT_TAG,
  PCI_EXP_DEVCTL_FERE,
  PCI_EXP_DEVCTL_NFERE,
  PCI_EXP_DEVCTL_NOSNOOP_EN,
  PCI_EXP_DEVCTL_PAYLOAD,
  PCI_EXP_DEVCTL_PHANTOM,
  PCI_EXP_DEVCTL_READRQ,
  PCI_EXP_DEVCTL_RELAX_EN,
  PCI_EXP_DEVCTL_URRE,
  PCI_EXP_DEVCTL2,
  PCI_EXP_DEVCTL2_ARI,
  PCI_EXP_DEVCTL2_ATOMIC_EGRESS_BLOCK,
  PCI_EXP_DEVCTL2_ATOMIC_REQ,
  PCI_EXP_DEVCTL2_COMP_TIMEOUT,
  PCI_EXP_DEVCTL2_COMP_TMOUT_DIS,
  PCI_EXP_DEVCTL2_LTR_EN,
  PCI_EXP_DEVSTA,
  PCI_EXP_DEVSTA_AUXPD,
  PCI_EXP_DEVSTA_CED,
  PCI_EXP_DEVSTA_FED,
  PCI_EXP_DEVSTA_NFED,
  PCI_EXP_DEVSTA_TRPND,
  PCI_EXP_DEVSTA_URD,
  PCI_EXP_FLAGS_IRQ,
  PCI_EXP_FLAGS_SLOT,
  PCI_EXP_FLAGS_TYPE,
  PCI_EXP_FLAGS_VERS,
  PCI_EXP_LNKCAP,
  PCI_EXP_LNKCAP_ASPMS,
  PCI_EXP_LNKCAP_CLKPM,
  PCI_EXP_LNKCAP_DLLLARC,
  PCI_EXP_LNKCAP_L0SEL,
  PCI_EXP_LNKCAP_L1EL,
  PCI_EXP_LNKCAP_LBNC,
  PCI_EXP_LNKCAP_MLW,
  PCI_EXP_LNKCAP_SDERC,
  PCI_EXP_LNKCAP_SLS,
  PCI_EXP_LNKCAP2,
  PCI_EXP_LNKCAP2_CROSSLINK,
  PCI_EXP_LNKCTL,
  PCI_EXP_LNKCTL_ASPMC,
  PCI_EXP_LNKCTL_CCC,
  PCI_EXP_LNKCTL_CLKREQ_EN,
  PCI_EXP_LNKCTL_ES,
  PCI_EXP_LNKCTL_HAWD,
  PCI_EXP_LNKCTL_LABIE,
  PCI_EXP_LNKCTL_LBMIE,
  PCI_EXP_LNKCTL_LD,
  PCI_EXP_LNKCTL_RCB,
  PCI_EXP_LNKCTL2,
  PCI_EXP_LNKCTL2_ENTER_COMP,
  PCI_EXP_LNKCTL2_HASD,
  PCI_EXP_LNKCTL2_TLS,
  PCI_EXP_LNKSTA,
  PCI_EXP_LNKSTA_CLS,
  PCI_EXP_LNKSTA_DLLLA,
  PCI_EXP_LNKSTA_LABS,
  PCI_EXP_LNKSTA_LBMS,
  PCI_EXP_LNKSTA_LT,
  PCI_EXP_LNKSTA_NLW,
  PCI_EXP_LNKSTA_SLC,
  PCI_EXP_LNKSTA2,
  PCI_EXP_RTCAP,
  PCI_EXP_RTCAP_CRSVIS,
  PCI_EXP_RTCTL,
  PCI_EXP_RTCTL_CRSSVE,
  PCI_EXP_RTCTL_PMEIE,
  PCI_EXP_RTCTL_SECEE,
  PCI_EXP_RTCTL_SEFEE,
  PCI_EXP_RTCTL_SENFEE,
  PCI_EXP_RTSTA,
  PCI_EXP_RTSTA_PENDING,
  PCI_EXP_RTSTA_PME,
  PCI_EXP_SLTCAP,
  PCI_EXP_SLTCAP_ABP,
  PCI_EXP_SLTCAP_AIP,
  PCI_EXP_SLTCAP_EIP,
  PCI_EXP_SLTCAP_HPC,
  PCI_EXP_SLTCAP_HPS,
  PCI_EXP_SLTCAP_MRLSP,
  PCI_EXP_SLTCAP_NCCS,
  PCI_EXP_SLTCAP_PCP,
  PCI_EXP_SLTCAP_PIP,
  PCI_EXP_SLTCAP_PSN,
  PCI_EXP_SLTCAP_SPLS,
  PCI_EXP_SLTCAP_SPLV,
  PCI_EXP_SLTCTL,
  PCI_EXP_SLTCTL_ABPE,
  PCI_EXP_SLTCTL_AIC,
  PCI_EXP_SLTCTL_CCIE,
  PCI_EXP_SLTCTL_DLLSCE,
  PCI_EXP_SLTCTL_EIC,
  PCI_EXP_SLTCTL_HPIE,
  PCI_EXP_SLTCTL_MRLSCE,
  PCI_EXP_SLTCTL_PCC,
  PCI_EXP_SLTCTL_PDCE,
  PCI_EXP_SLTCTL_PFDE,
  PCI_EXP_SLTCTL_PIC,
  PCI_EXP_SLTSTA,
  PCI_EXP_SLTSTA_ABP,
  PCI_EXP_SLTSTA_CC,
  PCI_EXP_SLTSTA_DLLSC,
  PCI_EXP_SLTSTA_EIS,
  PCI_EXP_SLTSTA_MRLSC,
  PCI_EXP_SLTSTA_MRLSS,
  PCI_EXP_SLTSTA_PDC,
  PCI_EXP_SLTSTA_PDS,
  PCI_EXP_SLTSTA_PFD,
  PCI_EXP_TYPE_DOWNSTREAM,
  PCI_EXP_TYPE_ENDPOINT,
  PCI_EXP_TYPE_LEG_END,
  PCI_EXP_TYPE_PCI_BRIDGE,
  PCI_EXP_TYPE_PCIE_BRIDGE,
  PCI_EXP_TYPE_RC_EC,
  PCI_EXP_TYPE_RC_END,
  PCI_EXP_TYPE_ROOT_PORT,
  PCI_EXP_TYPE_UPSTREAM,
} from '../../shared/linux/pci-regs.js';
import { BITS, FLAG, hex, latencyL0s, latencyL1, showPowerLimit } from './cap-format.js';
import type { CapabilityInfo, CapContext } from './caps.js';
import type { ConfigView } from './config-view.js';
import {
  PCI_EXP_DEVCAP2_10BIT_TAG_COMP,
  PCI_EXP_DEVCAP2_10BIT_TAG_REQ,
  PCI_EXP_DEVCAP2_EPR_INIT,
  PCI_EXP_DEVCAP2_EXTFMT,
  PCI_EXP_DEVCAP2_FRS,
  PCI_EXP_DEVCAP2_NROPRPRP,
  PCI_EXP_DEVCTL2_10BIT_TAG_REQ,
  PCI_EXP_LNKCAP_AOC,
  PCI_EXP_LNKCAP2_2RETIMERS,
  PCI_EXP_LNKCAP2_DRS,
  PCI_EXP_LNKCAP2_RETIMER,
  PCI_EXP_LNKCTL2_CMPLNC_SOS,
  PCI_EXP_LNKCTL2_MOD_CMPLNC,
  PCI_EXP_LNKSTA_TR_ERR,
  PCI_EXP_LNKSTA2_2RETIMERS,
  PCI_EXP_LNKSTA2_DRS_RCVD,
  PCI_EXP_LNKSTA2_EQU_COMP,
  PCI_EXP_LNKSTA2_EQU_PHASE1,
  PCI_EXP_LNKSTA2_EQU_PHASE2,
  PCI_EXP_LNKSTA2_EQU_PHASE3,
  PCI_EXP_LNKSTA2_EQU_REQ,
  PCI_EXP_LNKSTA2_RETIMER,
} from './pciutils-header.js';

const EXP_TYPE_NAMES: Record<number, string> = {
  [PCI_EXP_TYPE_ENDPOINT]: 'Endpoint',
  [PCI_EXP_TYPE_LEG_END]: 'Legacy Endpoint',
  [PCI_EXP_TYPE_UPSTREAM]: 'Upstream Port',
  [PCI_EXP_TYPE_PCI_BRIDGE]: 'PCI-Express to PCI/PCI-X Bridge',
  [PCI_EXP_TYPE_RC_END]: 'Root Complex Integrated Endpoint',
  [PCI_EXP_TYPE_RC_EC]: 'Root Complex Event Collector',
};

/** ls-caps.c exp_downstream_port: root port, switch downstream port, PCI/PCI-X to PCIe bridge. */
const isDownstreamPort = (type: number) => type === PCI_EXP_TYPE_ROOT_PORT || type === PCI_EXP_TYPE_DOWNSTREAM || type === PCI_EXP_TYPE_PCIE_BRIDGE;

/**
 * PCI Express capability (PCIe base spec 6.0, 7.5.3; ls-caps.c cap_express): the type line, then
 * at -vv DevCap/DevCtl/DevSta, LnkCap/LnkCtl/LnkSta (ports and endpoints with a link), SltCap/
 * SltCtl/SltSta (ports with a slot), RootCap/RootCtl/RootSta (root ports and event collectors)
 * and, for capability version 2 and later, DevCap2/DevCtl2/DevSta2 and LnkCap2/LnkCtl2/LnkSta2.
 * Each register set is printed only when its bytes are readable, as lspci's config_fetch requires.
 */
export function capExpress(ctx: CapContext, where: number, cap: number, info: CapabilityInfo): void {
  const { cfg, verbose } = ctx;
  const type = (cap & PCI_EXP_FLAGS_TYPE) >> 4;
  const version = cap & PCI_EXP_FLAGS_VERS;
  let slot = false;
  let link = true;
  let name: string;
  switch (type) {
    case PCI_EXP_TYPE_ROOT_PORT:
      slot = (cap & PCI_EXP_FLAGS_SLOT) !== 0;
      name = `Root Port (Slot${FLAG(cap, PCI_EXP_FLAGS_SLOT)})`;
      break;
    case PCI_EXP_TYPE_DOWNSTREAM:
      slot = (cap & PCI_EXP_FLAGS_SLOT) !== 0;
      name = `Downstream Port (Slot${FLAG(cap, PCI_EXP_FLAGS_SLOT)})`;
      break;
    case PCI_EXP_TYPE_PCIE_BRIDGE:
      slot = (cap & PCI_EXP_FLAGS_SLOT) !== 0;
      name = `PCI/PCI-X to PCI-Express Bridge (Slot${FLAG(cap, PCI_EXP_FLAGS_SLOT)})`;
      break;
    case PCI_EXP_TYPE_RC_END:
    case PCI_EXP_TYPE_RC_EC:
      link = false;
      name = EXP_TYPE_NAMES[type]!;
      break;
    default:
      name = EXP_TYPE_NAMES[type] ?? `Unknown type ${type}`;
  }
  const msg = (cap & PCI_EXP_FLAGS_IRQ) >> 9;
  info.summary = `Express ${verbose >= 2 ? `(v${version}) ` : ''}${name}, MSI ${hex(msg, 2)}`;
  info.fields = { version, type, typeName: name, interruptMessage: msg };
  if (verbose < 2) return;
  let size = slot ? 24 : 16;
  if (type === PCI_EXP_TYPE_ROOT_PORT || type === PCI_EXP_TYPE_RC_EC) size = 32;
  if (!cfg.has(where + PCI_EXP_DEVCAP, size)) return;
  expressDev(cfg, where, type, info);
  if (link) expressLink(cfg, where, type, info);
  if (slot) expressSlot(cfg, where, info);
  if (type === PCI_EXP_TYPE_ROOT_PORT || type === PCI_EXP_TYPE_RC_EC) expressRoot(cfg, where, info);
  if (version < 2) return;
  if (!cfg.has(where + PCI_EXP_DEVCAP2, slot ? 24 : 16)) return;
  expressDev2(ctx, where, type, info);
  if (link) expressLink2(ctx, where, type, info);
  // cap_express_slot2 prints nothing: no Slot Capabilities 2 field lspci decodes.
}

function expressDev(cfg: ConfigView, where: number, type: number, info: CapabilityInfo): void {
  const t = cfg.long(where + PCI_EXP_DEVCAP);
  const isEp = type === PCI_EXP_TYPE_ENDPOINT || type === PCI_EXP_TYPE_LEG_END;
  let s = `DevCap:\tMaxPayload ${128 << (t & PCI_EXP_DEVCAP_PAYLOAD)} bytes, PhantFunc ${(1 << ((t & PCI_EXP_DEVCAP_PHANTOM) >> 3)) - 1}`;
  if (isEp) s += `, Latency L0s ${latencyL0s((t & PCI_EXP_DEVCAP_L0S) >> 6)}, L1 ${latencyL1((t & PCI_EXP_DEVCAP_L1) >> 9)}`;
  info.details.push(s);
  s = `\tExtTag${FLAG(t, PCI_EXP_DEVCAP_EXT_TAG)}`;
  if (isEp || type === PCI_EXP_TYPE_UPSTREAM || type === PCI_EXP_TYPE_PCI_BRIDGE)
    s += ` AttnBtn${FLAG(t, PCI_EXP_DEVCAP_ATN_BUT)} AttnInd${FLAG(t, PCI_EXP_DEVCAP_ATN_IND)} PwrInd${FLAG(t, PCI_EXP_DEVCAP_PWR_IND)}`;
  s += ` RBE${FLAG(t, PCI_EXP_DEVCAP_RBER)}`;
  const flrType = isEp || type === PCI_EXP_TYPE_RC_END;
  if (flrType) s += ` FLReset${FLAG(t, PCI_EXP_DEVCAP_FLR)}`;
  if (type === PCI_EXP_TYPE_ENDPOINT || type === PCI_EXP_TYPE_UPSTREAM || type === PCI_EXP_TYPE_PCI_BRIDGE)
    s += ` SlotPowerLimit ${showPowerLimit((t & PCI_EXP_DEVCAP_PWR_VAL) >> 18, (t & PCI_EXP_DEVCAP_PWR_SCL) >> 26)}`;
  info.details.push(s);
  const w = cfg.word(where + PCI_EXP_DEVCTL);
  info.details.push(
    `DevCtl:\tCorrErr${FLAG(w, PCI_EXP_DEVCTL_CERE)} NonFatalErr${FLAG(w, PCI_EXP_DEVCTL_NFERE)} FatalErr${FLAG(w, PCI_EXP_DEVCTL_FERE)} UnsupReq${FLAG(w, PCI_EXP_DEVCTL_URRE)}`,
  );
  s = `\tRlxdOrd${FLAG(w, PCI_EXP_DEVCTL_RELAX_EN)} ExtTag${FLAG(w, PCI_EXP_DEVCTL_EXT_TAG)} PhantFunc${FLAG(w, PCI_EXP_DEVCTL_PHANTOM)} AuxPwr${FLAG(w, PCI_EXP_DEVCTL_AUX_PME)} NoSnoop${FLAG(w, PCI_EXP_DEVCTL_NOSNOOP_EN)}`;
  // Bit 15 is Bridge Configuration Retry Enable on a PCIe-to-PCI bridge and Initiate FLR on an endpoint.
  if (type === PCI_EXP_TYPE_PCI_BRIDGE) s += ` BrConfRtry${FLAG(w, PCI_EXP_DEVCTL_BCR_FLR)}`;
  if (flrType && t & PCI_EXP_DEVCAP_FLR) s += ` FLReset${FLAG(w, PCI_EXP_DEVCTL_BCR_FLR)}`;
  info.details.push(s);
  info.details.push(`\tMaxPayload ${128 << ((w & PCI_EXP_DEVCTL_PAYLOAD) >> 5)} bytes, MaxReadReq ${128 << ((w & PCI_EXP_DEVCTL_READRQ) >> 12)} bytes`);
  const st = cfg.word(where + PCI_EXP_DEVSTA);
  info.details.push(
    `DevSta:\tCorrErr${FLAG(st, PCI_EXP_DEVSTA_CED)} NonFatalErr${FLAG(st, PCI_EXP_DEVSTA_NFED)} FatalErr${FLAG(st, PCI_EXP_DEVSTA_FED)} UnsupReq${FLAG(st, PCI_EXP_DEVSTA_URD)} AuxPwr${FLAG(st, PCI_EXP_DEVSTA_AUXPD)} TransPend${FLAG(st, PCI_EXP_DEVSTA_TRPND)}`,
  );
}

const linkSpeed = (s: number) => ['unknown', '2.5GT/s', '5GT/s', '8GT/s', '16GT/s', '32GT/s', '64GT/s'][s] ?? 'unknown';
const aspmSupport = (c: number) => ['not supported', 'L0s', 'L1', 'L0s L1'][c] ?? 'unknown';
const aspmEnabled = (c: number) => ['Disabled', 'L0s Enabled', 'L1 Enabled', 'L0s L1 Enabled'][c]!;

function linkCompare(type: number, sta: number, cap: number): string {
  if (sta > cap) return ' (overdriven)';
  if (sta === cap) return '';
  if (isDownstreamPort(type)) return '';
  return ' (downgraded)';
}

function expressLink(cfg: ConfigView, where: number, type: number, info: CapabilityInfo): void {
  const t = cfg.long(where + PCI_EXP_LNKCAP);
  const aspm = (t & PCI_EXP_LNKCAP_ASPMS) >> 10;
  const capSpeed = t & PCI_EXP_LNKCAP_SLS;
  const capWidth = (t & PCI_EXP_LNKCAP_MLW) >> 4;
  let s = `LnkCap:\tPort #${t >>> 24}, Speed ${linkSpeed(capSpeed)}, Width x${capWidth}, ASPM ${aspmSupport(aspm)}`;
  if (aspm) {
    s += ', Exit Latency ';
    if (aspm & 1) s += `L0s ${latencyL0s((t & PCI_EXP_LNKCAP_L0SEL) >> 12)}`;
    if (aspm & 2) s += `${aspm & 1 ? ', ' : ''}L1 ${latencyL1((t & PCI_EXP_LNKCAP_L1EL) >> 15)}`;
  }
  info.details.push(s);
  info.details.push(
    `\tClockPM${FLAG(t, PCI_EXP_LNKCAP_CLKPM)} Surprise${FLAG(t, PCI_EXP_LNKCAP_SDERC)} LLActRep${FLAG(t, PCI_EXP_LNKCAP_DLLLARC)} BwNot${FLAG(t, PCI_EXP_LNKCAP_LBNC)} ASPMOptComp${FLAG(t, PCI_EXP_LNKCAP_AOC)}`,
  );
  const w = cfg.word(where + PCI_EXP_LNKCTL);
  s = `LnkCtl:\tASPM ${aspmEnabled(w & PCI_EXP_LNKCTL_ASPMC)};`;
  if (type === PCI_EXP_TYPE_ROOT_PORT || type === PCI_EXP_TYPE_ENDPOINT || type === PCI_EXP_TYPE_LEG_END || type === PCI_EXP_TYPE_PCI_BRIDGE)
    s += ` RCB ${w & PCI_EXP_LNKCTL_RCB ? 128 : 64} bytes,`;
  s += ` Disabled${FLAG(w, PCI_EXP_LNKCTL_LD)} CommClk${FLAG(w, PCI_EXP_LNKCTL_CCC)}`;
  info.details.push(s);
  info.details.push(
    `\tExtSynch${FLAG(w, PCI_EXP_LNKCTL_ES)} ClockPM${FLAG(w, PCI_EXP_LNKCTL_CLKREQ_EN)} AutWidDis${FLAG(w, PCI_EXP_LNKCTL_HAWD)} BWInt${FLAG(w, PCI_EXP_LNKCTL_LBMIE)} AutBWInt${FLAG(w, PCI_EXP_LNKCTL_LABIE)}`,
  );
  const st = cfg.word(where + PCI_EXP_LNKSTA);
  const staSpeed = st & PCI_EXP_LNKSTA_CLS;
  const staWidth = (st & PCI_EXP_LNKSTA_NLW) >> 4;
  info.details.push(
    `LnkSta:\tSpeed ${linkSpeed(staSpeed)}${linkCompare(type, staSpeed, capSpeed)}, Width x${staWidth}${linkCompare(type, staWidth, capWidth)}`,
  );
  info.details.push(
    `\tTrErr${FLAG(st, PCI_EXP_LNKSTA_TR_ERR)} Train${FLAG(st, PCI_EXP_LNKSTA_LT)} SlotClk${FLAG(st, PCI_EXP_LNKSTA_SLC)} DLActive${FLAG(st, PCI_EXP_LNKSTA_DLLLA)} BWMgmt${FLAG(st, PCI_EXP_LNKSTA_LBMS)} ABWMgmt${FLAG(st, PCI_EXP_LNKSTA_LABS)}`,
  );
}

/** ls-caps.c indicator: attention/power indicator control encodings. */
const indicator = (code: number) => ['Unknown', 'On', 'Blink', 'Off'][code]!;

/** Slot Capabilities, Control and Status (PCIe base spec 6.0, 7.5.3.9-11; ls-caps.c cap_express_slot). */
function expressSlot(cfg: ConfigView, where: number, info: CapabilityInfo): void {
  const t = cfg.long(where + PCI_EXP_SLTCAP);
  info.details.push(
    `SltCap:\tAttnBtn${FLAG(t, PCI_EXP_SLTCAP_ABP)} PwrCtrl${FLAG(t, PCI_EXP_SLTCAP_PCP)} MRL${FLAG(t, PCI_EXP_SLTCAP_MRLSP)} AttnInd${FLAG(t, PCI_EXP_SLTCAP_AIP)} PwrInd${FLAG(t, PCI_EXP_SLTCAP_PIP)} HotPlug${FLAG(t, PCI_EXP_SLTCAP_HPC)} Surprise${FLAG(t, PCI_EXP_SLTCAP_HPS)}`,
  );
  info.details.push(
    `\tSlot #${(t & PCI_EXP_SLTCAP_PSN) >>> 19}, PowerLimit ${showPowerLimit((t & PCI_EXP_SLTCAP_SPLV) >> 7, (t & PCI_EXP_SLTCAP_SPLS) >> 15)}; Interlock${FLAG(t, PCI_EXP_SLTCAP_EIP)} NoCompl${FLAG(t, PCI_EXP_SLTCAP_NCCS)}`,
  );
  const w = cfg.word(where + PCI_EXP_SLTCTL);
  info.details.push(
    `SltCtl:\tEnable: AttnBtn${FLAG(w, PCI_EXP_SLTCTL_ABPE)} PwrFlt${FLAG(w, PCI_EXP_SLTCTL_PFDE)} MRL${FLAG(w, PCI_EXP_SLTCTL_MRLSCE)} PresDet${FLAG(w, PCI_EXP_SLTCTL_PDCE)} CmdCplt${FLAG(w, PCI_EXP_SLTCTL_CCIE)} HPIrq${FLAG(w, PCI_EXP_SLTCTL_HPIE)} LinkChg${FLAG(w, PCI_EXP_SLTCTL_DLLSCE)}`,
  );
  info.details.push(
    `\tControl: AttnInd ${indicator((w & PCI_EXP_SLTCTL_AIC) >> 6)}, PwrInd ${indicator((w & PCI_EXP_SLTCTL_PIC) >> 8)}, Power${FLAG(w, PCI_EXP_SLTCTL_PCC)} Interlock${FLAG(w, PCI_EXP_SLTCTL_EIC)}`,
  );
  const st = cfg.word(where + PCI_EXP_SLTSTA);
  info.details.push(
    `SltSta:\tStatus: AttnBtn${FLAG(st, PCI_EXP_SLTSTA_ABP)} PowerFlt${FLAG(st, PCI_EXP_SLTSTA_PFD)} MRL${FLAG(st, PCI_EXP_SLTSTA_MRLSS)} CmdCplt${FLAG(st, PCI_EXP_SLTSTA_CC)} PresDet${FLAG(st, PCI_EXP_SLTSTA_PDS)} Interlock${FLAG(st, PCI_EXP_SLTSTA_EIS)}`,
  );
  info.details.push(`\tChanged: MRL${FLAG(st, PCI_EXP_SLTSTA_MRLSC)} PresDet${FLAG(st, PCI_EXP_SLTSTA_PDC)} LinkState${FLAG(st, PCI_EXP_SLTSTA_DLLSC)}`);
}

/** Root Capabilities, Control and Status (PCIe base spec 6.0, 7.5.3.12-14; ls-caps.c cap_express_root). */
function expressRoot(cfg: ConfigView, where: number, info: CapabilityInfo): void {
  info.details.push(`RootCap: CRSVisible${FLAG(cfg.word(where + PCI_EXP_RTCAP), PCI_EXP_RTCAP_CRSVIS)}`);
  const w = cfg.word(where + PCI_EXP_RTCTL);
  info.details.push(
    `RootCtl: ErrCorrectable${FLAG(w, PCI_EXP_RTCTL_SECEE)} ErrNon-Fatal${FLAG(w, PCI_EXP_RTCTL_SENFEE)} ErrFatal${FLAG(w, PCI_EXP_RTCTL_SEFEE)} PMEIntEna${FLAG(w, PCI_EXP_RTCTL_PMEIE)} CRSVisible${FLAG(w, PCI_EXP_RTCTL_CRSSVE)}`,
  );
  const l = cfg.long(where + PCI_EXP_RTSTA);
  info.details.push(`RootSta: PME ReqID ${hex(l & 0xffff, 4)}, PMEStatus${FLAG(l, PCI_EXP_RTSTA_PME)} PMEPending${FLAG(l, PCI_EXP_RTSTA_PENDING)}`);
}

function timeoutRange(v: number): string {
  // biome-ignore format: lspci's table, one line
  const names: Record<number, string> = { 0: 'Not Supported', 1: 'Range A', 2: 'Range B', 3: 'Range AB', 6: 'Range BC', 7: 'Range ABC', 14: 'Range BCD', 15: 'Range ABCD' };
  return names[v] ?? 'Unknown';
}

function timeoutValue(v: number): string {
  const names: Record<number, string> = {
    0: '50us to 50ms',
    1: '50us to 100us',
    2: '1ms to 10ms',
    5: '16ms to 55ms',
    6: '65ms to 210ms',
    9: '260ms to 900ms',
    10: '1s to 3.5s',
    13: '4s to 13s',
    14: '17s to 64s',
  };
  return names[v] ?? 'Unknown';
}

const devcap2Obff = (v: number) => ['Not Supported', 'Via message', 'Via WAKE#', 'Via message/WAKE#'][v]!;
const devcap2Epr = (v: number) => ['Not Supported', 'Dev Specific', 'Form Factor Dev Specific', 'Reserved'][v]!;
const devcap2Lncls = (v: number) => ['Not Supported', '64byte cachelines', '128byte cachelines', 'Reserved'][v]!;
// Encoding 2 is reserved; lspci prints an empty string for it.
const devcap2TphComp = (v: number) => ['TPHComp- ExtTPHComp-', 'TPHComp+ ExtTPHComp-', '', 'TPHComp+ ExtTPHComp+'][v]!;
const devctl2Obff = (v: number) => ['Disabled', 'Via message A', 'Via message B', 'Via WAKE#'][v]!;

/** Device Capabilities 2 and Device Control 2 (PCIe base spec 6.0, 7.5.3.15-16; ls-caps.c cap_express_dev2). */
function expressDev2(ctx: CapContext, where: number, type: number, info: CapabilityInfo): void {
  const { cfg } = ctx;
  const hasMemBar = ctx.hasMemoryBar ?? false;
  const l = cfg.long(where + PCI_EXP_DEVCAP2);
  info.details.push(
    `DevCap2: Completion Timeout: ${timeoutRange(l & 0xf)}, TimeoutDis${FLAG(l, PCI_EXP_DEVCAP2_COMP_TMOUT_DIS)} NROPrPrP${FLAG(l, PCI_EXP_DEVCAP2_NROPRPRP)} LTR${FLAG(l, PCI_EXP_DEVCAP2_LTR)}`,
  );
  let s = `\t 10BitTagComp${FLAG(l, PCI_EXP_DEVCAP2_10BIT_TAG_COMP)} 10BitTagReq${FLAG(l, PCI_EXP_DEVCAP2_10BIT_TAG_REQ)} OBFF ${devcap2Obff(BITS(l, 18, 2))}, ExtFmt${FLAG(l, PCI_EXP_DEVCAP2_EXTFMT)} EETLPPrefix${FLAG(l, PCI_EXP_DEVCAP2_EE_PREFIX)}`;
  if (l & PCI_EXP_DEVCAP2_EE_PREFIX) s += `, MaxEETLPPrefixes ${BITS(l, 22, 2) || 4}`;
  info.details.push(s);
  info.details.push(`\t EmergencyPowerReduction ${devcap2Epr(BITS(l, 24, 2))}, EmergencyPowerReductionInit${FLAG(l, PCI_EXP_DEVCAP2_EPR_INIT)}`);
  s = `\t FRS${FLAG(l, PCI_EXP_DEVCAP2_FRS)}`;
  if (type === PCI_EXP_TYPE_ROOT_PORT) s += ` LN System CLS ${devcap2Lncls(BITS(l, 14, 2))},`;
  if (type === PCI_EXP_TYPE_ROOT_PORT || type === PCI_EXP_TYPE_ENDPOINT) s += ` ${devcap2TphComp(BITS(l, 12, 2))}`;
  if (type === PCI_EXP_TYPE_ROOT_PORT || type === PCI_EXP_TYPE_DOWNSTREAM) s += ` ARIFwd${FLAG(l, PCI_EXP_DEVCAP2_ARI)}`;
  info.details.push(s);
  const isSwitchOrRoot = type === PCI_EXP_TYPE_ROOT_PORT || type === PCI_EXP_TYPE_UPSTREAM || type === PCI_EXP_TYPE_DOWNSTREAM;
  if (isSwitchOrRoot || hasMemBar) {
    s = '\t AtomicOpsCap:';
    if (isSwitchOrRoot) s += ` Routing${FLAG(l, PCI_EXP_DEVCAP2_ATOMIC_ROUTE)}`;
    if (type === PCI_EXP_TYPE_ROOT_PORT || hasMemBar)
      s += ` 32bit${FLAG(l, PCI_EXP_DEVCAP2_ATOMIC_COMP32)} 64bit${FLAG(l, PCI_EXP_DEVCAP2_ATOMIC_COMP64)} 128bitCAS${FLAG(l, PCI_EXP_DEVCAP2_ATOMIC_COMP128)}`;
    info.details.push(s);
  }
  const w = cfg.word(where + PCI_EXP_DEVCTL2);
  s = `DevCtl2: Completion Timeout: ${timeoutValue(w & PCI_EXP_DEVCTL2_COMP_TIMEOUT)}, TimeoutDis${FLAG(w, PCI_EXP_DEVCTL2_COMP_TMOUT_DIS)} LTR${FLAG(w, PCI_EXP_DEVCTL2_LTR_EN)} 10BitTagReq${FLAG(w, PCI_EXP_DEVCTL2_10BIT_TAG_REQ)} OBFF ${devctl2Obff(BITS(w, 13, 2))},`;
  if (type === PCI_EXP_TYPE_ROOT_PORT || type === PCI_EXP_TYPE_DOWNSTREAM) s += ` ARIFwd${FLAG(w, PCI_EXP_DEVCTL2_ARI)}`;
  info.details.push(s);
  const requester = type === PCI_EXP_TYPE_ROOT_PORT || type === PCI_EXP_TYPE_ENDPOINT || type === PCI_EXP_TYPE_RC_END || type === PCI_EXP_TYPE_LEG_END;
  if (isSwitchOrRoot || requester) {
    s = '\t AtomicOpsCtl:';
    if (requester) s += ` ReqEn${FLAG(w, PCI_EXP_DEVCTL2_ATOMIC_REQ)}`;
    if (isSwitchOrRoot) s += ` EgressBlck${FLAG(w, PCI_EXP_DEVCTL2_ATOMIC_EGRESS_BLOCK)}`;
    info.details.push(s);
  }
}

function link2SpeedCap(vector: number): string {
  if (vector & 0x60) return 'RsvdP';
  if (vector & 0x10) return '2.5-32GT/s';
  if (vector & 0x08) return '2.5-16GT/s';
  if (vector & 0x04) return '2.5-8GT/s';
  if (vector & 0x02) return '2.5-5GT/s';
  if (vector & 0x01) return '2.5GT/s';
  return 'Unknown';
}

// Target Link Speed 0 (hardwired) means only 2.5GT/s is supported.
const link2Speed = (v: number) => ['2.5GT/s', '2.5GT/s', '5GT/s', '8GT/s', '16GT/s', '32GT/s', '64GT/s'][v] ?? 'Unknown';
const link2Deemphasis = (v: number) => ['-6dB', '-3.5dB'][v] ?? 'Unknown';
const link2CompliancePreset = (v: number) =>
  [
    '-6dB de-emphasis, 0dB preshoot',
    '-3.5dB de-emphasis, 0dB preshoot',
    '-4.4dB de-emphasis, 0dB preshoot',
    '-2.5dB de-emphasis, 0dB preshoot',
    '0dB de-emphasis, 0dB preshoot',
    '0dB de-emphasis, 1.9dB preshoot',
    '0dB de-emphasis, 2.5dB preshoot',
    '-6.0dB de-emphasis, 3.5dB preshoot',
    '-3.5dB de-emphasis, 3.5dB preshoot',
    '0dB de-emphasis, 3.5dB preshoot',
  ][v] ?? 'Unknown';
function link2TransMargin(v: number): string {
  if (v === 0) return 'Normal Operating Range';
  if (v === 1) return '800-1200mV(full-swing)/400-700mV(half-swing)';
  if (v >= 2 && v <= 5) return '200-400mV(full-swing)/100-200mV(half-swing)';
  return 'Unknown';
}
const link2CrosslinkRes = (v: number) => ['unsupported', 'Upstream Port', 'Downstream Port', 'incomplete'][v]!;
const link2Component = (v: number) =>
  ({
    0: 'Link Down - Not Determined',
    1: 'Link Down - Not Present',
    2: 'Link Down - Present',
    4: 'Link Up - Present',
    5: 'Link Up - Present and DRS Received',
  })[v] ?? 'Reserved';

/** Link Capabilities 2, Control 2 and Status 2 (PCIe base spec 6.0, 7.5.3.18-20; ls-caps.c cap_express_link2). */
function expressLink2(ctx: CapContext, where: number, type: number, info: CapabilityInfo): void {
  const { cfg } = ctx;
  let l = 0;
  // Link Capabilities 2 and Link Control 2 were reserved on non-zero functions of endpoints before PCIe r3.0.
  if (!((type === PCI_EXP_TYPE_ENDPOINT || type === PCI_EXP_TYPE_LEG_END) && (ctx.device !== 0 || ctx.fn !== 0))) {
    l = cfg.long(where + PCI_EXP_LNKCAP2);
    if (l)
      info.details.push(
        `LnkCap2: Supported Link Speeds: ${link2SpeedCap(BITS(l, 1, 7))}, Crosslink${FLAG(l, PCI_EXP_LNKCAP2_CROSSLINK)} Retimer${FLAG(l, PCI_EXP_LNKCAP2_RETIMER)} 2Retimers${FLAG(l, PCI_EXP_LNKCAP2_2RETIMERS)} DRS${FLAG(l, PCI_EXP_LNKCAP2_DRS)}`,
      );
    const w = cfg.word(where + PCI_EXP_LNKCTL2);
    let s = `LnkCtl2: Target Link Speed: ${link2Speed(w & PCI_EXP_LNKCTL2_TLS)}, EnterCompliance${FLAG(w, PCI_EXP_LNKCTL2_ENTER_COMP)} SpeedDis${FLAG(w, PCI_EXP_LNKCTL2_HASD)}`;
    if (type === PCI_EXP_TYPE_DOWNSTREAM) s += `, Selectable De-emphasis: ${link2Deemphasis(BITS(w, 6, 1))}`;
    info.details.push(s);
    info.details.push(
      `\t Transmit Margin: ${link2TransMargin(BITS(w, 7, 3))}, EnterModifiedCompliance${FLAG(w, PCI_EXP_LNKCTL2_MOD_CMPLNC)} ComplianceSOS${FLAG(w, PCI_EXP_LNKCTL2_CMPLNC_SOS)}`,
    );
    info.details.push(`\t Compliance Preset/De-emphasis: ${link2CompliancePreset(BITS(w, 12, 4))}`);
  }
  const w = cfg.word(where + PCI_EXP_LNKSTA2);
  info.details.push(
    `LnkSta2: Current De-emphasis Level: ${link2Deemphasis(w & 1)}, EqualizationComplete${FLAG(w, PCI_EXP_LNKSTA2_EQU_COMP)} EqualizationPhase1${FLAG(w, PCI_EXP_LNKSTA2_EQU_PHASE1)}`,
  );
  info.details.push(
    `\t EqualizationPhase2${FLAG(w, PCI_EXP_LNKSTA2_EQU_PHASE2)} EqualizationPhase3${FLAG(w, PCI_EXP_LNKSTA2_EQU_PHASE3)} LinkEqualizationRequest${FLAG(w, PCI_EXP_LNKSTA2_EQU_REQ)}`,
  );
  let s = `\t Retimer${FLAG(w, PCI_EXP_LNKSTA2_RETIMER)} 2Retimers${FLAG(w, PCI_EXP_LNKSTA2_2RETIMERS)} CrosslinkRes: ${link2CrosslinkRes(BITS(w, 8, 2))}`;
  if (isDownstreamPort(type) && l & PCI_EXP_LNKCAP2_DRS) {
    s += `, DRS${FLAG(w, PCI_EXP_LNKSTA2_DRS_RCVD)}`;
    info.details.push(s);
    info.details.push(`\t DownstreamComp: ${link2Component(BITS(w, 12, 3))}`);
  } else info.details.push(s);
}
