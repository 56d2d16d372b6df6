// Where the registers of an MSI capability sit, from its Message Control word (PCI Local Bus spec 3.0, 6.8.1).

import {
  PCI_MSI_DATA_32,
  PCI_MSI_DATA_64,
  PCI_MSI_FLAGS_64BIT,
  PCI_MSI_FLAGS_ENABLE,
  PCI_MSI_FLAGS_MASKBIT,
  PCI_MSI_FLAGS_QMASK,
  PCI_MSI_FLAGS_QSIZE,
  PCI_MSI_MASK_32,
  PCI_MSI_MASK_64,
  PCI_MSI_PENDING_32,
  PCI_MSI_PENDING_64,
} from './linux/pci-regs.js';

/**
 * The layout an MSI capability's Message Control (PCI_MSI_FLAGS) implies. Offsets are bytes from
 * the capability's start; `length` is the capability's size in bytes (10, 14, 20 or 24).
 */
export interface MsiLayout {
  /** 64-bit message address (PCI_MSI_FLAGS_64BIT). */
  is64: boolean;
  /** Per-vector masking (PCI_MSI_FLAGS_MASKBIT): Mask and Pending registers present. */
  perVectorMask: boolean;
  /** MSI Enable. */
  enabled: boolean;
  /** Vectors the function can send (Multiple Message Capable, 1..32). */
  vectorsCapable: number;
  /** Vectors software enabled (Multiple Message Enable, as written: may exceed the capable count). */
  vectorsEnabled: number;
  /** Offset of Message Data (16 bits). */
  data: number;
  /** Offset of Mask Bits (only with perVectorMask). */
  mask: number;
  /** Offset of Pending Bits (only with perVectorMask). */
  pending: number;
  /** Capability size in bytes. */
  length: number;
}

/** Decodes Message Control `flags` (16 bits) into the capability's layout. */
export function msiLayout(flags: number): MsiLayout {
  const is64 = (flags & PCI_MSI_FLAGS_64BIT) !== 0;
  const perVectorMask = (flags & PCI_MSI_FLAGS_MASKBIT) !== 0;
  const data = is64 ? PCI_MSI_DATA_64 : PCI_MSI_DATA_32;
  const pending = is64 ? PCI_MSI_PENDING_64 : PCI_MSI_PENDING_32;
  return {
    is64,
    perVectorMask,
    enabled: (flags & PCI_MSI_FLAGS_ENABLE) !== 0,
    vectorsCapable: 1 << Math.min(5, (flags & PCI_MSI_FLAGS_QMASK) >>> 1),
    vectorsEnabled: 1 << Math.min(5, (flags & PCI_MSI_FLAGS_QSIZE) >>> 4),
    data,
    mask: is64 ? PCI_MSI_MASK_64 : PCI_MSI_MASK_32,
    pending,
    length: perVectorMask ? pending + 4 : data + 2,
  };
}
