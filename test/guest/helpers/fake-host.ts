// A fake device-access seam for PciFront unit tests: ring 0's checks and INTx automask over an in-process sim model, no threads.

import { ConfigSpace } from '../../../r0/sim/config-space.js';
import type { SimDeviceHost, SimMsiMessage, SimRegion } from '../../../r0/sim/device.js';
import { SimPciFunction } from '../../../r0/sim/models/base.js';
import type { MappedRegion, RegionInfo } from '../../../r3/client.js';
import { RawPciError } from '../../../r3/errors.js';
import { type GuestDirectMapping, type GuestInterruptSink, type GuestMsiSource, GuestPciBus } from '../../../r3/guest/guest-bus.js';
import { PciFront, type PciFrontHost } from '../../../r3/guest/pci-front.js';
import type { Bdf } from '../../../shared/bdf.js';
import { PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_5, PCI_BASE_ADDRESS_MEM_TYPE_1M, PCI_ROM_ADDRESS } from '../../../shared/linux/pci-regs.js';
import { PCIRAW_ADDRESS_SPACE, PCIRAW_IRQ_KIND, PCIRAWR0_DO, type PciRawIrqEvent, type PciRawIrqKind } from '../../../shared/protocol.js';
import { VERR_ACCESS_DENIED, VERR_NOT_SUPPORTED, VERR_OUT_OF_RANGE } from '../../../shared/status.js';

interface FakeRegion {
  index: number;
  kind: SimRegion['kind'];
  start: bigint;
  size: bigint;
  prefetchable: boolean;
  backing?: SharedArrayBuffer;
}

/**
 * PciFrontHost over a sim model, checking what ring 0 checks (regions, BAR config writes refused
 * with VERR_ACCESS_DENIED, INTx automasked until ACK_IRQ) and recording every call in `calls`.
 * Host events queue in `events`; {@link deliver} hands them to a bus (as the IRQ pump would).
 * Device timers run on {@link flush}. Guest RAM for DMA is `ram`, all of it reachable.
 */
export class FakeHost implements PciFrontHost, SimDeviceHost {
  readonly handle: number;
  readonly model: SimPciFunction;
  readonly regions = new Map<number, FakeRegion>();
  readonly calls: string[] = [];
  readonly events: PciRawIrqEvent[] = [];
  readonly logs: string[] = [];
  readonly ram = new Uint8Array(0x10_0000);
  readonly faults: string[] = [];
  intxLevel = false;
  intxMasked = false;
  registeredIrq: number | undefined;
  #timers: (() => void)[] = [];

  constructor(model: SimPciFunction, handle = 0x100, bases = { io: 0xc000n, mem: 0xfe00_0000n, mem64: 0x40_0000_0000n }) {
    this.model = model;
    this.handle = handle;
    let io = bases.io;
    let mem = bases.mem;
    let mem64 = bases.mem64;
    for (const r of model.regions()) {
      const size = BigInt(r.size);
      let start: bigint;
      if (r.kind === 'io') [start, io] = [io, io + size];
      else if (r.kind === 'mem64') [start, mem64] = [mem64, mem64 + size];
      else [start, mem] = [mem, mem + (size > 0x1000n ? size : 0x1000n)];
      const fr: FakeRegion = { index: r.index, kind: r.kind, start, size, prefetchable: r.prefetchable ?? false };
      if (r.backing) fr.backing = r.backing;
      this.regions.set(r.index, fr);
    }
    model.open(this);
  }

  // ---- PciFrontHost ----

  getRegionInfo(_h: number, region: number): RegionInfo {
    const r = this.regions.get(region);
    if (!r) return { region, kind: 'none', prefetchable: false, regionStart: 0n, regionSize: 0n, present: false, flags: 0 };
    let flags = r.kind === 'io' ? PCIRAW_ADDRESS_SPACE.IO : PCIRAW_ADDRESS_SPACE.MEM;
    if (r.kind === 'mem64') flags |= PCIRAW_ADDRESS_SPACE.BAR64;
    if (r.prefetchable) flags |= PCIRAW_ADDRESS_SPACE.MEM_PREFETCH;
    return { region, kind: r.kind, prefetchable: r.prefetchable, regionStart: r.start, regionSize: r.size, present: true, flags };
  }

