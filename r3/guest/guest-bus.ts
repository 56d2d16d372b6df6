// The guest PCI bus: configuration mechanism #1 (0xCF8/0xCFC), port and MMIO dispatch to whatever decodes an address, INTx lines with level semantics, MSI delivery to the VMM's interrupt sink.
//
// A VMM plugs the bus in with a few calls (see docs/guest.md):
//
// ```ts
// const bus = new GuestPciBus({
//   sink: {
//     setIrqLevel: (line, level) => ioapic.setLevel(line, level),  // INTx, level-triggered
//     deliverMsi: (address, data) => lapic.msi(address, data),     // MSI and MSI-X writes
//   },
// });
// bus.attach(new PciFront(vm, vm.openDevice('0000:00:04.0', { detachHostDriver: true })), 3);
// bus.connect(vm);                                   // host interrupts -> guest interrupts
// // vCPU exits:
// onPortIn  = (port, size) => bus.ioRead(port, size);
// onPortOut = (port, size, v) => bus.ioWrite(port, size, v);
// onMmio    = (gpa, size, v?) => v === undefined ? bus.mmioRead(gpa, size) : bus.mmioWrite(gpa, size, v);
// onEoi     = (line) => bus.endOfInterrupt(line);   // resample level INTx after the guest's EOI
// ```

import { Bdf } from '../../shared/bdf.js';
import { onesOf, onesValue } from '../../shared/le.js';
import { PCI_HEADER_TYPE, PCI_INTERRUPT_PIN } from '../../shared/linux/pci-regs.js';
import { childLogger } from '../../shared/log.js';
import type { PciRawIrqEvent } from '../../shared/protocol.js';

/** Configuration address port of mechanism #1 (PCI Local Bus spec 3.0, 3.2.2.3.2). */
export const PCI_CONFIG_ADDRESS_PORT = 0xcf8;
/** Configuration data window of mechanism #1: ports 0xCFC..0xCFF. */
export const PCI_CONFIG_DATA_PORT = 0xcfc;
/** CONFIG_ADDRESS bit 31: the next 0xCFC access is a configuration cycle. */
export const PCI_CONFIG_ADDRESS_ENABLE = 0x8000_0000;
/** CONFIG_ADDRESS bits software may set: enable, bus, device, function, register (bits 30..24 and 1..0 read 0). */
export const PCI_CONFIG_ADDRESS_MASK = 0x80ff_fffc;

/** Access width in bytes of port I/O and config accesses. */
export type PortWidth = 1 | 2 | 4;
/** Access width in bytes of an MMIO access. */
export type MmioWidth = 1 | 2 | 4 | 8;

/** Where an MSI/MSI-X message came from (for the sink's logs and statistics). */
export interface GuestMsiSource {
  /** The function's guest address. */
  bdf: Bdf;
  kind: 'msi' | 'msix';
  /** Vector number (MSI: 0..31, MSI-X: table entry). */
  vector: number;
}

/**
 * The VMM's interrupt controller as the bus sees it. `setIrqLevel` receives the level of a
 * platform interrupt line (the OR of every INTx routed to it: level-triggered, PCI Local Bus spec
 * 2.2.6); it is called only on changes. `deliverMsi` receives each MSI/MSI-X message (a memory
 * write of `data` to `address`, 6.8) the moment the guest's programming lets it through.
 * `fault` (optional) receives host IOMMU fault reports of a device's DMA.
 */
export interface GuestInterruptSink {
  setIrqLevel(line: number, level: boolean): void;
  deliverMsi(address: bigint, data: number, source: GuestMsiSource): void;
  fault?(bdf: Bdf, detail: string, event: PciRawIrqEvent): void;
}

/**
 * A BAR mapped straight into ring 3 as the guest currently decodes it: `size` bytes of `bytes`
 * (device memory, a view onto a SharedArrayBuffer) at guest-physical `guestPhys`. A VMM may map
 * it into the guest's address space so accesses need no exit; the bus itself serves accesses
 * to it from the view too.
 */
export interface GuestDirectMapping {
  bdf: Bdf;
  /** Region index (0..5). */
  region: number;
  guestPhys: bigint;
  size: bigint;
  bytes: Uint8Array;
  view: DataView;
}

