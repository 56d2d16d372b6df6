// PCI Express extended capabilities for errors, routing, virtualization and link power, as lspci -vv prints them: ports of pciutils 3.9.0 ls-ecaps.c cap_aer, cap_dpc, cap_acs, cap_ari, cap_ats, cap_pri, cap_pasid, cap_sriov, cap_multicast, cap_ltr, cap_sec, cap_l1pm, cap_ptm, cap_tph.

import {
  PCI_ACS_CAP,
  PCI_ACS_CR,
  PCI_ACS_CTRL,
  PCI_ACS_DT,
  PCI_ACS_EC,
  PCI_ACS_RR,
  PCI_ACS_SV,
  PCI_ACS_TB,
  PCI_ACS_UF,
  PCI_ARI_CAP,
  PCI_ARI_CAP_ACS,
  PCI_ARI_CAP_MFVC,
  PCI_ARI_CTRL,
  PCI_ARI_CTRL_ACS,
  PCI_ARI_CTRL_MFVC,
  PCI_ATS_CAP,
  PCI_ATS_CTRL,
  PCI_ATS_CTRL_ENABLE,
  PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_MEM_TYPE_MASK,
  PCI_ERR_CAP,
  PCI_ERR_CAP_ECRC_CHKC,
  PCI_ERR_CAP_ECRC_CHKE,
  PCI_ERR_CAP_ECRC_GENC,
  PCI_ERR_CAP_ECRC_GENE,
  PCI_ERR_COR_ADV_NFAT,
  PCI_ERR_COR_BAD_DLLP,
  PCI_ERR_COR_BAD_TLP,
  PCI_ERR_COR_MASK,
  PCI_ERR_COR_RCVR,
  PCI_ERR_COR_REP_ROLL,
  PCI_ERR_COR_REP_TIMER,
  PCI_ERR_COR_STATUS,
  PCI_ERR_HEADER_LOG,
  PCI_ERR_ROOT_CMD_COR_EN,
  PCI_ERR_ROOT_CMD_FATAL_EN,
  PCI_ERR_ROOT_CMD_NONFATAL_EN,
  PCI_ERR_ROOT_COMMAND,
  PCI_ERR_ROOT_COR_RCV,
  PCI_ERR_ROOT_FATAL_RCV,
  PCI_ERR_ROOT_FIRST_FATAL,
  PCI_ERR_ROOT_MULTI_COR_RCV,
  PCI_ERR_ROOT_MULTI_UNCOR_RCV,
  PCI_ERR_ROOT_NONFATAL_RCV,
  PCI_ERR_ROOT_STATUS,
  PCI_ERR_ROOT_UNCOR_RCV,
  PCI_ERR_UNC_ACSV,
  PCI_ERR_UNC_COMP_ABORT,
  PCI_ERR_UNC_COMP_TIME,
  PCI_ERR_UNC_DLP,
  PCI_ERR_UNC_ECRC,
  PCI_ERR_UNC_FCP,
  PCI_ERR_UNC_MALF_TLP,
  PCI_ERR_UNC_POISON_TLP,
  PCI_ERR_UNC_RX_OVER,
  PCI_ERR_UNC_SURPDN,
  PCI_ERR_UNC_UNSUP,
  PCI_ERR_UNC_UNX_COMP,
  PCI_ERR_UNCOR_MASK,
  PCI_ERR_UNCOR_SEVER,
  PCI_ERR_UNCOR_STATUS,
  PCI_EXP_DPC_CAP,
  PCI_EXP_DPC_CAP_DL_ACTIVE,
  PCI_EXP_DPC_CAP_POISONED_TLP,
  PCI_EXP_DPC_CAP_RP_EXT,
  PCI_EXP_DPC_CAP_SW_TRIGGER,
  PCI_EXP_DPC_CTL,
  PCI_EXP_DPC_CTL_INT_EN,
  PCI_EXP_DPC_RP_BUSY,
  PCI_EXP_DPC_SOURCE_ID,
  PCI_EXP_DPC_STATUS,
  PCI_EXP_DPC_STATUS_INTERRUPT,
  PCI_EXP_DPC_STATUS_TRIGGER,
  PCI_EXP_TYPE_DOWNSTREAM,
  PCI_EXP_TYPE_ENDPOINT,
  PCI_EXP_TYPE_RC_EC,
  PCI_EXP_TYPE_RC_END,
  PCI_EXP_TYPE_ROOT_PORT,
  PCI_EXP_TYPE_UPSTREAM,
  PCI_L1SS_CAP,
  PCI_L1SS_CAP_ASPM_L1_1,
  PCI_L1SS_CAP_ASPM_L1_2,
  PCI_L1SS_CAP_L1_PM_SS,
  PCI_L1SS_CAP_PCIPM_L1_1,
  PCI_L1SS_CAP_PCIPM_L1_2,
  PCI_L1SS_CTL1,
  PCI_L1SS_CTL1_ASPM_L1_1,
  PCI_L1SS_CTL1_ASPM_L1_2,
  PCI_L1SS_CTL1_PCIPM_L1_1,
  PCI_L1SS_CTL1_PCIPM_L1_2,
  PCI_L1SS_CTL2,
  PCI_LTR_MAX_NOSNOOP_LAT,
  PCI_LTR_MAX_SNOOP_LAT,
  PCI_LTR_VALUE_MASK,
  PCI_PASID_CAP,
  PCI_PASID_CAP_EXEC,
  PCI_PASID_CAP_PRIV,
  PCI_PASID_CTRL,
  PCI_PASID_CTRL_ENABLE,
  PCI_PASID_CTRL_EXEC,
  PCI_PASID_CTRL_PRIV,
  PCI_PRI_ALLOC_REQ,
  PCI_PRI_CTRL,
  PCI_PRI_CTRL_ENABLE,
  PCI_PRI_CTRL_RESET,
  PCI_PRI_MAX_REQ,
  PCI_PRI_STATUS,
  PCI_PRI_STATUS_RF,
  PCI_PRI_STATUS_STOPPED,
  PCI_PRI_STATUS_UPRGI,
  PCI_PTM_CAP,
  PCI_PTM_CTRL,
  PCI_SRIOV_BAR,
  PCI_SRIOV_CAP,
  PCI_SRIOV_CAP_VFM,
  PCI_SRIOV_CTRL,
  PCI_SRIOV_CTRL_ARI,
  PCI_SRIOV_CTRL_INTR,
  PCI_SRIOV_CTRL_MSE,
  PCI_SRIOV_CTRL_VFE,
  PCI_SRIOV_CTRL_VFM,
  PCI_SRIOV_FUNC_LINK,
  PCI_SRIOV_INITIAL_VF,
  PCI_SRIOV_NUM_BARS,
  PCI_SRIOV_NUM_VF,
  PCI_SRIOV_STATUS,
  PCI_SRIOV_STATUS_VFM,
  PCI_SRIOV_SUP_PGSIZE,
  PCI_SRIOV_SYS_PGSIZE,
  PCI_SRIOV_TOTAL_VF,
  PCI_SRIOV_VF_DID,
  PCI_SRIOV_VF_OFFSET,
  PCI_SRIOV_VF_STRIDE,
  PCI_SRIOV_VFM,
  PCI_TPH_CAP,
  PCI_TPH_CAP_LOC_MASK,
  PCI_TPH_LOC_CAP,
  PCI_TPH_LOC_MSIX,
  PCI_TPH_LOC_NONE,
} from '../../shared/linux/pci-regs.js';
import { BITS, ecapBody, FLAG, hex, hexBig } from './cap-format.js';
import type { CapabilityInfo, CapContext } from './caps.js';
import {
  PCI_DPC_CTL_CMPL,
  PCI_DPC_CTL_DL_ACTIVE,
  PCI_DPC_CTL_ERR_COR,
  PCI_DPC_CTL_SW_TRIGGER,
  PCI_DPC_CTL_TLP,
  PCI_ERR_CAP_HDR_LOG,
  PCI_ERR_CAP_MULT_HDRC,
  PCI_ERR_CAP_MULT_HDRE,
  PCI_ERR_CAP_TLP_PFX,
  PCI_ERR_ROOT_COR_SRC,
  PCI_ERR_ROOT_SRC,
  PCI_IOV_CAP_VF_10BIT_TAG_REQ,
  PCI_IOV_CTRL_VF_10BIT_TAG_REQ_EN,
  PCI_MCAST_BAR,
  PCI_MCAST_BLOCK,
  PCI_MCAST_BLOCK_UNTRANS,
  PCI_MCAST_CAP,
  PCI_MCAST_CAP_ECRC,
  PCI_MCAST_CTRL,
  PCI_MCAST_CTRL_ENABLE,
  PCI_MCAST_OVL_BAR,
  PCI_MCAST_RCV,
  PCI_PTM_CAP_RSP,
  PCI_SEC_LANE_ERR,
  PCI_SEC_LNKCTL3,
  PCI_SEC_LNKCTL3_LNK_EQU_REQ_INTR_EN,
  PCI_SEC_LNKCTL3_PERFORM_LINK_EQU,
  PCI_TPH_DEV_SUP,
  PCI_TPH_EXT_REQ_SUP,
  PCI_TPH_INTVEC_SUP,
} from './pciutils-header.js';

