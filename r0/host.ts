// The seam between ring 0's dispatcher and a host: the simulated host (fake hardware) or Linux VFIO (real devices).
//
// After cloud-hypervisor's vfio.rs: the dispatcher needs only region access, config access, IRQ
// and DMA primitives from a host; every policy (bounds checks, ownership, power states, IOMMU
// domain, IRQ queueing) lives in the dispatcher so both hosts get it alike.

import type { Bdf } from '../shared/bdf.js';
import type { PciFunctionAccess } from '../shared/pci/function-access.js';
import type { PciRegionKind } from '../shared/pci/region.js';

/** One region of a host device (PCI Local Bus spec 3.0, 6.2.5). */
export interface HostRegion {
  /** 0..5 BARs, 6 expansion ROM. */
  index: number;
  kind: PciRegionKind;
  /** Host physical address (memory) or first port (I/O). */
  start: bigint;
  /** Bytes (ports for I/O). */
  size: bigint;
  prefetchable: boolean;
  /** Whether MAP_REGION can give ring 3 a direct view. */
  mappable: boolean;
}

/** What a host knows about one of its devices without opening it. */
export interface HostDeviceInfo {
  bdf: Bdf;
  /** Host driver bound now (null = none). */
  driver: string | null;
  /** IOMMU group number (null = no IOMMU). */
  iommuGroup: number | null;
  /** Vendor and device IDs. */
  vendor: number;
  device: number;
  /** 24-bit class code (base << 16 | sub << 8 | prog-if). */
  classCode: number;
  /** Host IRQ (INTx line) number, 0 when none. */
  irq: number;
  /** Model name (simulated host) or kernel driver (VFIO), for messages. */
  description: string;
}

/** Services ring 0 gives an open host device (its IRQ and DMA paths run through ring 0's policy). */
export interface HostDeviceEvents {
  /** The device's INTx line changed level. */
  intx(asserted: boolean): void;
  /** The device sent an MSI or MSI-X message. */
  msi(kind: 'msi' | 'msix', vector: number, address: bigint, data: number): void;
  /** DMA read through the VM's IOMMU domain (false: fault, nothing read). */
  dmaRead(iova: bigint, dest: Uint8Array): boolean;
  /** DMA write through the VM's IOMMU domain (false: fault, nothing written). */
  dmaWrite(iova: bigint, src: Uint8Array): boolean;
  /** Device-time timer (frozen while suspended, dropped on reset). Returns a cancel function. */
  schedule(delayMs: number, cb: () => void): () => void;
  /** A log line about the device. */
  log(msg: string): void;
  /**
   * A DMA fault the host IOMMU reported (VFIO: the kernel's DMAR fault record for this device):
   * nothing was transferred; ring 0 records it and reports a FAULT event to ring 3.
   */
  iommuFault?(iova: bigint, write: boolean, reason: string): void;
}

/**
 * A region ring 3 maps itself: mmap(2) MAP_SHARED of `size` bytes of the file descriptor `fd`
 * at file offset `offset` (VFIO: the device fd and the region's offset). Ring 0 and ring 3 are
 * threads of one process, so the descriptor number is valid in ring 3 as it is. The host keeps
 * `fd` open until the device is closed, which ring 0 does only after the region is unmapped.
 */
export interface HostFdMapping {
  fd: number;
  offset: bigint;
  /** Bytes, a multiple of the page size. */
  size: number;
}

/**
 * An open host device. Accesses arrive already checked by the dispatcher (region, bounds,
 * width); each returns false when the host itself failed (the dispatcher answers
 * VERR_DEV_IO_ERROR). Data is little-endian, `data.length` bytes wide.
 */
export interface HostDevice extends PciFunctionAccess {
  readonly info: HostDeviceInfo;
  /** Config space size in bytes (256 or 4096). */
  readonly configSize: number;
  /** Present regions. */
  regions(): readonly HostRegion[];
  /**
   * What MAP_REGION hands ring 3 for the region: a SharedArrayBuffer onto its memory (simulated
   * host), a {@link HostFdMapping} that ring 3 mmaps itself (VFIO), or undefined when the region
   * must be trapped.
   */
  mapRegion(region: number): SharedArrayBuffer | HostFdMapping | undefined;
  /** INTx acknowledged by ring 3 (VFIO: unmask). */
  ackIntx?(): void;
  /** Function-level reset, then the host restores the BARs (as Linux does after FLR). */
  reset(): boolean;
  /** Releases the device (the dispatcher has already quiesced it). */
  close(): void;
}

/** A failure with a VBox status and a message that names the cause and the fix. */
export interface HostFailure {
  rc: number;
  msg: string;
}

/** One IOVA range of a VM's IOMMU domain (bytes): bus address `iova` -> guest RAM byte `ramOffset`. */
export interface HostDmaMapping {
  iova: bigint;
  ramOffset: bigint;
  size: bigint;
}

/**
 * A host whose devices DMA through a real IOMMU (VFIO) mirrors each VM domain there. Ring 0
 * calls `sync` after every CONTIG_MEM_INFO and with an empty list at DEINIT_VM and session end;
 * the host makes its IOMMU map exactly `mappings` of `ram` for `domain` (VFIO_IOMMU_MAP_DMA /
 * UNMAP_DMA), or returns a failure (memlock limit, unaligned guest RAM, overlap with another
 * VM) after which ring 0 undoes its own change.
 */
export interface HostDmaHooks {
  sync(domain: number, ram: Uint8Array, mappings: readonly HostDmaMapping[]): HostFailure | undefined;
}

/** A host: the simulated one or VFIO. */
export interface PciHostBackend {
  readonly kind: 'sim' | 'vfio';
  /** Every device of the host. */
  devices(): HostDeviceInfo[];
  /** One device, or undefined. */
  find(bdf: Bdf): HostDeviceInfo | undefined;
  /** Whether the device may be assigned at all (host bridges and PCI bridges may not). */
  assignable(info: HostDeviceInfo): HostFailure | undefined;
  /** Detaches the host driver (DETACH_HOST_DRIVER). Returns the driver it detached. */
  detachDriver(info: HostDeviceInfo): string | null | HostFailure;
  /** Rebinds `driver` after close. */
  rebindDriver(info: HostDeviceInfo, driver: string | null): void;
  /** Opens the device for a VM. */
  open(info: HostDeviceInfo, events: HostDeviceEvents): HostDevice | HostFailure;
  /** Present when DMA goes through a real IOMMU the host must program (VFIO). */
  readonly dma?: HostDmaHooks;
  /**
   * Collects what the host's devices signalled since the last call (VFIO: eventfds of INTx and
   * MSI, kernel IOMMU fault records) and delivers it through their HostDeviceEvents. Returns the
   * milliseconds until it wants to be called again (Infinity: nothing armed). Called by ring 0's
   * serve loop between requests and at each wake.
   */
  poll?(now: number): number;
}

/** Type guard for {@link HostFailure}. */
export function isHostFailure(v: unknown): v is HostFailure {
  return typeof v === 'object' && v !== null && 'rc' in v && 'msg' in v && typeof (v as HostFailure).rc === 'number';
}
