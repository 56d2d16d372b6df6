// QEMU 7.2 edu's register map and identity (docs/edu.md): constants only, shared by the simulated model and ring-3 drivers.

/** edu's identity (edu spec, Identity). */
export const EDU_VENDOR_ID = 0x1234;
export const EDU_DEVICE_ID = 0x11e8;
export const EDU_REVISION = 0x10;
/** Class code 0x00ff00: unclassified device [00ff]. */
export const EDU_CLASS_CODE = 0x00_ff00;
export const EDU_SUBSYSTEM_VENDOR_ID = 0x1af4;
export const EDU_SUBSYSTEM_ID = 0x1100;
/** BAR0 size in bytes: 1 MiB, 32-bit non-prefetchable memory. */
export const EDU_BAR0_SIZE = 0x10_0000;
/** Config offset of edu's only capability, MSI (1 vector, 64-bit, no per-vector masking). */
export const EDU_MSI_CAP_OFFSET = 0x40;
/** Default DMA mask (QEMU 7.2's `dma_mask` property): 28 bits; RAM addresses are ANDed with it. */
export const EDU_DEFAULT_DMA_MASK = 0x0fff_ffff;
/** Device address of the DMA buffer and its size in bytes. */
export const EDU_DMA_START = 0x4_0000;
export const EDU_DMA_SIZE = 0x1000;

/** BAR0 register offsets in bytes (edu spec, register table). */
export const EDU_REG = {
  /** RO 32: identification, reads {@link EDU_ID_VALUE}. */
  ID: 0x00,
  /** RW 32: stores the bitwise NOT of what is written. */
  LIVENESS: 0x04,
  /** RW 32: write N to compute N! (mod 2^32) asynchronously. */
  FACTORIAL: 0x08,
  /** RW 32: bit 0 COMPUTING (RO), bit 7 IRQFACT. */
  STATUS: 0x20,
  /** RO 32: pending interrupt causes. */
  IRQ_STATUS: 0x24,
  /** WO 32: irq_status |= V and signal. */
  IRQ_RAISE: 0x60,
  /** WO 32: irq_status &= ~V. */
  IRQ_ACK: 0x64,
  /** RW 32/64: DMA source address. */
  DMA_SRC: 0x80,
  /** RW 32/64: DMA destination address. */
  DMA_DST: 0x88,
  /** RW 32/64: DMA transfer count in bytes. */
  DMA_COUNT: 0x90,
  /** RW 32/64: DMA command. */
  DMA_CMD: 0x98,
} as const;

/** What the identification register reads: 0xRRrr00ed, major 1, minor 0. */
export const EDU_ID_VALUE = 0x0100_00ed;
/** Status bit 0: a factorial is being computed (read-only). */
export const EDU_STATUS_COMPUTING = 0x01;
/** Status bit 7: raise cause {@link EDU_IRQ_FACT} when a factorial completes. */
export const EDU_STATUS_IRQFACT = 0x80;
/** Interrupt cause: factorial done. */
export const EDU_IRQ_FACT = 0x0000_0001;
/** Interrupt cause: DMA done. */
export const EDU_IRQ_DMA = 0x0000_0100;
/** DMA command bit 0: start / running. */
export const EDU_DMA_RUN = 0x1;
/** DMA command bit 1: direction, 0 RAM to device buffer, 1 device buffer to RAM. */
export const EDU_DMA_DIR_TO_RAM = 0x2;
/** DMA command bit 2: raise cause {@link EDU_IRQ_DMA} on completion. */
export const EDU_DMA_IRQ = 0x4;
