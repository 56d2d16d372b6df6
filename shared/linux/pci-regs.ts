// PCI configuration space layout (pci_regs.h): constants generated from linux/pci_regs.h by scripts/gen-linux-consts.mjs. Do not edit.

export const PCI_CFG_SPACE_SIZE = 0x100;
export const PCI_CFG_SPACE_EXP_SIZE = 0x1000;
export const PCI_STD_HEADER_SIZEOF = 0x40;
/** Number of standard BARs */
export const PCI_STD_NUM_BARS = 6;
/** 16 bits */
export const PCI_VENDOR_ID = 0;
/** 16 bits */
export const PCI_DEVICE_ID = 2;
/** 16 bits */
export const PCI_COMMAND = 4;
/** Enable response in I/O space */
export const PCI_COMMAND_IO = 1;
/** Enable response in Memory space */
export const PCI_COMMAND_MEMORY = 2;
/** Enable bus mastering */
export const PCI_COMMAND_MASTER = 4;
/** Enable response to special cycles */
export const PCI_COMMAND_SPECIAL = 8;
/** Use memory write and invalidate */
export const PCI_COMMAND_INVALIDATE = 0x10;
/** Enable palette snooping */
export const PCI_COMMAND_VGA_PALETTE = 0x20;
/** Enable parity checking */
export const PCI_COMMAND_PARITY = 0x40;
/** Enable address/data stepping */
export const PCI_COMMAND_WAIT = 0x80;
/** Enable SERR */
export const PCI_COMMAND_SERR = 0x100;
/** Enable back-to-back writes */
export const PCI_COMMAND_FAST_BACK = 0x200;
/** INTx Emulation Disable */
export const PCI_COMMAND_INTX_DISABLE = 0x400;
/** 16 bits */
export const PCI_STATUS = 6;
/** Immediate Readiness */
export const PCI_STATUS_IMM_READY = 1;
/** Interrupt status */
export const PCI_STATUS_INTERRUPT = 8;
/** Support Capability List */
export const PCI_STATUS_CAP_LIST = 0x10;
/** Support 66 MHz PCI 2.1 bus */
export const PCI_STATUS_66MHZ = 0x20;
/** Support User Definable Features [obsolete] */
export const PCI_STATUS_UDF = 0x40;
/** Accept fast-back to back */
export const PCI_STATUS_FAST_BACK = 0x80;
/** Detected parity error */
export const PCI_STATUS_PARITY = 0x100;
/** DEVSEL timing */
export const PCI_STATUS_DEVSEL_MASK = 0x600;
export const PCI_STATUS_DEVSEL_FAST = 0;
export const PCI_STATUS_DEVSEL_MEDIUM = 0x200;
export const PCI_STATUS_DEVSEL_SLOW = 0x400;
/** Set on target abort */
export const PCI_STATUS_SIG_TARGET_ABORT = 0x800;
/** Master ack of " */
export const PCI_STATUS_REC_TARGET_ABORT = 0x1000;
/** Set on master abort */
export const PCI_STATUS_REC_MASTER_ABORT = 0x2000;
/** Set when we drive SERR */
export const PCI_STATUS_SIG_SYSTEM_ERROR = 0x4000;
/** Set on parity error */
export const PCI_STATUS_DETECTED_PARITY = 0x8000;
/** High 24 bits are class, low 8 revision */
export const PCI_CLASS_REVISION = 8;
/** Revision ID */
export const PCI_REVISION_ID = 8;
/** Reg. Level Programming Interface */
export const PCI_CLASS_PROG = 9;
/** Device class */
export const PCI_CLASS_DEVICE = 0xa;
/** 8 bits */
export const PCI_CACHE_LINE_SIZE = 0xc;
/** 8 bits */
export const PCI_LATENCY_TIMER = 0xd;
/** 8 bits */
export const PCI_HEADER_TYPE = 0xe;
export const PCI_HEADER_TYPE_MASK = 0x7f;
export const PCI_HEADER_TYPE_NORMAL = 0;
export const PCI_HEADER_TYPE_BRIDGE = 1;
export const PCI_HEADER_TYPE_CARDBUS = 2;
/** 8 bits */
export const PCI_BIST = 0xf;
/** Return result */
export const PCI_BIST_CODE_MASK = 0xf;
/** 1 to start BIST, 2 secs or less */
export const PCI_BIST_START = 0x40;
/** 1 if BIST capable */
export const PCI_BIST_CAPABLE = 0x80;
/** 32 bits */
export const PCI_BASE_ADDRESS_0 = 0x10;
/** 32 bits [htype 0,1 only] */
export const PCI_BASE_ADDRESS_1 = 0x14;
/** 32 bits [htype 0 only] */
export const PCI_BASE_ADDRESS_2 = 0x18;
/** 32 bits */
export const PCI_BASE_ADDRESS_3 = 0x1c;
/** 32 bits */
export const PCI_BASE_ADDRESS_4 = 0x20;
/** 32 bits */
export const PCI_BASE_ADDRESS_5 = 0x24;
/** 0 = memory, 1 = I/O */
export const PCI_BASE_ADDRESS_SPACE = 1;
export const PCI_BASE_ADDRESS_SPACE_IO = 1;
export const PCI_BASE_ADDRESS_SPACE_MEMORY = 0;
export const PCI_BASE_ADDRESS_MEM_TYPE_MASK = 6;
/** 32 bit address */
export const PCI_BASE_ADDRESS_MEM_TYPE_32 = 0;
/** Below 1M [obsolete] */
export const PCI_BASE_ADDRESS_MEM_TYPE_1M = 2;
/** 64 bit address */
export const PCI_BASE_ADDRESS_MEM_TYPE_64 = 4;
/** prefetchable? */
export const PCI_BASE_ADDRESS_MEM_PREFETCH = 8;
export const PCI_BASE_ADDRESS_MEM_MASK = 0xfffffff0;
/** bit 1 is reserved if address_space = 1 */
export const PCI_BASE_ADDRESS_IO_MASK = 0xfffffffc;
export const PCI_CARDBUS_CIS = 0x28;
export const PCI_SUBSYSTEM_VENDOR_ID = 0x2c;
export const PCI_SUBSYSTEM_ID = 0x2e;
/** Bits 31..11 are address, 10..1 reserved */
export const PCI_ROM_ADDRESS = 0x30;
export const PCI_ROM_ADDRESS_ENABLE = 1;
export const PCI_ROM_ADDRESS_MASK = 0xfffff800;
/** Offset of first capability list entry */
export const PCI_CAPABILITY_LIST = 0x34;
/** 8 bits */
export const PCI_INTERRUPT_LINE = 0x3c;
/** 8 bits */
export const PCI_INTERRUPT_PIN = 0x3d;
/** 8 bits */
export const PCI_MIN_GNT = 0x3e;
/** 8 bits */
export const PCI_MAX_LAT = 0x3f;
/** Primary bus number */
export const PCI_PRIMARY_BUS = 0x18;
/** Secondary bus number */
export const PCI_SECONDARY_BUS = 0x19;
/** Highest bus number behind the bridge */
export const PCI_SUBORDINATE_BUS = 0x1a;
/** Latency timer for secondary interface */
export const PCI_SEC_LATENCY_TIMER = 0x1b;
/** I/O range behind the bridge */
export const PCI_IO_BASE = 0x1c;
export const PCI_IO_LIMIT = 0x1d;
/** I/O bridging type */
export const PCI_IO_RANGE_TYPE_MASK = 0xf;
export const PCI_IO_RANGE_TYPE_16 = 0;
export const PCI_IO_RANGE_TYPE_32 = 1;
/** Standard 4K I/O windows */
export const PCI_IO_RANGE_MASK = 0xfffffff0;
/** Intel 1K I/O windows */
export const PCI_IO_1K_RANGE_MASK = 0xfffffffc;
/** Secondary status register, only bit 14 used */
export const PCI_SEC_STATUS = 0x1e;
/** Memory range behind */
export const PCI_MEMORY_BASE = 0x20;
export const PCI_MEMORY_LIMIT = 0x22;
export const PCI_MEMORY_RANGE_TYPE_MASK = 0xf;
export const PCI_MEMORY_RANGE_MASK = 0xfffffff0;
/** Prefetchable memory range behind */
export const PCI_PREF_MEMORY_BASE = 0x24;
export const PCI_PREF_MEMORY_LIMIT = 0x26;
export const PCI_PREF_RANGE_TYPE_MASK = 0xf;
export const PCI_PREF_RANGE_TYPE_32 = 0;
export const PCI_PREF_RANGE_TYPE_64 = 1;
export const PCI_PREF_RANGE_MASK = 0xfffffff0;
/** Upper half of prefetchable memory range */
export const PCI_PREF_BASE_UPPER32 = 0x28;
export const PCI_PREF_LIMIT_UPPER32 = 0x2c;
/** Upper half of I/O addresses */
export const PCI_IO_BASE_UPPER16 = 0x30;
/** 0x34 same as for htype 0 */
export const PCI_IO_LIMIT_UPPER16 = 0x32;
/** Same as PCI_ROM_ADDRESS, but for htype 1 */
export const PCI_ROM_ADDRESS1 = 0x38;
export const PCI_BRIDGE_CONTROL = 0x3e;
/** Enable parity detection on secondary interface */
export const PCI_BRIDGE_CTL_PARITY = 1;
/** The same for SERR forwarding */
export const PCI_BRIDGE_CTL_SERR = 2;
/** Enable ISA mode */
export const PCI_BRIDGE_CTL_ISA = 4;
/** Forward VGA addresses */
export const PCI_BRIDGE_CTL_VGA = 8;
/** Report master aborts */
export const PCI_BRIDGE_CTL_MASTER_ABORT = 0x20;
/** Secondary bus reset */
export const PCI_BRIDGE_CTL_BUS_RESET = 0x40;
/** Fast Back2Back enabled on secondary interface */
export const PCI_BRIDGE_CTL_FAST_BACK = 0x80;
/** 0x15 reserved */
export const PCI_CB_CAPABILITY_LIST = 0x14;
/** Secondary status */
export const PCI_CB_SEC_STATUS = 0x16;
/** PCI bus number */
export const PCI_CB_PRIMARY_BUS = 0x18;
/** CardBus bus number */
export const PCI_CB_CARD_BUS = 0x19;
/** Subordinate bus number */
export const PCI_CB_SUBORDINATE_BUS = 0x1a;
/** CardBus latency timer */
export const PCI_CB_LATENCY_TIMER = 0x1b;
export const PCI_CB_MEMORY_BASE_0 = 0x1c;
export const PCI_CB_MEMORY_LIMIT_0 = 0x20;
export const PCI_CB_MEMORY_BASE_1 = 0x24;
export const PCI_CB_MEMORY_LIMIT_1 = 0x28;
export const PCI_CB_IO_BASE_0 = 0x2c;
export const PCI_CB_IO_BASE_0_HI = 0x2e;
export const PCI_CB_IO_LIMIT_0 = 0x30;
export const PCI_CB_IO_LIMIT_0_HI = 0x32;
export const PCI_CB_IO_BASE_1 = 0x34;
export const PCI_CB_IO_BASE_1_HI = 0x36;
export const PCI_CB_IO_LIMIT_1 = 0x38;
export const PCI_CB_IO_LIMIT_1_HI = 0x3a;
/** 0x3c-0x3d are same as for htype 0 */
export const PCI_CB_IO_RANGE_MASK = 0xfffffffc;
export const PCI_CB_BRIDGE_CONTROL = 0x3e;
/** Similar to standard bridge control register */
export const PCI_CB_BRIDGE_CTL_PARITY = 1;
export const PCI_CB_BRIDGE_CTL_SERR = 2;
export const PCI_CB_BRIDGE_CTL_ISA = 4;
export const PCI_CB_BRIDGE_CTL_VGA = 8;
export const PCI_CB_BRIDGE_CTL_MASTER_ABORT = 0x20;
/** CardBus reset */
export const PCI_CB_BRIDGE_CTL_CB_RESET = 0x40;
/** Enable interrupt for 16-bit cards */
export const PCI_CB_BRIDGE_CTL_16BIT_INT = 0x80;
/** Prefetch enable for both memory regions */
export const PCI_CB_BRIDGE_CTL_PREFETCH_MEM0 = 0x100;
export const PCI_CB_BRIDGE_CTL_PREFETCH_MEM1 = 0x200;
export const PCI_CB_BRIDGE_CTL_POST_WRITES = 0x400;
export const PCI_CB_SUBSYSTEM_VENDOR_ID = 0x40;
export const PCI_CB_SUBSYSTEM_ID = 0x42;
/** 16-bit PC Card legacy mode base address (ExCa) */
export const PCI_CB_LEGACY_MODE_BASE = 0x44;
/** Capability ID */
export const PCI_CAP_LIST_ID = 0;
/** Power Management */
export const PCI_CAP_ID_PM = 1;
/** Accelerated Graphics Port */
export const PCI_CAP_ID_AGP = 2;
/** Vital Product Data */
export const PCI_CAP_ID_VPD = 3;
/** Slot Identification */
export const PCI_CAP_ID_SLOTID = 4;
/** Message Signalled Interrupts */
export const PCI_CAP_ID_MSI = 5;
/** CompactPCI HotSwap */
export const PCI_CAP_ID_CHSWP = 6;
/** PCI-X */
export const PCI_CAP_ID_PCIX = 7;
/** HyperTransport */
export const PCI_CAP_ID_HT = 8;
/** Vendor-Specific */
export const PCI_CAP_ID_VNDR = 9;
/** Debug port */
export const PCI_CAP_ID_DBG = 0xa;
/** CompactPCI Central Resource Control */
export const PCI_CAP_ID_CCRC = 0xb;
/** PCI Standard Hot-Plug Controller */
export const PCI_CAP_ID_SHPC = 0xc;
/** Bridge subsystem vendor/device ID */
export const PCI_CAP_ID_SSVID = 0xd;
/** AGP Target PCI-PCI bridge */
export const PCI_CAP_ID_AGP3 = 0xe;
/** Secure Device */
export const PCI_CAP_ID_SECDEV = 0xf;
/** PCI Express */
export const PCI_CAP_ID_EXP = 0x10;
/** MSI-X */
export const PCI_CAP_ID_MSIX = 0x11;
/** SATA Data/Index Conf. */
export const PCI_CAP_ID_SATA = 0x12;
/** PCI Advanced Features */
export const PCI_CAP_ID_AF = 0x13;
/** PCI Enhanced Allocation */
export const PCI_CAP_ID_EA = 0x14;
export const PCI_CAP_ID_MAX = 0x14;
/** Next capability in the list */
export const PCI_CAP_LIST_NEXT = 1;
/** Capability defined flags (16 bits) */
export const PCI_CAP_FLAGS = 2;
/** Power Management Registers */
export const PCI_CAP_SIZEOF = 4;
/** PM Capabilities Register */
export const PCI_PM_PMC = 2;
/** Version */
export const PCI_PM_CAP_VER_MASK = 7;
/** PME clock required */
export const PCI_PM_CAP_PME_CLOCK = 8;
/** Reserved field */
export const PCI_PM_CAP_RESERVED = 0x10;
/** Device specific initialization */
export const PCI_PM_CAP_DSI = 0x20;
/** Auxiliary power support mask */
export const PCI_PM_CAP_AUX_POWER = 0x1c0;
/** D1 power state support */
export const PCI_PM_CAP_D1 = 0x200;
/** D2 power state support */
export const PCI_PM_CAP_D2 = 0x400;
/** PME pin supported */
export const PCI_PM_CAP_PME = 0x800;
/** PME Mask of all supported states */
export const PCI_PM_CAP_PME_MASK = 0xf800;
/** PME# from D0 */
export const PCI_PM_CAP_PME_D0 = 0x800;
/** PME# from D1 */
export const PCI_PM_CAP_PME_D1 = 0x1000;
/** PME# from D2 */
export const PCI_PM_CAP_PME_D2 = 0x2000;
/** Start of the PME Mask in PMC */
export const PCI_PM_CAP_PME_SHIFT = 0xb;
/** PM control and status register */
export const PCI_PM_CTRL = 4;
/** Current power state (D0 to D3) */
export const PCI_PM_CTRL_STATE_MASK = 3;
/** No reset for D3hot->D0 */
export const PCI_PM_CTRL_NO_SOFT_RESET = 8;
/** PME pin enable */
export const PCI_PM_CTRL_PME_ENABLE = 0x100;
/** Data select (??) */
export const PCI_PM_CTRL_DATA_SEL_MASK = 0x1e00;
/** Data scale (??) */
export const PCI_PM_CTRL_DATA_SCALE_MASK = 0x6000;
/** PME pin status */
export const PCI_PM_CTRL_PME_STATUS = 0x8000;
/** PPB support extensions (??) */
export const PCI_PM_PPB_EXTENSIONS = 6;
/** Stop clock when in D3hot (??) */
export const PCI_PM_PPB_B2_B3 = 0x40;
/** Bus power/clock control enable (??) */
export const PCI_PM_BPCC_ENABLE = 0x80;
/** (??) */
export const PCI_PM_DATA_REGISTER = 7;
/** AGP registers */
export const PCI_PM_SIZEOF = 8;
/** BCD version number */
export const PCI_AGP_VERSION = 2;
/** Rest of capability flags */
export const PCI_AGP_RFU = 3;
/** Status register */
export const PCI_AGP_STATUS = 4;
/** Maximum number of requests - 1 */
export const PCI_AGP_STATUS_RQ_MASK = 0xff000000;
/** Sideband addressing supported */
export const PCI_AGP_STATUS_SBA = 0x200;
/** 64-bit addressing supported */
export const PCI_AGP_STATUS_64BIT = 0x20;
/** FW transfers supported */
export const PCI_AGP_STATUS_FW = 0x10;
/** 4x transfer rate supported */
export const PCI_AGP_STATUS_RATE4 = 4;
/** 2x transfer rate supported */
export const PCI_AGP_STATUS_RATE2 = 2;
/** 1x transfer rate supported */
export const PCI_AGP_STATUS_RATE1 = 1;
/** Control register */
export const PCI_AGP_COMMAND = 8;
/** Master: Maximum number of requests */
export const PCI_AGP_COMMAND_RQ_MASK = 0xff000000;
/** Sideband addressing enabled */
export const PCI_AGP_COMMAND_SBA = 0x200;
/** Allow processing of AGP transactions */
export const PCI_AGP_COMMAND_AGP = 0x100;
/** Allow processing of 64-bit addresses */
export const PCI_AGP_COMMAND_64BIT = 0x20;
/** Force FW transfers */
export const PCI_AGP_COMMAND_FW = 0x10;
/** Use 4x rate */
export const PCI_AGP_COMMAND_RATE4 = 4;
/** Use 2x rate */
export const PCI_AGP_COMMAND_RATE2 = 2;
/** Use 1x rate */
export const PCI_AGP_COMMAND_RATE1 = 1;
/** Vital Product Data */
export const PCI_AGP_SIZEOF = 0xc;
/** Address to access (15 bits!) */
export const PCI_VPD_ADDR = 2;
/** Address mask */
export const PCI_VPD_ADDR_MASK = 0x7fff;
/** Write 0, 1 indicates completion */
export const PCI_VPD_ADDR_F = 0x8000;
/** 32-bits of data returned here */
export const PCI_VPD_DATA = 4;
/** Slot Identification */
export const PCI_CAP_VPD_SIZEOF = 8;
/** Expansion Slot Register */
export const PCI_SID_ESR = 2;
/** Number of expansion slots available */
export const PCI_SID_ESR_NSLOTS = 0x1f;
/** First In Chassis Flag */
export const PCI_SID_ESR_FIC = 0x20;
/** Chassis Number */
export const PCI_SID_CHASSIS_NR = 3;
/** Message Control */
export const PCI_MSI_FLAGS = 2;
/** MSI feature enabled */
export const PCI_MSI_FLAGS_ENABLE = 1;
/** Maximum queue size available */
export const PCI_MSI_FLAGS_QMASK = 0xe;
/** Message queue size configured */
export const PCI_MSI_FLAGS_QSIZE = 0x70;
/** 64-bit addresses allowed */
export const PCI_MSI_FLAGS_64BIT = 0x80;
/** Per-vector masking capable */
export const PCI_MSI_FLAGS_MASKBIT = 0x100;
/** Rest of capability flags */
export const PCI_MSI_RFU = 3;
/** Lower 32 bits */
export const PCI_MSI_ADDRESS_LO = 4;
/** Upper 32 bits (if PCI_MSI_FLAGS_64BIT set) */
export const PCI_MSI_ADDRESS_HI = 8;
/** 16 bits of data for 32-bit devices */
export const PCI_MSI_DATA_32 = 8;
/** Mask bits register for 32-bit devices */
export const PCI_MSI_MASK_32 = 0xc;
/** Pending intrs for 32-bit devices */
export const PCI_MSI_PENDING_32 = 0x10;
/** 16 bits of data for 64-bit devices */
export const PCI_MSI_DATA_64 = 0xc;
/** Mask bits register for 64-bit devices */
export const PCI_MSI_MASK_64 = 0x10;
/** Pending intrs for 64-bit devices */
export const PCI_MSI_PENDING_64 = 0x14;
/** Message Control */
export const PCI_MSIX_FLAGS = 2;
/** Table size */
export const PCI_MSIX_FLAGS_QSIZE = 0x7ff;
/** Mask all vectors for this function */
export const PCI_MSIX_FLAGS_MASKALL = 0x4000;
/** MSI-X enable */
export const PCI_MSIX_FLAGS_ENABLE = 0x8000;
/** Table offset */
export const PCI_MSIX_TABLE = 4;
/** BAR index */
export const PCI_MSIX_TABLE_BIR = 7;
/** Offset into specified BAR */
export const PCI_MSIX_TABLE_OFFSET = 0xfffffff8;
/** Pending Bit Array offset */
export const PCI_MSIX_PBA = 8;
/** BAR index */
export const PCI_MSIX_PBA_BIR = 7;
/** Offset into specified BAR */
export const PCI_MSIX_PBA_OFFSET = 0xfffffff8;
/** deprecated */
export const PCI_MSIX_FLAGS_BIRMASK = 7;
/** size of MSIX registers */
export const PCI_CAP_MSIX_SIZEOF = 0xc;
export const PCI_MSIX_ENTRY_SIZE = 0x10;
/** Message Address */
export const PCI_MSIX_ENTRY_LOWER_ADDR = 0;
/** Message Upper Address */
export const PCI_MSIX_ENTRY_UPPER_ADDR = 4;
/** Message Data */
export const PCI_MSIX_ENTRY_DATA = 8;
/** Vector Control */
export const PCI_MSIX_ENTRY_VECTOR_CTRL = 0xc;
/** CompactPCI Hotswap Register */
export const PCI_MSIX_ENTRY_CTRL_MASKBIT = 1;
/** Control and Status Register */
export const PCI_CHSWP_CSR = 2;
/** Device Hiding Arm */
export const PCI_CHSWP_DHA = 1;
/** ENUM# Signal Mask */
export const PCI_CHSWP_EIM = 2;
/** Pending Insert or Extract */
export const PCI_CHSWP_PIE = 4;
/** LED On / Off */
export const PCI_CHSWP_LOO = 8;
/** Programming Interface */
export const PCI_CHSWP_PI = 0x30;
/** ENUM# status - extraction */
export const PCI_CHSWP_EXT = 0x40;
/** ENUM# status - insertion */
export const PCI_CHSWP_INS = 0x80;
export const PCI_AF_LENGTH = 2;
export const PCI_AF_CAP = 3;
export const PCI_AF_CAP_TP = 1;
export const PCI_AF_CAP_FLR = 2;
export const PCI_AF_CTRL = 4;
export const PCI_AF_CTRL_FLR = 1;
export const PCI_AF_STATUS = 5;
export const PCI_AF_STATUS_TP = 1;
/** size of AF registers */
export const PCI_CAP_AF_SIZEOF = 6;
/** Number of Capability Entries */
export const PCI_EA_NUM_ENT = 2;
/** Num Entries Mask */
export const PCI_EA_NUM_ENT_MASK = 0x3f;
/** First EA Entry in List */
export const PCI_EA_FIRST_ENT = 4;
/** First EA Entry for Bridges */
export const PCI_EA_FIRST_ENT_BRIDGE = 8;
/** Entry Size */
export const PCI_EA_ES = 7;
/** BAR Equivalent Indicator */
export const PCI_EA_BEI = 0xf0;
export const PCI_EA_SEC_BUS_MASK = 0xff;
export const PCI_EA_SUB_BUS_MASK = 0xff00;
/** 0-5 map to BARs 0-5 respectively */
export const PCI_EA_SUB_BUS_SHIFT = 8;
export const PCI_EA_BEI_BAR0 = 0;
export const PCI_EA_BEI_BAR5 = 5;
/** Resource behind bridge */
export const PCI_EA_BEI_BRIDGE = 6;
/** Equivalent Not Indicated */
export const PCI_EA_BEI_ENI = 7;
/** Expansion ROM */
export const PCI_EA_BEI_ROM = 8;
export const PCI_EA_BEI_VF_BAR0 = 9;
export const PCI_EA_BEI_VF_BAR5 = 0xe;
/** Reserved - Treat like ENI */
export const PCI_EA_BEI_RESERVED = 0xf;
/** Primary Properties */
export const PCI_EA_PP = 0xff00;
/** Secondary Properties */
export const PCI_EA_SP = 0xff0000;
/** Non-Prefetch Memory */
export const PCI_EA_P_MEM = 0;
/** Prefetchable Memory */
export const PCI_EA_P_MEM_PREFETCH = 1;
/** I/O Space */
export const PCI_EA_P_IO = 2;
/** VF Prefetchable Memory */
export const PCI_EA_P_VF_MEM_PREFETCH = 3;
/** VF Non-Prefetch Memory */
export const PCI_EA_P_VF_MEM = 4;
/** Bridge Non-Prefetch Memory */
export const PCI_EA_P_BRIDGE_MEM = 5;
/** Bridge Prefetchable Memory */
export const PCI_EA_P_BRIDGE_MEM_PREFETCH = 6;
/** Bridge I/O Space */
export const PCI_EA_P_BRIDGE_IO = 7;
/** Reserved Memory */
export const PCI_EA_P_MEM_RESERVED = 0xfd;
/** Reserved I/O Space */
export const PCI_EA_P_IO_RESERVED = 0xfe;
/** Entry Unavailable */
export const PCI_EA_P_UNAVAILABLE = 0xff;
/** Writable: 1 = RW, 0 = HwInit */
export const PCI_EA_WRITABLE = 0x40000000;
/** Enable for this entry */
export const PCI_EA_ENABLE = 0x80000000;
/** Base Address Offset */
export const PCI_EA_BASE = 4;
/** MaxOffset (resource length) */
export const PCI_EA_MAX_OFFSET = 8;
/** 64-bit field flag */
export const PCI_EA_IS_64 = 2;
/** For Base & Max Offset */
export const PCI_EA_FIELD_MASK = 0xfffffffc;
/** Modes & Features */
export const PCI_X_CMD = 2;
/** Data Parity Error Recovery Enable */
export const PCI_X_CMD_DPERR_E = 1;
/** Enable Relaxed Ordering */
export const PCI_X_CMD_ERO = 2;
/** 512 byte maximum read byte count */
export const PCI_X_CMD_READ_512 = 0;
/** 1Kbyte maximum read byte count */
export const PCI_X_CMD_READ_1K = 4;
/** 2Kbyte maximum read byte count */
export const PCI_X_CMD_READ_2K = 8;
/** 4Kbyte maximum read byte count */
export const PCI_X_CMD_READ_4K = 0xc;
/** Max Memory Read Byte Count */
export const PCI_X_CMD_MAX_READ = 0xc;
/** Max 1 */
export const PCI_X_CMD_SPLIT_1 = 0;
/** Max 2 */
export const PCI_X_CMD_SPLIT_2 = 0x10;
/** Max 3 */
export const PCI_X_CMD_SPLIT_3 = 0x20;
/** Max 4 */
export const PCI_X_CMD_SPLIT_4 = 0x30;
/** Max 8 */
export const PCI_X_CMD_SPLIT_8 = 0x40;
/** Max 12 */
export const PCI_X_CMD_SPLIT_12 = 0x50;
/** Max 16 */
export const PCI_X_CMD_SPLIT_16 = 0x60;
/** Max 32 */
export const PCI_X_CMD_SPLIT_32 = 0x70;
/** Max Outstanding Split Transactions */
export const PCI_X_CMD_MAX_SPLIT = 0x70;
/** PCI-X capabilities */
export const PCI_X_STATUS = 4;
/** A copy of devfn */
export const PCI_X_STATUS_DEVFN = 0xff;
/** A copy of bus nr */
export const PCI_X_STATUS_BUS = 0xff00;
/** 64-bit device */
export const PCI_X_STATUS_64BIT = 0x10000;
/** 133 MHz capable */
export const PCI_X_STATUS_133MHZ = 0x20000;
/** Split Completion Discarded */
export const PCI_X_STATUS_SPL_DISC = 0x40000;
/** Unexpected Split Completion */
export const PCI_X_STATUS_UNX_SPL = 0x80000;
/** Device Complexity */
export const PCI_X_STATUS_COMPLEX = 0x100000;
/** Designed Max Memory Read Count */
export const PCI_X_STATUS_MAX_READ = 0x600000;
/** Designed Max Outstanding Split Transactions */
export const PCI_X_STATUS_MAX_SPLIT = 0x3800000;
/** Designed Max Cumulative Read Size */
export const PCI_X_STATUS_MAX_CUM = 0x1c000000;
/** Rcvd Split Completion Error Msg */
export const PCI_X_STATUS_SPL_ERR = 0x20000000;
/** 266 MHz capable */
export const PCI_X_STATUS_266MHZ = 0x40000000;
/** 533 MHz capable */
export const PCI_X_STATUS_533MHZ = 0x80000000;
/** ECC control and status */
export const PCI_X_ECC_CSR = 8;
/** size of registers for Version 0 */
export const PCI_CAP_PCIX_SIZEOF_V0 = 8;
/** size for Version 1 */
export const PCI_CAP_PCIX_SIZEOF_V1 = 0x18;
/** Same for v2 */
export const PCI_CAP_PCIX_SIZEOF_V2 = 0x18;
/** Secondary Status */
export const PCI_X_BRIDGE_SSTATUS = 2;
/** Secondary AD interface is 64 bits */
export const PCI_X_SSTATUS_64BIT = 1;
/** 133 MHz capable */
export const PCI_X_SSTATUS_133MHZ = 2;
/** Secondary Bus Mode and Frequency */
export const PCI_X_SSTATUS_FREQ = 0x3c0;
/** PCI-X Capability Version */
export const PCI_X_SSTATUS_VERS = 0x3000;
/** Mode 2, not Mode 1 */
export const PCI_X_SSTATUS_V1 = 0x1000;
/** Mode 1 or Modes 1 and 2 */
export const PCI_X_SSTATUS_V2 = 0x2000;
/** 266 MHz capable */
export const PCI_X_SSTATUS_266MHZ = 0x4000;
/** 533 MHz capable */
export const PCI_X_SSTATUS_533MHZ = 0x8000;
/** Bridge Status */
export const PCI_X_BRIDGE_STATUS = 4;
/** PCI Bridge subsystem vendor ID */
export const PCI_SSVID_VENDOR_ID = 4;
/** PCI Bridge subsystem device ID */
export const PCI_SSVID_DEVICE_ID = 6;
/** Capabilities register */
export const PCI_EXP_FLAGS = 2;
/** Capability version */
export const PCI_EXP_FLAGS_VERS = 0xf;
/** Device/Port type */
export const PCI_EXP_FLAGS_TYPE = 0xf0;
/** Express Endpoint */
export const PCI_EXP_TYPE_ENDPOINT = 0;
/** Legacy Endpoint */
export const PCI_EXP_TYPE_LEG_END = 1;
/** Root Port */
export const PCI_EXP_TYPE_ROOT_PORT = 4;
/** Upstream Port */
export const PCI_EXP_TYPE_UPSTREAM = 5;
/** Downstream Port */
export const PCI_EXP_TYPE_DOWNSTREAM = 6;
/** PCIe to PCI/PCI-X Bridge */
export const PCI_EXP_TYPE_PCI_BRIDGE = 7;
/** PCI/PCI-X to PCIe Bridge */
export const PCI_EXP_TYPE_PCIE_BRIDGE = 8;
/** Root Complex Integrated Endpoint */
export const PCI_EXP_TYPE_RC_END = 9;
/** Root Complex Event Collector */
export const PCI_EXP_TYPE_RC_EC = 0xa;
/** Slot implemented */
export const PCI_EXP_FLAGS_SLOT = 0x100;
/** Interrupt message number */
export const PCI_EXP_FLAGS_IRQ = 0x3e00;
/** Device capabilities */
export const PCI_EXP_DEVCAP = 4;
/** Max_Payload_Size */
export const PCI_EXP_DEVCAP_PAYLOAD = 7;
/** Phantom functions */
export const PCI_EXP_DEVCAP_PHANTOM = 0x18;
/** Extended tags */
export const PCI_EXP_DEVCAP_EXT_TAG = 0x20;
/** L0s Acceptable Latency */
export const PCI_EXP_DEVCAP_L0S = 0x1c0;
/** L1 Acceptable Latency */
export const PCI_EXP_DEVCAP_L1 = 0xe00;
/** Attention Button Present */
export const PCI_EXP_DEVCAP_ATN_BUT = 0x1000;
/** Attention Indicator Present */
export const PCI_EXP_DEVCAP_ATN_IND = 0x2000;
/** Power Indicator Present */
export const PCI_EXP_DEVCAP_PWR_IND = 0x4000;
/** Role-Based Error Reporting */
export const PCI_EXP_DEVCAP_RBER = 0x8000;
/** Slot Power Limit Value */
export const PCI_EXP_DEVCAP_PWR_VAL = 0x3fc0000;
/** Slot Power Limit Scale */
export const PCI_EXP_DEVCAP_PWR_SCL = 0xc000000;
/** Function Level Reset */
export const PCI_EXP_DEVCAP_FLR = 0x10000000;
/** Device Control */
export const PCI_EXP_DEVCTL = 8;
/** Correctable Error Reporting En. */
export const PCI_EXP_DEVCTL_CERE = 1;
/** Non-Fatal Error Reporting Enable */
export const PCI_EXP_DEVCTL_NFERE = 2;
/** Fatal Error Reporting Enable */
export const PCI_EXP_DEVCTL_FERE = 4;
/** Unsupported Request Reporting En. */
export const PCI_EXP_DEVCTL_URRE = 8;
/** Enable relaxed ordering */
export const PCI_EXP_DEVCTL_RELAX_EN = 0x10;
/** Max_Payload_Size */
export const PCI_EXP_DEVCTL_PAYLOAD = 0xe0;
/** 128 Bytes */
export const PCI_EXP_DEVCTL_PAYLOAD_128B = 0;
/** 256 Bytes */
export const PCI_EXP_DEVCTL_PAYLOAD_256B = 0x20;
/** 512 Bytes */
export const PCI_EXP_DEVCTL_PAYLOAD_512B = 0x40;
/** 1024 Bytes */
export const PCI_EXP_DEVCTL_PAYLOAD_1024B = 0x60;
/** 2048 Bytes */
export const PCI_EXP_DEVCTL_PAYLOAD_2048B = 0x80;
/** 4096 Bytes */
export const PCI_EXP_DEVCTL_PAYLOAD_4096B = 0xa0;
/** Extended Tag Field Enable */
export const PCI_EXP_DEVCTL_EXT_TAG = 0x100;
/** Phantom Functions Enable */
export const PCI_EXP_DEVCTL_PHANTOM = 0x200;
/** Auxiliary Power PM Enable */
export const PCI_EXP_DEVCTL_AUX_PME = 0x400;
/** Enable No Snoop */
export const PCI_EXP_DEVCTL_NOSNOOP_EN = 0x800;
/** Max_Read_Request_Size */
export const PCI_EXP_DEVCTL_READRQ = 0x7000;
/** 128 Bytes */
export const PCI_EXP_DEVCTL_READRQ_128B = 0;
/** 256 Bytes */
export const PCI_EXP_DEVCTL_READRQ_256B = 0x1000;
/** 512 Bytes */
export const PCI_EXP_DEVCTL_READRQ_512B = 0x2000;
/** 1024 Bytes */
export const PCI_EXP_DEVCTL_READRQ_1024B = 0x3000;
/** 2048 Bytes */
export const PCI_EXP_DEVCTL_READRQ_2048B = 0x4000;
/** 4096 Bytes */
export const PCI_EXP_DEVCTL_READRQ_4096B = 0x5000;
/** Bridge Configuration Retry / FLR */
export const PCI_EXP_DEVCTL_BCR_FLR = 0x8000;
/** Device Status */
export const PCI_EXP_DEVSTA = 0xa;
/** Correctable Error Detected */
export const PCI_EXP_DEVSTA_CED = 1;
/** Non-Fatal Error Detected */
export const PCI_EXP_DEVSTA_NFED = 2;
/** Fatal Error Detected */
export const PCI_EXP_DEVSTA_FED = 4;
/** Unsupported Request Detected */
export const PCI_EXP_DEVSTA_URD = 8;
/** AUX Power Detected */
export const PCI_EXP_DEVSTA_AUXPD = 0x10;
/** Transactions Pending */
export const PCI_EXP_DEVSTA_TRPND = 0x20;
/** v1 endpoints without link end here */
export const PCI_CAP_EXP_RC_ENDPOINT_SIZEOF_V1 = 0xc;
/** Link Capabilities */
export const PCI_EXP_LNKCAP = 0xc;
/** Supported Link Speeds */
export const PCI_EXP_LNKCAP_SLS = 0xf;
/** LNKCAP2 SLS Vector bit 0 */
export const PCI_EXP_LNKCAP_SLS_2_5GB = 1;
/** LNKCAP2 SLS Vector bit 1 */
export const PCI_EXP_LNKCAP_SLS_5_0GB = 2;
/** LNKCAP2 SLS Vector bit 2 */
export const PCI_EXP_LNKCAP_SLS_8_0GB = 3;
/** LNKCAP2 SLS Vector bit 3 */
export const PCI_EXP_LNKCAP_SLS_16_0GB = 4;
/** LNKCAP2 SLS Vector bit 4 */
export const PCI_EXP_LNKCAP_SLS_32_0GB = 5;
/** LNKCAP2 SLS Vector bit 5 */
export const PCI_EXP_LNKCAP_SLS_64_0GB = 6;
/** Maximum Link Width */
export const PCI_EXP_LNKCAP_MLW = 0x3f0;
/** ASPM Support */
export const PCI_EXP_LNKCAP_ASPMS = 0xc00;
/** ASPM L0s Support */
export const PCI_EXP_LNKCAP_ASPM_L0S = 0x400;
/** ASPM L1 Support */
export const PCI_EXP_LNKCAP_ASPM_L1 = 0x800;
/** L0s Exit Latency */
export const PCI_EXP_LNKCAP_L0SEL = 0x7000;
/** L1 Exit Latency */
export const PCI_EXP_LNKCAP_L1EL = 0x38000;
/** Clock Power Management */
export const PCI_EXP_LNKCAP_CLKPM = 0x40000;
/** Surprise Down Error Reporting Capable */
export const PCI_EXP_LNKCAP_SDERC = 0x80000;
/** Data Link Layer Link Active Reporting Capable */
export const PCI_EXP_LNKCAP_DLLLARC = 0x100000;
/** Link Bandwidth Notification Capability */
export const PCI_EXP_LNKCAP_LBNC = 0x200000;
/** Port Number */
export const PCI_EXP_LNKCAP_PN = 0xff000000;
/** Link Control */
export const PCI_EXP_LNKCTL = 0x10;
/** ASPM Control */
export const PCI_EXP_LNKCTL_ASPMC = 3;
/** L0s Enable */
export const PCI_EXP_LNKCTL_ASPM_L0S = 1;
/** L1 Enable */
export const PCI_EXP_LNKCTL_ASPM_L1 = 2;
/** Read Completion Boundary */
export const PCI_EXP_LNKCTL_RCB = 8;
/** Link Disable */
export const PCI_EXP_LNKCTL_LD = 0x10;
/** Retrain Link */
export const PCI_EXP_LNKCTL_RL = 0x20;
/** Common Clock Configuration */
export const PCI_EXP_LNKCTL_CCC = 0x40;
/** Extended Synch */
export const PCI_EXP_LNKCTL_ES = 0x80;
/** Enable clkreq */
export const PCI_EXP_LNKCTL_CLKREQ_EN = 0x100;
/** Hardware Autonomous Width Disable */
export const PCI_EXP_LNKCTL_HAWD = 0x200;
/** Link Bandwidth Management Interrupt Enable */
export const PCI_EXP_LNKCTL_LBMIE = 0x400;
/** Link Autonomous Bandwidth Interrupt Enable */
export const PCI_EXP_LNKCTL_LABIE = 0x800;
/** Link Status */
export const PCI_EXP_LNKSTA = 0x12;
/** Current Link Speed */
export const PCI_EXP_LNKSTA_CLS = 0xf;
/** Current Link Speed 2.5GT/s */
export const PCI_EXP_LNKSTA_CLS_2_5GB = 1;
/** Current Link Speed 5.0GT/s */
export const PCI_EXP_LNKSTA_CLS_5_0GB = 2;
/** Current Link Speed 8.0GT/s */
export const PCI_EXP_LNKSTA_CLS_8_0GB = 3;
/** Current Link Speed 16.0GT/s */
export const PCI_EXP_LNKSTA_CLS_16_0GB = 4;
/** Current Link Speed 32.0GT/s */
export const PCI_EXP_LNKSTA_CLS_32_0GB = 5;
/** Current Link Speed 64.0GT/s */
export const PCI_EXP_LNKSTA_CLS_64_0GB = 6;
/** Negotiated Link Width */
export const PCI_EXP_LNKSTA_NLW = 0x3f0;
/** Current Link Width x1 */
export const PCI_EXP_LNKSTA_NLW_X1 = 0x10;
/** Current Link Width x2 */
export const PCI_EXP_LNKSTA_NLW_X2 = 0x20;
/** Current Link Width x4 */
export const PCI_EXP_LNKSTA_NLW_X4 = 0x40;
/** Current Link Width x8 */
export const PCI_EXP_LNKSTA_NLW_X8 = 0x80;
/** start of NLW mask in link status */
export const PCI_EXP_LNKSTA_NLW_SHIFT = 4;
/** Link Training */
export const PCI_EXP_LNKSTA_LT = 0x800;
/** Slot Clock Configuration */
export const PCI_EXP_LNKSTA_SLC = 0x1000;
/** Data Link Layer Link Active */
export const PCI_EXP_LNKSTA_DLLLA = 0x2000;
/** Link Bandwidth Management Status */
export const PCI_EXP_LNKSTA_LBMS = 0x4000;
/** Link Autonomous Bandwidth Status */
export const PCI_EXP_LNKSTA_LABS = 0x8000;
/** v1 endpoints with link end here */
export const PCI_CAP_EXP_ENDPOINT_SIZEOF_V1 = 0x14;
/** Slot Capabilities */
export const PCI_EXP_SLTCAP = 0x14;
/** Attention Button Present */
export const PCI_EXP_SLTCAP_ABP = 1;
/** Power Controller Present */
export const PCI_EXP_SLTCAP_PCP = 2;
/** MRL Sensor Present */
export const PCI_EXP_SLTCAP_MRLSP = 4;
/** Attention Indicator Present */
export const PCI_EXP_SLTCAP_AIP = 8;
/** Power Indicator Present */
export const PCI_EXP_SLTCAP_PIP = 0x10;
/** Hot-Plug Surprise */
export const PCI_EXP_SLTCAP_HPS = 0x20;
/** Hot-Plug Capable */
export const PCI_EXP_SLTCAP_HPC = 0x40;
/** Slot Power Limit Value */
export const PCI_EXP_SLTCAP_SPLV = 0x7f80;
/** Slot Power Limit Scale */
export const PCI_EXP_SLTCAP_SPLS = 0x18000;
/** Electromechanical Interlock Present */
export const PCI_EXP_SLTCAP_EIP = 0x20000;
/** No Command Completed Support */
export const PCI_EXP_SLTCAP_NCCS = 0x40000;
/** Physical Slot Number */
export const PCI_EXP_SLTCAP_PSN = 0xfff80000;
/** Slot Control */
export const PCI_EXP_SLTCTL = 0x18;
/** Attention Button Pressed Enable */
export const PCI_EXP_SLTCTL_ABPE = 1;
/** Power Fault Detected Enable */
export const PCI_EXP_SLTCTL_PFDE = 2;
/** MRL Sensor Changed Enable */
export const PCI_EXP_SLTCTL_MRLSCE = 4;
/** Presence Detect Changed Enable */
export const PCI_EXP_SLTCTL_PDCE = 8;
/** Command Completed Interrupt Enable */
export const PCI_EXP_SLTCTL_CCIE = 0x10;
/** Hot-Plug Interrupt Enable */
export const PCI_EXP_SLTCTL_HPIE = 0x20;
/** Attention Indicator Control */
export const PCI_EXP_SLTCTL_AIC = 0xc0;
/** Attention Indicator shift */
export const PCI_EXP_SLTCTL_ATTN_IND_SHIFT = 6;
/** Attention Indicator on */
export const PCI_EXP_SLTCTL_ATTN_IND_ON = 0x40;
/** Attention Indicator blinking */
export const PCI_EXP_SLTCTL_ATTN_IND_BLINK = 0x80;
/** Attention Indicator off */
export const PCI_EXP_SLTCTL_ATTN_IND_OFF = 0xc0;
/** Power Indicator Control */
export const PCI_EXP_SLTCTL_PIC = 0x300;
/** Power Indicator on */
export const PCI_EXP_SLTCTL_PWR_IND_ON = 0x100;
/** Power Indicator blinking */
export const PCI_EXP_SLTCTL_PWR_IND_BLINK = 0x200;
/** Power Indicator off */
export const PCI_EXP_SLTCTL_PWR_IND_OFF = 0x300;
/** Power Controller Control */
export const PCI_EXP_SLTCTL_PCC = 0x400;
/** Power On */
export const PCI_EXP_SLTCTL_PWR_ON = 0;
/** Power Off */
export const PCI_EXP_SLTCTL_PWR_OFF = 0x400;
/** Electromechanical Interlock Control */
export const PCI_EXP_SLTCTL_EIC = 0x800;
/** Data Link Layer State Changed Enable */
export const PCI_EXP_SLTCTL_DLLSCE = 0x1000;
/** Auto Slot Power Limit Disable */
export const PCI_EXP_SLTCTL_ASPL_DISABLE = 0x2000;
/** In-band PD disable */
export const PCI_EXP_SLTCTL_IBPD_DISABLE = 0x4000;
/** Slot Status */
export const PCI_EXP_SLTSTA = 0x1a;
/** Attention Button Pressed */
export const PCI_EXP_SLTSTA_ABP = 1;
/** Power Fault Detected */
export const PCI_EXP_SLTSTA_PFD = 2;
/** MRL Sensor Changed */
export const PCI_EXP_SLTSTA_MRLSC = 4;
/** Presence Detect Changed */
export const PCI_EXP_SLTSTA_PDC = 8;
/** Command Completed */
export const PCI_EXP_SLTSTA_CC = 0x10;
/** MRL Sensor State */
export const PCI_EXP_SLTSTA_MRLSS = 0x20;
/** Presence Detect State */
export const PCI_EXP_SLTSTA_PDS = 0x40;
/** Electromechanical Interlock Status */
export const PCI_EXP_SLTSTA_EIS = 0x80;
/** Data Link Layer State Changed */
export const PCI_EXP_SLTSTA_DLLSC = 0x100;
/** Root Control */
export const PCI_EXP_RTCTL = 0x1c;
/** System Error on Correctable Error */
export const PCI_EXP_RTCTL_SECEE = 1;
/** System Error on Non-Fatal Error */
export const PCI_EXP_RTCTL_SENFEE = 2;
/** System Error on Fatal Error */
export const PCI_EXP_RTCTL_SEFEE = 4;
/** PME Interrupt Enable */
export const PCI_EXP_RTCTL_PMEIE = 8;
/** CRS Software Visibility Enable */
export const PCI_EXP_RTCTL_CRSSVE = 0x10;
/** Root Capabilities */
export const PCI_EXP_RTCAP = 0x1e;
/** CRS Software Visibility capability */
export const PCI_EXP_RTCAP_CRSVIS = 1;
/** Root Status */
export const PCI_EXP_RTSTA = 0x20;
/** PME status */
export const PCI_EXP_RTSTA_PME = 0x10000;
/** PME pending */
export const PCI_EXP_RTSTA_PENDING = 0x20000;
/** Device Capabilities 2 */
export const PCI_EXP_DEVCAP2 = 0x24;
/** Completion Timeout Disable supported */
export const PCI_EXP_DEVCAP2_COMP_TMOUT_DIS = 0x10;
/** Alternative Routing-ID */
export const PCI_EXP_DEVCAP2_ARI = 0x20;
/** Atomic Op routing */
export const PCI_EXP_DEVCAP2_ATOMIC_ROUTE = 0x40;
/** 32b AtomicOp completion */
export const PCI_EXP_DEVCAP2_ATOMIC_COMP32 = 0x80;
/** 64b AtomicOp completion */
export const PCI_EXP_DEVCAP2_ATOMIC_COMP64 = 0x100;
/** 128b AtomicOp completion */
export const PCI_EXP_DEVCAP2_ATOMIC_COMP128 = 0x200;
/** Latency tolerance reporting */
export const PCI_EXP_DEVCAP2_LTR = 0x800;
/** OBFF support mechanism */
export const PCI_EXP_DEVCAP2_OBFF_MASK = 0xc0000;
/** New message signaling */
export const PCI_EXP_DEVCAP2_OBFF_MSG = 0x40000;
/** Re-use WAKE# for OBFF */
export const PCI_EXP_DEVCAP2_OBFF_WAKE = 0x80000;
/** End-End TLP Prefix */
export const PCI_EXP_DEVCAP2_EE_PREFIX = 0x200000;
/** Device Control 2 */
export const PCI_EXP_DEVCTL2 = 0x28;
/** Completion Timeout Value */
export const PCI_EXP_DEVCTL2_COMP_TIMEOUT = 0xf;
/** Completion Timeout Disable */
export const PCI_EXP_DEVCTL2_COMP_TMOUT_DIS = 0x10;
/** Alternative Routing-ID */
export const PCI_EXP_DEVCTL2_ARI = 0x20;
/** Set Atomic requests */
export const PCI_EXP_DEVCTL2_ATOMIC_REQ = 0x40;
/** Block atomic egress */
export const PCI_EXP_DEVCTL2_ATOMIC_EGRESS_BLOCK = 0x80;
/** Allow IDO for requests */
export const PCI_EXP_DEVCTL2_IDO_REQ_EN = 0x100;
/** Allow IDO for completions */
export const PCI_EXP_DEVCTL2_IDO_CMP_EN = 0x200;
/** Enable LTR mechanism */
export const PCI_EXP_DEVCTL2_LTR_EN = 0x400;
/** Enable OBFF Message type A */
export const PCI_EXP_DEVCTL2_OBFF_MSGA_EN = 0x2000;
/** Enable OBFF Message type B */
export const PCI_EXP_DEVCTL2_OBFF_MSGB_EN = 0x4000;
/** OBFF using WAKE# signaling */
export const PCI_EXP_DEVCTL2_OBFF_WAKE_EN = 0x6000;
/** Device Status 2 */
export const PCI_EXP_DEVSTA2 = 0x2a;
/** end of v2 EPs w/o link */
export const PCI_CAP_EXP_RC_ENDPOINT_SIZEOF_V2 = 0x2c;
/** Link Capabilities 2 */
export const PCI_EXP_LNKCAP2 = 0x2c;
/** Supported Speed 2.5GT/s */
export const PCI_EXP_LNKCAP2_SLS_2_5GB = 2;
/** Supported Speed 5GT/s */
export const PCI_EXP_LNKCAP2_SLS_5_0GB = 4;
/** Supported Speed 8GT/s */
export const PCI_EXP_LNKCAP2_SLS_8_0GB = 8;
/** Supported Speed 16GT/s */
export const PCI_EXP_LNKCAP2_SLS_16_0GB = 0x10;
/** Supported Speed 32GT/s */
export const PCI_EXP_LNKCAP2_SLS_32_0GB = 0x20;
/** Supported Speed 64GT/s */
export const PCI_EXP_LNKCAP2_SLS_64_0GB = 0x40;
/** Crosslink supported */
export const PCI_EXP_LNKCAP2_CROSSLINK = 0x100;
/** Link Control 2 */
export const PCI_EXP_LNKCTL2 = 0x30;
export const PCI_EXP_LNKCTL2_TLS = 0xf;
/** Supported Speed 2.5GT/s */
export const PCI_EXP_LNKCTL2_TLS_2_5GT = 1;
/** Supported Speed 5GT/s */
export const PCI_EXP_LNKCTL2_TLS_5_0GT = 2;
/** Supported Speed 8GT/s */
export const PCI_EXP_LNKCTL2_TLS_8_0GT = 3;
/** Supported Speed 16GT/s */
export const PCI_EXP_LNKCTL2_TLS_16_0GT = 4;
/** Supported Speed 32GT/s */
export const PCI_EXP_LNKCTL2_TLS_32_0GT = 5;
/** Supported Speed 64GT/s */
export const PCI_EXP_LNKCTL2_TLS_64_0GT = 6;
/** Enter Compliance */
export const PCI_EXP_LNKCTL2_ENTER_COMP = 0x10;
/** Transmit Margin */
export const PCI_EXP_LNKCTL2_TX_MARGIN = 0x380;
/** HW Autonomous Speed Disable */
export const PCI_EXP_LNKCTL2_HASD = 0x20;
/** Link Status 2 */
export const PCI_EXP_LNKSTA2 = 0x32;
/** end of v2 EPs w/ link */
export const PCI_CAP_EXP_ENDPOINT_SIZEOF_V2 = 0x32;
/** Slot Capabilities 2 */
export const PCI_EXP_SLTCAP2 = 0x34;
/** In-band PD Disable Supported */
export const PCI_EXP_SLTCAP2_IBPD = 1;
/** Slot Control 2 */
export const PCI_EXP_SLTCTL2 = 0x38;
/** Slot Status 2 */
export const PCI_EXP_SLTSTA2 = 0x3a;
/** Advanced Error Reporting */
export const PCI_EXT_CAP_ID_ERR = 1;
/** Virtual Channel Capability */
export const PCI_EXT_CAP_ID_VC = 2;
/** Device Serial Number */
export const PCI_EXT_CAP_ID_DSN = 3;
/** Power Budgeting */
export const PCI_EXT_CAP_ID_PWR = 4;
/** Root Complex Link Declaration */
export const PCI_EXT_CAP_ID_RCLD = 5;
/** Root Complex Internal Link Control */
export const PCI_EXT_CAP_ID_RCILC = 6;
/** Root Complex Event Collector */
export const PCI_EXT_CAP_ID_RCEC = 7;
/** Multi-Function VC Capability */
export const PCI_EXT_CAP_ID_MFVC = 8;
/** same as _VC */
export const PCI_EXT_CAP_ID_VC9 = 9;
/** Root Complex RB? */
export const PCI_EXT_CAP_ID_RCRB = 0xa;
/** Vendor-Specific */
export const PCI_EXT_CAP_ID_VNDR = 0xb;
/** Config Access - obsolete */
export const PCI_EXT_CAP_ID_CAC = 0xc;
/** Access Control Services */
export const PCI_EXT_CAP_ID_ACS = 0xd;
/** Alternate Routing ID */
export const PCI_EXT_CAP_ID_ARI = 0xe;
/** Address Translation Services */
export const PCI_EXT_CAP_ID_ATS = 0xf;
/** Single Root I/O Virtualization */
export const PCI_EXT_CAP_ID_SRIOV = 0x10;
/** Multi Root I/O Virtualization */
export const PCI_EXT_CAP_ID_MRIOV = 0x11;
/** Multicast */
export const PCI_EXT_CAP_ID_MCAST = 0x12;
/** Page Request Interface */
export const PCI_EXT_CAP_ID_PRI = 0x13;
/** Reserved for AMD */
export const PCI_EXT_CAP_ID_AMD_XXX = 0x14;
/** Resizable BAR */
export const PCI_EXT_CAP_ID_REBAR = 0x15;
/** Dynamic Power Allocation */
export const PCI_EXT_CAP_ID_DPA = 0x16;
/** TPH Requester */
export const PCI_EXT_CAP_ID_TPH = 0x17;
/** Latency Tolerance Reporting */
export const PCI_EXT_CAP_ID_LTR = 0x18;
/** Secondary PCIe Capability */
export const PCI_EXT_CAP_ID_SECPCI = 0x19;
/** Protocol Multiplexing */
export const PCI_EXT_CAP_ID_PMUX = 0x1a;
/** Process Address Space ID */
export const PCI_EXT_CAP_ID_PASID = 0x1b;
/** Downstream Port Containment */
export const PCI_EXT_CAP_ID_DPC = 0x1d;
/** L1 PM Substates */
export const PCI_EXT_CAP_ID_L1SS = 0x1e;
/** Precision Time Measurement */
export const PCI_EXT_CAP_ID_PTM = 0x1f;
/** Designated Vendor-Specific */
export const PCI_EXT_CAP_ID_DVSEC = 0x23;
/** Data Link Feature */
export const PCI_EXT_CAP_ID_DLF = 0x25;
/** Physical Layer 16.0 GT/s */
export const PCI_EXT_CAP_ID_PL_16GT = 0x26;
/** Data Object Exchange */
export const PCI_EXT_CAP_ID_DOE = 0x2e;
export const PCI_EXT_CAP_ID_MAX = 0x2e;
export const PCI_EXT_CAP_DSN_SIZEOF = 0xc;
/** Advanced Error Reporting */
export const PCI_EXT_CAP_MCAST_ENDPOINT_SIZEOF = 0x28;
/** Uncorrectable Error Status */
export const PCI_ERR_UNCOR_STATUS = 4;
/** Undefined */
export const PCI_ERR_UNC_UND = 1;
/** Data Link Protocol */
export const PCI_ERR_UNC_DLP = 0x10;
/** Surprise Down */
export const PCI_ERR_UNC_SURPDN = 0x20;
/** Poisoned TLP */
export const PCI_ERR_UNC_POISON_TLP = 0x1000;
/** Flow Control Protocol */
export const PCI_ERR_UNC_FCP = 0x2000;
/** Completion Timeout */
export const PCI_ERR_UNC_COMP_TIME = 0x4000;
/** Completer Abort */
export const PCI_ERR_UNC_COMP_ABORT = 0x8000;
/** Unexpected Completion */
export const PCI_ERR_UNC_UNX_COMP = 0x10000;
/** Receiver Overflow */
export const PCI_ERR_UNC_RX_OVER = 0x20000;
/** Malformed TLP */
export const PCI_ERR_UNC_MALF_TLP = 0x40000;
/** ECRC Error Status */
export const PCI_ERR_UNC_ECRC = 0x80000;
/** Unsupported Request */
export const PCI_ERR_UNC_UNSUP = 0x100000;
/** ACS Violation */
export const PCI_ERR_UNC_ACSV = 0x200000;
/** internal error */
export const PCI_ERR_UNC_INTN = 0x400000;
/** MC blocked TLP */
export const PCI_ERR_UNC_MCBTLP = 0x800000;
/** Atomic egress blocked */
export const PCI_ERR_UNC_ATOMEG = 0x1000000;
/** TLP prefix blocked */
export const PCI_ERR_UNC_TLPPRE = 0x2000000;
/** Uncorrectable Error Mask */
export const PCI_ERR_UNCOR_MASK = 8;
/** Uncorrectable Error Severity */
export const PCI_ERR_UNCOR_SEVER = 0xc;
/** Correctable Error Status */
export const PCI_ERR_COR_STATUS = 0x10;
/** Receiver Error Status */
export const PCI_ERR_COR_RCVR = 1;
/** Bad TLP Status */
export const PCI_ERR_COR_BAD_TLP = 0x40;
/** Bad DLLP Status */
export const PCI_ERR_COR_BAD_DLLP = 0x80;
/** REPLAY_NUM Rollover */
export const PCI_ERR_COR_REP_ROLL = 0x100;
/** Replay Timer Timeout */
export const PCI_ERR_COR_REP_TIMER = 0x1000;
/** Advisory Non-Fatal */
export const PCI_ERR_COR_ADV_NFAT = 0x2000;
/** Corrected Internal */
export const PCI_ERR_COR_INTERNAL = 0x4000;
/** Header Log Overflow */
export const PCI_ERR_COR_LOG_OVER = 0x8000;
/** Correctable Error Mask */
export const PCI_ERR_COR_MASK = 0x14;
/** Advanced Error Capabilities & Ctrl */
export const PCI_ERR_CAP = 0x18;
/** ECRC Generation Capable */
export const PCI_ERR_CAP_ECRC_GENC = 0x20;
/** ECRC Generation Enable */
export const PCI_ERR_CAP_ECRC_GENE = 0x40;
/** ECRC Check Capable */
export const PCI_ERR_CAP_ECRC_CHKC = 0x80;
/** ECRC Check Enable */
export const PCI_ERR_CAP_ECRC_CHKE = 0x100;
/** Header Log Register (16 bytes) */
export const PCI_ERR_HEADER_LOG = 0x1c;
/** Root Error Command */
export const PCI_ERR_ROOT_COMMAND = 0x2c;
/** Correctable Err Reporting Enable */
export const PCI_ERR_ROOT_CMD_COR_EN = 1;
/** Non-Fatal Err Reporting Enable */
export const PCI_ERR_ROOT_CMD_NONFATAL_EN = 2;
/** Fatal Err Reporting Enable */
export const PCI_ERR_ROOT_CMD_FATAL_EN = 4;
export const PCI_ERR_ROOT_STATUS = 0x30;
/** ERR_COR Received */
export const PCI_ERR_ROOT_COR_RCV = 1;
/** Multiple ERR_COR */
export const PCI_ERR_ROOT_MULTI_COR_RCV = 2;
/** ERR_FATAL/NONFATAL */
export const PCI_ERR_ROOT_UNCOR_RCV = 4;
/** Multiple FATAL/NONFATAL */
export const PCI_ERR_ROOT_MULTI_UNCOR_RCV = 8;
/** First UNC is Fatal */
export const PCI_ERR_ROOT_FIRST_FATAL = 0x10;
/** Non-Fatal Received */
export const PCI_ERR_ROOT_NONFATAL_RCV = 0x20;
/** Fatal Received */
export const PCI_ERR_ROOT_FATAL_RCV = 0x40;
/** Advanced Error Interrupt Message Number */
export const PCI_ERR_ROOT_AER_IRQ = 0xf8000000;
/** Error Source Identification */
export const PCI_ERR_ROOT_ERR_SRC = 0x34;
export const PCI_VC_PORT_CAP1 = 4;
/** extended VC count */
export const PCI_VC_CAP1_EVCC = 7;
/** low prio extended VC count */
export const PCI_VC_CAP1_LPEVCC = 0x70;
export const PCI_VC_CAP1_ARB_SIZE = 0xc00;
export const PCI_VC_PORT_CAP2 = 8;
export const PCI_VC_CAP2_32_PHASE = 2;
export const PCI_VC_CAP2_64_PHASE = 4;
export const PCI_VC_CAP2_128_PHASE = 8;
export const PCI_VC_CAP2_ARB_OFF = 0xff000000;
export const PCI_VC_PORT_CTRL = 0xc;
export const PCI_VC_PORT_CTRL_LOAD_TABLE = 1;
export const PCI_VC_PORT_STATUS = 0xe;
export const PCI_VC_PORT_STATUS_TABLE = 1;
export const PCI_VC_RES_CAP = 0x10;
export const PCI_VC_RES_CAP_32_PHASE = 2;
export const PCI_VC_RES_CAP_64_PHASE = 4;
export const PCI_VC_RES_CAP_128_PHASE = 8;
export const PCI_VC_RES_CAP_128_PHASE_TB = 0x10;
export const PCI_VC_RES_CAP_256_PHASE = 0x20;
export const PCI_VC_RES_CAP_ARB_OFF = 0xff000000;
export const PCI_VC_RES_CTRL = 0x14;
export const PCI_VC_RES_CTRL_LOAD_TABLE = 0x10000;
export const PCI_VC_RES_CTRL_ARB_SELECT = 0xe0000;
export const PCI_VC_RES_CTRL_ID = 0x7000000;
export const PCI_VC_RES_CTRL_ENABLE = 0x80000000;
export const PCI_VC_RES_STATUS = 0x1a;
export const PCI_VC_RES_STATUS_TABLE = 1;
export const PCI_VC_RES_STATUS_NEGO = 2;
export const PCI_CAP_VC_BASE_SIZEOF = 0x10;
/** Power Budgeting */
export const PCI_CAP_VC_PER_VC_SIZEOF = 0xc;
/** Data Select Register */
export const PCI_PWR_DSR = 4;
/** Data Register */
export const PCI_PWR_DATA = 8;
/** Capability */
export const PCI_PWR_CAP = 0xc;
/** Root Complex Event Collector Endpoint Association */
export const PCI_EXT_CAP_PWR_SIZEOF = 0x10;
/** Associated Bitmap for RCiEPs */
export const PCI_RCEC_RCIEP_BITMAP = 4;
/** RCEC Associated Bus Numbers */
export const PCI_RCEC_BUSN = 8;
/** Least version with BUSN present */
export const PCI_RCEC_BUSN_REG_VER = 2;
/** Vendor-Specific Header */
export const PCI_VNDR_HEADER = 4;
/** ARI Capability Register */
export const PCI_ARI_CAP = 4;
/** MFVC Function Groups Capability */
export const PCI_ARI_CAP_MFVC = 1;
/** ACS Function Groups Capability */
export const PCI_ARI_CAP_ACS = 2;
/** ARI Control Register */
export const PCI_ARI_CTRL = 6;
/** MFVC Function Groups Enable */
export const PCI_ARI_CTRL_MFVC = 1;
/** ACS Function Groups Enable */
export const PCI_ARI_CTRL_ACS = 2;
/** Address Translation Service */
export const PCI_EXT_CAP_ARI_SIZEOF = 8;
/** ATS Capability Register */
export const PCI_ATS_CAP = 4;
/** Max Invalidate Queue Depth */
export const PCI_ATS_MAX_QDEP = 0x20;
/** Page Aligned Request */
export const PCI_ATS_CAP_PAGE_ALIGNED = 0x20;
/** ATS Control Register */
export const PCI_ATS_CTRL = 6;
/** ATS Enable */
export const PCI_ATS_CTRL_ENABLE = 0x8000;
/** shift of minimum STU block */
export const PCI_ATS_MIN_STU = 0xc;
/** Page Request Interface */
export const PCI_EXT_CAP_ATS_SIZEOF = 8;
/** PRI control register */
export const PCI_PRI_CTRL = 4;
/** Enable */
export const PCI_PRI_CTRL_ENABLE = 1;
/** Reset */
export const PCI_PRI_CTRL_RESET = 2;
/** PRI status register */
export const PCI_PRI_STATUS = 6;
/** Response Failure */
export const PCI_PRI_STATUS_RF = 1;
/** Unexpected PRG index */
export const PCI_PRI_STATUS_UPRGI = 2;
/** PRI Stopped */
export const PCI_PRI_STATUS_STOPPED = 0x100;
/** PRG Response PASID Required */
export const PCI_PRI_STATUS_PASID = 0x8000;
/** PRI max reqs supported */
export const PCI_PRI_MAX_REQ = 8;
/** PRI max reqs allowed */
export const PCI_PRI_ALLOC_REQ = 0xc;
/** Process Address Space ID */
export const PCI_EXT_CAP_PRI_SIZEOF = 0x10;
/** PASID feature register */
export const PCI_PASID_CAP = 4;
/** Exec permissions Supported */
export const PCI_PASID_CAP_EXEC = 2;
/** Privilege Mode Supported */
export const PCI_PASID_CAP_PRIV = 4;
/** PASID control register */
export const PCI_PASID_CTRL = 6;
/** Enable bit */
export const PCI_PASID_CTRL_ENABLE = 1;
/** Exec permissions Enable */
export const PCI_PASID_CTRL_EXEC = 2;
/** Privilege Mode Enable */
export const PCI_PASID_CTRL_PRIV = 4;
/** Single Root I/O Virtualization */
export const PCI_EXT_CAP_PASID_SIZEOF = 8;
/** SR-IOV Capabilities */
export const PCI_SRIOV_CAP = 4;
/** VF Migration Capable */
export const PCI_SRIOV_CAP_VFM = 1;
/** SR-IOV Control */
export const PCI_SRIOV_CTRL = 8;
/** VF Enable */
export const PCI_SRIOV_CTRL_VFE = 1;
/** VF Migration Enable */
export const PCI_SRIOV_CTRL_VFM = 2;
/** VF Migration Interrupt Enable */
export const PCI_SRIOV_CTRL_INTR = 4;
/** VF Memory Space Enable */
export const PCI_SRIOV_CTRL_MSE = 8;
/** ARI Capable Hierarchy */
export const PCI_SRIOV_CTRL_ARI = 0x10;
/** SR-IOV Status */
export const PCI_SRIOV_STATUS = 0xa;
/** VF Migration Status */
export const PCI_SRIOV_STATUS_VFM = 1;
/** Initial VFs */
export const PCI_SRIOV_INITIAL_VF = 0xc;
/** Total VFs */
export const PCI_SRIOV_TOTAL_VF = 0xe;
/** Number of VFs */
export const PCI_SRIOV_NUM_VF = 0x10;
/** Function Dependency Link */
export const PCI_SRIOV_FUNC_LINK = 0x12;
/** First VF Offset */
export const PCI_SRIOV_VF_OFFSET = 0x14;
/** Following VF Stride */
export const PCI_SRIOV_VF_STRIDE = 0x16;
/** VF Device ID */
export const PCI_SRIOV_VF_DID = 0x1a;
/** Supported Page Sizes */
export const PCI_SRIOV_SUP_PGSIZE = 0x1c;
/** System Page Size */
export const PCI_SRIOV_SYS_PGSIZE = 0x20;
/** VF BAR0 */
export const PCI_SRIOV_BAR = 0x24;
/** Number of VF BARs */
export const PCI_SRIOV_NUM_BARS = 6;
/** VF Migration State Array Offset */
export const PCI_SRIOV_VFM = 0x3c;
/** Inactive.Unavailable */
export const PCI_SRIOV_VFM_UA = 0;
/** Dormant.MigrateIn */
export const PCI_SRIOV_VFM_MI = 1;
/** Active.MigrateOut */
export const PCI_SRIOV_VFM_MO = 2;
/** Active.Available */
export const PCI_SRIOV_VFM_AV = 3;
export const PCI_EXT_CAP_SRIOV_SIZEOF = 0x40;
export const PCI_LTR_MAX_SNOOP_LAT = 4;
export const PCI_LTR_MAX_NOSNOOP_LAT = 6;
export const PCI_LTR_VALUE_MASK = 0x3ff;
export const PCI_LTR_SCALE_MASK = 0x1c00;
export const PCI_LTR_SCALE_SHIFT = 0xa;
/** Access Control Service */
export const PCI_EXT_CAP_LTR_SIZEOF = 8;
/** ACS Capability Register */
export const PCI_ACS_CAP = 4;
/** Source Validation */
export const PCI_ACS_SV = 1;
/** Translation Blocking */
export const PCI_ACS_TB = 2;
/** P2P Request Redirect */
export const PCI_ACS_RR = 4;
/** P2P Completion Redirect */
export const PCI_ACS_CR = 8;
/** Upstream Forwarding */
export const PCI_ACS_UF = 0x10;
/** P2P Egress Control */
export const PCI_ACS_EC = 0x20;
/** Direct Translated P2P */
export const PCI_ACS_DT = 0x40;
/** ACS Egress Control Vector Size */
export const PCI_ACS_EGRESS_BITS = 5;
/** ACS Control Register */
export const PCI_ACS_CTRL = 6;
/** ACS Egress Control Vector */
export const PCI_ACS_EGRESS_CTL_V = 8;
/** extended cap - vendor-specific */
export const PCI_VSEC_HDR = 4;
/** shift for length field */
export const PCI_VSEC_HDR_LEN_SHIFT = 0x14;
/** SATA REGs specifier */
export const PCI_SATA_REGS = 4;
/** location - BAR#/inline */
export const PCI_SATA_REGS_MASK = 0xf;
/** REGS in config space */
export const PCI_SATA_REGS_INLINE = 0xf;
export const PCI_SATA_SIZEOF_SHORT = 8;
/** Resizable BARs */
export const PCI_SATA_SIZEOF_LONG = 0x10;
/** capability register */
export const PCI_REBAR_CAP = 4;
/** supported BAR sizes */
export const PCI_REBAR_CAP_SIZES = 0xfffff0;
/** control register */
export const PCI_REBAR_CTRL = 8;
/** BAR index */
export const PCI_REBAR_CTRL_BAR_IDX = 7;
/** # of resizable BARs */
export const PCI_REBAR_CTRL_NBAR_MASK = 0xe0;
/** shift for # of BARs */
export const PCI_REBAR_CTRL_NBAR_SHIFT = 5;
/** BAR size */
export const PCI_REBAR_CTRL_BAR_SIZE = 0x1f00;
/** shift for BAR size */
export const PCI_REBAR_CTRL_BAR_SHIFT = 8;
/** capability register */
export const PCI_DPA_CAP = 4;
/** # substates - 1 */
export const PCI_DPA_CAP_SUBSTATE_MASK = 0x1f;
/** size with 0 substates */
export const PCI_DPA_BASE_SIZEOF = 0x10;
/** capability register */
export const PCI_TPH_CAP = 4;
/** location mask */
export const PCI_TPH_CAP_LOC_MASK = 0x600;
/** no location */
export const PCI_TPH_LOC_NONE = 0;
/** in capability */
export const PCI_TPH_LOC_CAP = 0x200;
/** in MSI-X */
export const PCI_TPH_LOC_MSIX = 0x400;
/** ST table mask */
export const PCI_TPH_CAP_ST_MASK = 0x7ff0000;
/** ST table shift */
export const PCI_TPH_CAP_ST_SHIFT = 0x10;
/** size with no ST table */
export const PCI_TPH_BASE_SIZEOF = 0xc;
/** DPC Capability */
export const PCI_EXP_DPC_CAP = 4;
/** Interrupt Message Number */
export const PCI_EXP_DPC_IRQ = 0x1f;
/** Root Port Extensions */
export const PCI_EXP_DPC_CAP_RP_EXT = 0x20;
/** Poisoned TLP Egress Blocking Supported */
export const PCI_EXP_DPC_CAP_POISONED_TLP = 0x40;
/** Software Triggering Supported */
export const PCI_EXP_DPC_CAP_SW_TRIGGER = 0x80;
/** RP PIO Log Size */
export const PCI_EXP_DPC_RP_PIO_LOG_SIZE = 0xf00;
/** ERR_COR signal on DL_Active supported */
export const PCI_EXP_DPC_CAP_DL_ACTIVE = 0x1000;
/** DPC control */
export const PCI_EXP_DPC_CTL = 6;
/** Enable trigger on ERR_FATAL message */
export const PCI_EXP_DPC_CTL_EN_FATAL = 1;
/** Enable trigger on ERR_NONFATAL message */
export const PCI_EXP_DPC_CTL_EN_NONFATAL = 2;
/** DPC Interrupt Enable */
export const PCI_EXP_DPC_CTL_INT_EN = 8;
/** DPC Status */
export const PCI_EXP_DPC_STATUS = 8;
/** Trigger Status */
export const PCI_EXP_DPC_STATUS_TRIGGER = 1;
/** Trigger Reason */
export const PCI_EXP_DPC_STATUS_TRIGGER_RSN = 6;
/** Interrupt Status */
export const PCI_EXP_DPC_STATUS_INTERRUPT = 8;
/** Root Port Busy */
export const PCI_EXP_DPC_RP_BUSY = 0x10;
/** Trig Reason Extension */
export const PCI_EXP_DPC_STATUS_TRIGGER_RSN_EXT = 0x60;
/** RP PIO First Err Ptr */
export const PCI_EXP_DPC_RP_PIO_FEP = 0x1f00;
/** DPC Source Identifier */
export const PCI_EXP_DPC_SOURCE_ID = 0xa;
/** RP PIO Status */
export const PCI_EXP_DPC_RP_PIO_STATUS = 0xc;
/** RP PIO Mask */
export const PCI_EXP_DPC_RP_PIO_MASK = 0x10;
/** RP PIO Severity */
export const PCI_EXP_DPC_RP_PIO_SEVERITY = 0x14;
/** RP PIO SysError */
export const PCI_EXP_DPC_RP_PIO_SYSERROR = 0x18;
/** RP PIO Exception */
export const PCI_EXP_DPC_RP_PIO_EXCEPTION = 0x1c;
/** RP PIO Header Log */
export const PCI_EXP_DPC_RP_PIO_HEADER_LOG = 0x20;
/** RP PIO ImpSpec Log */
export const PCI_EXP_DPC_RP_PIO_IMPSPEC_LOG = 0x30;
/** RP PIO TLP Prefix Log */
export const PCI_EXP_DPC_RP_PIO_TLPPREFIX_LOG = 0x34;
/** PTM Capability */
export const PCI_PTM_CAP = 4;
/** Requester capable */
export const PCI_PTM_CAP_REQ = 1;
/** Root capable */
export const PCI_PTM_CAP_ROOT = 4;
/** Clock granularity */
export const PCI_PTM_GRANULARITY_MASK = 0xff00;
/** PTM Control */
export const PCI_PTM_CTRL = 8;
/** PTM enable */
export const PCI_PTM_CTRL_ENABLE = 1;
/** Root select */
export const PCI_PTM_CTRL_ROOT = 2;
/** Capabilities Register */
export const PCI_L1SS_CAP = 4;
/** PCI-PM L1.2 Supported */
export const PCI_L1SS_CAP_PCIPM_L1_2 = 1;
/** PCI-PM L1.1 Supported */
export const PCI_L1SS_CAP_PCIPM_L1_1 = 2;
/** ASPM L1.2 Supported */
export const PCI_L1SS_CAP_ASPM_L1_2 = 4;
/** ASPM L1.1 Supported */
export const PCI_L1SS_CAP_ASPM_L1_1 = 8;
/** L1 PM Substates Supported */
export const PCI_L1SS_CAP_L1_PM_SS = 0x10;
/** Port Common_Mode_Restore_Time */
export const PCI_L1SS_CAP_CM_RESTORE_TIME = 0xff00;
/** Port T_POWER_ON scale */
export const PCI_L1SS_CAP_P_PWR_ON_SCALE = 0x30000;
/** Port T_POWER_ON value */
export const PCI_L1SS_CAP_P_PWR_ON_VALUE = 0xf80000;
/** Control 1 Register */
export const PCI_L1SS_CTL1 = 8;
/** PCI-PM L1.2 Enable */
export const PCI_L1SS_CTL1_PCIPM_L1_2 = 1;
/** PCI-PM L1.1 Enable */
export const PCI_L1SS_CTL1_PCIPM_L1_1 = 2;
/** ASPM L1.2 Enable */
export const PCI_L1SS_CTL1_ASPM_L1_2 = 4;
/** ASPM L1.1 Enable */
export const PCI_L1SS_CTL1_ASPM_L1_1 = 8;
export const PCI_L1SS_CTL1_L1_2_MASK = 5;
export const PCI_L1SS_CTL1_L1SS_MASK = 0xf;
/** Common_Mode_Restore_Time */
export const PCI_L1SS_CTL1_CM_RESTORE_TIME = 0xff00;
/** LTR_L1.2_THRESHOLD_Value */
export const PCI_L1SS_CTL1_LTR_L12_TH_VALUE = 0x3ff0000;
/** LTR_L1.2_THRESHOLD_Scale */
export const PCI_L1SS_CTL1_LTR_L12_TH_SCALE = 0xe0000000;
/** Control 2 Register */
export const PCI_L1SS_CTL2 = 0xc;
/** Designated Vendor-Specific Header1 */
export const PCI_DVSEC_HEADER1 = 4;
/** Designated Vendor-Specific Header2 */
export const PCI_DVSEC_HEADER2 = 8;
/** Capabilities Register */
export const PCI_DLF_CAP = 4;
/** Data Link Feature Exchange Enable */
export const PCI_DLF_EXCHANGE_ENABLE = 0x80000000;
/** Lane Equalization Control Register */
export const PCI_PL_16GT_LE_CTRL = 0x20;
export const PCI_PL_16GT_LE_CTRL_DSP_TX_PRESET_MASK = 0xf;
export const PCI_PL_16GT_LE_CTRL_USP_TX_PRESET_MASK = 0xf0;
/** Data Object Exchange */
export const PCI_PL_16GT_LE_CTRL_USP_TX_PRESET_SHIFT = 4;
/** DOE Capabilities Register */
export const PCI_DOE_CAP = 4;
/** Interrupt Support */
export const PCI_DOE_CAP_INT_SUP = 1;
/** Interrupt Message Number */
export const PCI_DOE_CAP_INT_MSG_NUM = 0xffe;
/** DOE Control Register */
export const PCI_DOE_CTRL = 8;
/** DOE Abort */
export const PCI_DOE_CTRL_ABORT = 1;
/** DOE Interrupt Enable */
export const PCI_DOE_CTRL_INT_EN = 2;
/** DOE Go */
export const PCI_DOE_CTRL_GO = 0x80000000;
/** DOE Status Register */
export const PCI_DOE_STATUS = 0xc;
/** DOE Busy */
export const PCI_DOE_STATUS_BUSY = 1;
/** DOE Interrupt Status */
export const PCI_DOE_STATUS_INT_STATUS = 2;
/** DOE Error */
export const PCI_DOE_STATUS_ERROR = 4;
/** Data Object Ready */
export const PCI_DOE_STATUS_DATA_OBJECT_READY = 0x80000000;
/** DOE Write Data Mailbox Register */
export const PCI_DOE_WRITE = 0x10;
/** DOE Read Data Mailbox Register */
export const PCI_DOE_READ = 0x14;
export const PCI_DOE_DATA_OBJECT_HEADER_1_VID = 0xffff;
export const PCI_DOE_DATA_OBJECT_HEADER_1_TYPE = 0xff0000;
export const PCI_DOE_DATA_OBJECT_HEADER_2_LENGTH = 0x3ffff;
export const PCI_DOE_DATA_OBJECT_DISC_REQ_3_INDEX = 0xff;
export const PCI_DOE_DATA_OBJECT_DISC_RSP_3_VID = 0xffff;
export const PCI_DOE_DATA_OBJECT_DISC_RSP_3_PROTOCOL = 0xff0000;
export const PCI_DOE_DATA_OBJECT_DISC_RSP_3_NEXT_INDEX = 0xff000000;