/**
 * A range `[start, end)` one function decodes: ports (`io`) or guest-physical bytes (`mem`),
 * from BAR `region` (0..5, 6 for the expansion ROM).
 */
export interface GuestDecodedRange {
  space: 'io' | 'mem';
  start: bigint;
  end: bigint;
  region: number;
}

/** What the bus gives a function when it is attached: its address and its interrupt wires. */
export interface GuestPciLink {
  readonly bdf: Bdf;
  /** Platform line its INTx pin is routed to, or -1 when it has no pin. */
  readonly line: number;
  /** Drives the function's INTx output (level). */
  setIntx(level: boolean): void;
  /** Sends one MSI/MSI-X message. */
  sendMsi(address: bigint, data: number, kind: 'msi' | 'msix', vector: number): void;
  /** Reports a DMA fault of the function (host IOMMU). */
  fault(detail: string, event: PciRawIrqEvent): void;
  /** Announces that a directly mapped BAR now decodes (`mapped`) or stopped decoding at `m.guestPhys`. */
  directMapChanged(m: GuestDirectMapping, mapped: boolean): void;
}

/**
 * A function on the guest bus. {@link PciFront} is one; a VMM may add its own emulated ones
 * (a host bridge, say). Config offsets are bytes (0..255 through mechanism #1); accesses never
 * cross a dword. `decodes` says whether the function claims an access; the bus then calls the
 * read or write. Guest mistakes are logged and answered with all-ones, never thrown.
 */
export interface GuestPciFunction {
  configRead(offset: number, cb: PortWidth): number;
  configWrite(offset: number, cb: PortWidth, value: number): void;
  decodes(space: 'io' | 'mem', address: bigint, cb: number): boolean;
  ioRead(port: number, cb: PortWidth): number;
  ioWrite(port: number, cb: PortWidth, value: number): void;
  /** Returns a number for 1, 2 and 4 bytes, a bigint for 8. */
  mmioRead(address: bigint, cb: MmioWidth): number | bigint;
  mmioWrite(address: bigint, cb: MmioWidth, value: number | bigint): void;
  /**
   * The ranges the function decodes now (its BARs as the guest placed them, gated by the
   * command register's I/O and memory bits), so a VMM can route exits for exactly those
   * addresses. Optional: a function without it is found by {@link decodes} alone.
   */
  decodedRanges?(): GuestDecodedRange[];
  /** Called once by {@link GuestPciBus.attach}. */
  attached?(link: GuestPciLink): void;
  /** Called by {@link GuestPciBus.detach}. */
  detached?(): void;
  /** The guest ended an interrupt on the function's line: resample a level source. */
  endOfInterrupt?(): void;
  /** A host interrupt event; returns true when it was this function's. */
  hostIrq?(event: PciRawIrqEvent): boolean;
}

/** Options of {@link GuestPciBus}. */
export interface GuestPciBusOptions {
  /** Where interrupts go. */
  sink: GuestInterruptSink;
  /** This bus's number in config addresses (default 0). Other bus numbers read all-ones. */
  busNumber?: number;
  /**
   * Platform lines of INTA..INTD for slot 0; slot `s` pin `p` (1..4) is routed to
   * `intxLines[(s + p - 1) % 4]`, the usual swizzle. Default `[16, 17, 18, 19]`.
   */
  intxLines?: readonly number[];
  /** Told when a directly mapped BAR starts or stops decoding at an address. */
  onDirectMapChange?: (m: GuestDirectMapping, mapped: boolean) => void;
}

/** What {@link GuestPciBus.connect} needs of a client: its `'irq'` events and pump. RawPciClient has them. */
export interface HostIrqSource {
  on(event: 'irq', listener: (ev: PciRawIrqEvent) => void): unknown;
  off(event: 'irq', listener: (ev: PciRawIrqEvent) => void): unknown;
  startIrqPump(): void;
}

interface Slot {
  fn: GuestPciFunction;
  bdf: Bdf;
  line: number;
}

const log = childLogger({ ring: 3, part: 'guest-bus' });