  cfgRead(_h: number, offset: number, cb: 1 | 2 | 4): number {
    if (offset + cb > this.model.configSize) throw new RawPciError(VERR_OUT_OF_RANGE, PCIRAWR0_DO.PCICFG_READ, 'outside config space');
    const d = new Uint8Array(cb);
    this.model.readConfig(offset, d);
    return le(d);
  }

  cfgWrite(_h: number, offset: number, cb: 1 | 2 | 4, value: number): void {
    this.calls.push(`cfgWrite 0x${offset.toString(16)}/${cb}=0x${value.toString(16)}`);
    if ((offset < PCI_BASE_ADDRESS_5 + 4 && offset + cb > PCI_BASE_ADDRESS_0) || (offset < PCI_ROM_ADDRESS + 4 && offset + cb > PCI_ROM_ADDRESS)) {
      throw new RawPciError(VERR_ACCESS_DENIED, PCIRAWR0_DO.PCICFG_WRITE, 'host BARs belong to the host');
    }
    this.model.writeConfig(offset, toLe(value, cb));
  }

  pioRead(_h: number, port: number, cb: 1 | 2 | 4): number {
    const { r, off } = this.#find('io', BigInt(port), cb);
    const d = new Uint8Array(cb);
    this.model.readIo(r.index, off, d);
    this.calls.push(`pioRead 0x${port.toString(16)}/${cb}`);
    return le(d);
  }

  pioWrite(_h: number, port: number, cb: 1 | 2 | 4, value: number): void {
    const { r, off } = this.#find('io', BigInt(port), cb);
    this.calls.push(`pioWrite 0x${port.toString(16)}/${cb}=0x${value.toString(16)}`);
    this.model.writeIo(r.index, off, toLe(value, cb));
  }

  mmioRead(_h: number, address: bigint, cb: 1 | 2 | 4 | 8): number | bigint {
    const { r, off } = this.#find('mem', address, cb);
    const d = new Uint8Array(cb);
    this.model.readMem(r.index, off, d);
    this.calls.push(`mmioRead 0x${address.toString(16)}/${cb}`);
    return cb === 8 ? new DataView(d.buffer).getBigUint64(0, true) : le(d);
  }

  mmioWrite(_h: number, address: bigint, cb: 1 | 2 | 4 | 8, value: number | bigint): void {
    const { r, off } = this.#find('mem', address, cb);
    this.calls.push(`mmioWrite 0x${address.toString(16)}/${cb}=0x${value.toString(16)}`);
    if (r.kind === 'rom') throw new RawPciError(VERR_ACCESS_DENIED, PCIRAWR0_DO.MMIO_WRITE, 'ROM is read-only');
    const d = new Uint8Array(cb);
    if (cb === 8) new DataView(d.buffer).setBigUint64(0, BigInt(value), true);
    else d.set(toLe(Number(value), cb));
    this.model.writeMem(r.index, off, d);
  }

  ackIrq(_h: number, kind: PciRawIrqKind = PCIRAW_IRQ_KIND.INTX): void {
    this.calls.push(`ackIrq ${kind}`);
    if (kind !== PCIRAW_IRQ_KIND.INTX) return;
    this.intxMasked = false;
    this.#deliverIntx();
  }

  mapRegion(handle: number, region: number): MappedRegion {
    const r = this.regions.get(region);
    if (!r?.backing) throw new RawPciError(VERR_NOT_SUPPORTED, PCIRAWR0_DO.MAP_REGION, `region ${region} must be trapped`);
    this.calls.push(`mapRegion ${region}`);
    return { mapId: region + 1, handle, region, start: r.start, size: r.size, sab: r.backing, view: new DataView(r.backing), bytes: new Uint8Array(r.backing) };
  }

  unmapRegion(m: MappedRegion): void {
    this.calls.push(`unmapRegion ${m.region}`);
  }

