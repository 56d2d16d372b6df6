// Virtual MSI and MSI-X of a projected device: the capability registers the guest programs in PciFront's config copy, and the MSI-X table and PBA emulated in ring 3 (PCI Local Bus spec 3.0, 6.8).
//
// The guest's message addresses and data never reach the host device. Ring 3 programs the host
// capability with its own message (one address, data = vector) only to learn *which vector*
// fired; each host event is then translated to the message the guest programmed for that
// vector, after the guest's own masks (per-vector and function mask) and pending bits.
// The register logic is the shared one (shared/pci/msi.ts, shared/pci/msix.ts); these classes
// add what projection needs: the guest state reset on attach and where the table sits.

import {
  PCI_CAP_MSIX_SIZEOF,
  PCI_MSI_ADDRESS_LO,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_ENABLE,
  PCI_MSI_FLAGS_QSIZE,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
} from '../../shared/linux/pci-regs.js';
import type { PciConfigRegisters } from '../../shared/pci/config-registers.js';
import { MsiCapability } from '../../shared/pci/msi.js';
import { declareMsixWritable, MsixTable, readMsixCapability } from '../../shared/pci/msix.js';

/**
 * The MSI capability (6.8.1) as the guest sees it, in the virtual config copy: Message Control's
 * Enable and Multiple Message Enable, the address, the data and (with per-vector masking) the
 * mask bits are writable; pending bits are read-only and set by PciFront.
 */
export class VirtualMsi extends MsiCapability {
  /** Message Control as the host device reports it (for programming the host). */
  readonly hostFlags: number;

  /** Reads the capability at `offset` of `regs` (the host's snapshot), resets its guest state (disabled, registers 0) and declares its writable bits. */
  constructor(regs: PciConfigRegisters, offset: number) {
    super(regs, offset);
    this.hostFlags = regs.get16(offset + PCI_MSI_FLAGS);
    regs.set16(offset + PCI_MSI_FLAGS, this.hostFlags & ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE));
    for (let o = offset + PCI_MSI_ADDRESS_LO; o < offset + this.length; o++) regs.set8(o, 0);
    this.declareWritable();
  }
}

/**
 * The MSI-X capability (6.8.2) and its table and PBA, emulated: Message Control's Enable and
 * Function Mask are writable in the virtual config copy; the table (entries start masked) and
 * the PBA answer the guest's accesses inside the BAR that holds them ({@link MsixTable}).
 */
export class VirtualMsix extends MsixTable {
  /** Config offset of the capability. */
  readonly offset: number;
  readonly tableBir: number;
  /** Byte offset of the table in BAR {@link tableBir}. */
  readonly tableOffset: number;
  readonly pbaBir: number;
  /** Byte offset of the PBA in BAR {@link pbaBir}. */
  readonly pbaOffset: number;
  readonly #regs: PciConfigRegisters;

  /** Reads the capability at `offset` of `regs` (the host's snapshot), resets its guest state (disabled, unmasked) and declares its writable bits. */
  constructor(regs: PciConfigRegisters, offset: number) {
    const cap = readMsixCapability(regs.reader, offset);
    super(cap.tableSize);
    this.#regs = regs;
    this.offset = offset;
    this.tableBir = cap.tableBir;
    this.tableOffset = cap.tableOffset;
    this.pbaBir = cap.pbaBir;
    this.pbaOffset = cap.pbaOffset;
    regs.set16(offset + PCI_MSIX_FLAGS, regs.get16(offset + PCI_MSIX_FLAGS) & ~(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL));
    declareMsixWritable(regs, offset);
  }

  /** Whether config byte `offset` is inside the capability. */
  contains(offset: number): boolean {
    return offset >= this.offset && offset < this.offset + PCI_CAP_MSIX_SIZEOF;
  }

  /** MSI-X Enable. */
  get enabled(): boolean {
    return (this.#regs.get16(this.offset + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_ENABLE) !== 0;
  }

  /** Function Mask: every vector masked. */
  get functionMasked(): boolean {
    return (this.#regs.get16(this.offset + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_MASKALL) !== 0;
  }

  /** Whether `[offset, offset + cb)` of BAR `bar` touches the table. */
  inTable(bar: number, offset: number, cb: number): boolean {
    return bar === this.tableBir && offset < this.tableOffset + this.tableBytes && offset + cb > this.tableOffset;
  }

  /** Whether `[offset, offset + cb)` of BAR `bar` touches the PBA. */
  inPba(bar: number, offset: number, cb: number): boolean {
    return bar === this.pbaBir && offset < this.pbaOffset + this.pbaBytes && offset + cb > this.pbaOffset;
  }
}
