// The MSI capability as registers (PCI Local Bus spec 3.0, 6.8.1): one view for the simulated devices and PciFront's virtual MSI; the register layout itself comes from shared/msi-layout.ts.

import { PCI_MSI_ADDRESS_HI, PCI_MSI_ADDRESS_LO, PCI_MSI_FLAGS, PCI_MSI_FLAGS_ENABLE, PCI_MSI_FLAGS_QSIZE } from '../linux/pci-regs.js';
import { msiLayout } from '../msi-layout.js';
import type { PciConfigRegisters } from './config-registers.js';

/** A message a function sends (6.8): a memory write of `data` (32 bits) to bus address `address` (64 bits). */
export interface MsiMessage {
  address: bigint;
  data: number;
}

/**
 * A live view of the MSI capability at byte `offset` of `regs`. The layout (64-bit address,
 * per-vector masking, Multiple Message Capable) is read once from Message Control, whose
 * capability bits are read-only; everything else is read when asked. Offsets are bytes in
 * config space; vectors are 0..31.
 */
export class MsiCapability {
  /** Config offset of the capability. */
  readonly offset: number;
  /** 64-bit message address (PCI_MSI_FLAGS_64BIT). */
  readonly is64: boolean;
  /** Per-vector masking (PCI_MSI_FLAGS_MASKBIT): Mask and Pending registers present. */
  readonly perVectorMask: boolean;
  /** Vectors the function can request: 1, 2, 4 ... 32 (Multiple Message Capable). */
  readonly vectorsCapable: number;
  /** Capability size in bytes: 10, 14, 20 or 24. */
  readonly length: number;
  /** Config offsets of Message Data, Mask Bits and Pending Bits (the last two only with per-vector masking). */
  readonly dataOffset: number;
  readonly maskOffset: number;
  readonly pendingOffset: number;
  readonly #regs: PciConfigRegisters;

  constructor(regs: PciConfigRegisters, offset: number) {
    this.#regs = regs;
    this.offset = offset;
    const layout = msiLayout(regs.get16(offset + PCI_MSI_FLAGS));
    this.is64 = layout.is64;
    this.perVectorMask = layout.perVectorMask;
    this.vectorsCapable = layout.vectorsCapable;
    this.length = layout.length;
    this.dataOffset = offset + layout.data;
    this.maskOffset = offset + layout.mask;
    this.pendingOffset = offset + layout.pending;
  }

  /**
   * Declares what a guest may write (6.8.1.3..6.8.1.7): MSI Enable and Multiple Message Enable,
   * the address (dword aligned; the high dword with a 64-bit address), the 16-bit data and,
   * with per-vector masking, the mask bits of the capable vectors. Pending bits stay read-only.
   */
  declareWritable(): void {
    const r = this.#regs;
    r.setWritable(this.offset + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
    r.setWritable(this.offset + PCI_MSI_ADDRESS_LO, 4, 0xffff_fffc);
    if (this.is64) r.setWritable(this.offset + PCI_MSI_ADDRESS_HI, 4, 0xffff_ffff);
    r.setWritable(this.dataOffset, 2, 0xffff);
    if (this.perVectorMask) r.setWritable(this.maskOffset, 4, this.vectorsCapable === 32 ? 0xffff_ffff : (1 << this.vectorsCapable) - 1);
  }

  /** Whether config byte `offset` is inside the capability. */
  contains(offset: number): boolean {
    return offset >= this.offset && offset < this.offset + this.length;
  }

  /** Message Control (PCI_MSI_FLAGS) as programmed. */
  get flags(): number {
    return this.#regs.get16(this.offset + PCI_MSI_FLAGS);
  }

  /** MSI Enable. */
  get enabled(): boolean {
    return (this.flags & PCI_MSI_FLAGS_ENABLE) !== 0;
  }

  /** Vectors software enabled (Multiple Message Enable, decoded; a value above the capable count counts as the capable count). */
  get vectorsEnabled(): number {
    return Math.min(msiLayout(this.flags).vectorsEnabled, this.vectorsCapable);
  }

  /** Message address (bus address); the high dword only with a 64-bit address. */
  get address(): bigint {
    const lo = BigInt(this.#regs.get32(this.offset + PCI_MSI_ADDRESS_LO));
    const hi = this.is64 ? BigInt(this.#regs.get32(this.offset + PCI_MSI_ADDRESS_HI)) : 0n;
    return (hi << 32n) | lo;
  }

  /** Message Data (16 bits). */
  get data(): number {
    return this.#regs.get16(this.dataOffset);
  }

  /** Mask bits (bit v masks vector v); 0 without per-vector masking. */
  get mask(): number {
    return this.perVectorMask ? this.#regs.get32(this.maskOffset) : 0;
  }

  /** Pending bits (set by the function for a masked vector); 0 without per-vector masking. */
  get pending(): number {
    return this.perVectorMask ? this.#regs.get32(this.pendingOffset) : 0;
  }

  /** Sets or clears vector `vector`'s pending bit (a no-op without per-vector masking). */
  setPending(vector: number, on: boolean): void {
    if (!this.perVectorMask) return;
    const bit = (1 << vector) >>> 0;
    const p = this.pending;
    this.#regs.set32(this.pendingOffset, on ? p | bit : p & ~bit);
  }

  /** After a guest write: Multiple Message Enable above Multiple Message Capable is written back as the capable count (6.8.1.3). */
  clampVectorsEnabled(): void {
    const f = this.flags;
    const capLog2 = Math.log2(this.vectorsCapable);
    if ((f & PCI_MSI_FLAGS_QSIZE) >>> 4 > capLog2) this.#regs.set16(this.offset + PCI_MSI_FLAGS, (f & ~PCI_MSI_FLAGS_QSIZE) | (capLog2 << 4));
  }

  /** The message of vector `vector`: the address, and the data with its low log2(vectorsEnabled) bits replaced by the vector (6.8.1.6). */
  message(vector: number): MsiMessage {
    return { address: this.address, data: ((this.data & ~(this.vectorsEnabled - 1)) | vector) & 0xffff };
  }
}