  registerIrqHandler(_h: number, guestIrq: number): number {
    this.registeredIrq = guestIrq;
    this.#deliverIntx();
    return 11;
  }

  // ---- SimDeviceHost ----

  raiseIrq(): void {
    this.intxLevel = true;
    this.#deliverIntx();
  }

  lowerIrq(): void {
    this.intxLevel = false;
  }

  sendMsi(msg: SimMsiMessage): void {
    this.events.push(this.#event(msg.kind, msg.vector, msg.address, msg.data));
  }

  dmaRead(iova: bigint, dest: Uint8Array): boolean {
    if (iova + BigInt(dest.length) > BigInt(this.ram.length)) return this.#fault(iova, dest.length);
    dest.set(this.ram.subarray(Number(iova), Number(iova) + dest.length));
    return true;
  }

  dmaWrite(iova: bigint, src: Uint8Array): boolean {
    if (iova + BigInt(src.length) > BigInt(this.ram.length)) return this.#fault(iova, src.length);
    this.ram.set(src, Number(iova));
    return true;
  }

  schedule(_delayMs: number, callback: () => void): () => void {
    let live = true;
    this.#timers.push(() => live && callback());
    return () => {
      live = false;
    };
  }

  log(message: string): void {
    this.logs.push(message);
  }

  // ---- test helpers ----

  /** Runs every scheduled device timer (and timers they schedule). */
  flush(): void {
    for (let n = 0; this.#timers.length && n < 100; n++) {
      const ts = this.#timers.splice(0);
      for (const t of ts) t();
    }
  }

  /** Hands queued host events to `bus` (what the IRQ pump does), after running timers. Returns how many. */
  deliver(bus: GuestPciBus): number {
    this.flush();
    const evs = this.events.splice(0);
    for (const ev of evs) bus.handleHostIrq(ev);
    return evs.length;
  }

  /** Clears the call log. */
  resetCalls(): void {
    this.calls.length = 0;
  }

  #deliverIntx(): void {
    if (!this.intxLevel || this.intxMasked || this.registeredIrq === undefined) return;
    this.intxMasked = true;
    this.events.push(this.#event('intx', 0, 0n, 0));
  }

  #fault(iova: bigint, n: number): false {
    this.faults.push(`0x${iova.toString(16)}/${n}`);
    this.events.push({ ...this.#event('fault', 0, iova, 0), detail: `DMA of ${n} bytes at 0x${iova.toString(16)} not mapped` });
    return false;
  }

  #event(kind: PciRawIrqEvent['kind'], vector: number, address: bigint, data: number): PciRawIrqEvent {
    return { kind, device: this.handle, guestIrq: this.registeredIrq ?? -1, hostIrq: 11, vector, address, data };
  }

  #find(space: 'io' | 'mem', address: bigint, cb: number): { r: FakeRegion; off: number } {
    for (const r of this.regions.values()) {
      if ((space === 'io') !== (r.kind === 'io')) continue;
      if (address >= r.start && address + BigInt(cb) <= r.start + r.size) return { r, off: Number(address - r.start) };
    }
    throw new RawPciError(VERR_OUT_OF_RANGE, space === 'io' ? PCIRAWR0_DO.PIO_READ : PCIRAWR0_DO.MMIO_READ, `0x${address.toString(16)} outside the regions`);
  }
}

/** An interrupt sink that records what the bus delivers. */
export class RecordingSink implements GuestInterruptSink {
  readonly levels = new Map<number, boolean>();
  readonly changes: [number, boolean][] = [];
  readonly msis: { address: bigint; data: number; source: GuestMsiSource }[] = [];
  readonly faults: string[] = [];
  readonly maps: [GuestDirectMapping, boolean][] = [];

  setIrqLevel(line: number, level: boolean): void {
    this.levels.set(line, level);
    this.changes.push([line, level]);
  }

  deliverMsi(address: bigint, data: number, source: GuestMsiSource): void {
    this.msis.push({ address, data, source });
  }

  fault(_bdf: unknown, detail: string): void {
    this.faults.push(detail);
  }
}

