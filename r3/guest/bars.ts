// Virtual BARs of a projected device: the guest-visible BAR and ROM registers, size probes, held moves and decoded ranges (PCI Local Bus spec 3.0, 6.2.5).
//
// Concepts. A BAR has a *register* (what the guest reads back: its address bits, masked to the
// BAR's size, and its read-only flag bits) and a *decoded base* (where accesses are claimed).
// The two differ on purpose:
// - a size probe (all address bits written as ones) changes the register, never the base;
// - a move is *held* while the BAR's decode (I/O or memory, PCI_COMMAND) is disabled, and is
//   applied when decode is enabled (cloud-hypervisor pci/src/configuration.rs does the same);
// - a 64-bit BAR moves when its high half is written, so a guest that writes low then high
//   never decodes at a half-updated address;
// - base 0 means "not placed" (as QEMU 7.2's pci_bar_address, hw/pci/pci.c), and a range that does not fit its
//   address space (64 KiB of ports, 1 MiB for MEM24, 4 GiB for MEM32 and the ROM) is not decoded.

import {
  PCI_BASE_ADDRESS_IO_MASK,
  PCI_BASE_ADDRESS_MEM_MASK,
  PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_TYPE_1M,
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_SPACE_IO,
  PCI_ROM_ADDRESS_ENABLE,
  PCI_ROM_ADDRESS_MASK,
} from '../../shared/linux/pci-regs.js';
import type { PciRegionKind } from '../../shared/pci/region.js';

/** Exclusive upper bound of each kind's address space. */
const LIMIT: Record<PciRegionKind, bigint> = {
  io: 0x1_0000n,
  mem24: 0x10_0000n,
  mem32: 0x1_0000_0000n,
  mem64: 1n << 64n,
  rom: 0x1_0000_0000n,
};

/** How a virtual BAR is declared (from GET_REGION_INFO and the device's own flag bits). */
export interface VirtualBarDecl {
  /** Region index: 0..5 (a mem64 BAR also owns index + 1), 6 for the ROM. */
  index: number;
  kind: PciRegionKind;
  /** Size in bytes (ports for I/O): a power of two. */
  size: bigint;
  /** PCI_BASE_ADDRESS_MEM_PREFETCH (memory BARs only). */
  prefetchable: boolean;
  /** Where the region is on the host: first port or host physical address (GET_REGION_INFO). */
  hostStart: bigint;
}

/** A decoded range `[start, end)` in guest port or guest-physical address space. */
export interface DecodedRange {
  start: bigint;
  end: bigint;
}

/**
 * One BAR (or the ROM BAR) as the guest sees it. Register values are unsigned 32-bit numbers;
 * addresses and sizes are bigint. Throws RangeError at construction for a size that is not a
 * power of two or too small for its kind (4 ports, 16 bytes, 2 KiB for a ROM: 6.2.5.1/6.2.5.2).
 */
export class VirtualBar {
  readonly index: number;
  readonly kind: PciRegionKind;
  readonly size: bigint;
  readonly prefetchable: boolean;
  readonly hostStart: bigint;
  /** Read-only flag bits of the low register (space, type, prefetchable). */
  readonly flags: number;
  /** Writable bits of the low register (ROM: address bits and the enable bit). */
  readonly lowMask: number;
  /** Writable bits of the high register (mem64 only; 0 otherwise). */
  readonly highMask: number;
  /** Low register as the guest reads it. */
  low: number;
  /** High register (mem64) as the guest reads it. */
  high = 0;
  /** Decoded base, once placed; undefined before the first applied placement. */
  base: bigint | undefined;
  /** A non-probe write changed the register and has not been applied to {@link base} yet. */
  pending = false;
  #probeLow = false;
  #probeHigh = false;