/**
 * A guest PCI bus (one root bus, 32 devices × 8 functions). Ports, addresses and values are
 * numbers except guest-physical addresses and 8-byte MMIO values (bigint). Bad arguments from
 * the VMM throw TypeError/RangeError naming them; guest mistakes (absent devices, unclaimed
 * addresses, bad widths) are logged at debug and read all-ones.
 */
export class GuestPciBus {
  readonly busNumber: number;
  #sink: GuestInterruptSink;
  /** Platform lines of INTA..INTD of slot 0 (see {@link GuestPciBusOptions.intxLines}). */
  readonly intxLines: readonly number[];
  readonly #onDirectMapChange: ((m: GuestDirectMapping, mapped: boolean) => void) | undefined;
  readonly #slots = new Map<number, Slot>();
  readonly #asserted = new Map<number, Set<number>>();
  readonly #direct = new Map<string, GuestDirectMapping>();
  #configAddress = 0;

  constructor(options: GuestPciBusOptions) {
    if (!options?.sink || typeof options.sink.setIrqLevel !== 'function' || typeof options.sink.deliverMsi !== 'function') {
      throw new TypeError('options.sink must have setIrqLevel(line, level) and deliverMsi(address, data, source)');
    }
    this.#sink = options.sink;
    this.busNumber = options.busNumber ?? 0;
    if (!Number.isInteger(this.busNumber) || this.busNumber < 0 || this.busNumber > 255)
      throw new RangeError(`options.busNumber ${this.busNumber} must be 0..255`);
    this.intxLines = options.intxLines ?? [16, 17, 18, 19];
    if (this.intxLines.length !== 4 || !this.intxLines.every((l) => Number.isInteger(l) && l >= 0)) {
      throw new RangeError('options.intxLines must be four non-negative line numbers (INTA..INTD of slot 0)');
    }
    this.#onDirectMapChange = options.onDirectMapChange;
  }

  /**
   * Replaces the interrupt sink (a VMM bridge such as {@link attachToV86} puts itself between the
   * bus and the VMM's sink) and returns the previous one. Lines already asserted are not replayed:
   * call it before functions raise interrupts.
   */
  setSink(sink: GuestInterruptSink): GuestInterruptSink {
    if (!sink || typeof sink.setIrqLevel !== 'function' || typeof sink.deliverMsi !== 'function') {
      throw new TypeError('sink must have setIrqLevel(line, level) and deliverMsi(address, data, source)');
    }
    const old = this.#sink;
    this.#sink = sink;
    return old;
  }

  // ---- topology ----

