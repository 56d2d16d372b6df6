// PciFront's host for guest tests: the shipped Ring0 and simulated host in this thread, sent requests encoded as RawPciClient encodes them, device time on a manual clock.

import { MessageChannel } from 'node:worker_threads';
import { HostTable } from '../../../r0/host-table.js';
import { Ring0 } from '../../../r0/ring0.js';
import type { Session } from '../../../r0/session.js';
import type { SimDeviceModel } from '../../../r0/sim/device.js';
import { SimHost } from '../../../r0/sim/host.js';
import { createInventoryDevices } from '../../../r0/sim/inventory.js';
import { hasSimModel, registerSimModel } from '../../../r0/sim/models/index.js';
import { TimerQueue } from '../../../r0/timers.js';
import { type MappedRegion, type RegionInfo, regionInfoOf } from '../../../r3/client.js';
import { RawPciError } from '../../../r3/errors.js';
import type { GuestPciBus } from '../../../r3/guest/guest-bus.js';
import type { PciFrontHost } from '../../../r3/guest/pci-front.js';
import { portViews, RegionViews } from '../../../r3/region-views.js';
import { Bdf } from '../../../shared/bdf.js';
import { PciRawCodec } from '../../../shared/codec.js';
import {
  opName,
  PCIRAW_IRQ_KIND,
  PCIRAW_MEMINFO,
  PCIRAW_POWER,
  PCIRAWR0_DO,
  type PciRawAnswer,
  type PciRawDevHandle,
  type PciRawIrqEvent,
  type PciRawIrqKind,
  type PciRawMemLoc,
  type PciRawOutGetIrq,
} from '../../../shared/protocol.js';
import { statusName, VERR_TIMEOUT } from '../../../shared/status.js';

/** The registered model name that hands the simulated host a model instance (inventory `options.instance`). */
const INSTANCE_MODEL = 'guest-test-instance';
if (!hasSimModel(INSTANCE_MODEL)) {
  registerSimModel(INSTANCE_MODEL, (options) => {
    const m = options.instance as SimDeviceModel | undefined;
    if (typeof m?.readConfig !== 'function') throw new TypeError(`model '${INSTANCE_MODEL}' needs options.instance: a SimDeviceModel`);
    return m;
  });
}

/** One timer pass settles within this many deadlines, or the device never goes idle (a periodic timer). */
const FLUSH_MAX_DEADLINES = 1000;

/** Options of {@link Ring0Host}. */
export interface Ring0HostOptions {
  /** Guest RAM in bytes, all of it mapped at IOVA 0 in the VM's IOMMU domain (default 1 MiB). */
  ramBytes?: number;
}

/**
 * One VM of an in-process ring 0: a {@link Ring0} over a {@link SimHost} whose devices are the
 * given model instances (host BDFs 0000:01:0i.0, no host driver, one IOMMU group each, host IRQ
 * 10 + i), with resources assigned by the host's firmware. The constructor does what a VMM does
 * before attaching PciFront: INIT_VM, maps all guest RAM at IOVA 0 (CONTIG_MEM_INFO), opens every
 * device and powers it on; `handles[i]` is device i's handle.
 *
 * As a {@link PciFrontHost} it encodes each request as RawPciClient does and hands the frame to
 * `Ring0.handleFrame` (synchronous, no channel, no thread), so ring 0's codec, checks and policy
 * answer: BAR and ROM BAR config writes refused, ROM read-only, accesses only inside the handle's
 * regions, INTx automasked until ACK_IRQ, DMA only with bus mastering through the IOMMU domain.
 * A failed status throws RawPciError, as from the client. MAP_REGION views arrive through
 * ring 3's own RegionViews. Every PciFrontHost call is recorded ({@link calls}); failures too.
 *
 * Device timers run on a manual clock: {@link flush} runs them all; {@link deliver} then hands the
 * queued host events (GET_IRQ) to a guest bus, as the IRQ pump would. Models are shared with the
 * caller (a test may signal or inspect them); open each host once.
 */
export class Ring0Host implements PciFrontHost {
  readonly ring0: Ring0;
  readonly session: Session;
  /** Guest RAM: the bytes device DMA reaches (IOVA = offset). */
  readonly ram: Uint8Array;
  /** Device handles, in the order of the models given. */
  readonly handles: readonly PciRawDevHandle[];
  /** Ring 0's log lines (device and guest mistakes). */
  readonly logs: string[] = [];
  /** Failed requests: `OP VERR_NAME: message`. */
  readonly failures: string[] = [];
  /** Device time in milliseconds (the TimerQueue's clock). */
  now = 0;
  readonly #codec = new PciRawCodec();
  readonly #views: RegionViews;
  readonly #calls: { handle: PciRawDevHandle; call: string }[] = [];

