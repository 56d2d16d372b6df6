// The per-VM IOMMU domain: which bus addresses (IOVAs) a VM's devices may DMA to, and where in guest RAM they land.
//
// Concepts (after libvfio-user's dma.h):
// - Address space: a device's DMA uses bus addresses (IOVAs), 0..2^64-1. Guest RAM is one
//   SharedArrayBuffer; a "host" address here is a byte offset into it.
// - Regions: CONTIG_MEM_INFO(MAP) adds a page-aligned range IOVA -> RAM offset. Ranges never
//   overlap; UNMAP removes exactly a range that was mapped (or a sub-range of one).
// - Lookup: a DMA of N bytes at IOVA a succeeds only when every byte a..a+N-1 is mapped;
//   otherwise nothing is read or written and the domain records a fault.
// - Arithmetic: every IOVA, RAM offset and size is checked to be a bigint in range before it is
//   used, and ranges are handled by their last byte (inclusive), so no value computed here
//   leaves 0..2^64-1. A DMA whose range would run past 2^64 - 1 is refused whole.

import { show } from '../shared/show.js';
import { VERR_ALREADY_EXISTS, VERR_INVALID_PARAMETER, VERR_NOT_FOUND } from '../shared/status.js';

/** Page size of the domain, in bytes (4 KiB, as VT-d and AMD-Vi second-level tables). */
export const IOMMU_PAGE_SIZE = 4096n;

/** The highest bus address, 2^64 - 1: IOVAs are unsigned 64-bit values. */
export const IOVA_MAX = 0xffff_ffff_ffff_ffffn;

/** One mapped range. All fields in bytes. */
export interface IommuMapping {
  /** First bus address (IOVA). */
  iova: bigint;
  /** Byte offset in guest RAM. */
  ramOffset: bigint;
  /** Length in bytes. */
  size: bigint;
}

/** A recorded DMA fault. */
export interface IommuFault {
  /**
   * Faulting bus address, always in 0..2^64-1: the first unmapped byte of the range, or where
   * guest RAM stops being contiguous, or the start of the range when no byte below 2^64 is to
   * blame (a range that only crosses 2^64, an empty DMA).
   */
  iova: bigint;
  /** Bytes the device tried to move. */
  size: number;
  /** true for a DMA write (device to memory). */
  write: boolean;
  /**
   * Why. From the domain: `'not mapped'`, `'not contiguous in guest RAM'`, `'crosses 2^64'`,
   * `'not mapped; the range also crosses 2^64'`, `'empty DMA'`, or `'IOVA … is not in
   * 0..2^64-1'`. From ring 0's policy (r0/open-device.ts): bus mastering, power, no domain.
   */
  reason: string;
  /** True when the domain allowed the DMA but ring 3 did not copy it (the DMA lane: r0/dma-lane.ts). */
  ring3?: boolean;
}

/**
 * The guest RAM behind a domain, as ring 0 reaches it. Either the VM's shared RAM (ring 0 copies
 * itself: {@link sharedGuestRam}) or ring 3's DMA lane (r0/dma-lane.ts: ring 3 copies). `read`
 * and `write` get an offset and length the domain has checked (inside 0..byteLength) and return
 * undefined on success or why the copy failed (then the domain records a fault). Bytes.
 */
export interface DomainMemory {
  /** Bytes of guest RAM (CONTIG_MEM_INFO ranges must end inside it). */
  readonly byteLength: number;
  /** Copies `dest.length` bytes at guest RAM offset `offset` into `dest`; whole or nothing. */
  read(offset: number, dest: Uint8Array): string | undefined;
  /** Copies `src` to guest RAM offset `offset`. */
  write(offset: number, src: Uint8Array): string | undefined;
}

/** A {@link DomainMemory} over shared guest RAM that ring 0 reads and writes directly (never fails). */
export function sharedGuestRam(ram: Uint8Array): DomainMemory {
  return {
    byteLength: ram.byteLength,
    read: (off, dest) => void dest.set(ram.subarray(off, off + dest.length)),
    write: (off, src) => void ram.set(src, off),
  };
}

