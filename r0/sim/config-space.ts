// Emulated PCI configuration space of a simulated function: the shared registers and masks, plus which BARs, ROM and capabilities the model declared, and the power-on state.
//
// Concepts (PCI Local Bus spec 3.0, chapter 6; PCIe base spec 7.5):
// - Registers, writable and write-1-to-clear masks and the one merge of guest writes are the
//   shared PciConfigRegisters (shared/pci/config-registers.ts), the same type PciFront's
//   virtual copy uses. The type 0 header and the BAR registers are built by config-header.ts.
// - Capabilities (6.7) are appended to a linked list starting at PCI_CAPABILITY_LIST, from 0x40 up;
//   extended capabilities (PCIe 7.6) chain from 0x100 in a 4 KiB space; both are walked by the
//   shared walker (shared/pci/capabilities.ts); MSI and MSI-X state is read through
//   shared/pci/msi.ts and shared/pci/msix.ts.
// - The device side (the model) writes registers directly with the set* methods, which ignore
//   the masks; only guest writes (`write`, `writeBytes`) are merged.

import {
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
  PCI_COMMAND,
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
  PCI_ROM_ADDRESS,
  PCI_ROM_ADDRESS_ENABLE,
  PCI_ROM_ADDRESS_MASK,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_STD_HEADER_SIZEOF,
  PCI_STD_NUM_BARS,
} from '../../shared/linux/pci-regs.js';
import { msiLayout } from '../../shared/msi-layout.js';
import {
  type CapabilityEntry,
  capabilityList,
  extendedCapabilityList,
  findCapability,
  findExtendedCapability,
  PCI_EXT_CAP_START,
} from '../../shared/pci/capabilities.js';
import { PciConfigRegisters } from '../../shared/pci/config-registers.js';
import { MsiCapability } from '../../shared/pci/msi.js';
import { declareMsixWritable, type MsixState, readMsixCapability } from '../../shared/pci/msix.js';
import { type BarDecl, type BarInfo, type ConfigIdentity, declareBar, declareRom, programmedBarAddress, writeTypeZeroHeader } from './config-header.js';

/** Size of the PCI Express capability we build (through Link Status 2, as QEMU 7.2's v2 capability, PCI_EXP_VER2_SIZEOF). */
export const CONFIG_PCIE_CAP_SIZE = 0x3c;

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

  /** Throws RangeError for a size other than 256/4096 or an identity field out of range. */
  constructor(options: ConfigSpaceOptions) {
    super(options.size ?? PCI_CFG_SPACE_SIZE);
    writeTypeZeroHeader(this, options);
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
    const info = declareBar(this, decl, (slot) => this.slotTaken(slot));
    this.barList[info.index] = info;
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
    return bar ? programmedBarAddress(this, bar) : 0n;
  }

  /**
   * Declares the expansion ROM BAR (PCI Local Bus spec 6.2.5.2): `size` a power of two, at least
   * 2 KiB (2048), at most 16 MiB. Address bits and the enable bit become writable.
   */
  addRom(size: number): void {
    declareRom(this, size);
    this.expRom = { size };
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
    return capabilityList(this.reader);
  }

  /** Offset of the first capability with ID `id`, or undefined. */
  findCapability(id: number): number | undefined {
    return findCapability(this.reader, id);
  }

  /** The extended capability list from 0x100 (empty for a 256-byte space). */
  extendedCapabilities(): CapabilityEntry[] {
    return extendedCapabilityList(this.reader, this.size);
  }

  /** Offset of the first extended capability with ID `id`, or undefined. */
  findExtendedCapability(id: number): number | undefined {
    return findExtendedCapability(this.reader, this.size, id);
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
    return at === undefined ? undefined : readMsixCapability(this.reader, at);
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