  constructor(decl: VirtualBarDecl) {
    const { index, kind, size } = decl;
    const min = kind === 'io' ? 4n : kind === 'rom' ? 0x800n : 16n;
    if (size < min || (size & (size - 1n)) !== 0n) throw new RangeError(`BAR${index} (${kind}) size ${size} must be a power of two of at least ${min}`);
    this.index = index;
    this.kind = kind;
    this.size = size;
    this.prefetchable = kind !== 'io' && kind !== 'rom' && decl.prefetchable;
    this.hostStart = decl.hostStart;
    const sizeMask = ~(size - 1n) & 0xffff_ffff_ffff_ffffn;
    switch (kind) {
      case 'io':
        this.flags = PCI_BASE_ADDRESS_SPACE_IO;
        this.lowMask = Number(sizeMask & BigInt(PCI_BASE_ADDRESS_IO_MASK));
        this.highMask = 0;
        break;
      case 'mem24':
        this.flags = PCI_BASE_ADDRESS_MEM_TYPE_1M | (this.prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
        this.lowMask = Number(sizeMask & BigInt(PCI_BASE_ADDRESS_MEM_MASK) & 0x000f_ffffn);
        this.highMask = 0;
        break;
      case 'mem32':
        this.flags = this.prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0;
        this.lowMask = Number(sizeMask & BigInt(PCI_BASE_ADDRESS_MEM_MASK));
        this.highMask = 0;
        break;
      case 'mem64':
        this.flags = PCI_BASE_ADDRESS_MEM_TYPE_64 | (this.prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
        this.lowMask = Number(sizeMask & BigInt(PCI_BASE_ADDRESS_MEM_MASK));
        this.highMask = Number(sizeMask >> 32n);
        break;
      case 'rom':
        this.flags = 0;
        this.lowMask = Number((sizeMask & BigInt(PCI_ROM_ADDRESS_MASK)) | BigInt(PCI_ROM_ADDRESS_ENABLE));
        this.highMask = 0;
        break;
    }
    this.low = this.flags;
  }

  /** Whether this BAR decodes ports (`io`) or memory (everything else). */
  get space(): 'io' | 'mem' {
    return this.kind === 'io' ? 'io' : 'mem';
  }

  /** The address the registers hold now (flag bits stripped; both halves of a mem64 BAR). */
  get programmed(): bigint {
    const lowAddr = BigInt(
      (this.low & (this.kind === 'io' ? PCI_BASE_ADDRESS_IO_MASK : this.kind === 'rom' ? PCI_ROM_ADDRESS_MASK : PCI_BASE_ADDRESS_MEM_MASK)) >>> 0,
    );
    return this.kind === 'mem64' ? (BigInt(this.high >>> 0) << 32n) | lowAddr : lowAddr;
  }

  /** The ROM BAR's enable bit (PCI_ROM_ADDRESS_ENABLE); true for other BARs. */
  get romEnabled(): boolean {
    return this.kind !== 'rom' || (this.low & PCI_ROM_ADDRESS_ENABLE) !== 0;
  }

  /** Whether either register currently holds a size probe the guest has not overwritten. */
  get probing(): boolean {
    return this.#probeLow || this.#probeHigh;
  }

  /**
   * Guest write of the low register (the only register of io/mem24/mem32/rom). The register
   * becomes `(value & lowMask) | flags` (libvfio-user's `(written & ~(size-1)) | flags`; the ROM
   * keeps the written enable bit). A size probe (all address bits ones) only changes the
   * register. Otherwise the move is applied now when `decodeOn` and the BAR is not 64-bit, else
   * held. Returns true when the decoded base changed.
   */
  writeLow(value: number, decodeOn: boolean): boolean {
    const v = value >>> 0;
    this.low = ((v & this.lowMask) | this.flags) >>> 0;
    const addrBits = this.kind === 'io' ? 0x3 : this.kind === 'rom' ? 0x7ff : 0xf;
    if ((v | addrBits) >>> 0 === 0xffff_ffff) {
      this.#probeLow = true;
      return false;
    }
    this.#probeLow = false;
    this.pending = true;
    return this.kind !== 'mem64' && decodeOn ? this.apply() : false;
  }

  /**
   * Guest write of the high register of a mem64 BAR. A value of all ones is a size probe (register
   * only). Otherwise the move is applied when `decodeOn` (the 64-bit BAR moves on its high half),
   * else held. Returns true when the decoded base changed.
   */
  writeHigh(value: number, decodeOn: boolean): boolean {
    const v = value >>> 0;
    this.high = (v & this.highMask) >>> 0;
    if (v === 0xffff_ffff) {
      this.#probeHigh = true;
      return false;
    }
    this.#probeHigh = false;
    this.pending = true;
    return decodeOn ? this.apply() : false;
  }

  /**
   * Applies a held move: the decoded base becomes {@link programmed}. Nothing happens while no
   * move is pending or a probe value is still in a register. Returns true when the base changed.
   */
  apply(): boolean {
    if (!this.pending || this.probing) return false;
    this.pending = false;
    const next = this.programmed;
    if (next === this.base) return false;
    this.base = next;
    return true;
  }

  /**
   * The range this BAR decodes given command register `command` (PCI_COMMAND_IO or
   * PCI_COMMAND_MEMORY as `ioOn`/`memOn`), or undefined when it decodes nothing: decode off, ROM
   * not enabled, not placed (base 0), or not fitting its address space.
   */
  decoded(ioOn: boolean, memOn: boolean): DecodedRange | undefined {
    if (this.kind === 'io' ? !ioOn : !memOn) return undefined;
    if (!this.romEnabled) return undefined;
    const start = this.base;
    if (start === undefined || start === 0n) return undefined;
    const end = start + this.size;
    if (end > LIMIT[this.kind]) return undefined;
    return { start, end };
  }
}