/** One extended capability decoder: fills `info.summary` (lspci's text after `[xxx vN] `) and `info.details`. */
export type ExtCapDecoder = (ctx: CapContext, where: number, info: CapabilityInfo, type: number) => void;

/** The flags of AER's uncorrectable status, mask and severity registers. */
function aerUncorrectable(l: number): string {
  return `DLP${FLAG(l, PCI_ERR_UNC_DLP)} SDES${FLAG(l, PCI_ERR_UNC_SURPDN)} TLP${FLAG(l, PCI_ERR_UNC_POISON_TLP)} FCP${FLAG(l, PCI_ERR_UNC_FCP)} CmpltTO${FLAG(l, PCI_ERR_UNC_COMP_TIME)} CmpltAbrt${FLAG(l, PCI_ERR_UNC_COMP_ABORT)} UnxCmplt${FLAG(l, PCI_ERR_UNC_UNX_COMP)} RxOF${FLAG(l, PCI_ERR_UNC_RX_OVER)} MalfTLP${FLAG(l, PCI_ERR_UNC_MALF_TLP)} ECRC${FLAG(l, PCI_ERR_UNC_ECRC)} UnsupReq${FLAG(l, PCI_ERR_UNC_UNSUP)} ACSViol${FLAG(l, PCI_ERR_UNC_ACSV)}`;
}

