// Emulated PCI configuration space: registers, writable and write-1-to-clear masks, BARs, ROM BAR and capability lists.
//
// Concepts (PCI Local Bus spec 3.0, chapter 6; PCIe base spec 7.5):
// - The space is 256 bytes (conventional) or 4096 bytes (PCI Express), little-endian, kept in one
//   ArrayBuffer read through a DataView. Two parallel byte masks say what a write may change:
//   `writable` bits take the written value, `w1c` bits are cleared by writing 1 (status errors).
//   Every guest write goes through one function, `merge`:
//   `reg = (reg & ~writable) | (value & writable)`, then `reg &= ~(value & w1c)`, byte by byte,
//   so 1-, 2- and 4-byte accesses at any in-range offset behave the same (cloud-hypervisor's
//   configuration.rs keeps the same register + writable-bits pair).
// - BARs (6.2.5.1) need no special code: a BAR's writable mask is `~(size - 1)` without the flag
//   bits, so the size probe (write 0xffff_ffff) reads back `~(size - 1) | flags` and a normal write
//   keeps the flags, exactly what libvfio-user rebuilds as `(written & ~(size - 1)) | flags`.
//   A 64-bit BAR is two dwords with their own masks; the ROM BAR (6.2.5.2) has its enable bit.
// - Capabilities (6.7) are appended to a linked list starting at PCI_CAPABILITY_LIST, from 0x40 up;
//   extended capabilities (PCIe 7.6) chain from 0x100 in a 4 KiB space.
// - The device side (the model) writes registers directly with the set* methods, which ignore
//   the masks; only guest writes (`write`, `writeBytes`) are merged.

import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_SPACE_IO,
  PCI_CACHE_LINE_SIZE,
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_PM,
  PCI_CAP_ID_VNDR,
  PCI_CAP_LIST_NEXT,
  PCI_CAP_MSIX_SIZEOF,
  PCI_CAPABILITY_LIST,
  PCI_CFG_SPACE_EXP_SIZE,
  PCI_CFG_SPACE_SIZE,
  PCI_CLASS_PROG,
  PCI_COMMAND,
  PCI_DEVICE_ID,
  PCI_EXP_DEVCAP,
  PCI_EXP_DEVCAP_FLR,
  PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL_BCR_FLR,
  PCI_EXP_DEVCTL_CERE,
  PCI_EXP_DEVCTL_EXT_TAG,
  PCI_EXP_DEVCTL_FERE,
  PCI_EXP_DEVCTL_NFERE,
  PCI_EXP_DEVCTL_NOSNOOP_EN,
  PCI_EXP_DEVCTL_PAYLOAD,
  PCI_EXP_DEVCTL_READRQ,
  PCI_EXP_DEVCTL_READRQ_512B,
  PCI_EXP_DEVCTL_RELAX_EN,
  PCI_EXP_DEVCTL_URRE,
  PCI_EXP_DEVSTA,
  PCI_EXP_DEVSTA_CED,
  PCI_EXP_DEVSTA_FED,
  PCI_EXP_DEVSTA_NFED,
  PCI_EXP_DEVSTA_URD,
  PCI_EXP_FLAGS,
  PCI_EXP_LNKCAP,
  PCI_EXP_LNKCAP_SLS_2_5GB,
  PCI_EXP_LNKCTL,
  PCI_EXP_LNKCTL_ASPMC,
  PCI_EXP_LNKCTL_CCC,
  PCI_EXP_LNKCTL_ES,
  PCI_EXP_LNKSTA,
  PCI_EXP_LNKSTA_CLS_2_5GB,
  PCI_EXP_LNKSTA_NLW_X1,
  PCI_EXP_TYPE_ENDPOINT,
  PCI_EXT_CAP_ID_VNDR,
  PCI_HEADER_TYPE,
  PCI_HEADER_TYPE_NORMAL,
  PCI_INTERRUPT_LINE,
  PCI_INTERRUPT_PIN,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_64BIT,
  PCI_MSI_FLAGS_MASKBIT,
  PCI_MSIX_FLAGS,
  PCI_MSIX_PBA,
  PCI_MSIX_TABLE,
  PCI_PM_CAP_D1,
  PCI_PM_CAP_D2,
  PCI_PM_CTRL,
  PCI_PM_CTRL_NO_SOFT_RESET,
  PCI_PM_CTRL_PME_ENABLE,
  PCI_PM_CTRL_PME_STATUS,
  PCI_PM_CTRL_STATE_MASK,
  PCI_PM_PMC,
  PCI_PM_SIZEOF,
  PCI_REVISION_ID,
  PCI_ROM_ADDRESS,
  PCI_ROM_ADDRESS_ENABLE,
  PCI_ROM_ADDRESS_MASK,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_STD_HEADER_SIZEOF,
  PCI_STD_NUM_BARS,
  PCI_SUBSYSTEM_ID,
  PCI_SUBSYSTEM_VENDOR_ID,
  PCI_VENDOR_ID,
} from '../../shared/linux/pci-regs.js';
import { msiLayout } from '../../shared/msi-layout.js';
import {
  type CapabilityEntry,
  type ConfigRead,
  capabilityList,
  extendedCapabilityList,
  findCapability,
  findExtendedCapability,
  PCI_EXT_CAP_START,
} from '../../shared/pci/capabilities.js';
import { PciConfigRegisters } from '../../shared/pci/config-registers.js';
import { PCI_COMMAND_WRITABLE, PCI_STATUS_W1C } from '../../shared/pci/header-bits.js';
import { MsiCapability } from '../../shared/pci/msi.js';
import { declareMsixWritable, type MsixState, readMsixCapability } from '../../shared/pci/msix.js';
import type { SimBarKind } from './device.js';

