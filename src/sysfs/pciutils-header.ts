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

// ---- used by lspci-bridge.ts ----
/** Bridge Control bits 4, 8..11: VGA 16-bit decode, primary/secondary discard timer, discard timer status and SERR enable (PCI-to-PCI Bridge spec 1.2, 3.2.5.18). */
export const PCI_BRIDGE_CTL_VGA_16BIT = 0x10;
export const PCI_BRIDGE_CTL_PRI_DISCARD_TIMER = 0x100;
export const PCI_BRIDGE_CTL_SEC_DISCARD_TIMER = 0x200;
export const PCI_BRIDGE_CTL_DISCARD_TIMER_STATUS = 0x400;
export const PCI_BRIDGE_CTL_DISCARD_TIMER_SERR_EN = 0x800;

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

// ---- used by caps-ht.ts ----
// HyperTransport capability registers (HyperTransport I/O Link spec 3.10, 7.5; pciutils lib/header.h PCI_HT_*, as of HT spec rev. 2.00).
/** Command register: capability type (bits 15..13 for the interface blocks, 15..11 for the others). */
export const PCI_HT_CMD_TYP_HI = 0xe000;
export const PCI_HT_CMD_TYP_HI_PRI = 0x0000;
export const PCI_HT_CMD_TYP_HI_SEC = 0x2000;
export const PCI_HT_CMD_TYP = 0xf800;
export const PCI_HT_CMD_TYP_SW = 0x4000;
export const PCI_HT_CMD_TYP_IDC = 0x8000;
export const PCI_HT_CMD_TYP_RID = 0x8800;
export const PCI_HT_CMD_TYP_UIDC = 0x9000;
export const PCI_HT_CMD_TYP_ECSA = 0x9800;
export const PCI_HT_CMD_TYP_AM = 0xa000;
export const PCI_HT_CMD_TYP_MSIM = 0xa800;
export const PCI_HT_CMD_TYP_DR = 0xb000;
export const PCI_HT_CMD_TYP_VCS = 0xb800;
export const PCI_HT_CMD_TYP_RM = 0xc000;
export const PCI_HT_CMD_TYP_X86 = 0xc800;
/** Link Control register bits. */
export const PCI_HT_LCTR_CFLE = 0x0002;
export const PCI_HT_LCTR_CST = 0x0004;
export const PCI_HT_LCTR_CFE = 0x0008;
export const PCI_HT_LCTR_LKFAIL = 0x0010;
export const PCI_HT_LCTR_INIT = 0x0020;
export const PCI_HT_LCTR_EOC = 0x0040;
export const PCI_HT_LCTR_TXO = 0x0080;
export const PCI_HT_LCTR_CRCERR = 0x0f00;
export const PCI_HT_LCTR_ISOCEN = 0x1000;
export const PCI_HT_LCTR_LSEN = 0x2000;
export const PCI_HT_LCTR_EXTCTL = 0x4000;
export const PCI_HT_LCTR_64B = 0x8000;
/** Link Config register: max / current link widths in and out, doubleword flow control. */
export const PCI_HT_LCNF_MLWI = 0x0007;
export const PCI_HT_LCNF_DFI = 0x0008;
export const PCI_HT_LCNF_MLWO = 0x0070;
export const PCI_HT_LCNF_DFO = 0x0080;
export const PCI_HT_LCNF_LWI = 0x0700;
export const PCI_HT_LCNF_DFIE = 0x0800;
export const PCI_HT_LCNF_LWO = 0x7000;
export const PCI_HT_LCNF_DFOE = 0x8000;
/** Revision ID register: minor and major revision. */
export const PCI_HT_RID_MIN = 0x1f;
export const PCI_HT_RID_MAJ = 0xe0;
/** Link Frequency/Error register. */
export const PCI_HT_LFRER_FREQ = 0x0f;
export const PCI_HT_LFRER_PROT = 0x10;
export const PCI_HT_LFRER_OV = 0x20;
export const PCI_HT_LFRER_EOC = 0x40;
export const PCI_HT_LFRER_CTLT = 0x80;
/** Link Frequency Capability register: supported frequencies. */
export const PCI_HT_LFCAP_200 = 0x0001;
export const PCI_HT_LFCAP_300 = 0x0002;
export const PCI_HT_LFCAP_400 = 0x0004;
export const PCI_HT_LFCAP_500 = 0x0008;
export const PCI_HT_LFCAP_600 = 0x0010;
export const PCI_HT_LFCAP_800 = 0x0020;
export const PCI_HT_LFCAP_1000 = 0x0040;
export const PCI_HT_LFCAP_1200 = 0x0080;
export const PCI_HT_LFCAP_1400 = 0x0100;
export const PCI_HT_LFCAP_1600 = 0x0200;
export const PCI_HT_LFCAP_VEND = 0x8000;
/** Feature register bits. */
export const PCI_HT_FTR_ISOCFC = 0x0001;
export const PCI_HT_FTR_LDTSTOP = 0x0002;
export const PCI_HT_FTR_CRCTM = 0x0004;
export const PCI_HT_FTR_ECTLT = 0x0008;
export const PCI_HT_FTR_64BA = 0x0010;
export const PCI_HT_FTR_UIDRD = 0x0020;
/** Error Handling register bits. */
export const PCI_HT_EH_PFLE = 0x0001;
export const PCI_HT_EH_OFLE = 0x0002;
export const PCI_HT_EH_PFE = 0x0004;
export const PCI_HT_EH_OFE = 0x0008;
export const PCI_HT_EH_EOCFE = 0x0010;
export const PCI_HT_EH_RFE = 0x0020;
export const PCI_HT_EH_CRCFE = 0x0040;
export const PCI_HT_EH_SERRFE = 0x0080;
export const PCI_HT_EH_CF = 0x0100;
export const PCI_HT_EH_RE = 0x0200;
export const PCI_HT_EH_PNFE = 0x0400;
export const PCI_HT_EH_ONFE = 0x0800;
export const PCI_HT_EH_EOCNFE = 0x1000;
export const PCI_HT_EH_RNFE = 0x2000;
export const PCI_HT_EH_CRCNFE = 0x4000;
export const PCI_HT_EH_SERRNFE = 0x8000;
/** Slave or Primary Interface block: command bits and register offsets. */
export const PCI_HT_PRI_CMD_BUID = 0x001f;
export const PCI_HT_PRI_CMD_UC = 0x03e0;
export const PCI_HT_PRI_CMD_MH = 0x0400;
export const PCI_HT_PRI_CMD_DD = 0x0800;
export const PCI_HT_PRI_CMD_DUL = 0x1000;
export const PCI_HT_PRI_LCTR0 = 4;
export const PCI_HT_PRI_LCNF0 = 6;
export const PCI_HT_PRI_LCTR1 = 8;
export const PCI_HT_PRI_LCNF1 = 10;
export const PCI_HT_PRI_RID = 12;
export const PCI_HT_PRI_LFRER0 = 13;
export const PCI_HT_PRI_LFCAP0 = 14;
export const PCI_HT_PRI_FTR = 16;
export const PCI_HT_PRI_LFRER1 = 17;
export const PCI_HT_PRI_LFCAP1 = 18;
export const PCI_HT_PRI_EH = 22;
export const PCI_HT_PRI_MBU = 24;
export const PCI_HT_PRI_MLU = 25;
export const PCI_HT_PRI_BN = 26;
export const PCI_HT_PRI_SIZEOF = 28;
/** Host or Secondary Interface block: command bits and register offsets. */
export const PCI_HT_SEC_CMD_WR = 0x0001;
export const PCI_HT_SEC_CMD_DE = 0x0002;
export const PCI_HT_SEC_CMD_DN = 0x007c;
export const PCI_HT_SEC_CMD_CS = 0x0080;
export const PCI_HT_SEC_CMD_HH = 0x0100;
export const PCI_HT_SEC_CMD_AS = 0x0400;
export const PCI_HT_SEC_CMD_HIECE = 0x0800;
export const PCI_HT_SEC_CMD_DUL = 0x1000;
export const PCI_HT_SEC_LCTR = 4;
export const PCI_HT_SEC_LCNF = 6;
export const PCI_HT_SEC_RID = 8;
export const PCI_HT_SEC_LFRER = 9;
export const PCI_HT_SEC_LFCAP = 10;
export const PCI_HT_SEC_FTR = 12;
export const PCI_HT_SEC_FTR_EXTRS = 0x0100;
export const PCI_HT_SEC_FTR_UCNFE = 0x0200;
export const PCI_HT_SEC_EH = 18;
export const PCI_HT_SEC_MBU = 20;
export const PCI_HT_SEC_MLU = 21;
export const PCI_HT_SEC_SIZEOF = 24;
/** MSI Mapping block: command bits and the mapping address registers. */
export const PCI_HT_MSIM_CMD_EN = 0x0001;
export const PCI_HT_MSIM_CMD_FIXD = 0x0002;
export const PCI_HT_MSIM_ADDR_LO = 4;
export const PCI_HT_MSIM_ADDR_HI = 8;