/** The flags of AER's correctable status and mask registers. */
function aerCorrectable(l: number): string {
  return `RxErr${FLAG(l, PCI_ERR_COR_RCVR)} BadTLP${FLAG(l, PCI_ERR_COR_BAD_TLP)} BadDLLP${FLAG(l, PCI_ERR_COR_BAD_DLLP)} Rollover${FLAG(l, PCI_ERR_COR_REP_ROLL)} Timeout${FLAG(l, PCI_ERR_COR_REP_TIMER)} AdvNonFatalErr${FLAG(l, PCI_ERR_COR_ADV_NFAT)}`;
}

/** Advanced Error Reporting (PCIe base spec 6.0, 7.8.4; ls-ecaps.c cap_aer); root ports and event collectors add the root registers. */
export const capAer: ExtCapDecoder = (ctx, where, info, type) => {
  const { cfg } = ctx;
  if (!ecapBody(ctx, info, 'Advanced Error Reporting', where + PCI_ERR_UNCOR_STATUS, 40, true)) return;
  const d = info.details;
  d.push(`UESta:\t${aerUncorrectable(cfg.long(where + PCI_ERR_UNCOR_STATUS))}`);
  d.push(`UEMsk:\t${aerUncorrectable(cfg.long(where + PCI_ERR_UNCOR_MASK))}`);
  d.push(`UESvrt:\t${aerUncorrectable(cfg.long(where + PCI_ERR_UNCOR_SEVER))}`);
  d.push(`CESta:\t${aerCorrectable(cfg.long(where + PCI_ERR_COR_STATUS))}`);
  d.push(`CEMsk:\t${aerCorrectable(cfg.long(where + PCI_ERR_COR_MASK))}`);
  const l = cfg.long(where + PCI_ERR_CAP);
  d.push(
    `AERCap:\tFirst Error Pointer: ${hex(l & 31, 2)}, ECRCGenCap${FLAG(l, PCI_ERR_CAP_ECRC_GENC)} ECRCGenEn${FLAG(l, PCI_ERR_CAP_ECRC_GENE)} ECRCChkCap${FLAG(l, PCI_ERR_CAP_ECRC_CHKC)} ECRCChkEn${FLAG(l, PCI_ERR_CAP_ECRC_CHKE)}`,
  );
  d.push(
    `\tMultHdrRecCap${FLAG(l, PCI_ERR_CAP_MULT_HDRC)} MultHdrRecEn${FLAG(l, PCI_ERR_CAP_MULT_HDRE)} TLPPfxPres${FLAG(l, PCI_ERR_CAP_TLP_PFX)} HdrLogCap${FLAG(l, PCI_ERR_CAP_HDR_LOG)}`,
  );
  const log = [0, 4, 8, 12].map((k) => hex(cfg.long(where + PCI_ERR_HEADER_LOG + k), 8));
  d.push(`HeaderLog: ${log.join(' ')}`);
  if (type !== PCI_EXP_TYPE_ROOT_PORT && type !== PCI_EXP_TYPE_RC_EC) return;
  if (!cfg.has(where + PCI_ERR_ROOT_COMMAND, 12)) return;
  const c = cfg.long(where + PCI_ERR_ROOT_COMMAND);
  d.push(`RootCmd: CERptEn${FLAG(c, PCI_ERR_ROOT_CMD_COR_EN)} NFERptEn${FLAG(c, PCI_ERR_ROOT_CMD_NONFATAL_EN)} FERptEn${FLAG(c, PCI_ERR_ROOT_CMD_FATAL_EN)}`);
  const s = cfg.long(where + PCI_ERR_ROOT_STATUS);
  d.push(
    `RootSta: CERcvd${FLAG(s, PCI_ERR_ROOT_COR_RCV)} MultCERcvd${FLAG(s, PCI_ERR_ROOT_MULTI_COR_RCV)} UERcvd${FLAG(s, PCI_ERR_ROOT_UNCOR_RCV)} MultUERcvd${FLAG(s, PCI_ERR_ROOT_MULTI_UNCOR_RCV)}`,
  );
  d.push(
    `\t FirstFatal${FLAG(s, PCI_ERR_ROOT_FIRST_FATAL)} NonFatalMsg${FLAG(s, PCI_ERR_ROOT_NONFATAL_RCV)} FatalMsg${FLAG(s, PCI_ERR_ROOT_FATAL_RCV)} IntMsg ${BITS(s, 27, 5)}`,
  );
  d.push(`ErrorSrc: ERR_COR: ${hex(cfg.word(where + PCI_ERR_ROOT_COR_SRC), 4)} ERR_FATAL/NONFATAL: ${hex(cfg.word(where + PCI_ERR_ROOT_SRC), 4)}`);
};