/** Result of a domain check: 0 on success, otherwise a VBox status and message. */
export type IommuResult = { rc: 0 } | { rc: number; msg: string };

/**
 * An IOMMU domain over one guest RAM buffer. Created by INIT_VM, attached to a device at power
 * ON, fed by CONTIG_MEM_INFO. Methods return VBox statuses or booleans; nothing throws on guest
 * or ring-3 input.
 */
export class IommuDomain {
  readonly id: number;
  /** The guest RAM DMA reaches (see {@link DomainMemory}). */
  readonly memory: DomainMemory;
  /** The shared guest RAM bytes when ring 0 copies itself; empty (0 bytes) when ring 3 copies. */
  readonly ram: Uint8Array;
  /** Mappings sorted by IOVA, never overlapping. */
  #maps: IommuMapping[] = [];
  /** Faults recorded, newest last (at most 64 kept). */
  readonly faults: IommuFault[] = [];

  /** `ram` is the VM's guest RAM: shared bytes ring 0 copies itself, or a {@link DomainMemory} (ring 3 copies). */
  constructor(id: number, ram: Uint8Array | DomainMemory) {
    this.id = id;
    this.memory = ram instanceof Uint8Array ? sharedGuestRam(ram) : ram;
    this.ram = ram instanceof Uint8Array ? ram : new Uint8Array(0);
  }

  /** The current mappings (copies). */
  mappings(): IommuMapping[] {
    return this.#maps.map((m) => ({ ...m }));
  }

  /**
   * Maps `size` bytes of guest RAM at `ramOffset` to bus address `iova` (all bigints, bytes;
   * values from ring 3, so checked before any arithmetic). Errors: VERR_INVALID_PARAMETER (not
   * bigints, negative, not page aligned, zero size, past the end of guest RAM, past 2^64),
   * VERR_ALREADY_EXISTS (overlaps a mapped range).
   */
  map(ramOffset: bigint, iova: bigint, size: bigint): IommuResult {
    const bad = checkRange(ramOffset, iova, size, BigInt(this.memory.byteLength));
    if (bad) return bad;
    const last = iova + (size - 1n);
    for (const m of this.#maps) {
      const mLast = lastByte(m);
      if (iova <= mLast && m.iova <= last) {
        return {
          rc: VERR_ALREADY_EXISTS,
          msg: `IOVA range 0x${hex(iova)}-0x${hex(last)} overlaps the mapped range 0x${hex(m.iova)}-0x${hex(mLast)}: unmap it first`,
        };
      }
    }
    this.#maps.push({ iova, ramOffset, size });
    this.#maps.sort((a, b) => (a.iova < b.iova ? -1 : a.iova > b.iova ? 1 : 0));
    return { rc: 0 };
  }

  /**
   * Unmaps `size` bytes at `iova`: the range must lie inside one mapping (a hole may be cut in
   * it). `ramOffset` must match that mapping. Arguments as {@link map}. Errors:
   * VERR_INVALID_PARAMETER, VERR_NOT_FOUND.
   */
  unmap(ramOffset: bigint, iova: bigint, size: bigint): IommuResult {
    const bad = checkRange(ramOffset, iova, size, BigInt(this.memory.byteLength));
    if (bad) return bad;
    const last = iova + (size - 1n);
    const i = this.#maps.findIndex((m) => m.iova <= iova && last <= lastByte(m));
    const m = this.#maps[i];
    if (!m) return { rc: VERR_NOT_FOUND, msg: `IOVA range 0x${hex(iova)}-0x${hex(last)} is not mapped in domain ${this.id}` };
    const mapsTo = m.ramOffset + (iova - m.iova);
    if (mapsTo !== ramOffset) {
      return { rc: VERR_INVALID_PARAMETER, msg: `IOVA 0x${hex(iova)} maps guest RAM offset 0x${hex(mapsTo)}, not 0x${hex(ramOffset)}` };
    }
    const mLast = lastByte(m);
    const pieces: IommuMapping[] = [];
    if (m.iova < iova) pieces.push({ iova: m.iova, ramOffset: m.ramOffset, size: iova - m.iova });
    // last < mLast <= 2^64 - 1, so last + 1 is still a bus address.
    if (last < mLast) pieces.push({ iova: last + 1n, ramOffset: mapsTo + size, size: mLast - last });
    this.#maps.splice(i, 1, ...pieces);
    return { rc: 0 };
  }