/** Size of the PCI Express capability we build (through Link Status 2, as QEMU's v2 cap). */
export const CONFIG_PCIE_CAP_SIZE = 0x3c;

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

/** Options of {@link ConfigSpace}: the identity plus the size (256, or 4096 for PCI Express). */
export interface ConfigSpaceOptions extends ConfigIdentity {
  /** Bytes: 256 (PCI_CFG_SPACE_SIZE, default) or 4096 (PCI_CFG_SPACE_EXP_SIZE). */
  size?: number;
}

/** Options of {@link ConfigSpace.addMsi} (PCI Local Bus spec 3.0, 6.8.1). */
export interface MsiCapOptions {
  /** Vectors the function can use (Multiple Message Capable): 1, 2, 4, 8, 16 or 32. */
  vectors: number;
  /** 64-bit message address (PCI_MSI_FLAGS_64BIT). */
  is64: boolean;
  /** Per-vector masking (PCI_MSI_FLAGS_MASKBIT): adds the mask and pending registers. */
  perVectorMask: boolean;
  /** Byte offset; default: the next free dword. */
  offset?: number;
}

/** Options of {@link ConfigSpace.addMsix} (PCI Local Bus spec 3.0, 6.8.2). */
export interface MsixCapOptions {
  /** Table entries, 1..2048. */
  tableSize: number;
  /** BAR index (BIR) holding the table, 0..5. */
  tableBir: number;
  /** Byte offset of the table in that BAR, 8-byte aligned. */
  tableOffset: number;
  /** BAR index (BIR) holding the pending bit array, 0..5. */
  pbaBir: number;
  /** Byte offset of the PBA in that BAR, 8-byte aligned. */
  pbaOffset: number;
  /** Byte offset of the capability; default: the next free dword. */
  offset?: number;
}

/** Options of {@link ConfigSpace.addPowerManagement} (PCI Bus Power Management spec 1.2, 3.2). */
export interface PmCapOptions {
  /** D1 and D2 support bits in PMC; default false (only D0 and D3hot). */
  d1?: boolean;
  d2?: boolean;
  /** No_Soft_Reset: the function keeps its state across D3hot -> D0; default true. */
  noSoftReset?: boolean;
  offset?: number;
}

/** Options of {@link ConfigSpace.addPciExpress} (PCIe base spec 7.5.3). */
export interface PcieCapOptions {
  /** Function Level Reset capable (PCI_EXP_DEVCAP_FLR): Initiate FLR becomes writable. */
  flr?: boolean;
  offset?: number;
}

interface ExpRom {
  size: number;
}

