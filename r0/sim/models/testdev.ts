// `rawpci-testdev`: the second simulated device (I/O BAR, 64-bit prefetchable RAM BAR, MSI-X, ROM, PM, PCIe), specified in docs/testdev.md.

import { fillOnes, readLe, writeLe } from '../../../shared/le.js';
import { PCI_CFG_SPACE_EXP_SIZE } from '../../../shared/linux/pci-regs.js';
import { allocShareable } from '../../../shared/shareable.js';
import { ConfigSpace } from '../config-space.js';
import { SimPciFunction, showOption } from './base.js';

/** testdev identity (docs/testdev.md, Identity). */
export const TESTDEV_VENDOR_ID = 0x1234;
export const TESTDEV_DEVICE_ID = 0x5250;
export const TESTDEV_REVISION = 0x01;
export const TESTDEV_CLASS_CODE = 0x00_ff00;
export const TESTDEV_SUBSYSTEM_VENDOR_ID = 0x1234;
export const TESTDEV_SUBSYSTEM_ID = 0x0001;

/** Region indices and sizes (docs/testdev.md, BARs and ROM). */
export const TESTDEV_IO_BAR = 0;
/** BAR0 size in ports. */
export const TESTDEV_IO_SIZE = 0x100;
export const TESTDEV_MEM_BAR = 2;
/** Default BAR2 size in bytes (option `memBarSize`). */
export const TESTDEV_DEFAULT_MEM_SIZE = 0x10_0000;
export const TESTDEV_MSIX_BAR = 4;
/** BAR4 size in bytes. */
export const TESTDEV_MSIX_BAR_SIZE = 0x1000;
/** Byte offsets of the MSI-X table and PBA in BAR4. */
export const TESTDEV_MSIX_TABLE_OFFSET = 0x000;
export const TESTDEV_MSIX_PBA_OFFSET = 0x800;
/** Default MSI-X table size (option `msixVectors`). */
export const TESTDEV_DEFAULT_VECTORS = 8;
/** Expansion ROM size in bytes. */
export const TESTDEV_ROM_SIZE = 0x8000;

/** Config-space offsets of the capabilities (docs/testdev.md, Capabilities). */
export const TESTDEV_CAP = {
  PM: 0x40,
  MSIX: 0x50,
  EXP: 0x60,
  VNDR: 0xa0,
  /** Vendor-specific extended capability. */
  EXT_VNDR: 0x100,
} as const;

/** BAR0 port offsets (docs/testdev.md, BAR0). */
export const TESTDEV_REG = {
  /** RO: reads {@link TESTDEV_ID_VALUE}. */
  ID: 0x00,
  /** RW: plain storage, 1/2/4-byte accesses anywhere inside it. */
  SCRATCH: 0x04,
  /** WO: signal vector V. */
  DOORBELL: 0x08,
  /** RW1C: bit V set by doorbell V. */
  IRQ_STATUS: 0x0c,
  /** RW: BAR0 access counter; a write clears it. */
  ACCESS_COUNT: 0x10,
  /** RO: number of MSI-X vectors. */
  VECTORS: 0x14,
  /** RO: BAR2 size in bytes. */
  MEM_SIZE: 0x18,
} as const;

/** What the ID register reads: device 0x5250 << 16 | interface revision 1. */
export const TESTDEV_ID_VALUE = 0x5250_0001;

/** Options of the `rawpci-testdev` model (inventory `options`). */
export interface TestDevOptions {
  /** BAR2 size in bytes: a power of two, 4096..1 GiB; default 1 MiB. */
  memBarSize?: number;
  /** MSI-X vectors, 1..32 (one IRQ_STATUS bit each); default 8. */
  msixVectors?: number;
}

function parseOptions(options: Record<string, unknown>): Required<TestDevOptions> {
  const known = ['memBarSize', 'msixVectors'];
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) throw new TypeError(`rawpci-testdev: unknown option '${key}': known options are ${known.join(', ')}`);
  }
  const memBarSize = options.memBarSize ?? TESTDEV_DEFAULT_MEM_SIZE;
  if (
    typeof memBarSize !== 'number' ||
    !Number.isInteger(memBarSize) ||
    memBarSize < 0x1000 ||
    memBarSize > 0x4000_0000 ||
    (memBarSize & (memBarSize - 1)) !== 0
  ) {
    throw new RangeError(`rawpci-testdev: option memBarSize ${showOption(memBarSize)} must be a power of two from 4096 to 1073741824 bytes`);
  }
  const msixVectors = options.msixVectors ?? TESTDEV_DEFAULT_VECTORS;
  if (typeof msixVectors !== 'number' || !Number.isInteger(msixVectors) || msixVectors < 1 || msixVectors > 32) {
    throw new RangeError(`rawpci-testdev: option msixVectors ${showOption(msixVectors)} must be an integer from 1 to 32 (one IRQ_STATUS bit each)`);
  }
  return { memBarSize, msixVectors };
}

