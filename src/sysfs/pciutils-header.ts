// Register names pciutils' lib/header.h has and Linux's pci_regs.h (shared/linux/pci-regs.ts) does not, for the lspci-identical decoders: one place, with the spec section of each.

import { PCI_ERR_ROOT_ERR_SRC } from '../../shared/linux/pci-regs.js';

// ---- used by caps-conventional.ts ----
/** PCI-X bridge split transaction control registers (PCI-X 2.0, 8.6.2; pciutils PCI_PCIX_BRIDGE_*_SPLIT_TRANS_CTRL). */
export const PCI_PCIX_BRIDGE_UPSTREAM_SPLIT_TRANS_CTRL = 8;
export const PCI_PCIX_BRIDGE_DOWNSTREAM_SPLIT_TRANS_CTRL = 12;
/** SATA HBA capability: BAR location register (AHCI 1.3, 2.3; pciutils PCI_SATA_HBA_BARS). */
export const PCI_SATA_HBA_BARS = 4;
/** EA capability, type 1 header: fixed secondary and subordinate bus numbers (PCI EA ECN; pciutils PCI_EA_CAP_TYPE1_*). */
export const PCI_EA_CAP_TYPE1_SECONDARY = 4;
export const PCI_EA_CAP_TYPE1_SUBORDINATE = 5;

// ---- used by caps-express.ts ----
// Register bits pciutils' lib/header.h names and Linux pci_regs.h does not (PCIe base spec 6.0, 7.5.3).
/** DevCap2 bit 10: No RO-enabled PR-PR Passing. */
export const PCI_EXP_DEVCAP2_NROPRPRP = 0x400;
/** DevCap2 bits 16, 17: 10-Bit Tag Completer / Requester Supported. */
export const PCI_EXP_DEVCAP2_10BIT_TAG_COMP = 0x1_0000;
export const PCI_EXP_DEVCAP2_10BIT_TAG_REQ = 0x2_0000;
/** DevCap2 bit 20: Extended Fmt Field Supported. */
export const PCI_EXP_DEVCAP2_EXTFMT = 0x10_0000;
/** DevCap2 bit 26: Emergency Power Reduction Initialization Required. */
export const PCI_EXP_DEVCAP2_EPR_INIT = 0x400_0000;
/** DevCap2 bit 31: FRS Supported. */
export const PCI_EXP_DEVCAP2_FRS = 0x8000_0000;
/** DevCtl2 bit 12: 10-Bit Tag Requester Enable. */
export const PCI_EXP_DEVCTL2_10BIT_TAG_REQ = 0x1000;
/** LnkCap bit 22: ASPM Optionality Compliance. */
export const PCI_EXP_LNKCAP_AOC = 0x40_0000;
/** LnkCap2 bits 23, 24, 31: Retimer / Two Retimers Presence Detect Supported, DRS Supported. */
export const PCI_EXP_LNKCAP2_RETIMER = 0x80_0000;
export const PCI_EXP_LNKCAP2_2RETIMERS = 0x100_0000;
export const PCI_EXP_LNKCAP2_DRS = 0x8000_0000;
/** LnkCtl2 bits 10, 11: Enter Modified Compliance, Compliance SOS. */
export const PCI_EXP_LNKCTL2_MOD_CMPLNC = 0x400;
export const PCI_EXP_LNKCTL2_CMPLNC_SOS = 0x800;
/** LnkSta bit 10: Link Training Error (obsolete, still printed). */
export const PCI_EXP_LNKSTA_TR_ERR = 0x400;
/** LnkSta2 bits: Equalization Complete / Phase 1..3 Successful / Request, Retimer(s) Detected, DRS Message Received. */
export const PCI_EXP_LNKSTA2_EQU_COMP = 0x02;
export const PCI_EXP_LNKSTA2_EQU_PHASE1 = 0x04;
export const PCI_EXP_LNKSTA2_EQU_PHASE2 = 0x08;
export const PCI_EXP_LNKSTA2_EQU_PHASE3 = 0x10;
export const PCI_EXP_LNKSTA2_EQU_REQ = 0x20;
export const PCI_EXP_LNKSTA2_RETIMER = 0x40;
export const PCI_EXP_LNKSTA2_2RETIMERS = 0x80;
export const PCI_EXP_LNKSTA2_DRS_RCVD = 0x8000;