/** Downstream Port Containment (PCIe base spec 6.0, 7.9.14; ls-ecaps.c cap_dpc). */
export const capDpc: ExtCapDecoder = (ctx, where, info) => {
  const { cfg } = ctx;
  if (!ecapBody(ctx, info, 'Downstream Port Containment', where + PCI_EXP_DPC_CAP, 8, true)) return;
  let l = cfg.word(where + PCI_EXP_DPC_CAP);
  info.details.push(
    `DpcCap:\tINT Msg #${l & 0x1f}, RPExt${FLAG(l, PCI_EXP_DPC_CAP_RP_EXT)} PoisonedTLP${FLAG(l, PCI_EXP_DPC_CAP_POISONED_TLP)} SwTrigger${FLAG(l, PCI_EXP_DPC_CAP_SW_TRIGGER)} RP PIO Log ${BITS(l, 8, 4)}, DL_ActiveErr${FLAG(l, PCI_EXP_DPC_CAP_DL_ACTIVE)}`,
  );
  l = cfg.word(where + PCI_EXP_DPC_CTL);
  info.details.push(
    `DpcCtl:\tTrigger:${(l & 3).toString(16)} Cmpl${FLAG(l, PCI_DPC_CTL_CMPL)} INT${FLAG(l, PCI_EXP_DPC_CTL_INT_EN)} ErrCor${FLAG(l, PCI_DPC_CTL_ERR_COR)} PoisonedTLP${FLAG(l, PCI_DPC_CTL_TLP)} SwTrigger${FLAG(l, PCI_DPC_CTL_SW_TRIGGER)} DL_ActiveErr${FLAG(l, PCI_DPC_CTL_DL_ACTIVE)}`,
  );
  l = cfg.word(where + PCI_EXP_DPC_STATUS);
  info.details.push(
    `DpcSta:\tTrigger${FLAG(l, PCI_EXP_DPC_STATUS_TRIGGER)} Reason:${hex(BITS(l, 1, 2), 2)} INT${FLAG(l, PCI_EXP_DPC_STATUS_INTERRUPT)} RPBusy${FLAG(l, PCI_EXP_DPC_RP_BUSY)} TriggerExt:${hex(BITS(l, 5, 2), 2)} RP PIO ErrPtr:${hex(BITS(l, 8, 5), 2)}`,
  );
  info.details.push(`Source:\t${hex(cfg.word(where + PCI_EXP_DPC_SOURCE_ID), 4)}`);
};

/** The seven ACS capability / control flags (same bit positions in both registers). */
const acsFlags = (w: number) =>
  `SrcValid${FLAG(w, PCI_ACS_SV)} TransBlk${FLAG(w, PCI_ACS_TB)} ReqRedir${FLAG(w, PCI_ACS_RR)} CmpltRedir${FLAG(w, PCI_ACS_CR)} UpstreamFwd${FLAG(w, PCI_ACS_UF)} EgressCtrl${FLAG(w, PCI_ACS_EC)} DirectTrans${FLAG(w, PCI_ACS_DT)}`;

/** Access Control Services (PCIe base spec 6.0, 7.7.11; ls-ecaps.c cap_acs). */
export const capAcs: ExtCapDecoder = (ctx, where, info) => {
  const { cfg } = ctx;
  if (!ecapBody(ctx, info, 'Access Control Services', where + PCI_ACS_CAP, 4, true)) return;
  info.details.push(`ACSCap:\t${acsFlags(cfg.word(where + PCI_ACS_CAP))}`);
  info.details.push(`ACSCtl:\t${acsFlags(cfg.word(where + PCI_ACS_CTRL))}`);
};