function ascii(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

/**
 * Builds the testdev option ROM image (docs/testdev.md, Expansion ROM; PCI Local Bus spec 3.0,
 * 6.3.1): `size` bytes with the 0x55AA header, a "PCIR" data structure at 0x20 and a checksum
 * byte at the end so that all bytes sum to 0 mod 256.
 */
export function buildTestDevRom(size = TESTDEV_ROM_SIZE): Uint8Array {
  const rom = new Uint8Array(size);
  const view = new DataView(rom.buffer);
  const units = size / 512;
  rom[0x00] = 0x55;
  rom[0x01] = 0xaa;
  rom[0x02] = Math.min(units, 0xff);
  rom[0x03] = 0xcb; // RETF: the legacy init entry point returns at once.
  const pcir = 0x20;
  view.setUint16(0x18, pcir, true);
  rom.set(ascii('PCIR'), pcir);
  view.setUint16(pcir + 0x04, TESTDEV_VENDOR_ID, true);
  view.setUint16(pcir + 0x06, TESTDEV_DEVICE_ID, true);
  view.setUint16(pcir + 0x08, 0, true); // device list pointer
  view.setUint16(pcir + 0x0a, 0x1c, true); // structure length
  rom[pcir + 0x0c] = 3; // structure revision (PCI Firmware 3.0)
  rom[pcir + 0x0d] = TESTDEV_CLASS_CODE & 0xff; // prog-if
  rom[pcir + 0x0e] = (TESTDEV_CLASS_CODE >>> 8) & 0xff; // sub-class
  rom[pcir + 0x0f] = (TESTDEV_CLASS_CODE >>> 16) & 0xff; // base class
  view.setUint16(pcir + 0x10, units, true); // image length, 512-byte units
  view.setUint16(pcir + 0x12, 0x0001, true); // revision level of code/data
  rom[pcir + 0x14] = 0; // code type: x86 PC-AT compatible
  rom[pcir + 0x15] = 0x80; // indicator: last image
  view.setUint16(pcir + 0x16, units, true); // maximum run-time image length
  rom.set(ascii('rawpci-testdev option ROM\0'), 0x40);
  let sum = 0;
  for (let i = 0; i < size - 1; i++) sum = (sum + rom[i]!) & 0xff;
  rom[size - 1] = (0x100 - sum) & 0xff;
  return rom;
}

function buildConfig(o: Required<TestDevOptions>): ConfigSpace {
  const config = new ConfigSpace({
    size: PCI_CFG_SPACE_EXP_SIZE,
    vendorId: TESTDEV_VENDOR_ID,
    deviceId: TESTDEV_DEVICE_ID,
    revision: TESTDEV_REVISION,
    classCode: TESTDEV_CLASS_CODE,
    subsystemVendorId: TESTDEV_SUBSYSTEM_VENDOR_ID,
    subsystemId: TESTDEV_SUBSYSTEM_ID,
    interruptPin: 1,
  });
  config.addBar({ index: TESTDEV_IO_BAR, kind: 'io', size: TESTDEV_IO_SIZE });
  config.addBar({ index: TESTDEV_MEM_BAR, kind: 'mem64', size: o.memBarSize, prefetchable: true });
  config.addBar({ index: TESTDEV_MSIX_BAR, kind: 'mem32', size: TESTDEV_MSIX_BAR_SIZE });
  config.addRom(TESTDEV_ROM_SIZE);
  config.addPowerManagement({ offset: TESTDEV_CAP.PM });
  config.addMsix({
    tableSize: o.msixVectors,
    tableBir: TESTDEV_MSIX_BAR,
    tableOffset: TESTDEV_MSIX_TABLE_OFFSET,
    pbaBir: TESTDEV_MSIX_BAR,
    pbaOffset: TESTDEV_MSIX_PBA_OFFSET,
    offset: TESTDEV_CAP.MSIX,
  });
  config.addPciExpress({ flr: true, offset: TESTDEV_CAP.EXP });
  config.addVendorSpecific(Uint8Array.of(...ascii('RPCI'), 0x01), TESTDEV_CAP.VNDR);
  config.addVendorSpecificExtended(TESTDEV_DEVICE_ID, 1, ascii('RAWPCITD'));
  return config;
}

/**
 * The `rawpci-testdev` model (docs/testdev.md). `options` as {@link TestDevOptions}; throws
 * TypeError/RangeError naming a bad option.
 */
export class TestDevDevice extends SimPciFunction {
  readonly model = 'rawpci-testdev';
  /** BAR2's memory: the SharedArrayBuffer ring 0 may map into ring 3. */
  readonly memory: SharedArrayBuffer;
  private readonly mem: Uint8Array;
  private readonly vectors: number;
  private readonly rom = buildTestDevRom();
  private readonly scratch = new Uint8Array(4);
  private irqStatus = 0;
  private accessCount = 0;

  constructor(options: Record<string, unknown> = {}) {
    const o = parseOptions(options);
    super(buildConfig(o));
    this.vectors = o.msixVectors;
    this.memory = allocShareable(o.memBarSize, 'rawpci-testdev-bar2');
    this.mem = new Uint8Array(this.memory);
  }

  protected override regionBacking(index: number): SharedArrayBuffer | undefined {
    return index === TESTDEV_MEM_BAR ? this.memory : undefined;
  }

  protected override romImage(): Uint8Array {
    return this.rom;
  }

  /** Pending doorbell bits (the IRQ_STATUS register). */
  get interruptStatus(): number {
    return this.irqStatus;
  }

  override readIo(region: number, offset: number, data: Uint8Array): boolean {
    if (!this.ioRegionContains(region, offset, data.length)) {
      this.log(`I/O read of ${data.length} bytes at region ${region}+0x${offset.toString(16)} is outside BAR0`);
      return false;
    }
    this.readPort(offset, data);
    this.accessCount = (this.accessCount + 1) >>> 0;
    return true;
  }

  private readPort(offset: number, data: Uint8Array): void {
    const width = data.length;
    if (offset >= TESTDEV_REG.SCRATCH && offset + width <= TESTDEV_REG.SCRATCH + 4 && (width === 1 || width === 2 || width === 4)) {
      const at = offset - TESTDEV_REG.SCRATCH;
      data.set(this.scratch.subarray(at, at + width));
      return;
    }
    if (width !== 4 || offset % 4 !== 0) {
      this.log(`BAR0 read of ${width} bytes at port 0x${offset.toString(16)}: bad width (registers take 4-byte accesses)`);
      fillOnes(data);
      return;
    }
    const value = this.#register(offset);
    if (value === undefined) {
      this.log(`BAR0 read at port 0x${offset.toString(16)}: no readable register there`);
      fillOnes(data);
      return;
    }
    writeLe(data, 0, data.length, value);
  }

  /** The 32-bit register at port offset `offset`, or undefined when none is readable there (a switch: this is every PIO read's path). */
  #register(offset: number): number | undefined {
    switch (offset) {
      case TESTDEV_REG.ID:
        return TESTDEV_ID_VALUE;
      case TESTDEV_REG.IRQ_STATUS:
        return this.irqStatus;
      case TESTDEV_REG.ACCESS_COUNT:
        return this.accessCount;
      case TESTDEV_REG.VECTORS:
        return this.vectors;
      case TESTDEV_REG.MEM_SIZE:
        return this.memory.byteLength;
      default:
        return undefined;
    }
  }

  override writeIo(region: number, offset: number, data: Uint8Array): boolean {
    if (!this.ioRegionContains(region, offset, data.length)) {
      this.log(`I/O write of ${data.length} bytes at region ${region}+0x${offset.toString(16)} is outside BAR0`);
      return false;
    }
    if (this.writePort(offset, data)) this.accessCount = (this.accessCount + 1) >>> 0;
    return true;
  }

  /** Returns false when the write cleared ACCESS_COUNT (and so is not counted). */
  private writePort(offset: number, data: Uint8Array): boolean {
    const width = data.length;
    if (offset >= TESTDEV_REG.SCRATCH && offset + width <= TESTDEV_REG.SCRATCH + 4 && (width === 1 || width === 2 || width === 4)) {
      this.scratch.set(data, offset - TESTDEV_REG.SCRATCH);
      return true;
    }
    if (width !== 4 || offset % 4 !== 0) {
      this.log(`BAR0 write of ${width} bytes at port 0x${offset.toString(16)} ignored: bad width (registers take 4-byte accesses)`);
      return true;
    }
    const value = readLe(data);
    switch (offset) {
      case TESTDEV_REG.DOORBELL:
        this.doorbell(value);
        return true;
      case TESTDEV_REG.IRQ_STATUS:
        this.irqStatus = (this.irqStatus & ~value) >>> 0;
        if (this.irqStatus === 0 && !this.config.msix()?.enabled) this.setIntx(false);
        return true;
      case TESTDEV_REG.ACCESS_COUNT:
        this.accessCount = 0;
        return false;
      default:
        this.log(`BAR0 write at port 0x${offset.toString(16)} ignored: no writable register there`);
        return true;
    }
  }

  private doorbell(vector: number): void {
    if (vector >= this.vectors) {
      this.log(`doorbell ${vector} ignored: vectors are 0..${this.vectors - 1}`);
      return;
    }
    this.irqStatus = (this.irqStatus | (1 << vector)) >>> 0;
    this.signalVector(vector);
  }

  protected override readBar(region: number, offset: number, data: Uint8Array): boolean {
    if (region !== TESTDEV_MEM_BAR) return super.readBar(region, offset, data);
    data.set(this.mem.subarray(offset, offset + data.length));
    return true;
  }

  protected override writeBar(region: number, offset: number, data: Uint8Array): boolean {
    if (region !== TESTDEV_MEM_BAR) return super.writeBar(region, offset, data);
    this.mem.set(data, offset);
    return true;
  }

  protected resetState(): void {
    this.scratch.fill(0);
    this.irqStatus = 0;
    this.accessCount = 0;
    this.mem.fill(0);
  }
}
