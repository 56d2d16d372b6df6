// The one config-space register type: register bytes plus writable and write-1-to-clear masks with one merge for every guest write (cloud-hypervisor pci/src/configuration.rs PciConfiguration); used by the simulated devices and by PciFront's virtual copy.
//
// Concepts (PCI Local Bus spec 3.0, 6.1 and 6.2): config space is 256 bytes (conventional PCI)
// or 4096 (PCI Express), little-endian. Two byte masks parallel to the registers say what a
// guest write may change: `writable` bits take the written value, `w1c` bits are cleared by
// writing 1 (the status error bits, 6.2.3). Every guest write lands in one place:
// `reg = (reg & ~writable) | (value & writable)`, then `reg &= ~(value & w1c)`, byte by byte, so
// 1-, 2- and 4-byte accesses at any in-range offset behave alike. Read-only registers ignore
// writes (6.1). The owner (the device model, or PciFront building its copy) writes registers
// directly with the `set*` methods, which ignore the masks.

import { onesOf, readLe, writeLe } from '../le.js';
import { PCI_CFG_SPACE_EXP_SIZE, PCI_CFG_SPACE_SIZE } from '../linux/pci-regs.js';
import type { ConfigRead } from './capabilities.js';

/**
 * Config registers with their guest-write masks. Offsets and widths are in bytes; register
 * values are unsigned numbers. Guest accesses: {@link read}/{@link write} (1, 2 or 4 bytes) and
 * {@link readBytes}/{@link writeBytes}; owner accesses: `get*`/`set*` (no range check beyond the
 * DataView's RangeError) and the mask setters.
 */
export class PciConfigRegisters {
  /** Size in bytes: 256 (PCI_CFG_SPACE_SIZE) or 4096 (PCI_CFG_SPACE_EXP_SIZE). */
  readonly size: number;
  /** The register bytes (little-endian). Mutating it directly bypasses the masks. */
  readonly bytes: Uint8Array;
  /** {@link read} as a free-standing {@link ConfigRead}, for the capability walker and MSI-X decoding. */
  readonly reader: ConfigRead = (offset, width) => this.read(offset, width);
  readonly #view: DataView;
  readonly #writable: Uint8Array;
  readonly #w1c: Uint8Array;

  /** All registers 0 and read-only. Throws RangeError for a size other than 256 or 4096. */
  constructor(size: number = PCI_CFG_SPACE_SIZE) {
    if (size !== PCI_CFG_SPACE_SIZE && size !== PCI_CFG_SPACE_EXP_SIZE) {
      throw new RangeError(`config space size ${size} is invalid: use 256 (conventional PCI) or 4096 (PCI Express)`);
    }
    this.size = size;
    this.bytes = new Uint8Array(size);
    this.#view = new DataView(this.bytes.buffer);
    this.#writable = new Uint8Array(size);
    this.#w1c = new Uint8Array(size);
  }

  /** Whether `[offset, offset + width)` lies inside the space (integers, width > 0). */
  inRange(offset: number, width: number): boolean {
    return Number.isInteger(offset) && Number.isInteger(width) && width > 0 && offset >= 0 && offset + width <= this.size;
  }

  // ---- guest accesses ---------------------------------------------------------------------

  /**
   * Guest read of `width` (1, 2 or 4) bytes at byte `offset`, unsigned. Returns all-ones of the
   * width when the access is out of range or the width is bad (a master abort reads ~0).
   */
  read(offset: number, width: number): number {
    if (!this.inRange(offset, width) || (width !== 1 && width !== 2 && width !== 4)) return onesOf(width);
    return readLe(this.bytes, offset, width);
  }

  /**
   * Guest write of `value` (`width` 1, 2 or 4 bytes) at `offset`, merged through the masks.
   * Returns false (nothing written) when out of range or the width is bad.
   */
  write(offset: number, width: number, value: number): boolean {
    if (!this.inRange(offset, width) || (width !== 1 && width !== 2 && width !== 4)) return false;
    for (let i = 0; i < width; i++) this.#merge(offset + i, (value >>> (8 * i)) & 0xff);
    return true;
  }

  /** Guest read of `data.length` bytes at `offset`; false (data untouched) when out of range. */
  readBytes(offset: number, data: Uint8Array): boolean {
    if (!this.inRange(offset, data.length)) return false;
    data.set(this.bytes.subarray(offset, offset + data.length));
    return true;
  }

  /** Guest write of `data` at `offset`, merged byte by byte; false (nothing written) when out of range. */
  writeBytes(offset: number, data: Uint8Array): boolean {
    if (!this.inRange(offset, data.length)) return false;
    for (let i = 0; i < data.length; i++) this.#merge(offset + i, data[i]!);
    return true;
  }

  /** The one place guest writes land: writable bits take the value, W1C bits clear on 1. */
  #merge(offset: number, value: number): void {
    const w = this.#writable[offset]!;
    let reg = (this.bytes[offset]! & ~w) | (value & w);
    reg &= ~(value & this.#w1c[offset]!);
    this.bytes[offset] = reg & 0xff;
  }

  // ---- owner accesses (ignore the masks) ----------------------------------------------------

  /** Owner read of one byte at `offset`. */
  get8(offset: number): number {
    return this.#view.getUint8(offset);
  }
  /** Owner read of a 16-bit register at `offset`. */
  get16(offset: number): number {
    return this.#view.getUint16(offset, true);
  }
  /** Owner read of a 32-bit register at `offset`. */
  get32(offset: number): number {
    return this.#view.getUint32(offset, true);
  }
  /** Owner write of one byte (masks ignored). */
  set8(offset: number, value: number): void {
    this.#view.setUint8(offset, value & 0xff);
  }
  /** Owner write of a 16-bit register (masks ignored). */
  set16(offset: number, value: number): void {
    this.#view.setUint16(offset, value & 0xffff, true);
  }
  /** Owner write of a 32-bit register (masks ignored). */
  set32(offset: number, value: number): void {
    this.#view.setUint32(offset, value >>> 0, true);
  }

  /** Declares the guest-writable bits of the `width`-byte register at `offset` (replaces). */
  setWritable(offset: number, width: number, mask: number): void {
    writeLe(this.#writable, offset, width, mask);
  }

  /** Declares the write-1-to-clear bits of the `width`-byte register at `offset` (replaces). */
  setW1c(offset: number, width: number, mask: number): void {
    writeLe(this.#w1c, offset, width, mask);
  }

  /** The guest-writable mask of the `width`-byte (1..4) register at `offset`. */
  writableMask(offset: number, width: number): number {
    return readLe(this.#writable, offset, width);
  }

  /** The write-1-to-clear mask of the `width`-byte (1..4) register at `offset`. */
  w1cMask(offset: number, width: number): number {
    return readLe(this.#w1c, offset, width);
  }
}
