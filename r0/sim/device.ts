// The public device-model interface of the simulated host, shaped like Palacios' vmm_host_dev.h hooks.
//
// Palacios splits a host device into hooks the VMM calls (open, close, read/write I/O, memory and
// config, ack_irq) and services the host gives the device (raise/lower IRQ, read/write guest
// memory). rawpci keeps that split: a `SimDeviceModel` is the hooks, a `SimDeviceHost` the
// services. Ring 0 has already checked every access against the device's regions before a hook
// runs, so a hook sees a region index, a byte offset inside it and a width it declared valid.
// Reads and writes succeed whole or fail whole: a hook returns false and nothing happened.

import type { PciFunctionAccess } from '../../shared/pci/function-access.js';
import type { PciBarKind } from '../../shared/pci/region.js';

/** The BAR kinds a simulated device declares (a below-1-MiB `mem24` BAR is not modelled). */
export type SimBarKind = Exclude<PciBarKind, 'mem24'>;

/**
 * One region (BAR or expansion ROM) of a simulated device. Sizes are powers of two, in bytes
 * (ports for I/O), at least 4 for I/O, 16 for memory and 2048 for a ROM (6.2.5.1, 6.2.5.2).
 */
export interface SimRegion {
  /** Region index: 0..5 for BARs (a 64-bit BAR takes index and index + 1), 6 for the ROM. */
  index: number;
  kind: SimBarKind | 'rom';
  /** Size in bytes (ports for I/O). */
  size: number;
  /** Prefetchable memory (PCI_BASE_ADDRESS_MEM_PREFETCH). */
  prefetchable?: boolean;
  /**
   * Backing memory that MAP_REGION may map straight into ring 3 (a SharedArrayBuffer of `size`
   * bytes). Absent: the region is trapped, every access goes through the model's hooks.
   */
  backing?: SharedArrayBuffer;
}

/** An MSI or MSI-X message the device sends (a posted memory write, PCI Local Bus spec 6.8). */
export interface SimMsiMessage {
  kind: 'msi' | 'msix';
  /** Vector number (MSI: 0..31, MSI-X: table entry). */
  vector: number;
  /** Message address (bus address). */
  address: bigint;
  /** Message data (16 bits for MSI, 32 for MSI-X). */
  data: number;
}

/**
 * Services ring 0 gives a device model (Palacios: v3_host_dev_raise_irq, v3_host_dev_lower_irq,
 * v3_host_dev_read_guest_mem, v3_host_dev_write_guest_mem), plus MSI, timers and logging.
 */
export interface SimDeviceHost {
  /** Asserts the device's INTx line (level-triggered; stays asserted until {@link lowerIrq}). */
  raiseIrq(): void;
  /** Deasserts the INTx line. */
  lowerIrq(): void;
  /**
   * Sends an MSI/MSI-X message. The model checks its own enable, mask and bus-master bits
   * first (a device with bus mastering off cannot write). Edge-triggered: one event per call.
   */
  sendMsi(msg: SimMsiMessage): void;
  /**
   * DMA read of guest memory at bus address `iova` into `dest`, through the VM's IOMMU domain.
   * Whole or nothing: false (and `dest` untouched) when any byte is unmapped, when the device
   * is not bus master, or the VM is suspended; the fault is reported to ring 3.
   */
  dmaRead(iova: bigint, dest: Uint8Array): boolean;
  /** DMA write of `src` to guest memory at `iova`; whole or nothing, like {@link dmaRead}. */
  dmaWrite(iova: bigint, src: Uint8Array): boolean;
  /**
   * Runs `callback` after `delayMs` milliseconds of device time. Timers stop while the VM is
   * suspended and are dropped by a reset. Returns a function that cancels the timer.
   */
  schedule(delayMs: number, callback: () => void): () => void;
  /** Logs a guest mistake or device event (LOG_GUEST_ERROR style); never throws. */
  log(message: string): void;
}

/**
 * A simulated PCI function (Palacios' v3_host_dev_hooks). Config hooks see the whole config
 * space; I/O and memory hooks see one region. `data.length` is the access width (1, 2, 4 or 8
 * bytes), little-endian.
 */
export interface SimDeviceModel extends PciFunctionAccess {
  /** Model name as the inventory names it, e.g. `'edu'`. */
  readonly model: string;
  /** Config space size in bytes: 256 (conventional) or 4096 (PCI Express). */
  readonly configSize: number;
  /** The device's regions (absent BARs are not listed). */
  regions(): readonly SimRegion[];
  /** Called once when a VM opens the device; `host` stays valid until {@link close}. */
  open(host: SimDeviceHost): void;
  /** Called once when the VM closes the device. */
  close(): void;
  /** Palacios ack_irq: the guest acknowledged an interrupt of this device. Optional. */
  ackIrq?(): void;
  /**
   * Function-level reset (FLR, PCIe base spec 6.6.2) and power cycle: config space and all
   * registers back to power-on values, pending timers dropped, INTx deasserted.
   */
  reset(): void;
}

/**
 * Creates a model instance. `options` is the inventory entry's `options` object (model specific,
 * may be empty). Registered by name in r0/sim/models/index.ts; users add their own with
 * `registerSimModel`.
 */
export type SimModelFactory = (options: Record<string, unknown>) => SimDeviceModel;
