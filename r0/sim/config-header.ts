// The type 0 header of a simulated function (PCI Local Bus spec 3.0, 6.2): identity registers, the header's writable bits, BAR and ROM BAR registers with their masks.
//
// BARs (6.2.5.1) need no special write code: a BAR's writable mask is `~(size - 1)` without the
// flag bits, so the size probe (write 0xffff_ffff) reads back `~(size - 1) | flags` and a
// normal write keeps the flags, exactly what libvfio-user rebuilds as
// `(written & ~(size - 1)) | flags`. A 64-bit BAR is two dwords with their own masks; the ROM
// BAR (6.2.5.2) has its enable bit. ConfigSpace (config-space.ts) keeps which slots are used.

import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_IO_MASK,
  PCI_BASE_ADDRESS_MEM_MASK,
  PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_SPACE_IO,
  PCI_CACHE_LINE_SIZE,
  PCI_CLASS_PROG,
  PCI_COMMAND,
  PCI_DEVICE_ID,
  PCI_HEADER_TYPE,
  PCI_HEADER_TYPE_NORMAL,
  PCI_INTERRUPT_LINE,
  PCI_INTERRUPT_PIN,
  PCI_REVISION_ID,
  PCI_ROM_ADDRESS,
  PCI_ROM_ADDRESS_ENABLE,
  PCI_ROM_ADDRESS_MASK,
  PCI_STATUS,
  PCI_STD_NUM_BARS,
  PCI_SUBSYSTEM_ID,
  PCI_SUBSYSTEM_VENDOR_ID,
  PCI_VENDOR_ID,
} from '../../shared/linux/pci-regs.js';
import type { PciConfigRegisters } from '../../shared/pci/config-registers.js';
import { PCI_COMMAND_WRITABLE, PCI_STATUS_W1C } from '../../shared/pci/header-bits.js';
import type { SimBarKind } from './device.js';

/**
 * A BAR a model declares (PCI Local Bus spec 3.0, 6.2.5.1). `index` 0..5 (a `mem64` BAR takes
 * `index` and `index + 1`, so `index` <= 4); `size` a power of two in bytes (ports for I/O):
 * I/O 4..65536, memory at least 16 (32-bit memory at most 2 GiB, 64-bit at most 2^52).
 */
export interface BarDecl {
  index: number;
  /** I/O ports, 32-bit memory or 64-bit memory (two BAR slots). */
  kind: SimBarKind;
  size: number;
  /** Prefetchable memory (PCI_BASE_ADDRESS_MEM_PREFETCH); memory BARs only. */
  prefetchable?: boolean;
}

/** A declared BAR with its read-only flag bits (the low 2 bits for I/O, 4 for memory). */
export interface BarInfo {
  index: number;
  kind: SimBarKind;
  size: number;
  prefetchable: boolean;
  /** The read-only low bits: PCI_BASE_ADDRESS_SPACE_IO, or memory type and prefetch bits. */
  flags: number;
}

/** Identity fields of the type 0 header (PCI Local Bus spec 3.0, 6.2.1); all read-only. */
export interface ConfigIdentity {
  vendorId: number;
  deviceId: number;
  revision: number;
  /** 24-bit class code: base class << 16 | sub-class << 8 | programming interface. */
  classCode: number;
  subsystemVendorId?: number;
  subsystemId?: number;
  /** Interrupt pin: 0 none, 1..4 INTA#..INTD#. Default 0. */
  interruptPin?: number;
  /** Sets bit 7 of the header type (multi-function device). */
  multiFunction?: boolean;
}

/**
 * Writes the identity into `regs` and declares the header's writable bits: command
 * (PCI_COMMAND_WRITABLE), status error bits W1C (PCI_STATUS_W1C), cache line size and interrupt
 * line. Everything else of the header stays read-only. Throws RangeError naming the field when
 * an identity field is out of range.
 */
export function writeTypeZeroHeader(regs: PciConfigRegisters, identity: ConfigIdentity): void {
  checkField('vendorId', identity.vendorId, 0xffff);
  checkField('deviceId', identity.deviceId, 0xffff);
  checkField('revision', identity.revision, 0xff);
  checkField('classCode', identity.classCode, 0xff_ffff);
  checkField('subsystemVendorId', identity.subsystemVendorId ?? 0, 0xffff);
  checkField('subsystemId', identity.subsystemId ?? 0, 0xffff);
  checkField('interruptPin', identity.interruptPin ?? 0, 4);

  regs.set16(PCI_VENDOR_ID, identity.vendorId);
  regs.set16(PCI_DEVICE_ID, identity.deviceId);
  regs.set8(PCI_REVISION_ID, identity.revision);
  regs.set8(PCI_CLASS_PROG, identity.classCode & 0xff);
  regs.set16(PCI_CLASS_PROG + 1, identity.classCode >>> 8);
  regs.set8(PCI_HEADER_TYPE, PCI_HEADER_TYPE_NORMAL | (identity.multiFunction ? 0x80 : 0));
  regs.set16(PCI_SUBSYSTEM_VENDOR_ID, identity.subsystemVendorId ?? 0);
  regs.set16(PCI_SUBSYSTEM_ID, identity.subsystemId ?? 0);
  regs.set8(PCI_INTERRUPT_PIN, identity.interruptPin ?? 0);

  regs.setWritable(PCI_COMMAND, 2, PCI_COMMAND_WRITABLE);
  regs.setW1c(PCI_STATUS, 2, PCI_STATUS_W1C);
  regs.setWritable(PCI_CACHE_LINE_SIZE, 1, 0xff);
  regs.setWritable(PCI_INTERRUPT_LINE, 1, 0xff);
}