function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/**
 * An emulated configuration space. Guest accesses: {@link read}/{@link write} (1, 2, 4 bytes)
 * and {@link readBytes}/{@link writeBytes}; the device's own updates: the `set*` methods.
 * Construction order: identity (constructor), then BARs, ROM and capabilities, then
 * {@link capturePowerOn} so {@link resetToPowerOn} can restore that state.
 *
 * Read-only (per PCI Local Bus spec 6.2): vendor, device, revision, class, header type,
 * subsystem IDs, interrupt pin, capability pointers and headers, status (except its W1C error
 * bits). Writable: command (IO, MEMORY, MASTER, PARITY, SERR, INTX_DISABLE), cache line size,
 * interrupt line, BAR address bits, ROM address and enable bits, and the capability fields
 * the capability builders declare writable.
 */
export class ConfigSpace extends PciConfigRegisters {
  private readonly barList: (BarInfo | undefined)[] = new Array(PCI_STD_NUM_BARS).fill(undefined);
  private expRom: ExpRom | undefined;
  private capCursor = PCI_STD_HEADER_SIZEOF;
  private lastCap = 0;
  private extCursor = PCI_EXT_CAP_START;
  private lastExtCap = 0;
  private powerOn: { bytes: Uint8Array } | undefined;
  readonly #reader: ConfigRead = (offset, width) => this.read(offset, width);

  /** Throws RangeError for a size other than 256/4096 or an identity field out of range. */
  constructor(options: ConfigSpaceOptions) {
    super(options.size ?? PCI_CFG_SPACE_SIZE);
    checkField('vendorId', options.vendorId, 0xffff);
    checkField('deviceId', options.deviceId, 0xffff);
    checkField('revision', options.revision, 0xff);
    checkField('classCode', options.classCode, 0xff_ffff);
    checkField('subsystemVendorId', options.subsystemVendorId ?? 0, 0xffff);
    checkField('subsystemId', options.subsystemId ?? 0, 0xffff);
    checkField('interruptPin', options.interruptPin ?? 0, 4);

    this.set16(PCI_VENDOR_ID, options.vendorId);
    this.set16(PCI_DEVICE_ID, options.deviceId);
    this.set8(PCI_REVISION_ID, options.revision);
    this.set8(PCI_CLASS_PROG, options.classCode & 0xff);
    this.set16(PCI_CLASS_PROG + 1, options.classCode >>> 8);
    this.set8(PCI_HEADER_TYPE, PCI_HEADER_TYPE_NORMAL | (options.multiFunction ? 0x80 : 0));
    this.set16(PCI_SUBSYSTEM_VENDOR_ID, options.subsystemVendorId ?? 0);
    this.set16(PCI_SUBSYSTEM_ID, options.subsystemId ?? 0);
    this.set8(PCI_INTERRUPT_PIN, options.interruptPin ?? 0);

    this.setWritable(PCI_COMMAND, 2, PCI_COMMAND_WRITABLE);
    this.setW1c(PCI_STATUS, 2, PCI_STATUS_W1C);
    this.setWritable(PCI_CACHE_LINE_SIZE, 1, 0xff);
    this.setWritable(PCI_INTERRUPT_LINE, 1, 0xff);
  }

  /** The command register (PCI_COMMAND). */
  get command(): number {
    return this.get16(PCI_COMMAND);
  }

  /** The status register (PCI_STATUS). */
  get status(): number {
    return this.get16(PCI_STATUS);
  }

  /** Device-side set or clear of status bits, e.g. PCI_STATUS_INTERRUPT (6.2.3). */
  setStatusBits(mask: number, on: boolean): void {
    const s = this.status;
    this.set16(PCI_STATUS, on ? s | mask : s & ~mask);
  }

  // ---- BARs and expansion ROM -------------------------------------------------------------