// ---- used by ecaps-pcie.ts ----
// Register fields pciutils' lib/header.h names and Linux pci_regs.h does not (PCIe base spec 6.0, chapter 7).
/** AER capabilities bits 9..12: Multiple Header Recording Capable/Enable, TLP Prefix Log Present, Completion Timeout Prefix/Header Log Capable. */
export const PCI_ERR_CAP_MULT_HDRC = 0x200;
export const PCI_ERR_CAP_MULT_HDRE = 0x400;
export const PCI_ERR_CAP_TLP_PFX = 0x800;
export const PCI_ERR_CAP_HDR_LOG = 0x1000;
/** AER Error Source Identification: ERR_COR source (the low word) and ERR_FATAL/NONFATAL source (the high word). */
export const PCI_ERR_ROOT_COR_SRC = PCI_ERR_ROOT_ERR_SRC;
export const PCI_ERR_ROOT_SRC = PCI_ERR_ROOT_ERR_SRC + 2;
/** DPC Control bits 2, 4, 5, 6, 7: Completion Control, ERR_COR Enable, Poisoned TLP Egress Blocking, Software Trigger, DL_Active ERR_COR Enable. */
export const PCI_DPC_CTL_CMPL = 0x4;
export const PCI_DPC_CTL_ERR_COR = 0x10;
export const PCI_DPC_CTL_TLP = 0x20;
export const PCI_DPC_CTL_SW_TRIGGER = 0x40;
export const PCI_DPC_CTL_DL_ACTIVE = 0x80;
/** SR-IOV capability bit 2 and control bit 5: VF 10-Bit Tag Requester Supported / Enable. */
export const PCI_IOV_CAP_VF_10BIT_TAG_REQ = 0x4;
export const PCI_IOV_CTRL_VF_10BIT_TAG_REQ_EN = 0x20;
/** Multicast capability registers (PCIe base spec 6.0, 7.9.11). */
export const PCI_MCAST_CAP = 0x04;
export const PCI_MCAST_CAP_ECRC = 0x8000;
export const PCI_MCAST_CTRL = 0x06;
export const PCI_MCAST_CTRL_ENABLE = 0x8000;
export const PCI_MCAST_BAR = 0x08;
export const PCI_MCAST_RCV = 0x10;
export const PCI_MCAST_BLOCK = 0x18;
export const PCI_MCAST_BLOCK_UNTRANS = 0x20;
export const PCI_MCAST_OVL_BAR = 0x28;
/** Secondary PCI Express: Link Control 3 and Lane Error Status (PCIe base spec 6.0, 7.7.3). */
export const PCI_SEC_LNKCTL3 = 4;
export const PCI_SEC_LNKCTL3_PERFORM_LINK_EQU = 0x01;
export const PCI_SEC_LNKCTL3_LNK_EQU_REQ_INTR_EN = 0x02;
export const PCI_SEC_LANE_ERR = 8;
/** TPH Requester capability bits 1, 2, 8: interrupt vector mode, device specific mode, extended TPH requester. */
export const PCI_TPH_INTVEC_SUP = 0x2;
export const PCI_TPH_DEV_SUP = 0x4;
export const PCI_TPH_EXT_REQ_SUP = 0x100;
/** PTM capability bit 1: PTM Responder Capable. */
export const PCI_PTM_CAP_RSP = 0x2;