  /**
   * Puts `fn` at device `device` (0..31), function `func` (0..7) of this bus, routes its INTx pin
   * (config 0x3d) to a line and calls its `attached`. Returns its guest address. Throws RangeError
   * for an out-of-range or occupied slot.
   */
  attach(fn: GuestPciFunction, device: number, func = 0): Bdf {
    const bdf = new Bdf(0, this.busNumber, device, func);
    if (this.#slots.has(bdf.devfn)) throw new RangeError(`guest slot ${bdf} is already occupied`);
    const pin = fn.configRead(PCI_INTERRUPT_PIN, 1);
    const line = pin >= 1 && pin <= 4 ? this.intxLines[(device + pin - 1) % 4]! : -1;
    const slot: Slot = { fn, bdf, line };
    this.#slots.set(bdf.devfn, slot);
    fn.attached?.(this.#link(slot));
    return bdf;
  }

  /** Removes the function at `bdf` (its INTx deasserted, its direct mappings withdrawn). */
  detach(bdf: Bdf): void {
    const slot = this.#slots.get(bdf.devfn);
    if (!slot) return;
    this.#setIntx(slot, false);
    for (const [key, m] of this.#direct) {
      if (m.bdf.equals(bdf)) {
        this.#direct.delete(key);
        this.#onDirectMapChange?.(m, false);
      }
    }
    this.#slots.delete(bdf.devfn);
    slot.fn.detached?.();
  }

  /** The attached functions with their guest address and INTx line. */
  functions(): { bdf: Bdf; line: number; fn: GuestPciFunction }[] {
    return [...this.#slots.values()].sort((a, b) => a.bdf.devfn - b.bdf.devfn).map(({ bdf, line, fn }) => ({ bdf, line, fn }));
  }

  // ---- port I/O (mechanism #1 first, then the BARs) ----

  /**
   * A guest port read of `cb` bytes at `port`. CONFIG_ADDRESS answers dword reads at 0xCF8; with
   * its enable bit set, 0xCFC..0xCFF are the config data window (byte and word accesses at
   * 0xCFC + 1..3 reach the matching config byte). Anything else goes to the function whose I/O
   * BAR decodes it; nothing decoding it reads all-ones (master abort).
   */
  ioRead(port: number, cb: PortWidth): number {
    checkPort(port, cb);
    if (port === PCI_CONFIG_ADDRESS_PORT && cb === 4) return this.#configAddress >>> 0;
    const cfg = this.#configWindow(port, cb);
    if (cfg !== undefined) return cfg < 0 ? onesOf(cb) : this.#mech1Read(cfg, cb);
    const slot = this.#decoder('io', BigInt(port), cb);
    if (!slot) {
      log.debug(`port read 0x${port.toString(16)}/${cb}: nothing decodes it (all-ones)`);
      return onesOf(cb);
    }
    return slot.fn.ioRead(port, cb);
  }

  /** A guest port write; see {@link ioRead}. Only a dword write to 0xCF8 sets CONFIG_ADDRESS. */
  ioWrite(port: number, cb: PortWidth, value: number): void {
    checkPort(port, cb);
    checkValue(value, cb);
    if (port === PCI_CONFIG_ADDRESS_PORT && cb === 4) {
      this.#configAddress = (value & PCI_CONFIG_ADDRESS_MASK) >>> 0;
      return;
    }
    const cfg = this.#configWindow(port, cb);
    if (cfg !== undefined) {
      if (cfg >= 0) this.#mech1Write(cfg, cb, value);
      return;
    }
    const slot = this.#decoder('io', BigInt(port), cb);
    if (!slot) {
      log.debug(`port write 0x${port.toString(16)}/${cb}: nothing decodes it (dropped)`);
      return;
    }
    slot.fn.ioWrite(port, cb, value);
  }

  // ---- MMIO ----

  /** Whether some function decodes `cb` bytes at guest-physical `address` (a VMM traps those). */
  decodesMmio(address: bigint, cb: MmioWidth = 1): boolean {
    return this.#decoder('mem', address, cb) !== undefined;
  }

  /**
   * A guest MMIO read of `cb` bytes at guest-physical `address`: a number for 1, 2 and 4 bytes,
   * a bigint for 8. Nothing decoding it reads all-ones.
   */
  mmioRead(address: bigint, cb: 1 | 2 | 4): number;
  mmioRead(address: bigint, cb: 8): bigint;
  mmioRead(address: bigint, cb: MmioWidth): number | bigint;
  mmioRead(address: bigint, cb: MmioWidth): number | bigint {
    checkAddress(address, cb);
    const slot = this.#decoder('mem', address, cb);
    if (!slot) {
      log.debug(`MMIO read 0x${address.toString(16)}/${cb}: nothing decodes it (all-ones)`);
      return onesValue(cb);
    }
    return slot.fn.mmioRead(address, cb);
  }

  /** A guest MMIO write of `value` (`cb` bytes; a bigint or number for 8). Nothing decoding it: dropped. */
  mmioWrite(address: bigint, cb: MmioWidth, value: number | bigint): void {
    checkAddress(address, cb);
    if (cb !== 8) checkValue(value, cb);
    const slot = this.#decoder('mem', address, cb);
    if (!slot) {
      log.debug(`MMIO write 0x${address.toString(16)}/${cb}: nothing decodes it (dropped)`);
      return;
    }
    slot.fn.mmioWrite(address, cb, value);
  }

  // ---- config space, addressed directly (ECAM-style; mechanism #1 goes through here) ----

  /**
   * Config read of function `bdf` (its bus must be this bus) at byte `offset`. Absent functions
   * read all-ones. Function 0's Header Type bit 7 (multifunction) is virtual: set exactly when the
   * slot holds other functions.
   */
  configRead(bdf: Bdf, offset: number, cb: PortWidth): number {
    checkConfig(offset, cb);
    const slot = bdf.bus === this.busNumber && bdf.domain === 0 ? this.#slots.get(bdf.devfn) : undefined;
    if (!slot) return onesOf(cb);
    let v = slot.fn.configRead(offset, cb) >>> 0;
    if (offset <= PCI_HEADER_TYPE && offset + cb > PCI_HEADER_TYPE) {
      const bit = 0x80 << (8 * (PCI_HEADER_TYPE - offset));
      v = bdf.fn === 0 && this.#multifunction(bdf.device) ? v | bit : v & ~bit;
    }
    return v >>> 0;
  }

  /** Config write of function `bdf`; absent functions ignore it. */
  configWrite(bdf: Bdf, offset: number, cb: PortWidth, value: number): void {
    checkConfig(offset, cb);
    checkValue(value, cb);
    const slot = bdf.bus === this.busNumber && bdf.domain === 0 ? this.#slots.get(bdf.devfn) : undefined;
    if (!slot) {
      log.debug(`config write to absent ${bdf} at 0x${offset.toString(16)} dropped`);
      return;
    }
    slot.fn.configWrite(offset, cb, value);
  }

  // ---- interrupts ----

  /** Whether platform line `line` is asserted by some function. */
  lineLevel(line: number): boolean {
    return (this.#asserted.get(line)?.size ?? 0) > 0;
  }

  /**
   * The guest signalled end of interrupt for `line` (an IOAPIC/PIC EOI): every function on the
   * line resamples its level. A PciFront then deasserts and unmasks the host line (ACK_IRQ); a
   * device still asserting raises the line again (level semantics, as VFIO's INTx resampling).
   */
  endOfInterrupt(line: number): void {
    for (const slot of this.#slots.values()) if (slot.line === line) slot.fn.endOfInterrupt?.();
  }

  /** Routes one host interrupt event to the function it belongs to. Returns false when none claims it. */
  handleHostIrq(event: PciRawIrqEvent): boolean {
    for (const slot of this.#slots.values()) if (slot.fn.hostIrq?.(event)) return true;
    log.debug(`host ${event.kind} event of handle 0x${(event.device >>> 0).toString(16)} claimed by no guest function`);
    return false;
  }

  /**
   * Feeds `client`'s `'irq'` events (GET_IRQ from ring 0) into {@link handleHostIrq} and starts
   * its pump. Returns a function that stops listening (the pump keeps running: stop it on the client).
   */
  connect(client: HostIrqSource): () => void {
    const listener = (ev: PciRawIrqEvent) => void this.handleHostIrq(ev);
    client.on('irq', listener);
    client.startIrqPump();
    return () => void client.off('irq', listener);
  }

  /**
   * Synchronous alternative to {@link connect} for a vCPU loop: waits up to `timeoutMs` for one
   * host event (`client.getIrq`) and routes it. Returns the event, or undefined on timeout.
   */
  pollHostIrq(client: { getIrq(timeoutMs: number): PciRawIrqEvent | undefined }, timeoutMs: number): PciRawIrqEvent | undefined {
    const ev = client.getIrq(timeoutMs);
    if (ev) this.handleHostIrq(ev);
    return ev;
  }

  /**
   * Every range the attached functions decode now, with the function's guest address (functions
   * without {@link GuestPciFunction.decodedRanges} contribute none). Changes only through config
   * writes (BAR moves, command bits), so a VMM recomputes it after those.
   */
  decodedRanges(): (GuestDecodedRange & { bdf: Bdf })[] {
    const out: (GuestDecodedRange & { bdf: Bdf })[] = [];
    for (const slot of this.#slots.values()) for (const r of slot.fn.decodedRanges?.() ?? []) out.push({ ...r, bdf: slot.bdf });
    return out;
  }

  /** BARs mapped straight into ring 3 that currently decode, with their guest addresses. */
  directMappings(): GuestDirectMapping[] {
    return [...this.#direct.values()];
  }

  // ---- internals ----

  #link(slot: Slot): GuestPciLink {
    return {
      bdf: slot.bdf,
      line: slot.line,
      setIntx: (level) => this.#setIntx(slot, level),
      sendMsi: (address, data, kind, vector) => {
        if (this.#slots.get(slot.bdf.devfn) !== slot) return;
        this.#sink.deliverMsi(address, data, { bdf: slot.bdf, kind, vector });
      },
      fault: (detail, event) => this.#sink.fault?.(slot.bdf, detail, event),
      directMapChanged: (m, mapped) => {
        const key = `${m.bdf}/${m.region}`;
        if (mapped) this.#direct.set(key, m);
        else this.#direct.delete(key);
        this.#onDirectMapChange?.(m, mapped);
      },
    };
  }

  #setIntx(slot: Slot, level: boolean): void {
    if (slot.line < 0) return;
    let set = this.#asserted.get(slot.line);
    if (!set) {
      set = new Set();
      this.#asserted.set(slot.line, set);
    }
    const before = set.size > 0;
    if (level) set.add(slot.bdf.devfn);
    else set.delete(slot.bdf.devfn);
    const after = set.size > 0;
    if (before !== after) this.#sink.setIrqLevel(slot.line, after);
  }

  #multifunction(device: number): boolean {
    for (let f = 1; f < 8; f++) if (this.#slots.has((device << 3) | f)) return true;
    return false;
  }

  #decoder(space: 'io' | 'mem', address: bigint, cb: number): Slot | undefined {
    for (const slot of this.#slots.values()) if (slot.fn.decodes(space, address, cb)) return slot;
    return undefined;
  }

  /**
   * The config byte offset a data-window access addresses (bits 7..2 of CONFIG_ADDRESS plus the
   * port's offset in the window), -1 when it addresses another bus, or undefined when the access
   * is no config cycle (enable bit clear, not in the window, or crossing its end).
   */
  #configWindow(port: number, cb: number): number | undefined {
    if (port < PCI_CONFIG_DATA_PORT || port > PCI_CONFIG_DATA_PORT + 3) return undefined;
    const a = this.#configAddress;
    if ((a & PCI_CONFIG_ADDRESS_ENABLE) === 0) return undefined;
    const k = port - PCI_CONFIG_DATA_PORT;
    if (k + cb > 4 || k % cb !== 0) return undefined;
    if (((a >>> 16) & 0xff) !== this.busNumber) return -1;
    return (a & 0xfc) + k;
  }

  #mech1Bdf(): Bdf {
    const a = this.#configAddress;
    return new Bdf(0, (a >>> 16) & 0xff, (a >>> 11) & 0x1f, (a >>> 8) & 7);
  }

  #mech1Read(offset: number, cb: PortWidth): number {
    return this.configRead(this.#mech1Bdf(), offset, cb);
  }

  #mech1Write(offset: number, cb: PortWidth, value: number): void {
    this.configWrite(this.#mech1Bdf(), offset, cb, value);
  }
}

function checkPort(port: number, cb: number): void {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`port ${port} must be an integer 0..0xffff`);
  if (cb !== 1 && cb !== 2 && cb !== 4) throw new RangeError(`port access width cb ${cb} must be 1, 2 or 4 bytes`);
}

function checkConfig(offset: number, cb: number): void {
  if (cb !== 1 && cb !== 2 && cb !== 4) throw new RangeError(`config access width cb ${cb} must be 1, 2 or 4 bytes`);
  if (!Number.isInteger(offset) || offset < 0 || offset + cb > 4096 || offset % cb !== 0) {
    throw new RangeError(`config offset ${offset} must be a multiple of its width ${cb} inside 0..4095`);
  }
}

function checkAddress(address: bigint, cb: number): void {
  if (typeof address !== 'bigint' || address < 0n || address >= 1n << 64n)
    throw new TypeError(`address must be a bigint guest-physical address 0 .. 2^64-1, got ${String(address)}`);
  if (cb !== 1 && cb !== 2 && cb !== 4 && cb !== 8) throw new RangeError(`MMIO width cb ${cb} must be 1, 2, 4 or 8 bytes`);
}

function checkValue(value: number | bigint, cb: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0 || value > onesOf(cb)) {
    throw new RangeError(`value ${String(value)} must be an unsigned integer of ${cb} byte(s)`);
  }
}