/**
 * A device with one BAR of every kind (PCI Local Bus spec 6.2.5.1), plain storage behind each:
 * BAR0 I/O 32 ports, BAR1 MEM24 256 bytes (a MEM32 BAR with type 01b), BAR2 MEM32 64 KiB,
 * BAR3+4 MEM64 prefetchable 1 MiB, ROM 2 KiB filled with 0x5a after a 55 AA header; INTB; a 32-bit
 * MSI capability at 0x50 with 4 vectors and per-vector masking (signal with `signalVector`).
 */
export class BarZooDevice extends SimPciFunction {
  readonly model = 'bar-zoo';
  readonly store = new Map<number, Uint8Array>();
  readonly rom = new Uint8Array(0x800).fill(0x5a);

  constructor() {
    const c = new ConfigSpace({ vendorId: 0x1b36, deviceId: 0x00aa, revision: 1, classCode: 0x0b4000, interruptPin: 2 });
    c.addBar({ index: 0, kind: 'io', size: 32 });
    c.addBar({ index: 1, kind: 'mem32', size: 256 });
    c.bytes[PCI_BASE_ADDRESS_0 + 4] = c.bytes[PCI_BASE_ADDRESS_0 + 4]! | PCI_BASE_ADDRESS_MEM_TYPE_1M;
    c.addBar({ index: 2, kind: 'mem32', size: 0x1_0000 });
    c.addBar({ index: 3, kind: 'mem64', size: 0x10_0000, prefetchable: true });
    c.addRom(0x800);
    c.addMsi({ vectors: 4, is64: false, perVectorMask: true, offset: 0x50 });
    super(c);
    this.rom[0] = 0x55;
    this.rom[1] = 0xaa;
    for (const r of this.regions()) if (r.kind !== 'rom') this.store.set(r.index, new Uint8Array(r.size));
  }

  protected override romImage(): Uint8Array {
    return this.rom;
  }

  override readIo(region: number, offset: number, data: Uint8Array): boolean {
    data.set(this.store.get(region)!.subarray(offset, offset + data.length));
    return true;
  }

  override writeIo(region: number, offset: number, data: Uint8Array): boolean {
    this.store.get(region)!.set(data, offset);
    return true;
  }

  protected override readBar(region: number, offset: number, data: Uint8Array): boolean {
    data.set(this.store.get(region)!.subarray(offset, offset + data.length));
    return true;
  }

  protected override writeBar(region: number, offset: number, data: Uint8Array): boolean {
    this.store.get(region)!.set(data, offset);
    return true;
  }

  protected resetState(): void {
    for (const s of this.store.values()) s.fill(0);
  }
}

function le(d: Uint8Array): number {
  let v = 0;
  for (let i = d.length - 1; i >= 0; i--) v = (v * 256 + d[i]!) >>> 0;
  return v;
}

function toLe(v: number, cb: number): Uint8Array {
  const d = new Uint8Array(cb);
  for (let i = 0; i < cb; i++) d[i] = (v >>> (8 * i)) & 0xff;
  return d;
}

/** A bus, a recording sink and one PciFront over `model` at guest slot `device`. */
export function rig(model: SimPciFunction, device = 3): Rig {
  const sink = new RecordingSink();
  const bus = new GuestPciBus({ sink, onDirectMapChange: (m, on) => sink.maps.push([m, on]) });
  const host = new FakeHost(model);
  const front = new PciFront(host, host.handle, { name: model.model });
  const bdf = bus.attach(front, device);
  return {
    sink,
    bus,
    host,
    front,
    bdf,
    cfgRead: (offset, cb) => bus.configRead(bdf, offset, cb),
    cfgWrite: (offset, cb, value) => bus.configWrite(bdf, offset, cb, value),
  };
}

/** What {@link rig} returns; `cfgRead`/`cfgWrite` address the front's config space through the bus. */
export interface Rig {
  sink: RecordingSink;
  bus: GuestPciBus;
  host: FakeHost;
  front: PciFront;
  bdf: Bdf;
  cfgRead(offset: number, cb: 1 | 2 | 4): number;
  cfgWrite(offset: number, cb: 1 | 2 | 4, value: number): void;
}