/** Alternative Routing-ID Interpretation (PCIe base spec 6.0, 7.8.7; ls-ecaps.c cap_ari). */
export const capAri: ExtCapDecoder = (ctx, where, info) => {
  const { cfg } = ctx;
  if (!ecapBody(ctx, info, 'Alternative Routing-ID Interpretation (ARI)', where + PCI_ARI_CAP, 4, true)) return;
  let w = cfg.word(where + PCI_ARI_CAP);
  info.details.push(`ARICap:\tMFVC${FLAG(w, PCI_ARI_CAP_MFVC)} ACS${FLAG(w, PCI_ARI_CAP_ACS)}, Next Function: ${BITS(w, 8, 8)}`);
  w = cfg.word(where + PCI_ARI_CTRL);
  info.details.push(`ARICtl:\tMFVC${FLAG(w, PCI_ARI_CTRL_MFVC)} ACS${FLAG(w, PCI_ARI_CTRL_ACS)}, Function Group: ${BITS(w, 4, 3)}`);
};

/** Address Translation Service (PCIe base spec 6.0, 10.5.1; ls-ecaps.c cap_ats). */
export const capAts: ExtCapDecoder = (ctx, where, info) => {
  const { cfg } = ctx;
  if (!ecapBody(ctx, info, 'Address Translation Service (ATS)', where + PCI_ATS_CAP, 4, true)) return;
  info.details.push(`ATSCap:\tInvalidate Queue Depth: ${hex(cfg.word(where + PCI_ATS_CAP) & 0x1f, 2)}`);
  const w = cfg.word(where + PCI_ATS_CTRL);
  info.details.push(`ATSCtl:\tEnable${FLAG(w, PCI_ATS_CTRL_ENABLE)}, Smallest Translation Unit: ${hex(w & 0x1f, 2)}`);
};

/** Page Request Interface (PCIe base spec 6.0, 10.5.2; ls-ecaps.c cap_pri). */
export const capPri: ExtCapDecoder = (ctx, where, info) => {
  const { cfg } = ctx;
  if (!ecapBody(ctx, info, 'Page Request Interface (PRI)', where + PCI_PRI_CTRL, 0xc, true)) return;
  let w = cfg.word(where + PCI_PRI_CTRL);
  info.details.push(`PRICtl: Enable${FLAG(w, PCI_PRI_CTRL_ENABLE)} Reset${FLAG(w, PCI_PRI_CTRL_RESET)}`);
  w = cfg.word(where + PCI_PRI_STATUS);
  info.details.push(`PRISta: RF${FLAG(w, PCI_PRI_STATUS_RF)} UPRGI${FLAG(w, PCI_PRI_STATUS_UPRGI)} Stopped${FLAG(w, PCI_PRI_STATUS_STOPPED)}`);
  info.details.push(
    `Page Request Capacity: ${hex(cfg.long(where + PCI_PRI_MAX_REQ), 8)}, Page Request Allocation: ${hex(cfg.long(where + PCI_PRI_ALLOC_REQ), 8)}`,
  );
};

/** Process Address Space ID (PCIe base spec 6.0, 7.8.8; ls-ecaps.c cap_pasid). */
export const capPasid: ExtCapDecoder = (ctx, where, info) => {
  const { cfg } = ctx;
  if (!ecapBody(ctx, info, 'Process Address Space ID (PASID)', where + PCI_PASID_CAP, 4, true)) return;
  let w = cfg.word(where + PCI_PASID_CAP);
  info.details.push(`PASIDCap: Exec${FLAG(w, PCI_PASID_CAP_EXEC)} Priv${FLAG(w, PCI_PASID_CAP_PRIV)}, Max PASID Width: ${hex(BITS(w, 8, 5), 2)}`);
  w = cfg.word(where + PCI_PASID_CTRL);
  info.details.push(`PASIDCtl: Enable${FLAG(w, PCI_PASID_CTRL_ENABLE)} Exec${FLAG(w, PCI_PASID_CTRL_EXEC)} Priv${FLAG(w, PCI_PASID_CTRL_PRIV)}`);
};