  /**
   * Declares a BAR (PCI Local Bus spec 6.2.5.1). Its address bits become writable, its flag bits
   * read-only, its address 0. Throws RangeError for a bad index, size or an occupied slot.
   */
  addBar(decl: BarDecl): BarInfo {
    const { index, kind, size } = decl;
    const prefetchable = decl.prefetchable ?? false;
    const slots = kind === 'mem64' ? 2 : 1;
    if (!Number.isInteger(index) || index < 0 || index + slots > PCI_STD_NUM_BARS) {
      throw new RangeError(`BAR index ${index} is out of range for a ${kind} BAR: use 0..${PCI_STD_NUM_BARS - slots}`);
    }
    for (let i = index; i < index + slots; i++) {
      if (this.slotTaken(i)) throw new RangeError(`BAR slot ${i} is already used`);
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
    const info: BarInfo = { index, kind, size, prefetchable, flags };
    this.barList[index] = info;
    const reg = PCI_BASE_ADDRESS_0 + 4 * index;
    this.set32(reg, flags);
    if (kind === 'mem64') {
      const mask = ~(BigInt(size) - 1n) & 0xffff_ffff_ffff_ffffn;
      this.setWritable(reg, 4, Number(mask & 0xffff_fff0n));
      this.setWritable(reg + 4, 4, Number(mask >> 32n));
      this.set32(reg + 4, 0);
    } else {
      const low = kind === 'io' ? 0xffff_fffc : 0xffff_fff0;
      this.setWritable(reg, 4, (~(size - 1) & low) >>> 0);
    }
    return info;
  }

  private slotTaken(slot: number): boolean {
    if (this.barList[slot]) return true;
    const prev = slot > 0 ? this.barList[slot - 1] : undefined;
    return prev?.kind === 'mem64';
  }

  /** The BAR declared at `index` (the low slot of a 64-bit BAR), or undefined. */
  bar(index: number): BarInfo | undefined {
    return this.barList[index];
  }

  /** All declared BARs, by index. */
  bars(): readonly BarInfo[] {
    return this.barList.filter((b): b is BarInfo => b !== undefined);
  }

  /**
   * The address programmed into BAR `index` (flags stripped; both halves of a 64-bit BAR), an
   * unsigned bus address: 0..2^32-1, or 0..2^64-1 for a 64-bit BAR; 0n for an absent BAR.
   */
  barAddress(index: number): bigint {
    const bar = this.barList[index];
    if (!bar) return 0n;
    const reg = PCI_BASE_ADDRESS_0 + 4 * index;
    // `&` yields a signed int32: without `>>> 0` an address with bit 31 set would be negative.
    if (bar.kind === 'io') return BigInt((this.get32(reg) & 0xffff_fffc) >>> 0);
    const low = BigInt((this.get32(reg) & 0xffff_fff0) >>> 0);
    return bar.kind === 'mem64' ? (BigInt(this.get32(reg + 4)) << 32n) | low : low;
  }

  /**
   * Declares the expansion ROM BAR (PCI Local Bus spec 6.2.5.2): `size` a power of two, at least
   * 2 KiB (2048), at most 16 MiB. Address bits and the enable bit become writable.
   */
  addRom(size: number): void {
    if (!isPowerOfTwo(size) || size < 0x800 || size > 0x100_0000) {
      throw new RangeError(`expansion ROM size ${size} is invalid: use a power of two from 2048 to 16 MiB`);
    }
    this.expRom = { size };
    this.set32(PCI_ROM_ADDRESS, 0);
    this.setWritable(PCI_ROM_ADDRESS, 4, ((~(size - 1) & PCI_ROM_ADDRESS_MASK) | PCI_ROM_ADDRESS_ENABLE) >>> 0);
  }

  /** Size in bytes of the expansion ROM, or 0 when there is none. */
  get romSize(): number {
    return this.expRom?.size ?? 0;
  }

  /** The address programmed into the ROM BAR (enable bit stripped). */
  romAddress(): number {
    return (this.get32(PCI_ROM_ADDRESS) & PCI_ROM_ADDRESS_MASK) >>> 0;
  }

  /** Whether the ROM BAR's enable bit (PCI_ROM_ADDRESS_ENABLE) is set. */
  romEnabled(): boolean {
    return (this.get32(PCI_ROM_ADDRESS) & PCI_ROM_ADDRESS_ENABLE) !== 0;
  }

  // ---- capabilities ---------------------------------------------------------------------

  /**
   * Appends a capability of `length` bytes with ID `id` to the list (PCI Local Bus spec 6.7):
   * writes its ID, links it after the last one (or from PCI_CAPABILITY_LIST), sets
   * PCI_STATUS_CAP_LIST. The body is zero and read-only until the caller declares masks.
   * Returns its offset. Throws RangeError when it does not fit below 0x100 or `offset` is
   * below the next free dword or unaligned.
   */
  addCapability(id: number, length: number, offset?: number): number {
    const at = offset ?? this.capCursor;
    if (at % 4 !== 0 || at < this.capCursor) {
      throw new RangeError(
        `capability 0x${id.toString(16)} at 0x${at.toString(16)}: offset must be dword aligned and at least 0x${this.capCursor.toString(16)}`,
      );
    }
    if (length < 2 || at + length > PCI_CFG_SPACE_SIZE) {
      throw new RangeError(`capability 0x${id.toString(16)} of ${length} bytes at 0x${at.toString(16)} does not fit below 0x100`);
    }
    this.set8(at, id);
    this.set8(at + PCI_CAP_LIST_NEXT, 0);
    if (this.lastCap === 0) this.set8(PCI_CAPABILITY_LIST, at);
    else this.set8(this.lastCap + PCI_CAP_LIST_NEXT, at);
    this.lastCap = at;
    this.capCursor = (at + length + 3) & ~3;
    this.setStatusBits(PCI_STATUS_CAP_LIST, true);
    return at;
  }

  /**
   * PCI power management capability (PCI Bus PM spec 1.2, 3.2), 8 bytes: PMC version 3,
   * PMCSR with PowerState and PME_En writable, PME_Status W1C, No_Soft_Reset as chosen.
   */
  addPowerManagement(options: PmCapOptions = {}): number {
    const at = this.addCapability(PCI_CAP_ID_PM, PCI_PM_SIZEOF, options.offset);
    this.set16(at + PCI_PM_PMC, 3 | (options.d1 ? PCI_PM_CAP_D1 : 0) | (options.d2 ? PCI_PM_CAP_D2 : 0));
    this.set16(at + PCI_PM_CTRL, (options.noSoftReset ?? true) ? PCI_PM_CTRL_NO_SOFT_RESET : 0);
    this.setWritable(at + PCI_PM_CTRL, 2, PCI_PM_CTRL_STATE_MASK | PCI_PM_CTRL_PME_ENABLE);
    this.setW1c(at + PCI_PM_CTRL, 2, PCI_PM_CTRL_PME_STATUS);
    return at;
  }

  /**
   * MSI capability (PCI Local Bus spec 3.0, 6.8.1): 10, 14, 20 or 24 bytes by layout. Writable:
   * enable, Multiple Message Enable, address (dword aligned), data (16 bits), mask bits.
   */
  addMsi(options: MsiCapOptions): number {
    const { vectors, is64, perVectorMask } = options;
    if (![1, 2, 4, 8, 16, 32].includes(vectors)) throw new RangeError(`MSI vectors ${vectors} is invalid: use 1, 2, 4, 8, 16 or 32`);
    const flags = (Math.log2(vectors) << 1) | (is64 ? PCI_MSI_FLAGS_64BIT : 0) | (perVectorMask ? PCI_MSI_FLAGS_MASKBIT : 0);
    const at = this.addCapability(PCI_CAP_ID_MSI, msiLayout(flags).length, options.offset);
    this.set16(at + PCI_MSI_FLAGS, flags);
    new MsiCapability(this, at).declareWritable();
    return at;
  }

  /**
   * MSI-X capability (PCI Local Bus spec 3.0, 6.8.2), 12 bytes: Table Size read-only, MSI-X
   * Enable and Function Mask writable, Table and PBA offset/BIR read-only. The table and PBA
   * themselves are emulated by the owner of the BAR (see r0/sim/models/base.ts).
   */
  addMsix(options: MsixCapOptions): number {
    const { tableSize, tableBir, tableOffset, pbaBir, pbaOffset } = options;
    if (!Number.isInteger(tableSize) || tableSize < 1 || tableSize > 2048) throw new RangeError(`MSI-X table size ${tableSize} is out of range 1..2048`);
    for (const [name, bir] of [
      ['tableBir', tableBir],
      ['pbaBir', pbaBir],
    ] as const) {
      if (!this.barList[bir] || this.barList[bir]!.kind === 'io')
        throw new RangeError(`MSI-X ${name} ${bir} does not name a declared memory BAR: declare it first`);
    }
    for (const [name, off] of [
      ['tableOffset', tableOffset],
      ['pbaOffset', pbaOffset],
    ] as const) {
      if (!Number.isInteger(off) || off < 0 || off % 8 !== 0) throw new RangeError(`MSI-X ${name} 0x${off.toString(16)} must be 8-byte aligned`);
    }
    if (tableOffset + tableSize * 16 > this.barList[tableBir]!.size) throw new RangeError('MSI-X table does not fit in its BAR');
    if (pbaOffset + Math.ceil(tableSize / 64) * 8 > this.barList[pbaBir]!.size) throw new RangeError('MSI-X PBA does not fit in its BAR');
    const at = this.addCapability(PCI_CAP_ID_MSIX, PCI_CAP_MSIX_SIZEOF, options.offset);
    this.set16(at + PCI_MSIX_FLAGS, tableSize - 1);
    declareMsixWritable(this, at);
    this.set32(at + PCI_MSIX_TABLE, (tableOffset | tableBir) >>> 0);
    this.set32(at + PCI_MSIX_PBA, (pbaOffset | pbaBir) >>> 0);
    return at;
  }

  /**
   * PCI Express capability of an endpoint (PCIe base spec 7.5.3), version 2, 0x3c bytes:
   * 128-byte max payload, x1 link at 2.5 GT/s, optional FLR. Writable: Device Control (error
   * reporting, payload, read request size, relaxed ordering, no snoop, Initiate FLR when FLR
   * capable: the owner performs the reset and the bit reads 0), Link Control (ASPM, CCC, ES);
   * Device Status error bits are W1C.
   */
  addPciExpress(options: PcieCapOptions = {}): number {
    const at = this.addCapability(PCI_CAP_ID_EXP, CONFIG_PCIE_CAP_SIZE, options.offset);
    this.set16(at + PCI_EXP_FLAGS, 2 | (PCI_EXP_TYPE_ENDPOINT << 4));
    this.set32(at + PCI_EXP_DEVCAP, options.flr ? PCI_EXP_DEVCAP_FLR : 0);
    this.set16(at + PCI_EXP_DEVCTL, PCI_EXP_DEVCTL_RELAX_EN | PCI_EXP_DEVCTL_NOSNOOP_EN | PCI_EXP_DEVCTL_READRQ_512B);
    this.setWritable(
      at + PCI_EXP_DEVCTL,
      2,
      PCI_EXP_DEVCTL_CERE |
        PCI_EXP_DEVCTL_NFERE |
        PCI_EXP_DEVCTL_FERE |
        PCI_EXP_DEVCTL_URRE |
        PCI_EXP_DEVCTL_RELAX_EN |
        PCI_EXP_DEVCTL_PAYLOAD |
        PCI_EXP_DEVCTL_EXT_TAG |
        PCI_EXP_DEVCTL_NOSNOOP_EN |
        PCI_EXP_DEVCTL_READRQ |
        (options.flr ? PCI_EXP_DEVCTL_BCR_FLR : 0),
    );
    this.setW1c(at + PCI_EXP_DEVSTA, 2, PCI_EXP_DEVSTA_CED | PCI_EXP_DEVSTA_NFED | PCI_EXP_DEVSTA_FED | PCI_EXP_DEVSTA_URD);
    this.set32(at + PCI_EXP_LNKCAP, PCI_EXP_LNKCAP_SLS_2_5GB | (1 << 4));
    this.setWritable(at + PCI_EXP_LNKCTL, 2, PCI_EXP_LNKCTL_ASPMC | PCI_EXP_LNKCTL_CCC | PCI_EXP_LNKCTL_ES);
    this.set16(at + PCI_EXP_LNKSTA, PCI_EXP_LNKSTA_CLS_2_5GB | PCI_EXP_LNKSTA_NLW_X1);
    return at;
  }

  /**
   * Vendor-specific capability (PCI_CAP_ID_VNDR, PCI Local Bus spec 6.7): ID, next, length byte
   * (3 + payload length), then `payload`, all read-only.
   */
  addVendorSpecific(payload: Uint8Array, offset?: number): number {
    const length = 3 + payload.length;
    const at = this.addCapability(PCI_CAP_ID_VNDR, length, offset);
    this.set8(at + 2, length);
    this.bytes.set(payload, at + 3);
    return at;
  }

  /**
   * Appends an extended capability (PCIe base spec 7.6) of `length` bytes from 0x100 up: header
   * dword `id | version << 16 | next << 20`, body zero and read-only. Needs a 4 KiB space;
   * throws RangeError otherwise or when it does not fit.
   */
  addExtendedCapability(id: number, version: number, length: number): number {
    if (this.size !== PCI_CFG_SPACE_EXP_SIZE) throw new RangeError('extended capabilities need a 4096-byte config space (PCI Express)');
    const at = this.extCursor;
    if (length < 4 || at + length > this.size) throw new RangeError(`extended capability 0x${id.toString(16)} of ${length} bytes does not fit`);
    this.set32(at, (id & 0xffff) | ((version & 0xf) << 16));
    if (this.lastExtCap !== 0) {
      const prev = this.get32(this.lastExtCap);
      this.set32(this.lastExtCap, ((prev & 0x000f_ffff) | (at << 20)) >>> 0);
    }
    this.lastExtCap = at;
    this.extCursor = (at + length + 3) & ~3;
    return at;
  }

  /**
   * Vendor-specific extended capability (PCI_EXT_CAP_ID_VNDR, PCIe base spec 7.9.5): header,
   * then the VSEC header `vsecId | vsecRev << 16 | vsecLength << 20` (vsecLength = 8 +
   * payload bytes), then `payload`; read-only.
   */
  addVendorSpecificExtended(vsecId: number, vsecRev: number, payload: Uint8Array): number {
    const length = 8 + payload.length;
    const at = this.addExtendedCapability(PCI_EXT_CAP_ID_VNDR, 1, length);
    this.set32(at + 4, ((vsecId & 0xffff) | ((vsecRev & 0xf) << 16) | ((length & 0xfff) << 20)) >>> 0);
    this.bytes.set(payload, at + 8);
    return at;
  }

  /** The capability list ({@link capabilityList}: stops on a loop or a bad pointer). */
  capabilities(): CapabilityEntry[] {
    return capabilityList(this.#reader);
  }

  /** Offset of the first capability with ID `id`, or undefined. */
  findCapability(id: number): number | undefined {
    return findCapability(this.#reader, id);
  }

  /** The extended capability list from 0x100 (empty for a 256-byte space). */
  extendedCapabilities(): CapabilityEntry[] {
    return extendedCapabilityList(this.#reader, this.size);
  }

  /** Offset of the first extended capability with ID `id`, or undefined. */
  findExtendedCapability(id: number): number | undefined {
    return findExtendedCapability(this.#reader, this.size, id);
  }

  // ---- MSI / MSI-X state -----------------------------------------------------------------

  /** A live view of the MSI capability, or undefined without one. */
  msi(): MsiCapability | undefined {
    const at = this.findCapability(PCI_CAP_ID_MSI);
    return at === undefined ? undefined : new MsiCapability(this, at);
  }

  /** The MSI-X capability as programmed, or undefined without one. */
  msix(): MsixState | undefined {
    const at = this.findCapability(PCI_CAP_ID_MSIX);
    return at === undefined ? undefined : readMsixCapability(this.#reader, at);
  }

  // ---- power-on state --------------------------------------------------------------------

  /** Records the current registers as the power-on state {@link resetToPowerOn} restores. */
  capturePowerOn(): void {
    this.powerOn = { bytes: this.bytes.slice() };
  }

  /**
   * Restores the power-on registers (BARs 0, command 0, capabilities disabled); the masks are
   * unchanged. Throws Error when {@link capturePowerOn} was never called (a model bug).
   */
  resetToPowerOn(): void {
    if (!this.powerOn) throw new Error('ConfigSpace.resetToPowerOn: capturePowerOn() was never called');
    this.bytes.set(this.powerOn.bytes);
  }
}

function checkField(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`config space ${name} ${v} is out of range 0..0x${max.toString(16)}`);
}