/**
 * Validates `decl` and programs its BAR registers in `regs`: address 0, the flag bits read-only,
 * the address bits writable (both dwords of a 64-bit BAR). `slotTaken(slot)` says whether a
 * BAR slot is already used. Returns the BAR with its flags. Throws RangeError for a bad index,
 * an occupied slot, or a size that is not a power of two or out of range for the kind.
 */
export function declareBar(regs: PciConfigRegisters, decl: BarDecl, slotTaken: (slot: number) => boolean): BarInfo {
  const { index, kind, size } = decl;
  const prefetchable = decl.prefetchable ?? false;
  const slots = kind === 'mem64' ? 2 : 1;
  if (!Number.isInteger(index) || index < 0 || index + slots > PCI_STD_NUM_BARS) {
    throw new RangeError(`BAR index ${index} is out of range for a ${kind} BAR: use 0..${PCI_STD_NUM_BARS - slots}`);
  }
  for (let i = index; i < index + slots; i++) {
    if (slotTaken(i)) throw new RangeError(`BAR slot ${i} is already used`);
  }
  if (!isPowerOfTwo(size)) throw new RangeError(`BAR${index} size ${size} is not a power of two`);
  if (kind === 'io') {
    if (size < 4 || size > 0x1_0000) throw new RangeError(`I/O BAR${index} size ${size} is out of range 4..65536 ports`);
    if (prefetchable) throw new RangeError(`I/O BAR${index} cannot be prefetchable`);
  } else {
    const max = kind === 'mem32' ? 2 ** 31 : 2 ** 52;
    if (size < 16 || size > max) throw new RangeError(`${kind} BAR${index} size ${size} is out of range 16..${max} bytes`);
  }
  const flags =
    kind === 'io' ? PCI_BASE_ADDRESS_SPACE_IO : (kind === 'mem64' ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) | (prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
  const reg = PCI_BASE_ADDRESS_0 + 4 * index;
  regs.set32(reg, flags);
  if (kind === 'mem64') {
    const mask = ~(BigInt(size) - 1n) & 0xffff_ffff_ffff_ffffn;
    regs.setWritable(reg, 4, Number(mask & BigInt(PCI_BASE_ADDRESS_MEM_MASK)));
    regs.setWritable(reg + 4, 4, Number(mask >> 32n));
    regs.set32(reg + 4, 0);
  } else {
    const low = kind === 'io' ? PCI_BASE_ADDRESS_IO_MASK : PCI_BASE_ADDRESS_MEM_MASK;
    regs.setWritable(reg, 4, (~(size - 1) & low) >>> 0);
  }
  return { index, kind, size, prefetchable, flags };
}

/**
 * The address programmed into `bar` (flags stripped; both halves of a 64-bit BAR), an unsigned
 * bus address: 0..2^32-1, or 0..2^64-1 for a 64-bit BAR.
 */
export function programmedBarAddress(regs: PciConfigRegisters, bar: BarInfo): bigint {
  const reg = PCI_BASE_ADDRESS_0 + 4 * bar.index;
  // `&` yields a signed int32: without `>>> 0` an address with bit 31 set would be negative.
  if (bar.kind === 'io') return BigInt((regs.get32(reg) & PCI_BASE_ADDRESS_IO_MASK) >>> 0);
  const low = BigInt((regs.get32(reg) & PCI_BASE_ADDRESS_MEM_MASK) >>> 0);
  return bar.kind === 'mem64' ? (BigInt(regs.get32(reg + 4)) << 32n) | low : low;
}

/**
 * Programs the expansion ROM BAR (6.2.5.2) for a ROM of `size` bytes: address 0, the address
 * bits and the enable bit writable. Throws RangeError unless `size` is a power of two from
 * 2 KiB (2048) to 16 MiB.
 */
export function declareRom(regs: PciConfigRegisters, size: number): void {
  if (!isPowerOfTwo(size) || size < 0x800 || size > 0x100_0000) {
    throw new RangeError(`expansion ROM size ${size} is invalid: use a power of two from 2048 to 16 MiB`);
  }
  regs.set32(PCI_ROM_ADDRESS, 0);
  regs.setWritable(PCI_ROM_ADDRESS, 4, ((~(size - 1) & PCI_ROM_ADDRESS_MASK) | PCI_ROM_ADDRESS_ENABLE) >>> 0);
}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

function checkField(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`config space ${name} ${v} is out of range 0..0x${max.toString(16)}`);
}
