// PciSource: what the admin CLI needs to know about a host's PCI functions, whichever host it is (sysfs or sim).

import type { Bdf } from '../../shared/bdf.js';

/**
 * One line of sysfs `resource` (Linux drivers/pci/pci-sysfs.c resource_show): start and end bus
 * addresses (inclusive) and the kernel's IORESOURCE_* flags. Index 0..5 BARs, 6 the ROM, then
 * (bridges) IOV BARs and the bridge windows. An unused line is all zeros.
 */
export interface PciResource {
  start: bigint;
  end: bigint;
  flags: bigint;
}

/**
 * Everything rawpci shows about one PCI function. Numbers are the raw register values;
 * `config` is the readable prefix of config space (64 bytes for non-root on real sysfs, 256 or
 * 4096 for root or fake trees; 0 when unreadable).
 */
export interface PciDeviceRecord {
  bdf: Bdf;
  /** Vendor and device IDs (sysfs `vendor`, `device`, the kernel's view). */
  vendor: number;
  device: number;
  /** 24-bit class code: base << 16 | sub << 8 | prog-if (sysfs `class`). */
  classCode: number;
  /** Revision ID from sysfs `revision`; undefined: take config byte PCI_REVISION_ID. */
  revision?: number;
  /** Subsystem IDs from sysfs `subsystem_vendor`/`subsystem_device`; undefined: from config. */
  subsystemVendor?: number;
  subsystemDevice?: number;
  /** The IRQ the kernel routed (sysfs `irq`). */
  irq: number;
  /** sysfs `resource` lines; undefined: BARs come from config space only. */
  resources?: PciResource[];
  /** BAR and ROM sizes in bytes when there are no `resources` (index 0..5, 6 ROM). */
  sizes?: bigint[];
  config: Uint8Array;
  /** Name of the bound driver (basename of the `driver` link). */
  driver?: string;
  /** IOMMU group name (basename of the `iommu_group` link). */
  iommuGroup?: string;
  /** Content of `driver_override`, undefined when empty or `(null)`. */
  driverOverride?: string;
  /** sysfs `numa_node`; -1 or undefined: none. */
  numaNode?: number;
  /** sysfs `label` (firmware device name), raw as read (ends in a newline). */
  label?: string;
  /** Physical slot name (sysfs slots/NAME/address matching this device). */
  physSlot?: string;
  /** sysfs `modalias` (for `Kernel modules:`). */
  modalias?: string;
}

/**
 * A host's PCI functions: the sysfs implementation reads a /sys tree, the sim implementation the
 * simulated host's inventory. Errors are thrown as Error with a message naming the cause and fix.
 */
export interface PciSource {
  /** `sysfs` or `sim`. */
  readonly kind: 'sysfs' | 'sim';
  /** Human description (e.g. `sysfs at /sys`). */
  readonly description: string;
  /** Every function, sorted by domain, bus, device, function (lspci's order). */
  list(): Promise<PciDeviceRecord[]>;
  /** One function, or undefined when there is none at `bdf`. */
  get(bdf: Bdf): Promise<PciDeviceRecord | undefined>;
}

/** Sorts records the way lspci does (compare_them: domain, bus, device, function). */
export function sortRecords(records: PciDeviceRecord[]): PciDeviceRecord[] {
  return records.sort((a, b) => a.bdf.domain - b.bdf.domain || a.bdf.bus - b.bdf.bus || a.bdf.device - b.bdf.device || a.bdf.fn - b.bdf.fn);
}