// ---- used by ecaps.ts ----
// Extended capability IDs lspci names and Linux pci_regs.h does not (PCI-SIG ECN list; pciutils lib/header.h).
export const PCI_EXT_CAP_ID_LNR = 0x1c;
export const PCI_EXT_CAP_ID_M_PCIE = 0x20;
export const PCI_EXT_CAP_ID_FRS = 0x21;
export const PCI_EXT_CAP_ID_RTR = 0x22;
export const PCI_EXT_CAP_ID_VF_REBAR = 0x24;
export const PCI_EXT_CAP_ID_LMR = 0x27;
export const PCI_EXT_CAP_ID_HIER_ID = 0x28;
export const PCI_EXT_CAP_ID_NPEM = 0x29;
/** VC capability registers (PCIe base spec 6.0, 7.9.1): port capability 1 and 2, port control and status, first VC resource. */
export const PCI_VC_PORT_REG1 = 4;
export const PCI_VC_PORT_REG2 = 8;
export const PCI_VC_PORT_CTRL = 12;
export const PCI_VC_PORT_STATUS = 14;
export const PCI_VC_RES_CAP = 16;
/** Root Complex Link Declaration (PCIe base spec 6.0, 7.9.8): element self description and link entries. */
export const PCI_RCLINK_ESD = 4;
export const PCI_RCLINK_LINK1 = 16;
export const PCI_RCLINK_LINK_DESC = 0;
export const PCI_RCLINK_LINK_ADDR = 8;
export const PCI_RCLINK_LINK_SIZE = 16;

// ---- used by ecaps-cxl.ts ----
// CXL DVSEC register offsets and bits (CXL 3.0, 8.1.3-8.1.10; pciutils lib/header.h PCI_CXL_*).
export const PCI_CXL_DEV_LEN = 0x38;
export const PCI_CXL_DEV_CAP = 0x0a;
export const PCI_CXL_DEV_CTRL = 0x0c;
export const PCI_CXL_DEV_STATUS = 0x0e;
export const PCI_CXL_DEV_STATUS2 = 0x12;
export const PCI_CXL_DEV_CAP2 = 0x16;
export const PCI_CXL_DEV_RANGE1_SIZE_HI = 0x18;
export const PCI_CXL_DEV_RANGE2_SIZE_HI = 0x28;
export const PCI_CXL_PORT_EXT_LEN = 0x28;
export const PCI_CXL_PORT_EXT_STATUS = 0x0a;
export const PCI_CXL_PORT_CTRL = 0x0c;
export const PCI_CXL_PORT_ALT_BUS_BASE = 0x0e;
export const PCI_CXL_PORT_ALT_BUS_LIMIT = 0x0f;
export const PCI_CXL_PORT_ALT_MEM_BASE = 0x10;
export const PCI_CXL_PORT_ALT_MEM_LIMIT = 0x12;
export const PCI_CXL_RL_BLOCK1_LO = 0x0c;
export const PCI_CXL_GPF_DEV_PHASE2_DUR = 0x0a;
export const PCI_CXL_GPF_DEV_PHASE2_POW = 0x0c;
export const PCI_CXL_GPF_PORT_PHASE1_CTRL = 0x0c;
export const PCI_CXL_GPF_PORT_PHASE2_CTRL = 0x0e;
export const PCI_CXL_FB_PORT_CAP = 0x0a;
export const PCI_CXL_FB_PORT_CTRL = 0x0c;
export const PCI_CXL_FB_PORT_STATUS = 0x0e;
export const PCI_CXL_FB_MOD_TS_DATA = 0x10;
export const PCI_CXL_FB_PORT_CAP2 = 0x14;
export const PCI_CXL_FB_PORT_CTRL2 = 0x18;
export const PCI_CXL_FB_PORT_STATUS2 = 0x1c;
export const PCI_CXL_MLD_NUM_LD = 0x0a;
export const PCI_CXL_MLD_MAX_LD = 0x10;
export const PCI_CXL_FUN_MAP_REG_0 = 0x0c;