/** Single Root I/O Virtualization (PCIe base spec 6.0, 9.3.3; ls-ecaps.c cap_sriov), with the VF BARs. */
export const capSriov: ExtCapDecoder = (ctx, where, info) => {
  const { cfg } = ctx;
  if (!ecapBody(ctx, info, 'Single Root I/O Virtualization (SR-IOV)', where + PCI_SRIOV_CAP, 0x3c, true)) return;
  const d = info.details;
  let l = cfg.long(where + PCI_SRIOV_CAP);
  d.push(`IOVCap:\tMigration${FLAG(l, PCI_SRIOV_CAP_VFM)} 10BitTagReq${FLAG(l, PCI_IOV_CAP_VF_10BIT_TAG_REQ)} Interrupt Message Number: ${hex(l >>> 21, 3)}`);
  const w = cfg.word(where + PCI_SRIOV_CTRL);
  d.push(
    `IOVCtl:\tEnable${FLAG(w, PCI_SRIOV_CTRL_VFE)} Migration${FLAG(w, PCI_SRIOV_CTRL_VFM)} Interrupt${FLAG(w, PCI_SRIOV_CTRL_INTR)} MSE${FLAG(w, PCI_SRIOV_CTRL_MSE)} ARIHierarchy${FLAG(w, PCI_SRIOV_CTRL_ARI)} 10BitTagReq${FLAG(w, PCI_IOV_CTRL_VF_10BIT_TAG_REQ_EN)}`,
  );
  d.push(`IOVSta:\tMigration${FLAG(cfg.word(where + PCI_SRIOV_STATUS), PCI_SRIOV_STATUS_VFM)}`);
  d.push(
    `Initial VFs: ${cfg.word(where + PCI_SRIOV_INITIAL_VF)}, Total VFs: ${cfg.word(where + PCI_SRIOV_TOTAL_VF)}, Number of VFs: ${cfg.word(where + PCI_SRIOV_NUM_VF)}, Function Dependency Link: ${hex(cfg.byte(where + PCI_SRIOV_FUNC_LINK), 2)}`,
  );
  d.push(
    `VF offset: ${cfg.word(where + PCI_SRIOV_VF_OFFSET)}, stride: ${cfg.word(where + PCI_SRIOV_VF_STRIDE)}, Device ID: ${hex(cfg.word(where + PCI_SRIOV_VF_DID), 4)}`,
  );
  d.push(`Supported Page Size: ${hex(cfg.long(where + PCI_SRIOV_SUP_PGSIZE), 8)}, System Page Size: ${hex(cfg.long(where + PCI_SRIOV_SYS_PGSIZE), 8)}`);
  for (let i = 0; i < PCI_SRIOV_NUM_BARS; i++) {
    l = cfg.long(where + PCI_SRIOV_BAR + 4 * i);
    if (l === 0xffff_ffff) l = 0;
    if (!l) continue;
    let s = `Region ${i}: Memory at `;
    const type = l & PCI_BASE_ADDRESS_MEM_TYPE_MASK;
    if (type === PCI_BASE_ADDRESS_MEM_TYPE_64) {
      i++;
      s += hex(cfg.long(where + PCI_SRIOV_BAR + 4 * i), 8);
    }
    // lspci tests only for type 0 (32-bit): the reserved type 1 (below 1M) prints as 64-bit.
    s += `${hex((l & ~0xf) >>> 0, 8)} (${type === 0 ? '32' : '64'}-bit, ${l & PCI_BASE_ADDRESS_MEM_PREFETCH ? '' : 'non-'}prefetchable)`;
    d.push(s);
  }
  l = cfg.long(where + PCI_SRIOV_VFM);
  d.push(`VF Migration: offset: ${hex((l & 0xffff_fff8) >>> 0, 8)}, BIR: ${(l & 7).toString(16)}`);
};

/** A 64-bit register pair at `offset` (low dword first). */
const long64 = (ctx: CapContext, offset: number) => BigInt(ctx.cfg.long(offset)) | (BigInt(ctx.cfg.long(offset + 4)) << 32n);

