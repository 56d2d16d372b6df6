// Virtual MSI and MSI-X of a projected device: the capability registers the guest programs, and the MSI-X table and PBA emulated in ring 3 (PCI Local Bus spec 3.0, 6.8).
//
// The guest's message addresses and data never reach the host device. Ring 3 programs the host
// capability with its own message (one address, data = vector) only to learn *which vector*
// fired; each host event is then translated to the message the guest programmed for that
// vector, after the guest's own masks (per-vector and function mask) and pending bits.

import {
  PCI_CAP_MSIX_SIZEOF,
  PCI_MSI_ADDRESS_HI,
  PCI_MSI_ADDRESS_LO,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_ENABLE,
  PCI_MSI_FLAGS_QSIZE,
  PCI_MSIX_ENTRY_CTRL_MASKBIT,
  PCI_MSIX_ENTRY_DATA,
  PCI_MSIX_ENTRY_LOWER_ADDR,
  PCI_MSIX_ENTRY_SIZE,
  PCI_MSIX_ENTRY_UPPER_ADDR,
  PCI_MSIX_ENTRY_VECTOR_CTRL,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_BIRMASK,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
  PCI_MSIX_FLAGS_QSIZE,
  PCI_MSIX_PBA,
  PCI_MSIX_TABLE,
} from '../../shared/linux/pci-regs.js';
import { msiLayout } from '../../shared/msi-layout.js';

/** A message as the guest programmed it: a 64-bit address and 32-bit data. */
export interface GuestMsiMessage {
  address: bigint;
  data: number;
}

/**
 * The MSI capability (6.8.1) as the guest sees it, kept in the virtual config copy `cfg` with
 * its writable bits in `wmask`: Message Control's Enable and Multiple Message Enable, the
 * address, the data and (with per-vector masking) the mask bits; pending bits are read-only and
 * set here. Everything else of the capability is read-only.
 */
export class VirtualMsi {
  /** Config offset of the capability. */
  readonly cap: number;
  /** Length of the capability in bytes (0x0a..0x18 by its 64-bit and masking bits). */
  readonly length: number;
  readonly is64: boolean;
  readonly maskable: boolean;
  /** Vectors the device can request: 1, 2, 4, ... 32 (Multiple Message Capable). */
  readonly capable: number;
  /** Message Control as the host device reports it (for programming the host). */
  readonly hostFlags: number;
  readonly dataOffset: number;
  readonly maskOffset: number;
  readonly pendingOffset: number;
  readonly #cfg: DataView;

