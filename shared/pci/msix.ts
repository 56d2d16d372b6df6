// MSI-X (PCI Local Bus spec 3.0, 6.8.2): the capability's fields and the emulated table and pending bit array, one type for the simulated devices and PciFront's virtual MSI-X.

import { readLe, readLe64, writeLe } from '../le.js';
import {
  PCI_MSIX_ENTRY_CTRL_MASKBIT,
  PCI_MSIX_ENTRY_DATA,
  PCI_MSIX_ENTRY_LOWER_ADDR,
  PCI_MSIX_ENTRY_SIZE,
  PCI_MSIX_ENTRY_UPPER_ADDR,
  PCI_MSIX_ENTRY_VECTOR_CTRL,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
  PCI_MSIX_FLAGS_QSIZE,
  PCI_MSIX_PBA,
  PCI_MSIX_PBA_BIR,
  PCI_MSIX_PBA_OFFSET,
  PCI_MSIX_TABLE,
  PCI_MSIX_TABLE_BIR,
  PCI_MSIX_TABLE_OFFSET,
} from '../linux/pci-regs.js';
import type { ConfigRead } from './capabilities.js';
import type { PciConfigRegisters } from './config-registers.js';
import type { MsiMessage } from './msi.js';

/** The MSI-X capability as programmed (6.8.2.3..6.8.2.5); the table and PBA live in memory BARs. */
export interface MsixState {
  /** Config offset of the capability. */
  offset: number;
  /** MSI-X Enable. */
  enabled: boolean;
  /** Function Mask: every vector masked. */
  functionMask: boolean;
  /** Table entries (Table Size + 1): 1..2048. */
  tableSize: number;
  /** BAR index (BIR) and byte offset in that BAR of the table, and of the PBA. */
  tableBir: number;
  tableOffset: number;
  pbaBir: number;
  pbaOffset: number;
}

/** Reads the MSI-X capability at config byte `offset` through `read`. */
export function readMsixCapability(read: ConfigRead, offset: number): MsixState {
  const flags = read(offset + PCI_MSIX_FLAGS, 2);
  const table = read(offset + PCI_MSIX_TABLE, 4);
  const pba = read(offset + PCI_MSIX_PBA, 4);
  return {
    offset,
    enabled: (flags & PCI_MSIX_FLAGS_ENABLE) !== 0,
    functionMask: (flags & PCI_MSIX_FLAGS_MASKALL) !== 0,
    tableSize: (flags & PCI_MSIX_FLAGS_QSIZE) + 1,
    tableBir: table & PCI_MSIX_TABLE_BIR,
    tableOffset: (table & PCI_MSIX_TABLE_OFFSET) >>> 0,
    pbaBir: pba & PCI_MSIX_PBA_BIR,
    pbaOffset: (pba & PCI_MSIX_PBA_OFFSET) >>> 0,
  };
}