/** Multicast (PCIe base spec 6.0, 7.9.11; ls-ecaps.c cap_multicast). */
export const capMulticast: ExtCapDecoder = (ctx, where, info, type) => {
  const { cfg } = ctx;
  if (!ecapBody(ctx, info, 'Multicast', where + PCI_MCAST_CAP, 0x30, true)) return;
  const d = info.details;
  const endpoint = type === PCI_EXP_TYPE_ENDPOINT || type === PCI_EXP_TYPE_RC_END;
  let w = cfg.word(where + PCI_MCAST_CAP);
  let s = `McastCap: MaxGroups ${(w & 0x3f) + 1}`;
  if (endpoint) s += `, WindowSz ${BITS(w, 8, 6)} (${1 << BITS(w, 8, 6)} bytes)`;
  const port = type === PCI_EXP_TYPE_ROOT_PORT || type === PCI_EXP_TYPE_UPSTREAM || type === PCI_EXP_TYPE_DOWNSTREAM;
  w = cfg.word(where + PCI_MCAST_CTRL);
  const ctl = `McastCtl: NumGroups ${(w & 0x3f) + 1}, Enable${FLAG(w, PCI_MCAST_CTRL_ENABLE)}`;
  // lspci ends the McastCap line only on ports (after ECRCRegen); elsewhere McastCtl follows on the same line.
  if (port) d.push(`${s}, ECRCRegen${FLAG(cfg.word(where + PCI_MCAST_CAP), PCI_MCAST_CAP_ECRC)}`, ctl);
  else d.push(`${s}\t\t${ctl}`);
  const bar = long64(ctx, where + PCI_MCAST_BAR);
  d.push(`McastBAR: IndexPos ${Number(bar & 0x3fn)}, BaseAddr ${hexBig(bar & ~0xfffn, 16)}`);
  d.push(`McastReceiveVec:      ${hexBig(long64(ctx, where + PCI_MCAST_RCV), 16)}`);
  d.push(`McastBlockAllVec:     ${hexBig(long64(ctx, where + PCI_MCAST_BLOCK), 16)}`);
  d.push(`McastBlockUntransVec: ${hexBig(long64(ctx, where + PCI_MCAST_BLOCK_UNTRANS), 16)}`);
  if (endpoint) return;
  const ovl = long64(ctx, where + PCI_MCAST_OVL_BAR);
  const size = Number(ovl & 0x3fn);
  d.push(`McastOverlayBAR: OverlaySize ${size} ${size >= 6 ? `(${1 << size} bytes)` : '(disabled)'}, BaseAddr ${hexBig(ovl & ~0x3fn, 16)}`);
};

/** LTR scale: 1 << (scale * 5) ns, as a 32-bit C shift (scale 7 wraps). */
export const ltrScale = (scale: number): bigint => BigInt((1 << ((scale * 5) & 31)) >>> 0);

/** Latency Tolerance Reporting (PCIe base spec 6.0, 7.8.2; ls-ecaps.c cap_ltr). */
export const capLtr: ExtCapDecoder = (ctx, where, info) => {
  const { cfg } = ctx;
  if (!ecapBody(ctx, info, 'Latency Tolerance Reporting', where + PCI_LTR_MAX_SNOOP_LAT, 4, true)) return;
  const lat = (w: number) => BigInt(w & PCI_LTR_VALUE_MASK) * ltrScale(BITS(w, 10, 3));
  info.details.push(`Max snoop latency: ${lat(cfg.word(where + PCI_LTR_MAX_SNOOP_LAT))}ns`);
  info.details.push(`Max no snoop latency: ${lat(cfg.word(where + PCI_LTR_MAX_NOSNOOP_LAT))}ns`);
};

/** Secondary PCI Express (PCIe base spec 6.0, 7.7.3; ls-ecaps.c cap_sec). */
export const capSecondary: ExtCapDecoder = (ctx, where, info) => {
  const { cfg } = ctx;
  if (!ecapBody(ctx, info, 'Secondary PCI Express', where + PCI_SEC_LNKCTL3, 12, true)) return;
  const c = cfg.word(where + PCI_SEC_LNKCTL3);
  info.details.push(`LnkCtl3: LnkEquIntrruptEn${FLAG(c, PCI_SEC_LNKCTL3_LNK_EQU_REQ_INTR_EN)} PerformEqu${FLAG(c, PCI_SEC_LNKCTL3_PERFORM_LINK_EQU)}`);
  let e = cfg.word(where + PCI_SEC_LANE_ERR);
  let s = 'LaneErrStat: ';
  if (e) {
    s += 'LaneErr at lane:';
    for (let lane = 0; e; e >>>= 1, lane++) if (e & 1) s += ` ${lane}`;
  } else s += '0';
  info.details.push(s);
};

/** L1 PM Substates power-on time: scale 0/1/2 = 2/10/100 us units; -1 for a reserved scale. */
function l1pmPowerOn(scale: number, value: number): number {
  return [2, 10, 100][scale] !== undefined ? [2, 10, 100][scale]! * value : -1;
}

