// The per-VM IOMMU domain: which bus addresses (IOVAs) a VM's devices may DMA to, and where in guest RAM they land.
//
// Concepts (after libvfio-user's dma.h):
// - Address space: a device's DMA uses bus addresses (IOVAs). Guest RAM is one SharedArrayBuffer;
//   a "host" address here is a byte offset into it.
// - Regions: CONTIG_MEM_INFO(MAP) adds a page-aligned range IOVA -> RAM offset. Ranges never
//   overlap; UNMAP removes exactly a range that was mapped (or a sub-range of one).
// - Lookup: a DMA of N bytes at IOVA a succeeds only when every byte a..a+N-1 is mapped;
//   otherwise nothing is read or written and the domain records a fault.

/** Page size of the domain, in bytes (4 KiB, as VT-d and AMD-Vi second-level tables). */
export const IOMMU_PAGE_SIZE = 4096n;

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
  /** Faulting bus address (the first unmapped byte). */
  iova: bigint;
  /** Bytes the device tried to move. */
  size: number;
  /** true for a DMA write (device to memory). */
  write: boolean;
  /** Why: `'not mapped'`, `'no domain attached'`, `'bus mastering disabled'`, `'suspended'`. */
  reason: string;
}

/** Result of a domain check: 0 on success, otherwise a VBox status and message. */
export type IommuResult = { rc: 0 } | { rc: number; msg: string };

/**
 * An IOMMU domain over one guest RAM buffer. Created by INIT_VM, attached to a device at power
 * ON, fed by CONTIG_MEM_INFO. Methods return VBox statuses; nothing throws on guest input.
 */
export class IommuDomain {
  readonly id: number;
  readonly ram: Uint8Array;
  /** Mappings sorted by IOVA, never overlapping. */
  #maps: IommuMapping[] = [];
  /** Faults recorded, newest last (at most 64 kept). */
  readonly faults: IommuFault[] = [];

  /** `ram` is the VM's guest RAM (its bytes are what DMA reads and writes). */
  constructor(id: number, ram: Uint8Array) {
    this.id = id;
    this.ram = ram;
  }

  /** The current mappings (copies). */
  mappings(): IommuMapping[] {
    return this.#maps.map((m) => ({ ...m }));
  }

  /**
   * Maps `size` bytes of guest RAM at `ramOffset` to bus address `iova`. Errors:
   * VERR_INVALID_PARAMETER (not page aligned, zero size, past the end of guest RAM, past 2^64),
   * VERR_ALREADY_EXISTS (overlaps a mapped range).
   */
  map(ramOffset: bigint, iova: bigint, size: bigint): IommuResult {
    const bad = checkRange(ramOffset, iova, size, BigInt(this.ram.byteLength));
    if (bad) return bad;
    const end = iova + size;
    for (const m of this.#maps) {
      if (iova < m.iova + m.size && m.iova < end) {
        return {
          rc: -105,
          msg: `IOVA range 0x${hex(iova)}-0x${hex(end - 1n)} overlaps the mapped range 0x${hex(m.iova)}-0x${hex(m.iova + m.size - 1n)}: unmap it first`,
        };
      }
    }
    this.#maps.push({ iova, ramOffset, size });
    this.#maps.sort((a, b) => (a.iova < b.iova ? -1 : a.iova > b.iova ? 1 : 0));
    return { rc: 0 };
  }

  /**
   * Unmaps `size` bytes at `iova`: the range must lie inside one mapping (a hole may be cut in
   * it). `ramOffset` must match that mapping. Errors: VERR_INVALID_PARAMETER, VERR_NOT_FOUND.
   */
  unmap(ramOffset: bigint, iova: bigint, size: bigint): IommuResult {
    const bad = checkRange(ramOffset, iova, size, BigInt(this.ram.byteLength));
    if (bad) return bad;
    const end = iova + size;
    const i = this.#maps.findIndex((m) => m.iova <= iova && end <= m.iova + m.size);
    const m = this.#maps[i];
    if (!m) return { rc: -78, msg: `IOVA range 0x${hex(iova)}-0x${hex(end - 1n)} is not mapped in domain ${this.id}` };
    if (m.ramOffset + (iova - m.iova) !== ramOffset) {
      return { rc: -2, msg: `IOVA 0x${hex(iova)} maps guest RAM offset 0x${hex(m.ramOffset + (iova - m.iova))}, not 0x${hex(ramOffset)}` };
    }
    const pieces: IommuMapping[] = [];
    if (m.iova < iova) pieces.push({ iova: m.iova, ramOffset: m.ramOffset, size: iova - m.iova });
    if (end < m.iova + m.size) pieces.push({ iova: end, ramOffset: m.ramOffset + (end - m.iova), size: m.iova + m.size - end });
    this.#maps.splice(i, 1, ...pieces);
    return { rc: 0 };
  }