  constructor(models: readonly SimDeviceModel[], options: Ring0HostOptions = {}) {
    const table = HostTable.create();
    const devices = createInventoryDevices({
      devices: models.map((instance, i) => ({
        bdf: new Bdf(0, 1, i, 0).toString(),
        model: INSTANCE_MODEL,
        driver: null,
        iommuGroup: i + 1,
        irq: 10 + i,
        options: { instance },
      })),
    });
    this.ring0 = new Ring0({ backend: new SimHost(devices, table), table, timers: new TimerQueue(() => this.now), log: (m) => this.logs.push(m) });
    const { port1, port2 } = new MessageChannel();
    port1.unref();
    port2.unref();
    this.ram = new Uint8Array(new SharedArrayBuffer(options.ramBytes ?? 0x10_0000));
    this.session = this.ring0.createSession(this.ram, (msg) => port1.postMessage(msg));
    this.#views = new RegionViews(portViews(port2), (handle, info, mapId) =>
      this.#send(PCIRAWR0_DO.UNMAP_REGION, handle, { startAddress: info.regionStart, regionSize: info.regionSize, mapId, region: info.region }),
    );
    this.#check(PCIRAWR0_DO.INIT_VM, 0, {});
    this.#check(PCIRAWR0_DO.CONTIG_MEM_INFO, 0, { hostStart: 0n, guestStart: 0n, size: BigInt(this.ram.length), action: PCIRAW_MEMINFO.MAP });
    this.handles = devices.map((d) => {
      const handle = this.#check(PCIRAWR0_DO.OPEN_DEVICE, 0, { pciAddress: d.bdf.pciAddress, flags: 0 }).device as number;
      this.#check(PCIRAWR0_DO.POWER_STATE_CHANGE, handle, { state: PCIRAW_POWER.ON });
      return handle;
    });
  }

  // ---- PciFrontHost: the requests RawPciClient sends, with its parameter shapes ----

  getRegionInfo(handle: PciRawDevHandle, region: number): RegionInfo {
    return regionInfoOf(region, this.#call(handle, `getRegionInfo ${region}`, PCIRAWR0_DO.GET_REGION_INFO, { region }));
  }

  cfgRead(handle: PciRawDevHandle, offset: number, cb: 1 | 2 | 4): number {
    return (this.#call(handle, `cfgRead ${hex(offset)}/${cb}`, PCIRAWR0_DO.PCICFG_READ, { offset, cb }).value as PciRawMemLoc).u as number;
  }

  cfgWrite(handle: PciRawDevHandle, offset: number, cb: 1 | 2 | 4, value: number): void {
    this.#call(handle, `cfgWrite ${hex(offset)}/${cb}=${hex(value)}`, PCIRAWR0_DO.PCICFG_WRITE, { offset, value: memLoc(cb, value) });
  }

  pioRead(handle: PciRawDevHandle, port: number, cb: 1 | 2 | 4): number {
    return this.#call(handle, `pioRead ${hex(port)}/${cb}`, PCIRAWR0_DO.PIO_READ, { port, cb }).value as number;
  }

  pioWrite(handle: PciRawDevHandle, port: number, cb: 1 | 2 | 4, value: number): void {
    this.#call(handle, `pioWrite ${hex(port)}/${cb}=${hex(value)}`, PCIRAWR0_DO.PIO_WRITE, { port, cb, value });
  }

  mmioRead(handle: PciRawDevHandle, address: bigint, cb: 1 | 2 | 4 | 8): number | bigint {
    return (this.#call(handle, `mmioRead ${hex(address)}/${cb}`, PCIRAWR0_DO.MMIO_READ, { address, cb }).value as PciRawMemLoc).u;
  }

  mmioWrite(handle: PciRawDevHandle, address: bigint, cb: 1 | 2 | 4 | 8, value: number | bigint): void {
    this.#call(handle, `mmioWrite ${hex(address)}/${cb}=${hex(value)}`, PCIRAWR0_DO.MMIO_WRITE, { address, value: memLoc(cb, value) });
  }

  ackIrq(handle: PciRawDevHandle, kind: PciRawIrqKind = PCIRAW_IRQ_KIND.INTX): void {
    this.#call(handle, `ackIrq ${kind}`, PCIRAWR0_DO.ACK_IRQ, { kind });
  }

  mapRegion(handle: PciRawDevHandle, region: number): MappedRegion {
    const info = this.getRegionInfo(handle, region);
    const params = { startAddress: info.regionStart, regionSize: info.regionSize, region, flags: 0 };
    return this.#views.mapped(handle, info, this.#call(handle, `mapRegion ${region}`, PCIRAWR0_DO.MAP_REGION, params).mapId as number);
  }

  unmapRegion(m: MappedRegion): void {
    this.#call(m.handle, `unmapRegion ${m.region}`, PCIRAWR0_DO.UNMAP_REGION, { startAddress: m.start, regionSize: m.size, mapId: m.mapId, region: m.region });
    this.#views.drop(m.mapId);
  }

  registerIrqHandler(handle: PciRawDevHandle, guestIrq: number): number {
    return this.#call(handle, `registerIrqHandler ${guestIrq}`, PCIRAWR0_DO.REGISTER_R0_IRQ_HANDLER, { guestIrq }).hostIrq as number;
  }

  // ---- the VMM's side: interrupts and time ----

  /** GET_IRQ (RawPciClient.getIrq): the oldest queued host event of `handle` (0: any), or undefined. Nothing waits: no thread could answer. */
  getIrq(timeoutMs: number, handle: PciRawDevHandle = 0): PciRawIrqEvent | undefined {
    const a = this.#send(PCIRAWR0_DO.GET_IRQ, handle, { timeoutMs });
    if (a.rc === VERR_TIMEOUT) return undefined;
    return (this.#ok(PCIRAWR0_DO.GET_IRQ, a) as unknown as PciRawOutGetIrq).irq;
  }

  /** Runs every device timer, moving the clock from deadline to deadline until none is left. Throws when the device never goes idle. */
  flush(): void {
    for (let n = 0; n < FLUSH_MAX_DEADLINES; n++) {
      const wait = this.ring0.poll(this.now);
      if (wait === Number.POSITIVE_INFINITY) return;
      this.now += wait;
    }
    throw new Error(`device timers still pending after ${FLUSH_MAX_DEADLINES} deadlines`);
  }

  /** {@link flush}, then routes every queued host event to `bus` (GuestPciBus.pollHostIrq, as the IRQ pump does). Returns how many. */
  deliver(bus: GuestPciBus): number {
    this.flush();
    let n = 0;
    while (bus.pollHostIrq(this, 0)) n++;
    return n;
  }

  // ---- the record ----

  /** Every PciFrontHost call since {@link resetCalls}, all handles, oldest first: `cfgWrite 0x4/2=0x6`, `mmioRead 0xfe000000/4`, `ackIrq intx`. */
  get calls(): string[] {
    return this.#calls.map((c) => c.call);
  }

  /** The calls of `handle` only (see {@link calls}). */
  callsOf(handle: PciRawDevHandle): string[] {
    return this.#calls.filter((c) => c.handle === handle).map((c) => c.call);
  }

  /** Clears the call record. */
  resetCalls(): void {
    this.#calls.length = 0;
  }

  // ---- internals ----

  /** Records `call`, sends `op` to `handle`, and returns its `out` or throws RawPciError. */
  #call(handle: PciRawDevHandle, call: string, op: number, params: unknown): Record<string, unknown> {
    this.#calls.push({ handle, call });
    return this.#check(op, handle, params);
  }

  #check(op: number, target: number, params: unknown): Record<string, unknown> {
    return this.#ok(op, this.#send(op, target, params));
  }

  #ok(op: number, a: PciRawAnswer): Record<string, unknown> {
    if (a.rc >= 0) return (a.out ?? {}) as Record<string, unknown>;
    this.failures.push(`${opName(op)} ${statusName(a.rc)}: ${a.msg}`);
    throw new RawPciError(a.rc, op, a.msg);
  }

  /** One request through ring 0's codec and dispatcher, as bytes both ways. */
  #send(op: number, target: number, params: unknown): PciRawAnswer {
    const answer = this.ring0.handleFrame(this.session, this.#codec.encodeRequestBuffer(this.session.id, op, target, params));
    if (!answer) throw new Error(`ring 0 parked ${opName(op)}: nothing parks without a channel`);
    return this.#codec.decodeAnswer(answer);
  }
}

/** A PCIRAWMEMLOC of `cb` bytes (RawPciClient's encoding: a bigint for 8 bytes). */
function memLoc(cb: 1 | 2 | 4 | 8, value: number | bigint): PciRawMemLoc {
  return cb === 8 ? { cb, u: BigInt(value) } : { cb, u: Number(value) };
}

function hex(v: number | bigint): string {
  return `0x${v.toString(16)}`;
}
