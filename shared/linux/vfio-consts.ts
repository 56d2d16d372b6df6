// VFIO user API numbers (vfio.h): constants generated from linux/vfio.h by scripts/gen-linux-consts.mjs. Do not edit.

/** Kernel & User level defines for VFIO IOCTLs. */
export const VFIO_API_VERSION = 0;
export const VFIO_TYPE1_IOMMU = 1;
export const VFIO_SPAPR_TCE_IOMMU = 2;
/** Check if EEH is supported */
export const VFIO_DMA_CC_IOMMU = 4;
/** Two-stage IOMMU */
export const VFIO_EEH = 5;
/** Implies v2 */
export const VFIO_TYPE1_NESTING_IOMMU = 6;
/** Supports VFIO_DMA_UNMAP_FLAG_ALL */
export const VFIO_NOIOMMU_IOMMU = 8;
export const VFIO_UNMAP_ALL = 9;
export const VFIO_UPDATE_VADDR = 0xa;
export const VFIO_BASE = 0x64;
export const VFIO_GROUP_FLAGS_VIABLE = 1;
export const VFIO_GROUP_FLAGS_CONTAINER_SET = 2;
/** Device supports reset */
export const VFIO_DEVICE_FLAGS_RESET = 1;
/** vfio-pci device */
export const VFIO_DEVICE_FLAGS_PCI = 2;
/** vfio-platform device */
export const VFIO_DEVICE_FLAGS_PLATFORM = 4;
/** vfio-amba device */
export const VFIO_DEVICE_FLAGS_AMBA = 8;
/** vfio-ccw device */
export const VFIO_DEVICE_FLAGS_CCW = 0x10;
/** vfio-ap device */
export const VFIO_DEVICE_FLAGS_AP = 0x20;
/** vfio-fsl-mc device */
export const VFIO_DEVICE_FLAGS_FSL_MC = 0x40;
/** Info supports caps */
export const VFIO_DEVICE_FLAGS_CAPS = 0x80;
export const VFIO_DEVICE_INFO_CAP_ZPCI_BASE = 1;
export const VFIO_DEVICE_INFO_CAP_ZPCI_GROUP = 2;
export const VFIO_DEVICE_INFO_CAP_ZPCI_UTIL = 3;
export const VFIO_DEVICE_INFO_CAP_ZPCI_PFIP = 4;
/** Region supports read */
export const VFIO_REGION_INFO_FLAG_READ = 1;
/** Region supports write */
export const VFIO_REGION_INFO_FLAG_WRITE = 2;
/** Region supports mmap */
export const VFIO_REGION_INFO_FLAG_MMAP = 4;
/** Info supports caps */
export const VFIO_REGION_INFO_FLAG_CAPS = 8;
export const VFIO_REGION_INFO_CAP_SPARSE_MMAP = 1;
export const VFIO_REGION_INFO_CAP_TYPE = 2;
export const VFIO_REGION_TYPE_PCI_VENDOR_TYPE = 0x80000000;
export const VFIO_REGION_TYPE_PCI_VENDOR_MASK = 0xffff;
export const VFIO_REGION_TYPE_GFX = 1;
export const VFIO_REGION_TYPE_CCW = 2;
/** sub-types for VFIO_REGION_TYPE_PCI_* */
export const VFIO_REGION_TYPE_MIGRATION_DEPRECATED = 3;
export const VFIO_REGION_SUBTYPE_INTEL_IGD_OPREGION = 1;
export const VFIO_REGION_SUBTYPE_INTEL_IGD_HOST_CFG = 2;
/** 10de vendor PCI sub-types */
export const VFIO_REGION_SUBTYPE_INTEL_IGD_LPC_CFG = 3;
/** 1014 vendor PCI sub-types */
export const VFIO_REGION_SUBTYPE_NVIDIA_NVLINK2_RAM = 1;
/** sub-types for VFIO_REGION_TYPE_GFX */
export const VFIO_REGION_SUBTYPE_IBM_NVLINK2_ATSD = 1;
export const VFIO_REGION_SUBTYPE_GFX_EDID = 1;
export const VFIO_DEVICE_GFX_LINK_STATE_UP = 1;
export const VFIO_DEVICE_GFX_LINK_STATE_DOWN = 2;
export const VFIO_REGION_SUBTYPE_CCW_ASYNC_CMD = 1;
export const VFIO_REGION_SUBTYPE_CCW_SCHIB = 2;
/** sub-types for VFIO_REGION_TYPE_MIGRATION */
export const VFIO_REGION_SUBTYPE_CCW_CRW = 3;
export const VFIO_REGION_SUBTYPE_MIGRATION_DEPRECATED = 1;
export const VFIO_DEVICE_STATE_V1_STOP = 0;
export const VFIO_DEVICE_STATE_V1_RUNNING = 1;
export const VFIO_DEVICE_STATE_V1_SAVING = 2;
export const VFIO_DEVICE_STATE_V1_RESUMING = 4;
export const VFIO_DEVICE_STATE_MASK = 7;
export const VFIO_REGION_INFO_CAP_MSIX_MAPPABLE = 3;
export const VFIO_REGION_INFO_CAP_NVLINK2_SSATGT = 4;
export const VFIO_REGION_INFO_CAP_NVLINK2_LNKSPD = 5;
export const VFIO_IRQ_INFO_EVENTFD = 1;
export const VFIO_IRQ_INFO_MASKABLE = 2;
export const VFIO_IRQ_INFO_AUTOMASKED = 4;
export const VFIO_IRQ_INFO_NORESIZE = 8;
/** Data not present */
export const VFIO_IRQ_SET_DATA_NONE = 1;
/** Data is bool (u8) */
export const VFIO_IRQ_SET_DATA_BOOL = 2;
/** Data is eventfd (s32) */
export const VFIO_IRQ_SET_DATA_EVENTFD = 4;
/** Mask interrupt */
export const VFIO_IRQ_SET_ACTION_MASK = 8;
/** Unmask interrupt */
export const VFIO_IRQ_SET_ACTION_UNMASK = 0x10;
/** Trigger interrupt */
export const VFIO_IRQ_SET_ACTION_TRIGGER = 0x20;
export const VFIO_IRQ_SET_DATA_TYPE_MASK = 7;
export const VFIO_IRQ_SET_ACTION_TYPE_MASK = 0x38;
export const VFIO_GFX_PLANE_TYPE_PROBE = 1;
export const VFIO_GFX_PLANE_TYPE_DMABUF = 2;
/** in */
export const VFIO_GFX_PLANE_TYPE_REGION = 4;
/** 1-byte write */
export const VFIO_DEVICE_IOEVENTFD_8 = 1;
/** 2-byte write */
export const VFIO_DEVICE_IOEVENTFD_16 = 2;
/** 4-byte write */
export const VFIO_DEVICE_IOEVENTFD_32 = 4;
/** 8-byte write */
export const VFIO_DEVICE_IOEVENTFD_64 = 8;
export const VFIO_DEVICE_IOEVENTFD_SIZE_MASK = 0xf;
/** 16-bit feature index */
export const VFIO_DEVICE_FEATURE_MASK = 0xffff;
/** Get feature into data[] */
export const VFIO_DEVICE_FEATURE_GET = 0x10000;
/** Set feature from data[] */
export const VFIO_DEVICE_FEATURE_SET = 0x20000;
/** Probe feature support */
export const VFIO_DEVICE_FEATURE_PROBE = 0x40000;
export const VFIO_DEVICE_FEATURE_PCI_VF_TOKEN = 0;
export const VFIO_MIGRATION_STOP_COPY = 1;
export const VFIO_MIGRATION_P2P = 2;
export const VFIO_DEVICE_FEATURE_MIGRATION = 1;
export const VFIO_DEVICE_FEATURE_MIG_DEVICE_STATE = 2;
export const VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY = 3;
export const VFIO_DEVICE_FEATURE_LOW_POWER_ENTRY_WITH_WAKEUP = 4;
export const VFIO_DEVICE_FEATURE_LOW_POWER_EXIT = 5;
export const VFIO_DEVICE_FEATURE_DMA_LOGGING_START = 6;
export const VFIO_DEVICE_FEATURE_DMA_LOGGING_STOP = 7;
/** -------- API for Type1 VFIO IOMMU -------- */
export const VFIO_DEVICE_FEATURE_DMA_LOGGING_REPORT = 8;
/** supported page sizes info */
export const VFIO_IOMMU_INFO_PGSIZES = 1;
/** Info supports caps */
export const VFIO_IOMMU_INFO_CAPS = 2;
export const VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE = 1;
export const VFIO_IOMMU_TYPE1_INFO_CAP_MIGRATION = 2;
export const VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL = 3;
/** readable from device */
export const VFIO_DMA_MAP_FLAG_READ = 1;
/** writable from device */
export const VFIO_DMA_MAP_FLAG_WRITE = 2;
export const VFIO_DMA_MAP_FLAG_VADDR = 4;
export const VFIO_DMA_UNMAP_FLAG_GET_DIRTY_BITMAP = 1;
export const VFIO_DMA_UNMAP_FLAG_ALL = 2;
export const VFIO_DMA_UNMAP_FLAG_VADDR = 4;
export const VFIO_IOMMU_DIRTY_PAGES_FLAG_START = 1;
export const VFIO_IOMMU_DIRTY_PAGES_FLAG_STOP = 2;
export const VFIO_IOMMU_DIRTY_PAGES_FLAG_GET_BITMAP = 4;
/** DDW supported */
export const VFIO_IOMMU_SPAPR_INFO_DDW = 1;
/** Disable EEH functionality */
export const VFIO_EEH_PE_DISABLE = 0;
/** Enable EEH functionality */
export const VFIO_EEH_PE_ENABLE = 1;
/** Enable IO for frozen PE */
export const VFIO_EEH_PE_UNFREEZE_IO = 2;
/** Enable DMA for frozen PE */
export const VFIO_EEH_PE_UNFREEZE_DMA = 3;
/** PE state retrieval */
export const VFIO_EEH_PE_GET_STATE = 4;
/** PE in functional state */
export const VFIO_EEH_PE_STATE_NORMAL = 0;
/** PE reset in progress */
export const VFIO_EEH_PE_STATE_RESET = 1;
/** Stopped DMA and IO */
export const VFIO_EEH_PE_STATE_STOPPED = 2;
/** Stopped DMA only */
export const VFIO_EEH_PE_STATE_STOPPED_DMA = 4;
/** State unavailable */
export const VFIO_EEH_PE_STATE_UNAVAIL = 5;
/** Deassert PE reset */
export const VFIO_EEH_PE_RESET_DEACTIVATE = 5;
/** Assert hot reset */
export const VFIO_EEH_PE_RESET_HOT = 6;
/** Assert fundamental reset */
export const VFIO_EEH_PE_RESET_FUNDAMENTAL = 7;
/** PE configuration */
export const VFIO_EEH_PE_CONFIGURE = 8;
/** Inject EEH error */
export const VFIO_EEH_PE_INJECT_ERR = 9;