  /** Removes every mapping (DEINIT_VM, session end). */
  clear(): void {
    this.#maps = [];
  }

  /**
   * Translates a DMA of `size` bytes at `iova` to a guest RAM byte offset, or undefined when any
   * byte is unmapped, the range runs past 2^64 - 1, `iova` is not a bigint in 0..2^64-1 or
   * `size` not a positive safe integer. A DMA may span adjacent mappings only if they are
   * contiguous in RAM too.
   */
  translate(iova: bigint, size: number): number | undefined {
    if (!isIova(iova) || !Number.isSafeInteger(size) || size <= 0) return undefined;
    const last = lastOf(iova, size);
    if (last === undefined) return undefined;
    let at = iova;
    let start: bigint | undefined;
    let expect: bigint | undefined;
    for (const m of this.#maps) {
      const mLast = lastByte(m);
      if (mLast < at) continue;
      if (m.iova > at) return undefined; // a hole at `at` (mappings are sorted)
      const off = m.ramOffset + (at - m.iova);
      if (expect !== undefined && off !== expect) return undefined;
      start ??= off;
      if (mLast >= last) return Number(start);
      // at <= mLast < last <= 2^64 - 1: the next byte is still a bus address.
      expect = off + (mLast - at) + 1n;
      at = mLast + 1n;
    }
    return undefined;
  }

  /**
   * DMA read (device reads memory) of `dest.length` bytes at `iova` into `dest`. Whole or
   * nothing: false, `dest` untouched and a fault recorded (see {@link IommuFault}) unless
   * {@link translate} succeeds and the memory copies (ring 3 may fail to: a fault with `ring3`).
   */
  read(iova: bigint, dest: Uint8Array): boolean {
    const off = this.#translateOrFault(iova, dest.length, false);
    if (off === undefined) return false;
    return this.#copied(iova, dest.length, false, this.memory.read(off, dest));
  }

  /**
   * DMA write (device writes memory) of `src` at `iova`, like {@link read}. Whole or nothing as
   * far as the domain goes; through ring 3 a transfer of several lane chunks that ring 3 stops
   * serving midway may have landed in part (ring 3's own memory, inside the checked range).
   */
  write(iova: bigint, src: Uint8Array): boolean {
    const off = this.#translateOrFault(iova, src.length, true);
    if (off === undefined) return false;
    return this.#copied(iova, src.length, true, this.memory.write(off, src));
  }