  /** Reads the capability at `cap` from `cfg` (the snapshot), resets its guest state and sets `wmask`. */
  constructor(cap: number, cfg: DataView, wmask: Uint8Array) {
    this.cap = cap;
    this.#cfg = cfg;
    const flags = cfg.getUint16(cap + PCI_MSI_FLAGS, true);
    this.hostFlags = flags;
    const layout = msiLayout(flags);
    this.is64 = layout.is64;
    this.maskable = layout.perVectorMask;
    this.capable = layout.vectorsCapable;
    this.dataOffset = cap + layout.data;
    this.maskOffset = cap + layout.mask;
    this.pendingOffset = cap + layout.pending;
    this.length = layout.length;
    cfg.setUint16(cap + PCI_MSI_FLAGS, flags & ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE), true);
    for (let o = cap + PCI_MSI_ADDRESS_LO; o < cap + this.length; o++) cfg.setUint8(o, 0);
    setMask(wmask, cap + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE);
    setMask(wmask, cap + PCI_MSI_ADDRESS_LO, 4, 0xffff_fffc);
    if (this.is64) setMask(wmask, cap + PCI_MSI_ADDRESS_HI, 4, 0xffff_ffff);
    setMask(wmask, this.dataOffset, 2, 0xffff);
    if (this.maskable) setMask(wmask, this.maskOffset, 4, this.capable === 32 ? 0xffff_ffff : (1 << this.capable) - 1);
  }

  /** Whether config byte `offset` is inside the capability. */
  contains(offset: number): boolean {
    return offset >= this.cap && offset < this.cap + this.length;
  }

  /** Message Control as the guest programmed it. */
  get flags(): number {
    return this.#cfg.getUint16(this.cap + PCI_MSI_FLAGS, true);
  }

  /** MSI Enable. */
  get enabled(): boolean {
    return (this.flags & PCI_MSI_FLAGS_ENABLE) !== 0;
  }

  /** Vectors enabled (Multiple Message Enable): 1..32. */
  get vectors(): number {
    return 1 << ((this.flags & PCI_MSI_FLAGS_QSIZE) >>> 4);
  }

  /** Per-vector mask bits (0 without per-vector masking). */
  get mask(): number {
    return this.maskable ? this.#cfg.getUint32(this.maskOffset, true) : 0;
  }

  /** Pending bits (0 without per-vector masking). */
  get pending(): number {
    return this.maskable ? this.#cfg.getUint32(this.pendingOffset, true) : 0;
  }

  /** Sets or clears vector `v`'s pending bit (with per-vector masking only). */
  setPending(v: number, on: boolean): void {
    if (!this.maskable) return;
    const p = this.pending;
    this.#cfg.setUint32(this.pendingOffset, (on ? p | (1 << v) : p & ~(1 << v)) >>> 0, true);
  }

  /** After a guest write: Multiple Message Enable is clamped to Multiple Message Capable (6.8.1.3). */
  afterWrite(): void {
    const f = this.flags;
    const capLog2 = Math.log2(this.capable);
    if ((f & PCI_MSI_FLAGS_QSIZE) >>> 4 > capLog2) this.#cfg.setUint16(this.cap + PCI_MSI_FLAGS, (f & ~PCI_MSI_FLAGS_QSIZE) | (capLog2 << 4), true);
  }

  /** The guest's message for vector `v`: its address, its data with the low bits replaced by `v` (6.8.1.6). */
  message(v: number): GuestMsiMessage {
    const lo = BigInt(this.#cfg.getUint32(this.cap + PCI_MSI_ADDRESS_LO, true));
    const hi = this.is64 ? BigInt(this.#cfg.getUint32(this.cap + PCI_MSI_ADDRESS_HI, true)) : 0n;
    const data = this.#cfg.getUint16(this.dataOffset, true);
    return { address: (hi << 32n) | lo, data: ((data & ~(this.vectors - 1)) | v) & 0xffff };
  }
}

/** One MSI-X table entry (6.8.2.6..6.8.2.9). */
export interface MsixEntry extends GuestMsiMessage {
  /** Vector Control's Mask bit. */
  masked: boolean;
}

/**
 * The MSI-X capability (6.8.2) and its table and PBA, emulated: Message Control's Enable and
 * Function Mask are writable in the virtual config copy; the table (entries start masked, only
 * the Mask bit of Vector Control is writable) and the PBA (read-only) live here and answer the
 * guest's accesses inside the BAR that holds them. Table and PBA accesses must be aligned 4- or
 * 8-byte ones; others read all-ones and are ignored when written (6.8.2, "naturally aligned").
 */
export class VirtualMsix {
  readonly cap: number;
  /** Table size in entries (Message Control's Table Size + 1). */
  readonly size: number;
  readonly tableBir: number;
  readonly tableOffset: number;
  readonly pbaBir: number;
  readonly pbaOffset: number;
  /** Bytes of the table and of the PBA. */
  readonly tableBytes: number;
  readonly pbaBytes: number;
  readonly #cfg: DataView;
  readonly #table: DataView;
  readonly #pba: Uint8Array;

  /** Reads the capability at `cap` from `cfg` (the snapshot), resets its guest state and sets `wmask`. */
  constructor(cap: number, cfg: DataView, wmask: Uint8Array) {
    this.cap = cap;
    this.#cfg = cfg;
    const ctrl = cfg.getUint16(cap + PCI_MSIX_FLAGS, true);
    this.size = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1;
    const table = cfg.getUint32(cap + PCI_MSIX_TABLE, true);
    const pba = cfg.getUint32(cap + PCI_MSIX_PBA, true);
    this.tableBir = table & PCI_MSIX_FLAGS_BIRMASK;
    this.tableOffset = (table & ~PCI_MSIX_FLAGS_BIRMASK) >>> 0;
    this.pbaBir = pba & PCI_MSIX_FLAGS_BIRMASK;
    this.pbaOffset = (pba & ~PCI_MSIX_FLAGS_BIRMASK) >>> 0;
    this.tableBytes = this.size * PCI_MSIX_ENTRY_SIZE;
    this.pbaBytes = Math.ceil(this.size / 64) * 8;
    this.#table = new DataView(new ArrayBuffer(this.tableBytes));
    this.#pba = new Uint8Array(this.pbaBytes);
    for (let v = 0; v < this.size; v++) this.#table.setUint32(v * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL, PCI_MSIX_ENTRY_CTRL_MASKBIT, true);
    cfg.setUint16(cap + PCI_MSIX_FLAGS, ctrl & ~(PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL), true);
    setMask(wmask, cap + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
  }

  /** Whether config byte `offset` is inside the capability. */
  contains(offset: number): boolean {
    return offset >= this.cap && offset < this.cap + PCI_CAP_MSIX_SIZEOF;
  }

  /** MSI-X Enable. */
  get enabled(): boolean {
    return (this.#cfg.getUint16(this.cap + PCI_MSIX_FLAGS, true) & PCI_MSIX_FLAGS_ENABLE) !== 0;
  }

  /** Function Mask: every vector masked. */
  get functionMasked(): boolean {
    return (this.#cfg.getUint16(this.cap + PCI_MSIX_FLAGS, true) & PCI_MSIX_FLAGS_MASKALL) !== 0;
  }

  /** Whether `[offset, offset + cb)` of BAR `bar` touches the table. */
  inTable(bar: number, offset: number, cb: number): boolean {
    return bar === this.tableBir && offset < this.tableOffset + this.tableBytes && offset + cb > this.tableOffset;
  }

  /** Whether `[offset, offset + cb)` of BAR `bar` touches the PBA. */
  inPba(bar: number, offset: number, cb: number): boolean {
    return bar === this.pbaBir && offset < this.pbaOffset + this.pbaBytes && offset + cb > this.pbaOffset;
  }

  /** Entry `v` as the guest programmed it. */
  entry(v: number): MsixEntry {
    const at = v * PCI_MSIX_ENTRY_SIZE;
    const t = this.#table;
    return {
      address: (BigInt(t.getUint32(at + PCI_MSIX_ENTRY_UPPER_ADDR, true)) << 32n) | BigInt(t.getUint32(at + PCI_MSIX_ENTRY_LOWER_ADDR, true)),
      data: t.getUint32(at + PCI_MSIX_ENTRY_DATA, true),
      masked: (t.getUint32(at + PCI_MSIX_ENTRY_VECTOR_CTRL, true) & PCI_MSIX_ENTRY_CTRL_MASKBIT) !== 0,
    };
  }

  /** Whether vector `v` is pending in the PBA. */
  isPending(v: number): boolean {
    return (this.#pba[v >>> 3]! & (1 << (v & 7))) !== 0;
  }

  /** Sets or clears vector `v`'s PBA bit. */
  setPending(v: number, on: boolean): void {
    if (on) this.#pba[v >>> 3]! |= 1 << (v & 7);
    else this.#pba[v >>> 3]! &= ~(1 << (v & 7));
  }

  /** A guest read of the table at BAR offset `offset`; undefined for a bad width or alignment. */
  tableRead(offset: number, cb: number): number | bigint | undefined {
    const at = offset - this.tableOffset;
    if (!aligned48(at, cb) || at < 0 || at + cb > this.tableBytes) return undefined;
    return cb === 8 ? this.#table.getBigUint64(at, true) : this.#table.getUint32(at, true);
  }

  /**
   * A guest write of the table at BAR offset `offset`. Returns false (nothing written) for a bad
   * width or alignment. Vector Control keeps only its Mask bit.
   */
  tableWrite(offset: number, cb: number, value: number | bigint): boolean {
    const at = offset - this.tableOffset;
    if (!aligned48(at, cb) || at < 0 || at + cb > this.tableBytes) return false;
    const big = BigInt(value);
    for (let i = 0; i < cb; i += 4) {
      let dword = Number((big >> BigInt(8 * i)) & 0xffff_ffffn);
      if ((at + i) % PCI_MSIX_ENTRY_SIZE === PCI_MSIX_ENTRY_VECTOR_CTRL) dword &= PCI_MSIX_ENTRY_CTRL_MASKBIT;
      this.#table.setUint32(at + i, dword >>> 0, true);
    }
    return true;
  }

  /** A guest read of the PBA at BAR offset `offset`; undefined for a bad width or alignment. */
  pbaRead(offset: number, cb: number): number | bigint | undefined {
    const at = offset - this.pbaOffset;
    if (!aligned48(at, cb) || at < 0 || at + cb > this.pbaBytes) return undefined;
    const v = new DataView(this.#pba.buffer);
    return cb === 8 ? v.getBigUint64(at, true) : v.getUint32(at, true);
  }
}

function aligned48(at: number, cb: number): boolean {
  return (cb === 4 || cb === 8) && at % cb === 0;
}

/** Sets `width` bytes of writable mask at `offset` to `mask` (little-endian). */
export function setMask(wmask: Uint8Array, offset: number, width: number, mask: number): void {
  for (let i = 0; i < width; i++) wmask[offset + i] = (mask >>> (8 * i)) & 0xff;
}