/** L1 PM Substates (PCIe base spec 6.0, 7.8.3; ls-ecaps.c cap_l1pm). */
export const capL1pm: ExtCapDecoder = (ctx, where, info) => {
  const { cfg } = ctx;
  if (!ecapBody(ctx, info, 'L1 PM Substates', where + PCI_L1SS_CAP, 12)) return;
  const d = info.details;
  const cap = cfg.long(where + PCI_L1SS_CAP);
  d.push(
    `L1SubCap: PCI-PM_L1.2${FLAG(cap, PCI_L1SS_CAP_PCIPM_L1_2)} PCI-PM_L1.1${FLAG(cap, PCI_L1SS_CAP_PCIPM_L1_1)} ASPM_L1.2${FLAG(cap, PCI_L1SS_CAP_ASPM_L1_2)} ASPM_L1.1${FLAG(cap, PCI_L1SS_CAP_ASPM_L1_1)} L1_PM_Substates${FLAG(cap, PCI_L1SS_CAP_L1_PM_SS)}`,
  );
  const l12 = (cap & (PCI_L1SS_CAP_PCIPM_L1_2 | PCI_L1SS_CAP_ASPM_L1_2)) !== 0;
  if (l12) {
    const t = l1pmPowerOn(BITS(cap, 16, 2), BITS(cap, 19, 5));
    d.push(`\t  PortCommonModeRestoreTime=${BITS(cap, 8, 8)}us PortTPowerOnTime=${t !== -1 ? `${t}us` : '<error>'}`);
  }
  let v = cfg.long(where + PCI_L1SS_CTL1);
  d.push(
    `L1SubCtl1: PCI-PM_L1.2${FLAG(v, PCI_L1SS_CTL1_PCIPM_L1_2)} PCI-PM_L1.1${FLAG(v, PCI_L1SS_CTL1_PCIPM_L1_1)} ASPM_L1.2${FLAG(v, PCI_L1SS_CTL1_ASPM_L1_2)} ASPM_L1.1${FLAG(v, PCI_L1SS_CTL1_ASPM_L1_1)}`,
  );
  if (l12) {
    let s = `\t   T_CommonMode=${BITS(v, 8, 8)}us`;
    if (cap & PCI_L1SS_CAP_ASPM_L1_2) {
      const scale = BITS(v, 29, 3);
      s += scale > 5 ? ' LTR1.2_Threshold=<error>' : ` LTR1.2_Threshold=${BigInt(BITS(v, 16, 10)) * ltrScale(scale)}ns`;
    }
    d.push(s);
  }
  v = cfg.long(where + PCI_L1SS_CTL2);
  let s = 'L1SubCtl2:';
  if (l12) {
    const t = l1pmPowerOn(BITS(v, 0, 2), BITS(v, 3, 5));
    s += t !== -1 ? ` T_PwrOn=${t}us` : ' T_PwrOn=<error>';
  }
  d.push(s);
};

/** Precision Time Measurement (PCIe base spec 6.0, 7.9.15; ls-ecaps.c cap_ptm). */
export const capPtm: ExtCapDecoder = (ctx, where, info) => {
  const { cfg } = ctx;
  if (!ecapBody(ctx, info, 'Precision Time Measurement', where + PCI_PTM_CAP, 8)) return;
  let b = cfg.long(where + PCI_PTM_CAP);
  info.details.push(`PTMCap: Requester:${FLAG(b, 0x1)} Responder:${FLAG(b, PCI_PTM_CAP_RSP)} Root:${FLAG(b, 0x4)}`);
  let clock = BITS(b, 8, 8);
  info.details.push(`PTMClockGranularity: ${clock === 0 ? 'Unimplemented' : clock === 0xff ? 'Greater than 254ns' : `${clock}ns`}`);
  b = cfg.long(where + PCI_PTM_CTRL);
  info.details.push(`PTMControl: Enabled:${FLAG(b, 0x1)} RootSelected:${FLAG(b, 0x2)}`);
  clock = BITS(b, 8, 8);
  info.details.push(`PTMEffectiveGranularity: ${clock === 0 ? 'Unknown' : clock === 0xff ? 'Greater than 254ns' : `${clock}ns`}`);
};

/** TPH Requester (PCIe base spec 6.0, 7.9.13; ls-ecaps.c cap_tph). */
export const capTph: ExtCapDecoder = (ctx, where, info) => {
  const { cfg } = ctx;
  if (!ecapBody(ctx, info, 'Transaction Processing Hints', where + PCI_TPH_CAP, 4, true)) return;
  const c = cfg.long(where + PCI_TPH_CAP);
  if (c & PCI_TPH_INTVEC_SUP) info.details.push('Interrupt vector mode supported');
  if (c & PCI_TPH_DEV_SUP) info.details.push('Device specific mode supported');
  if (c & PCI_TPH_EXT_REQ_SUP) info.details.push('Extended requester support');
  const loc = c & PCI_TPH_CAP_LOC_MASK;
  info.details.push(
    loc === PCI_TPH_LOC_NONE
      ? 'No steering table available'
      : loc === PCI_TPH_LOC_CAP
        ? 'Steering table in TPH capability structure'
        : loc === PCI_TPH_LOC_MSIX
          ? 'Steering table in MSI-X table'
          : 'Reserved steering table location',
  );
};
