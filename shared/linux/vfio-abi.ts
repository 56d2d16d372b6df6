// VFIO ioctl numbers, enum indices and struct layouts (linux/vfio.h, x86_64): constants only, no logic.
//
// The ioctls are `_IO(VFIO_TYPE, VFIO_BASE + n)` with VFIO_TYPE ';' (0x3b) and VFIO_BASE 100,
// i.e. `(0x3b << 8) | (100 + n)`. The plain `#define` constants of vfio.h (flags, VFIO_BASE) are
// in ./vfio-consts.ts, generated from the header; what the generator cannot see (the `_IO`
// macros, anonymous enums, struct offsets) is written out here with the header's spelling.

/** ioctl type of VFIO (vfio.h VFIO_TYPE, the character ';'). */
export const VFIO_TYPE = 0x3b;

/** Container ioctls (on /dev/vfio/vfio). */
export const VFIO_GET_API_VERSION = 0x3b64;
export const VFIO_CHECK_EXTENSION = 0x3b65;
export const VFIO_SET_IOMMU = 0x3b66;
/** Group ioctls (on /dev/vfio/N). */
export const VFIO_GROUP_GET_STATUS = 0x3b67;
export const VFIO_GROUP_SET_CONTAINER = 0x3b68;
export const VFIO_GROUP_UNSET_CONTAINER = 0x3b69;
export const VFIO_GROUP_GET_DEVICE_FD = 0x3b6a;
/** Device ioctls (on the device fd). */
export const VFIO_DEVICE_GET_INFO = 0x3b6b;
export const VFIO_DEVICE_GET_REGION_INFO = 0x3b6c;
export const VFIO_DEVICE_GET_IRQ_INFO = 0x3b6d;
export const VFIO_DEVICE_SET_IRQS = 0x3b6e;
export const VFIO_DEVICE_RESET = 0x3b6f;
/** Type1 IOMMU ioctls (on the container, once VFIO_SET_IOMMU succeeded). */
export const VFIO_IOMMU_GET_INFO = 0x3b70;
export const VFIO_IOMMU_MAP_DMA = 0x3b71;
export const VFIO_IOMMU_UNMAP_DMA = 0x3b72;

/** Region indices of a vfio-pci device (vfio.h, anonymous enum). */
export const VFIO_PCI_BAR0_REGION_INDEX = 0;
export const VFIO_PCI_BAR5_REGION_INDEX = 5;
export const VFIO_PCI_ROM_REGION_INDEX = 6;
export const VFIO_PCI_CONFIG_REGION_INDEX = 7;
export const VFIO_PCI_VGA_REGION_INDEX = 8;

/** IRQ indices of a vfio-pci device (vfio.h, anonymous enum). */
export const VFIO_PCI_INTX_IRQ_INDEX = 0;
export const VFIO_PCI_MSI_IRQ_INDEX = 1;
export const VFIO_PCI_MSIX_IRQ_INDEX = 2;
export const VFIO_PCI_ERR_IRQ_INDEX = 3;
export const VFIO_PCI_REQ_IRQ_INDEX = 4;

/** struct vfio_group_status { u32 argsz; u32 flags; } */
export const VFIO_GROUP_STATUS = { SIZE: 8, argsz: 0, flags: 4 } as const;

/** struct vfio_device_info, up to num_irqs (the kernel's minsz). */
export const VFIO_DEVICE_INFO = { SIZE: 16, argsz: 0, flags: 4, num_regions: 8, num_irqs: 12 } as const;

/** struct vfio_region_info { u32 argsz, flags, index, cap_offset; u64 size, offset; } */
/** The v2 type1 IOMMU model (vfio.h VFIO_TYPE1v2_IOMMU; the other plain defines are in ./vfio-consts.ts). */
export const VFIO_TYPE1v2_IOMMU = 3;

export const VFIO_REGION_INFO = { SIZE: 32, argsz: 0, flags: 4, index: 8, cap_offset: 12, size: 16, offset: 24 } as const;

/** struct vfio_irq_info { u32 argsz, flags, index, count; } */
export const VFIO_IRQ_INFO = { SIZE: 16, argsz: 0, flags: 4, index: 8, count: 12 } as const;

/** struct vfio_irq_set { u32 argsz, flags, index, start, count; u8 data[]; } (eventfds: s32 each). */
export const VFIO_IRQ_SET = { SIZE: 20, argsz: 0, flags: 4, index: 8, start: 12, count: 16, data: 20 } as const;

/** struct vfio_iommu_type1_dma_map { u32 argsz, flags; u64 vaddr, iova, size; } */
export const VFIO_IOMMU_TYPE1_DMA_MAP = { SIZE: 32, argsz: 0, flags: 4, vaddr: 8, iova: 16, size: 24 } as const;

/** struct vfio_iommu_type1_dma_unmap { u32 argsz, flags; u64 iova, size; } */
export const VFIO_IOMMU_TYPE1_DMA_UNMAP = { SIZE: 24, argsz: 0, flags: 4, iova: 8, size: 16 } as const;

/** fcntl.h / eventfd.h values used with the VFIO fds (x86_64). */
export const O_RDONLY = 0;
export const O_RDWR = 2;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const EFD_NONBLOCK = 0o4000;
export const EFD_CLOEXEC = 0o2000000;
export const SEEK_END = 2;

/** errno values named in VFIO failure messages (asm-generic/errno-base.h). */
export const EPERM = 1;
export const ENOENT = 2;
export const EAGAIN = 11;
export const ENOMEM = 12;
export const EACCES = 13;
export const EBUSY = 16;
export const ENODEV = 19;
export const EINVAL = 22;
export const ENOTTY = 25;
export const ENOSPC = 28;