  /** Removes every mapping (DEINIT_VM, session end). */
  clear(): void {
    this.#maps = [];
  }

  /**
   * Translates a DMA of `size` bytes at `iova` to a guest RAM byte offset, or undefined when any
   * byte is unmapped. A DMA may span adjacent mappings only if they are contiguous in RAM too.
   */
  translate(iova: bigint, size: number): number | undefined {
    if (size <= 0) return undefined;
    let need = BigInt(size);
    let at = iova;
    let start: bigint | undefined;
    let expect: bigint | undefined;
    for (const m of this.#maps) {
      if (at < m.iova || at >= m.iova + m.size) continue;
      const off = m.ramOffset + (at - m.iova);
      if (expect !== undefined && off !== expect) return undefined;
      start ??= off;
      const avail = m.iova + m.size - at;
      if (avail >= need) return Number(start);
      need -= avail;
      at += avail;
      expect = off + avail;
    }
    return undefined;
  }

  /** DMA read (device reads memory) into `dest`. Whole or nothing; records a fault on failure. */
  read(iova: bigint, dest: Uint8Array): boolean {
    const off = this.translate(iova, dest.length);
    if (off === undefined) {
      this.recordFault({ iova: this.#firstUnmapped(iova, dest.length), size: dest.length, write: false, reason: 'not mapped' });
      return false;
    }
    dest.set(this.ram.subarray(off, off + dest.length));
    return true;
  }

  /** DMA write (device writes memory) of `src`. Whole or nothing; records a fault on failure. */
  write(iova: bigint, src: Uint8Array): boolean {
    const off = this.translate(iova, src.length);
    if (off === undefined) {
      this.recordFault({ iova: this.#firstUnmapped(iova, src.length), size: src.length, write: true, reason: 'not mapped' });
      return false;
    }
    this.ram.set(src, off);
    return true;
  }

  /** Records a fault (kept: the last 64). */
  recordFault(f: IommuFault): void {
    this.faults.push(f);
    if (this.faults.length > 64) this.faults.shift();
  }

  #firstUnmapped(iova: bigint, size: number): bigint {
    for (let i = 0n; i < BigInt(size); i += 1n) {
      if (this.translate(iova + i, 1) === undefined) return iova + i;
      if (i > 1_000_000n) break;
    }
    return iova;
  }
}

function checkRange(ramOffset: bigint, iova: bigint, size: bigint, ramBytes: bigint): IommuResult | undefined {
  if (typeof ramOffset !== 'bigint' || typeof iova !== 'bigint' || typeof size !== 'bigint') {
    return { rc: -2, msg: 'hostStart, guestStart and size must be bigints' };
  }
  if (size <= 0n) return { rc: -2, msg: `size ${size} must be a positive multiple of 4096 bytes` };
  if (ramOffset < 0n || iova < 0n) return { rc: -2, msg: 'addresses must not be negative' };
  if (ramOffset % IOMMU_PAGE_SIZE || iova % IOMMU_PAGE_SIZE || size % IOMMU_PAGE_SIZE) {
    return { rc: -2, msg: `hostStart 0x${hex(ramOffset)}, guestStart 0x${hex(iova)} and size 0x${hex(size)} must all be multiples of 4096` };
  }
  if (ramOffset + size > ramBytes) {
    return { rc: -2, msg: `guest RAM range 0x${hex(ramOffset)}+0x${hex(size)} ends past the VM's ${ramBytes} bytes of guest RAM` };
  }
  if (iova + size > 1n << 64n) return { rc: -2, msg: 'IOVA range ends past 2^64' };
  return undefined;
}

function hex(v: bigint): string {
  return v.toString(16);
}