/** Declares MSI-X Enable and Function Mask guest-writable in the capability at `offset` (6.8.2.3); the rest is read-only. */
export function declareMsixWritable(regs: PciConfigRegisters, offset: number): void {
  regs.setWritable(offset + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
}

/** One table entry as programmed (6.8.2.6..6.8.2.9). */
export interface MsixEntry extends MsiMessage {
  /** Vector Control's Mask bit. */
  masked: boolean;
}

/**
 * The four dwords of a table entry in table order (Message Address, Message Upper Address,
 * Message Data, Vector Control at byte offsets 0, 4, 8, 12: 6.8.2.6..6.8.2.9), as written to a
 * device's table.
 */
export function msixEntryDwords(entry: MsixEntry): [number, number, number, number] {
  return [
    Number(entry.address & 0xffff_ffffn),
    Number((entry.address >> 32n) & 0xffff_ffffn),
    entry.data >>> 0,
    entry.masked ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0,
  ];
}

/**
 * An emulated MSI-X table of `tableSize` entries (16 bytes each) and its pending bit array
 * (one bit per vector, in whole qwords). Offsets passed in are bytes from the start of the
 * table or of the PBA. Guest accesses must be naturally aligned 4- or 8-byte ones (6.8.2):
 * others read undefined (the caller answers all-ones) and are not written. Vector Control keeps
 * only its Mask bit (the rest is reserved and reads 0); the PBA is read-only to the guest.
 */
export class MsixTable {
  /** Entries, 1..2048. */
  readonly tableSize: number;
  /** Bytes of the table and of the PBA. */
  readonly tableBytes: number;
  readonly pbaBytes: number;
  readonly #table: Uint8Array;
  readonly #pba: Uint8Array;

  /** A table with every entry zero and masked, no vector pending. */
  constructor(tableSize: number) {
    this.tableSize = tableSize;
    this.tableBytes = tableSize * PCI_MSIX_ENTRY_SIZE;
    this.pbaBytes = Math.ceil(tableSize / 64) * 8;
    this.#table = new Uint8Array(this.tableBytes);
    this.#pba = new Uint8Array(this.pbaBytes);
    this.reset();
  }

  /** Power-on state: every entry zero with its Mask bit set, the PBA clear. */
  reset(): void {
    this.#table.fill(0);
    this.#pba.fill(0);
    for (let v = 0; v < this.tableSize; v++) writeLe(this.#table, v * PCI_MSIX_ENTRY_SIZE + PCI_MSIX_ENTRY_VECTOR_CTRL, 4, PCI_MSIX_ENTRY_CTRL_MASKBIT);
  }

  /** Entry `vector` (0..tableSize - 1) as programmed; the address joins the two dwords (0..2^64-1). */
  entry(vector: number): MsixEntry {
    const at = vector * PCI_MSIX_ENTRY_SIZE;
    const t = this.#table;
    return {
      address: (BigInt(readLe(t, at + PCI_MSIX_ENTRY_UPPER_ADDR, 4)) << 32n) | BigInt(readLe(t, at + PCI_MSIX_ENTRY_LOWER_ADDR, 4)),
      data: readLe(t, at + PCI_MSIX_ENTRY_DATA, 4),
      masked: (readLe(t, at + PCI_MSIX_ENTRY_VECTOR_CTRL, 4) & PCI_MSIX_ENTRY_CTRL_MASKBIT) !== 0,
    };
  }

  /** Whether vector `vector`'s PBA bit is set. */
  isPending(vector: number): boolean {
    return (this.#pba[vector >>> 3]! & (1 << (vector & 7))) !== 0;
  }

  /** Sets or clears vector `vector`'s PBA bit. */
  setPending(vector: number, on: boolean): void {
    if (on) this.#pba[vector >>> 3]! |= 1 << (vector & 7);
    else this.#pba[vector >>> 3]! &= ~(1 << (vector & 7));
  }

  /** Guest read of `width` bytes at table byte `at`: a number for 4 bytes, a bigint for 8; undefined for a bad width, alignment or range. */
  readTable(at: number, width: number): number | bigint | undefined {
    return accessOk(at, width, this.tableBytes) ? readAccess(this.#table, at, width) : undefined;
  }

  /** Guest write of `width` bytes at table byte `at`. Returns false (nothing written) for a bad width, alignment or range. */
  writeTable(at: number, width: number, value: number | bigint): boolean {
    if (!accessOk(at, width, this.tableBytes)) return false;
    const big = BigInt(value);
    for (let i = 0; i < width; i += 4) {
      let dword = Number((big >> BigInt(8 * i)) & 0xffff_ffffn);
      if ((at + i) % PCI_MSIX_ENTRY_SIZE === PCI_MSIX_ENTRY_VECTOR_CTRL) dword &= PCI_MSIX_ENTRY_CTRL_MASKBIT;
      writeLe(this.#table, at + i, 4, dword);
    }
    return true;
  }

  /** Guest read of `width` bytes at PBA byte `at`; undefined for a bad width, alignment or range. */
  readPba(at: number, width: number): number | bigint | undefined {
    return accessOk(at, width, this.pbaBytes) ? readAccess(this.#pba, at, width) : undefined;
  }
}

function accessOk(at: number, width: number, size: number): boolean {
  return (width === 4 || width === 8) && at % width === 0 && at >= 0 && at + width <= size;
}

function readAccess(bytes: Uint8Array, at: number, width: number): number | bigint {
  return width === 8 ? readLe64(bytes, at, 8) : readLe(bytes, at, 4);
}