  /** Records a fault when the memory refused the copy (`why`); true when it did not. */
  #copied(iova: bigint, size: number, write: boolean, why: string | undefined): boolean {
    if (why === undefined) return true;
    this.recordFault({ iova, size, write, reason: why, ring3: true });
    return false;
  }

  /** {@link translate}, recording a fault of a `size`-byte DMA when it fails. */
  #translateOrFault(iova: bigint, size: number, write: boolean): number | undefined {
    const off = this.translate(iova, size);
    if (off === undefined) this.recordFault({ ...this.#refusal(iova, size), size, write });
    return off;
  }

  /** Records a fault (kept: the last 64). Callers pass an `iova` in 0..2^64-1. */
  recordFault(f: IommuFault): void {
    this.faults.push(f);
    if (this.faults.length > 64) this.faults.shift();
  }

  /** Where and why a DMA that {@link translate} refused faults; the IOVA is always in 0..2^64-1. */
  #refusal(iova: bigint, size: number): { iova: bigint; reason: string } {
    if (!isIova(iova)) {
      const shown = typeof iova === 'bigint' ? `0x${hex(iova)}` : show(iova);
      return { iova: typeof iova === 'bigint' && iova > IOVA_MAX ? IOVA_MAX : 0n, reason: `IOVA ${shown} is not in 0..2^64-1` };
    }
    if (!Number.isSafeInteger(size) || size <= 0) return { iova, reason: 'empty DMA' };
    const last = lastOf(iova, size);
    const hole = this.#firstUnmapped(iova, last ?? IOVA_MAX);
    if (last === undefined) return { iova: hole ?? iova, reason: hole === undefined ? 'crosses 2^64' : 'not mapped; the range also crosses 2^64' };
    if (hole !== undefined) return { iova: hole, reason: 'not mapped' };
    return { iova: this.#firstRamBreak(iova, last) ?? iova, reason: 'not contiguous in guest RAM' };
  }

  /**
   * The first byte of `first..last` (inclusive bus addresses) that no mapping covers, or
   * undefined when all are mapped. One walk over the sorted mappings.
   */
  #firstUnmapped(first: bigint, last: bigint): bigint | undefined {
    let at = first;
    for (const m of this.#maps) {
      const mLast = lastByte(m);
      if (mLast < at) continue;
      if (m.iova > at) return at;
      if (mLast >= last) return undefined;
      at = mLast + 1n; // mLast < last <= 2^64 - 1
    }
    return at;
  }

  /**
   * In a fully mapped `first..last`, the first IOVA whose guest RAM offset does not follow the
   * previous byte's (the start of a neighbour mapped elsewhere in RAM), or undefined.
   */
  #firstRamBreak(first: bigint, last: bigint): bigint | undefined {
    let expect: bigint | undefined;
    for (const m of this.#maps) {
      const mLast = lastByte(m);
      if (mLast < first) continue;
      if (m.iova > last) break;
      const from = m.iova > first ? m.iova : first;
      if (expect !== undefined && m.ramOffset + (from - m.iova) !== expect) return from;
      expect = m.ramOffset + m.size;
    }
    return undefined;
  }
}

/** Whether `v` is a bus address: a bigint in 0..2^64-1. */
function isIova(v: unknown): v is bigint {
  return typeof v === 'bigint' && v >= 0n && v <= IOVA_MAX;
}

/** The last byte of `size` (> 0) bytes at `iova`, or undefined when that would pass 2^64 - 1. */
function lastOf(iova: bigint, size: number): bigint | undefined {
  const n = BigInt(size) - 1n;
  return n > IOVA_MAX - iova ? undefined : iova + n;
}

/** The last IOVA a mapping covers (inclusive). */
function lastByte(m: IommuMapping): bigint {
  return m.iova + (m.size - 1n);
}

/**
 * Validates a CONTIG_MEM_INFO range from ring 3: types first, then signs, alignment and bounds,
 * comparing by subtraction so no sum past 2^64 (or past guest RAM) is ever formed.
 */
function checkRange(ramOffset: unknown, iova: unknown, size: unknown, ramBytes: bigint): IommuResult | undefined {
  if (typeof ramOffset !== 'bigint' || typeof iova !== 'bigint' || typeof size !== 'bigint') {
    return { rc: VERR_INVALID_PARAMETER, msg: 'hostStart, guestStart and size must be bigints' };
  }
  if (size <= 0n) return { rc: VERR_INVALID_PARAMETER, msg: `size ${size} must be a positive multiple of 4096 bytes` };
  if (ramOffset < 0n || iova < 0n) return { rc: VERR_INVALID_PARAMETER, msg: 'addresses must not be negative' };
  if (ramOffset % IOMMU_PAGE_SIZE || iova % IOMMU_PAGE_SIZE || size % IOMMU_PAGE_SIZE) {
    return {
      rc: VERR_INVALID_PARAMETER,
      msg: `hostStart 0x${hex(ramOffset)}, guestStart 0x${hex(iova)} and size 0x${hex(size)} must all be multiples of 4096`,
    };
  }
  if (ramOffset >= ramBytes || size > ramBytes - ramOffset) {
    return {
      rc: VERR_INVALID_PARAMETER,
      msg: `guest RAM range 0x${hex(ramOffset)}+0x${hex(size)} ends past the VM's ${ramBytes} bytes of guest RAM`,
    };
  }
  if (iova > IOVA_MAX || size - 1n > IOVA_MAX - iova) {
    return { rc: VERR_INVALID_PARAMETER, msg: `IOVA range 0x${hex(iova)}+0x${hex(size)} ends past 2^64` };
  }
  return undefined;
}

function hex(v: bigint): string {
  return v.toString(16);
}
