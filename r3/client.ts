// RawPciClient: ring 3's API, one method per raw PCI operation, synchronous (vCPU) and asynchronous (control plane).

import { EventEmitter } from 'node:events';
import type { OpenChannelOptions, Ring0Service } from '../r0/service.js';
import { Bdf } from '../shared/bdf.js';
import type { RawPciEndpoint } from '../shared/connection.js';
import {
  accessParams,
  FIXED_IRQ_KINDS,
  FIXED_RECORD_BYTES,
  FIXED_REQ_HEADER_BYTES,
  FIXED_SINGLE_BYTES,
  writeFixedHeader,
  writeFixedRecord,
} from '../shared/fixed-frame.js';
import { checkGuestMemory, type GuestMemoryAccess } from '../shared/guest-memory.js';
import type { PciRegionKind } from '../shared/pci/region.js';
import {
  opName,
  PCIRAW_ADDRESS_SPACE,
  PCIRAW_BATCH_MAX,
  PCIRAW_IRQ_KIND,
  PCIRAW_MEMINFO,
  PCIRAW_REGION,
  PCIRAWDRIVERRFLAG,
  PCIRAWR0_DO,
  type PciRawAnswer,
  type PciRawDevHandle,
  type PciRawIrqEvent,
  type PciRawIrqKind,
  type PciRawMemLoc,
  type PciRawOutGetIrq,
  type PciRawOutGetRegionInfo,
} from '../shared/protocol.js';
import { VERR_INTERNAL_ERROR, VERR_TIMEOUT } from '../shared/status.js';
import { ChannelClient, type ChannelClientOptions } from './channel.js';
import { DmaLaneServer } from './dma-server.js';
import { RawPciError } from './errors.js';
import { portViews, RegionViews, type ViewSource } from './region-views.js';

/** How a primary client reaches its ring 0 beyond the channel: MAP_REGION views, loss of ring 0, disconnect. */
interface ClientLink {
  views: ViewSource;
  /** Calls `cb` once ring 0's side is gone (in-process: the control port closed). */
  onGone(cb: () => void): void;
  /** Ends the session and resolves when ring 0 has cleaned it up. */
  disconnect(): Promise<void>;
}

/** GET_REGION_INFO's answer, with the region kind spelled out. */
export interface RegionInfo extends PciRawOutGetRegionInfo {
  /** Region index (0..5 BARs, 6 ROM). */
  region: number;
  /** `'io'`, `'mem32'`, `'mem64'`, or `'rom'` (index 6); `'none'` when absent. */
  kind: PciRegionKind | 'none';
  /** PCIRAW_ADDRESS_SPACE_MEM_PREFETCH set. */
  prefetchable: boolean;
}

/** A region MAP_REGION mapped straight into ring 3. */
export interface MappedRegion {
  mapId: number;
  handle: PciRawDevHandle;
  region: number;
  /** Host physical start and size in bytes (as GET_REGION_INFO). */
  start: bigint;
  size: bigint;
  /**
   * The device memory itself: reads and writes need no round trip. A SharedArrayBuffer on the
   * simulated host; on the vfio host an ArrayBuffer over ring 3's own mmap of the device region
   * (it cannot be posted to other threads, and reads zeros once unmapped or the device closed).
   */
  sab: ArrayBuffer | SharedArrayBuffer;
  /**
   * Little-endian view over `sab`. DataView accesses may be done byte by byte: for device memory
   * whose registers need their access width (vfio host), use a typed array over `sab` instead
   * (a Uint32Array element is one 4-byte load or store).
   */
  view: DataView;
  /** Byte view over `sab`. */
  bytes: Uint8Array;
}

/** Options of a client. */
export interface RawPciClientOptions extends ChannelClientOptions {
  /** Record each call's round-trip time for {@link RawPciClient.latency} (default false). */
  recordLatency?: boolean;
}

/** Options of {@link RawPciClient.connect}: the channel's and the client's. */
export type ConnectOptions = OpenChannelOptions & RawPciClientOptions;

/** Options of OPEN_DEVICE. */
export interface OpenDeviceOptions {
  /** PCIRAWDRIVERRFLAG_DETACH_HOST_DRIVER: detach the host driver now, rebind it on close. */
  detachHostDriver?: boolean;
}

/** Events of {@link RawPciClient}: `'irq'` for interrupts and IOMMU faults once {@link RawPciClient.startIrqPump} runs. */
export interface RawPciClientEvents {
  irq: [PciRawIrqEvent];
  error: [Error];
}

type Out = Record<string, unknown> | undefined;

/** Most encoded read requests a client keeps per kind (the cache is cleared when full). */

/**
 * A VM's ring-3 client (rawpci.h's PCIRAWSENDREQ sender). Every operation has a synchronous
 * method (blocks the thread until ring 0 answers: for vCPU accesses) and an `...Async` twin (for
 * the control plane). Failures throw {@link RawPciError} carrying the VBox status (`code`, `rc`)
 * and the operation; bad argument types throw TypeError/RangeError naming the argument.
 *
 * Units: ports and config offsets are numbers; memory addresses are bigint host physical
 * addresses inside the device's BARs (GET_REGION_INFO gives them); widths `cb` are bytes.
 */
export class RawPciClient extends EventEmitter<RawPciClientEvents> {
  /** The VM's session id in ring 0. */
  readonly session: number;
  /**
   * Guest RAM shared with ring 0 (the bytes the IOMMU domain maps for device DMA); empty (0
   * bytes) when the VM connected with `guestMemory` or attached to such a VM.
   */
  readonly ram: Uint8Array;
  /**
   * The VMM's own guest memory given to {@link connect} (`guestMemory`), which this client
   * serves ring 0's DMA from; undefined with shared `guestRam` and on attached clients.
   */
  readonly guestMemory: GuestMemoryAccess | undefined;
  readonly #dma: DmaLaneServer | undefined;
  readonly #ch: ChannelClient;
  readonly #link: ClientLink | undefined;
  readonly #endpoint: RawPciEndpoint;
  /** MAP_REGION views: what ring 0 posted on the control port, and this client's own device mmaps. */
  readonly #views: RegionViews;
  /**
   * Where the synchronous data-plane calls write their fixed request frames
   * (shared/fixed-frame.ts): one access, or a BATCH of up to PCIRAW_BATCH_MAX.
   */
  readonly #fixed = new Uint8Array(FIXED_REQ_HEADER_BYTES + PCIRAW_BATCH_MAX * FIXED_RECORD_BYTES);
  readonly #fixedView = new DataView(this.#fixed.buffer);
  readonly #fixedOne = this.#fixed.subarray(0, FIXED_SINGLE_BYTES);
  readonly #recordLatency: boolean;
  readonly #lat = new Map<string, number[]>();
  /** Calls per operation name. */
  readonly opCounts: Record<string, number> = {};
  #pump: Promise<void> | undefined;
  #dmaLoop: Promise<void> | undefined;
  #pumping = false;
  #closing = false;

  private constructor(endpoint: RawPciEndpoint, link: ClientLink | undefined, options: RawPciClientOptions, guestMemory?: GuestMemoryAccess) {
    super();
    this.#endpoint = endpoint;
    this.#link = link;
    this.session = endpoint.session;
    this.ram = endpoint.ram ? new Uint8Array(endpoint.ram) : new Uint8Array(0);
    this.#ch = new ChannelClient(endpoint.channel, {
      ...options,
      ...(endpoint.wake ? { wake: endpoint.wake } : {}),
      ...(endpoint.peerSocket === undefined ? {} : { peerSocket: endpoint.peerSocket }),
    });
    this.guestMemory = guestMemory;
    if (guestMemory) {
      this.#dma = new DmaLaneServer(this.#ch.views, guestMemory);
      this.#ch.dmaServer = this.#dma;
      this.#dmaLoop = this.#serveDmaLoop().catch(() => {});
    }
    this.#recordLatency = options.recordLatency ?? false;
    this.#views = new RegionViews(link?.views, (handle, info, mapId) =>
      this.#ch.callSync(PCIRAWR0_DO.UNMAP_REGION, handle, { startAddress: info.regionStart, regionSize: info.regionSize, mapId, region: info.region }),
    );
    // The control port closes when the ring-0 thread serving this VM is gone (given up, or
    // killed): withdraw device mappings then, so ring 0 can release and rebind the devices.
    link?.onGone(() => this.#views.releaseDeviceMaps());
  }

  /**
   * Connects a new VM to `service`: a ring-0 worker starts serving its channel. Guest RAM is
   * either shared (`guestRam`, or a new SharedArrayBuffer of `guestRamBytes`) or the VMM's own
   * (`guestMemory`, see {@link GuestMemoryAccess}): then ring 0 has no view of it, and this
   * client serves ring 0's DMA on this thread, inside the wait of every synchronous call and
   * from the event loop otherwise (docs/dma.md). Throws TypeError when both are given.
   *
   * `service` may instead be `'unix:PATH'`: the VM connects to a `rawpci serve` ring 0 in another
   * process over that socket (docs/serve.md). The channel and guest RAM (`guestRamBytes`) are
   * then sealed memfds this process maps and offers; `guestRam` cannot be given (a
   * SharedArrayBuffer made here cannot be shared with another process: read and write guest RAM
   * through `client.ram`). Everything else is the same client. Errors of the connection are
   * RawPciError with op 'CONNECT' (ring 0's refusal and its status, VERR_TIMEOUT), or the
   * addon's Error when nothing serves the path (`code` ENOENT, ECONNREFUSED) or it is not built.
   */
  static async connect(service: Ring0Service | string, options: ConnectOptions = {}): Promise<RawPciClient> {
    const guestMemory = options.guestMemory === undefined ? undefined : checkGuestMemory(options.guestMemory);
    if (typeof service === 'string') return RawPciClient.#connectUnix(service, options, guestMemory);
    const conn = await service.openChannel(options);
    const link: ClientLink = {
      views: portViews(conn.port),
      onGone: (cb) => conn.port.on('close', cb),
      disconnect: async () => {
        conn.stop();
        await conn.served.catch(() => {});
        conn.port.close();
      },
    };
    return new RawPciClient({ session: conn.session, channel: conn.channel, ram: conn.ram }, link, options, guestMemory);
  }

  static async #connectUnix(target: string, options: ConnectOptions, guestMemory: GuestMemoryAccess | undefined): Promise<RawPciClient> {
    if (!target.startsWith('unix:') || target.length <= 5) throw new TypeError(`service must be a Ring0Service or 'unix:PATH', got '${target}'`);
    if (options.guestRam !== undefined) {
      throw new TypeError(
        'guestRam cannot be shared with a ring 0 in another process: give guestRamBytes (the client allocates it as a memfd; use client.ram) or guestMemory',
      );
    }
    if (guestMemory && options.guestRamBytes !== undefined) throw new TypeError('give either guestRamBytes or guestMemory, not both');
    const { UnixLink } = await import('./unix-link.js');
    const u = await UnixLink.open(target.slice(5), {
      ...(options.slotCount === undefined ? {} : { slotCount: options.slotCount }),
      ...(options.slotBytes === undefined ? {} : { slotBytes: options.slotBytes }),
      ...(options.guestRamBytes === undefined ? {} : { guestRamBytes: options.guestRamBytes }),
      ...(guestMemory ? { guestMemorySize: guestMemory.size } : {}),
      ...(options.dmaTimeoutMs === undefined ? {} : { dmaTimeoutMs: options.dmaTimeoutMs }),
      ...(options.serverSpinUs === undefined ? {} : { serverSpinUs: options.serverSpinUs }),
      ...(options.startTimeoutMs === undefined ? {} : { startTimeoutMs: options.startTimeoutMs }),
    });
    const link: ClientLink = {
      views: u,
      onGone: () => {},
      disconnect: async () => {
        await u.disconnect();
      },
    };
    return new RawPciClient({ session: u.session, channel: u.channel, ram: u.ram, wake: 'futex', peerSocket: u.fd }, link, options, guestMemory);
  }

  /**
   * A client for another thread (vCPU) of the same VM, from {@link endpoint}. It cannot map
   * regions, and does not serve DMA of a VM connected with `guestMemory` (guest memory belongs to
   * the connecting thread): a DMA that a device does while such a vCPU is blocked is served by
   * the connecting thread's event loop, or faults after `dmaTimeoutMs` if that thread is blocked
   * too in something other than a rawpci call.
   */
  static attach(endpoint: RawPciEndpoint, options: RawPciClientOptions = {}): RawPciClient {
    return new RawPciClient(endpoint, undefined, options);
  }

  /** What another thread needs to {@link attach} (postMessage-able: shared memory only). */
  endpoint(): RawPciEndpoint {
    return { ...this.#endpoint };
  }

  /** DMA lane statistics (with `guestMemory`): requests served, failed, dropped as withdrawn; undefined otherwise. */
  get dmaStats(): { served: number; failed: number; dropped: number } | undefined {
    return this.#dma ? { ...this.#dma.stats } : undefined;
  }

  /**
   * Serves the DMA lane from the event loop: waits on its bell with Atomics.waitAsync (which
   * does not keep Node alive) until the client closes or the channel does.
   */
  async #serveDmaLoop(): Promise<void> {
    const dma = this.#dma!;
    const { i32, index } = dma.bell;
    const wake = this.#ch.views.wake;
    for (let round = 0; !this.#closing && !this.#ch.closed; round++) {
      const bell = Atomics.load(i32, index);
      if (dma.serve()) {
        round = 0;
        continue;
      }
      await wake.waitAsync(i32, index, bell, 1000, round, false);
    }
  }

  /** Transport statistics: calls made, calls that timed out, slots of dead callers reclaimed. */
  get transport(): { calls: number; timeouts: number; reclaimed: number } {
    return { ...this.#ch.stats };
  }

  // ---- raw access (tests, fuzzing, tools) ----

  /** Sends any request and returns ring 0's answer without throwing (rc, out, msg). */
  rawSync(op: number, target: number, params: unknown, timeoutMs?: number): PciRawAnswer {
    return this.#ch.callSync(op, target, params, timeoutMs);
  }

  /** Asynchronous {@link rawSync}. */
  raw(op: number, target: number, params: unknown, timeoutMs?: number): Promise<PciRawAnswer> {
    return this.#ch.call(op, target, params, timeoutMs);
  }

  // ---- factory ----

  /**
   * OPEN_DEVICE: opens the host device at `bdf` (`'0000:00:04.0'` or a Bdf). Returns its handle.
   * Errors: VERR_NOT_FOUND (no such device), VERR_RESOURCE_BUSY (open in another VM, bound to a
   * host driver without detachHostDriver, IOMMU group not viable), VERR_ACCESS_DENIED (bridges).
   */
  openDevice(bdf: string | Bdf, options: OpenDeviceOptions = {}): PciRawDevHandle {
    return this.#sync(PCIRAWR0_DO.OPEN_DEVICE, 0, openParams(bdf, options))!.device as number;
  }
  /** Asynchronous {@link openDevice}. */
  async openDeviceAsync(bdf: string | Bdf, options: OpenDeviceOptions = {}): Promise<PciRawDevHandle> {
    return (await this.#async(PCIRAWR0_DO.OPEN_DEVICE, 0, openParams(bdf, options)))!.device as number;
  }

  /**
   * CLOSE_DEVICE: quiesces, resets and releases the device; its host driver is rebound. The
   * device's mappings are withdrawn from ring 3 first: ring 0 closes the device within this call,
   * and a mapping of a VFIO device fd would keep the device from being released.
   */
  closeDevice(handle: PciRawDevHandle): void {
    this.#views.releaseDeviceMaps(handle);
    this.#sync(PCIRAWR0_DO.CLOSE_DEVICE, handle, { flags: 0 });
  }
  /** Asynchronous {@link closeDevice}. */
  async closeDeviceAsync(handle: PciRawDevHandle): Promise<void> {
    this.#views.releaseDeviceMaps(handle);
    await this.#async(PCIRAWR0_DO.CLOSE_DEVICE, handle, { flags: 0 });
  }

  // ---- regions ----

  /** GET_REGION_INFO of region `region` (0..5 BARs, 6 ROM). Errors: VERR_INVALID_PARAMETER. */
  getRegionInfo(handle: PciRawDevHandle, region: number): RegionInfo {
    return regionInfoOf(region, this.#sync(PCIRAWR0_DO.GET_REGION_INFO, handle, { region: int('region', region) }));
  }
  /** Asynchronous {@link getRegionInfo}. */
  async getRegionInfoAsync(handle: PciRawDevHandle, region: number): Promise<RegionInfo> {
    return regionInfoOf(region, await this.#async(PCIRAWR0_DO.GET_REGION_INFO, handle, { region: int('region', region) }));
  }

  /**
   * MAP_REGION: maps a whole memory region straight into ring 3 (a view onto the device memory,
   * no round trip per access). Only on a client made by {@link connect}. On the vfio host ring 0
   * hands over the device fd and the region's range and this client mmaps it (koffi is loaded
   * then); the device's memory decode must be on while the view is used, as for any access.
   * Errors: VERR_NOT_SUPPORTED (the region has side effects and must be trapped, is I/O, or VFIO
   * does not allow mmap of it).
   */
  mapRegion(handle: PciRawDevHandle, region: number): MappedRegion {
    const info = this.getRegionInfo(handle, region);
    const out = this.#sync(PCIRAWR0_DO.MAP_REGION, handle, { startAddress: info.regionStart, regionSize: info.regionSize, region, flags: 0 });
    return this.#views.mapped(handle, info, out!.mapId as number);
  }
  /** Asynchronous {@link mapRegion}. */
  async mapRegionAsync(handle: PciRawDevHandle, region: number): Promise<MappedRegion> {
    const info = await this.getRegionInfoAsync(handle, region);
    const out = await this.#async(PCIRAWR0_DO.MAP_REGION, handle, { startAddress: info.regionStart, regionSize: info.regionSize, region, flags: 0 });
    return this.#views.mapped(handle, info, out!.mapId as number);
  }

  /**
   * UNMAP_REGION of a mapping {@link mapRegion} made. The view must not be used afterwards (a
   * device mapping of the vfio host is withdrawn from ring 3: see DeviceMapping.release).
   */
  unmapRegion(m: MappedRegion): void {
    this.#sync(PCIRAWR0_DO.UNMAP_REGION, m.handle, { startAddress: m.start, regionSize: m.size, mapId: m.mapId, region: m.region });
    this.#views.drop(m.mapId);
  }
  /** Asynchronous {@link unmapRegion}. */
  async unmapRegionAsync(m: MappedRegion): Promise<void> {
    await this.#async(PCIRAWR0_DO.UNMAP_REGION, m.handle, { startAddress: m.start, regionSize: m.size, mapId: m.mapId, region: m.region });
    this.#views.drop(m.mapId);
  }

  // ---- port I/O ----

  /** PIO_READ of `cb` (1, 2, 4) bytes at `port`. Returns the unsigned value. Errors: VERR_OUT_OF_RANGE (not in the device's I/O BARs). */
  pioRead(handle: PciRawDevHandle, port: number, cb: 1 | 2 | 4): number {
    return bareValue(this.#access(PCIRAWR0_DO.PIO_READ, handle, cb, port, 0)) as number;
  }
  /** Asynchronous {@link pioRead}. */
  async pioReadAsync(handle: PciRawDevHandle, port: number, cb: 1 | 2 | 4): Promise<number> {
    return (await this.#async(PCIRAWR0_DO.PIO_READ, handle, { port, cb }))!.value as number;
  }
  /** PIO_WRITE of `value` (`cb` bytes) to `port`. */
  pioWrite(handle: PciRawDevHandle, port: number, cb: 1 | 2 | 4, value: number): void {
    this.#access(PCIRAWR0_DO.PIO_WRITE, handle, cb, port, value);
  }
  /** Asynchronous {@link pioWrite}. */
  async pioWriteAsync(handle: PciRawDevHandle, port: number, cb: 1 | 2 | 4, value: number): Promise<void> {
    await this.#async(PCIRAWR0_DO.PIO_WRITE, handle, { port, cb, value });
  }

  // ---- MMIO ----

  /**
   * MMIO_READ of `cb` bytes at host physical `address` (inside a memory BAR or the ROM).
   * Returns a number for 1, 2 and 4 bytes and a bigint for 8. Errors: VERR_OUT_OF_RANGE.
   */
  mmioRead(handle: PciRawDevHandle, address: bigint | number, cb: 1 | 2 | 4): number;
  mmioRead(handle: PciRawDevHandle, address: bigint | number, cb: 8): bigint;
  mmioRead(handle: PciRawDevHandle, address: bigint | number, cb: 1 | 2 | 4 | 8): number | bigint {
    const a = big('address', address);
    return bareValue(this.#access(PCIRAWR0_DO.MMIO_READ, handle, cb, a, 0)) as number | bigint;
  }
  /** Asynchronous {@link mmioRead}. */
  async mmioReadAsync(handle: PciRawDevHandle, address: bigint | number, cb: 1 | 2 | 4 | 8): Promise<number | bigint> {
    return ((await this.#async(PCIRAWR0_DO.MMIO_READ, handle, { address: big('address', address), cb }))!.value as PciRawMemLoc).u;
  }
  /** MMIO_WRITE of `value` (`cb` bytes; a bigint for 8) at host physical `address`. */
  mmioWrite(handle: PciRawDevHandle, address: bigint | number, cb: 1 | 2 | 4 | 8, value: number | bigint): void {
    this.#access(PCIRAWR0_DO.MMIO_WRITE, handle, cb, big('address', address), memLoc(cb, value).u);
  }
  /** Asynchronous {@link mmioWrite}. */
  async mmioWriteAsync(handle: PciRawDevHandle, address: bigint | number, cb: 1 | 2 | 4 | 8, value: number | bigint): Promise<void> {
    await this.#async(PCIRAWR0_DO.MMIO_WRITE, handle, { address: big('address', address), value: memLoc(cb, value) });
  }

  // ---- config space ----

  /** PCICFG_READ of `cb` (1, 2, 4) bytes at config `offset` (naturally aligned). */
  cfgRead(handle: PciRawDevHandle, offset: number, cb: 1 | 2 | 4): number {
    return bareValue(this.#access(PCIRAWR0_DO.PCICFG_READ, handle, cb, offset, 0)) as number;
  }
  /** Asynchronous {@link cfgRead}. */
  async cfgReadAsync(handle: PciRawDevHandle, offset: number, cb: 1 | 2 | 4): Promise<number> {
    return ((await this.#async(PCIRAWR0_DO.PCICFG_READ, handle, { offset, cb }))!.value as PciRawMemLoc).u as number;
  }
  /** PCICFG_WRITE of `value` at config `offset`. BARs are refused (VERR_ACCESS_DENIED): they belong to the host. */
  cfgWrite(handle: PciRawDevHandle, offset: number, cb: 1 | 2 | 4, value: number): void {
    this.#access(PCIRAWR0_DO.PCICFG_WRITE, handle, cb, offset, memLoc(cb, value).u);
  }
  /** Asynchronous {@link cfgWrite}. */
  async cfgWriteAsync(handle: PciRawDevHandle, offset: number, cb: 1 | 2 | 4, value: number): Promise<void> {
    await this.#async(PCIRAWR0_DO.PCICFG_WRITE, handle, { offset, value: memLoc(cb, value) });
  }

  // ---- batches ----

  /**
   * BATCH (rawpci's own operation): performs `accesses` in order in one request, one doorbell
   * and one round trip, and returns one result per access, in order, each with its own status:
   * `{ rc: 0, value }` for a read (a number; a bigint for an 8-byte MMIO read), `{ rc: 0 }` for
   * a write or ACK_IRQ, `{ rc, msg }` for an access ring 0 refused (the later ones still run).
   * At most PCIRAW_BATCH_MAX (64) accesses, and the answer must fit one slot
   * (VERR_BUFFER_OVERFLOW, thrown). Throws RawPciError (op BATCH) when the batch itself fails:
   * an empty or too long list, a closed channel, the deadline.
   */
  batch(accesses: readonly BatchAccess[]): BatchResult[] {
    const frame = this.#fixedBatch(accesses);
    const out = frame ? this.#syncFrame(PCIRAWR0_DO.BATCH, frame) : this.#sync(PCIRAWR0_DO.BATCH, 0, { accesses: accesses.map(batchEntry) });
    return batchResults(accesses, out);
  }
  /** Asynchronous {@link batch}. */
  async batchAsync(accesses: readonly BatchAccess[]): Promise<BatchResult[]> {
    const out = await this.#async(PCIRAWR0_DO.BATCH, 0, { accesses: accesses.map(batchEntry) });
    return batchResults(accesses, out);
  }

  // ---- interrupts ----

  /** REGISTER_R0_IRQ_HANDLER: the device's interrupts are queued for this VM, tagged with `guestIrq`. Returns the host IRQ. */
  registerIrqHandler(handle: PciRawDevHandle, guestIrq: number): number {
    return this.#sync(PCIRAWR0_DO.REGISTER_R0_IRQ_HANDLER, handle, { guestIrq })!.hostIrq as number;
  }
  /** Asynchronous {@link registerIrqHandler}. */
  async registerIrqHandlerAsync(handle: PciRawDevHandle, guestIrq: number): Promise<number> {
    return (await this.#async(PCIRAWR0_DO.REGISTER_R0_IRQ_HANDLER, handle, { guestIrq }))!.hostIrq as number;
  }
  /** UNREGISTER_R0_IRQ_HANDLER. */
  unregisterIrqHandler(handle: PciRawDevHandle, hostIrq: number): void {
    this.#sync(PCIRAWR0_DO.UNREGISTER_R0_IRQ_HANDLER, handle, { hostIrq });
  }
  /** Asynchronous {@link unregisterIrqHandler}. */
  async unregisterIrqHandlerAsync(handle: PciRawDevHandle, hostIrq: number): Promise<void> {
    await this.#async(PCIRAWR0_DO.UNREGISTER_R0_IRQ_HANDLER, handle, { hostIrq });
  }

  /**
   * GET_IRQ: the oldest pending interrupt or IOMMU fault of `handle` (0 = any device), waiting up
   * to `timeoutMs` ms in ring 0. Returns undefined when none arrived in time.
   */
  getIrq(timeoutMs: number, handle: PciRawDevHandle = 0): PciRawIrqEvent | undefined {
    const a = this.#ch.callSync(PCIRAWR0_DO.GET_IRQ, handle, { timeoutMs }, timeoutMs + this.#ch.timeoutMs);
    return this.#irqAnswer(a);
  }
  /** Asynchronous {@link getIrq}. */
  async getIrqAsync(timeoutMs: number, handle: PciRawDevHandle = 0): Promise<PciRawIrqEvent | undefined> {
    const a = await this.#ch.call(PCIRAWR0_DO.GET_IRQ, handle, { timeoutMs }, timeoutMs + this.#ch.timeoutMs);
    return this.#irqAnswer(a);
  }

  /** ACK_IRQ: acknowledges an interrupt; for `intx` the automasked line is unmasked. */
  ackIrq(handle: PciRawDevHandle, kind: PciRawIrqKind = PCIRAW_IRQ_KIND.INTX): void {
    this.#access(PCIRAWR0_DO.ACK_IRQ, handle, 0, irqKindWhere(kind), 0);
  }
  /** Asynchronous {@link ackIrq}. */
  async ackIrqAsync(handle: PciRawDevHandle, kind: PciRawIrqKind = PCIRAW_IRQ_KIND.INTX): Promise<void> {
    await this.#async(PCIRAWR0_DO.ACK_IRQ, handle, { kind });
  }

  /**
   * Delivers interrupts as `'irq'` events: a loop of asynchronous GET_IRQ calls (one held in
   * ring 0 at a time) until {@link stopIrqPump} or {@link close}. Idempotent.
   */
  startIrqPump(): void {
    if (this.#pump) return;
    this.#pumping = true;
    const loop = async () => {
      while (this.#pumping && !this.#closing && !this.#ch.closed) {
        const a = await this.#ch.call(PCIRAWR0_DO.GET_IRQ, 0, { timeoutMs: 200 }, 200 + this.#ch.timeoutMs);
        if (a.rc === 0) this.emit('irq', (a.out as PciRawOutGetIrq).irq);
        else if (a.rc !== VERR_TIMEOUT && !this.#ch.closed && !this.#closing) {
          if (this.listenerCount('error')) this.emit('error', new RawPciError(a.rc, PCIRAWR0_DO.GET_IRQ, a.msg));
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    this.#pump = loop();
  }

  /** Stops the `'irq'` event loop (resolves when its last GET_IRQ returned). */
  async stopIrqPump(): Promise<void> {
    const p = this.#pump;
    this.#pumping = false;
    await p;
    this.#pump = undefined;
  }

  // ---- power ----

  /** POWER_STATE_CHANGE to `state` (PCIRAW_POWER). Returns the VM capabilities (PCIRAW_CAPS). */
  powerStateChange(handle: PciRawDevHandle, state: number): number {
    return this.#sync(PCIRAWR0_DO.POWER_STATE_CHANGE, handle, { state })!.caps as number;
  }
  /** Asynchronous {@link powerStateChange}. */
  async powerStateChangeAsync(handle: PciRawDevHandle, state: number): Promise<number> {
    return (await this.#async(PCIRAWR0_DO.POWER_STATE_CHANGE, handle, { state }))!.caps as number;
  }

  // ---- VM and IOMMU ----

  /** INIT_VM: creates the VM's IOMMU domain. Returns its id. */
  initVm(): number {
    return this.#sync(PCIRAWR0_DO.INIT_VM, 0, {})!.domain as number;
  }
  /** Asynchronous {@link initVm}. */
  async initVmAsync(): Promise<number> {
    return (await this.#async(PCIRAWR0_DO.INIT_VM, 0, {}))!.domain as number;
  }
  /** DEINIT_VM: destroys the VM's IOMMU domain (devices' DMA then faults). */
  deinitVm(): void {
    this.#sync(PCIRAWR0_DO.DEINIT_VM, 0, {});
  }
  /** Asynchronous {@link deinitVm}. */
  async deinitVmAsync(): Promise<void> {
    await this.#async(PCIRAWR0_DO.DEINIT_VM, 0, {});
  }

  /**
   * CONTIG_MEM_INFO (FNRAWPCICONTIGPHYSMEMINFO): maps (or unmaps) `size` bytes of guest RAM at
   * byte offset `hostStart` to bus address `guestStart` in the VM's IOMMU domain. All three
   * multiples of 4096. Errors: VERR_INVALID_PARAMETER, VERR_ALREADY_EXISTS (overlap), VERR_NOT_FOUND.
   */
  contigMemInfo(hostStart: bigint | number, guestStart: bigint | number, size: bigint | number, action: number = PCIRAW_MEMINFO.MAP): void {
    this.#sync(PCIRAWR0_DO.CONTIG_MEM_INFO, 0, memInfo(hostStart, guestStart, size, action));
  }
  /** Asynchronous {@link contigMemInfo}. */
  async contigMemInfoAsync(hostStart: bigint | number, guestStart: bigint | number, size: bigint | number, action: number = PCIRAW_MEMINFO.MAP): Promise<void> {
    await this.#async(PCIRAWR0_DO.CONTIG_MEM_INFO, 0, memInfo(hostStart, guestStart, size, action));
  }

  // ---- statistics and lifecycle ----

  /** Round-trip percentiles per operation in microseconds (with `recordLatency`). */
  latency(): Record<string, { count: number; p50: number; p99: number }> {
    const res: Record<string, { count: number; p50: number; p99: number }> = {};
    for (const [op, xs] of this.#lat) {
      const s = [...xs].sort((a, b) => a - b);
      res[op] = { count: s.length, p50: pct(s, 0.5), p99: pct(s, 0.99) };
    }
    return res;
  }

  /**
   * Disconnects the VM: ring 0 stops serving its channel and ends the session (every device
   * closed in the fixed order, host drivers rebound). Device mappings this client made (vfio
   * host) are withdrawn first. Resolves when ring 0 has finished.
   */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    await this.stopIrqPump();
    if (this.#dma) {
      const { i32, index } = this.#dma.bell;
      this.#ch.views.wake.notify(i32, index);
      await this.#dmaLoop;
    }
    this.#views.releaseDeviceMaps();
    await this.#link?.disconnect();
  }

  // ---- internals ----

  /**
   * One synchronous data-plane access: in the fixed layout (shared/fixed-frame.ts), or, when a
   * field cannot travel in it (not an unsigned integer of its size), as the msgpackr request of
   * the same parameter block, whose answer names what is wrong. `where` is the port, address,
   * config offset or ACK_IRQ kind, `value` what a write stores. Returns the answer's out (a
   * read's bare value in the fixed answer, a PCIRAWMEMLOC or number in msgpackr: see bareValue).
   */
  #access(op: number, handle: number, cb: number, where: number | bigint | string, value: number | bigint): Out {
    if (typeof where === 'string' || !fixableRecord(handle, cb, where, value)) return this.#sync(op, handle, accessParams(op, cb, where, value));
    writeFixedHeader(this.#fixedView, this.session, 1, false);
    writeFixedRecord(this.#fixedView, FIXED_REQ_HEADER_BYTES, op, cb, handle, where, value);
    return this.#syncFrame(op, this.#fixedOne);
  }

  /** A BATCH as a fixed frame (a view of the scratch buffer), or undefined when an access cannot travel in the layout. Throws as batchEntry does for a bad access. */
  #fixedBatch(accesses: readonly BatchAccess[]): Uint8Array | undefined {
    const n = accesses.length;
    if (n < 1 || n > PCIRAW_BATCH_MAX) return undefined;
    const view = this.#fixedView;
    for (let i = 0; i < n; i++) {
      const a = accesses[i]!;
      const [op, cb, where, value] = accessFields(a);
      if (typeof where === 'string' || !fixableRecord(a.handle, cb, where, value)) return undefined;
      writeFixedRecord(view, FIXED_REQ_HEADER_BYTES + i * FIXED_RECORD_BYTES, op, cb, a.handle, where, value);
    }
    const size = writeFixedHeader(view, this.session, n, true);
    return this.#fixed.subarray(0, size);
  }

  #syncFrame(op: number, frame: Uint8Array): Out {
    if (!this.#recordLatency) return this.#check(op, this.#ch.callSyncFrame(op, frame));
    const t = performance.now();
    const a = this.#ch.callSyncFrame(op, frame);
    this.#record(op, performance.now() - t);
    return this.#check(op, a);
  }

  #sync(op: number, target: number, params: unknown): Out {
    if (!this.#recordLatency) return this.#check(op, this.#ch.callSync(op, target, params));
    const t = performance.now();
    const a = this.#ch.callSync(op, target, params);
    this.#record(op, performance.now() - t);
    return this.#check(op, a);
  }

  async #async(op: number, target: number, params: unknown): Promise<Out> {
    const t = performance.now();
    const a = await this.#ch.call(op, target, params);
    if (this.#recordLatency) this.#record(op, performance.now() - t);
    return this.#check(op, a);
  }

  #check(op: number, a: PciRawAnswer): Out {
    const name = opName(op) ?? String(op);
    this.opCounts[name] = (this.opCounts[name] ?? 0) + 1;
    if (a.rc < 0) throw new RawPciError(a.rc, op, a.msg);
    return a.out as Out;
  }

  #record(op: number, ms: number): void {
    const name = opName(op) ?? String(op);
    let xs = this.#lat.get(name);
    if (!xs) {
      xs = [];
      this.#lat.set(name, xs);
    }
    if (xs.length < 1_000_000) xs.push(ms * 1000);
  }

  #irqAnswer(a: PciRawAnswer): PciRawIrqEvent | undefined {
    this.opCounts.GET_IRQ = (this.opCounts.GET_IRQ ?? 0) + 1;
    if (a.rc === VERR_TIMEOUT) return undefined;
    if (a.rc < 0) throw new RawPciError(a.rc, PCIRAWR0_DO.GET_IRQ, a.msg);
    return (a.out as PciRawOutGetIrq).irq;
  }
}

function openParams(bdf: string | Bdf, options: OpenDeviceOptions): { pciAddress: number; flags: number } {
  const b = typeof bdf === 'string' ? Bdf.parse(bdf) : bdf;
  if (!(b instanceof Bdf)) throw new TypeError('bdf must be a string like 0000:00:04.0 or a Bdf');
  return { pciAddress: b.pciAddress, flags: options.detachHostDriver ? PCIRAWDRIVERRFLAG.DETACH_HOST_DRIVER : 0 };
}

/** GET_REGION_INFO's `out` for region `region` as a {@link RegionInfo}: the kind from the PCIRAW_ADDRESS_SPACE flags (the ROM by its index). */
export function regionInfoOf(region: number, out: Out): RegionInfo {
  const o = out as unknown as PciRawOutGetRegionInfo;
  const kind = !o.present
    ? 'none'
    : region === PCIRAW_REGION.ROM
      ? 'rom'
      : o.flags & PCIRAW_ADDRESS_SPACE.IO
        ? 'io'
        : o.flags & PCIRAW_ADDRESS_SPACE.BAR64
          ? 'mem64'
          : 'mem32';
  return { ...o, region, kind, prefetchable: (o.flags & PCIRAW_ADDRESS_SPACE.MEM_PREFETCH) !== 0 };
}

function int(name: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new TypeError(`${name} must be an integer, got ${String(v)}`);
  return v;
}

function big(name: string, v: bigint | number): bigint {
  if (typeof v === 'bigint') return v;
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
  throw new TypeError(`${name} must be a non-negative bigint or safe integer, got ${String(v)}`);
}

/**
 * One access of {@link RawPciClient.batch}: the same parameters as the single call of that name
 * (ports and config offsets in bytes, `cb` the width in bytes, `address` a host physical address).
 */
export type BatchAccess =
  | { op: 'pioRead'; handle: PciRawDevHandle; port: number; cb: 1 | 2 | 4 }
  | { op: 'pioWrite'; handle: PciRawDevHandle; port: number; cb: 1 | 2 | 4; value: number }
  | { op: 'mmioRead'; handle: PciRawDevHandle; address: bigint | number; cb: 1 | 2 | 4 | 8 }
  | { op: 'mmioWrite'; handle: PciRawDevHandle; address: bigint | number; cb: 1 | 2 | 4 | 8; value: number | bigint }
  | { op: 'cfgRead'; handle: PciRawDevHandle; offset: number; cb: 1 | 2 | 4 }
  | { op: 'cfgWrite'; handle: PciRawDevHandle; offset: number; cb: 1 | 2 | 4; value: number }
  | { op: 'ackIrq'; handle: PciRawDevHandle; kind?: PciRawIrqKind };

/** The result of one batched access: its status, the value a read returned, or why it was refused. */
export interface BatchResult {
  rc: number;
  value?: number | bigint;
  msg?: string;
}

/** A batch access as the wire carries it: `[op, target, params]`. Throws TypeError for an unknown `op`. */
function batchEntry(a: BatchAccess): [number, number, unknown] {
  const [op, cb, where, value] = accessFields(a);
  return [op, a.handle, accessParams(op, cb, where, value)];
}

/** True when every field fits its place in a fixed record (shared/fixed-frame.ts): a u32 handle, a u8 width, u64 where and value. */
function fixableRecord(handle: number, cb: number, where: number | bigint, value: number | bigint): boolean {
  return Number.isInteger(handle) && handle >= 0 && handle <= 0xffff_ffff && Number.isInteger(cb) && cb >= 0 && cb <= 0xff && isU64(where) && isU64(value);
}

function isU64(v: number | bigint): boolean {
  return typeof v === 'bigint' ? v >= 0n && v <= 0xffff_ffff_ffff_ffffn : Number.isSafeInteger(v) && v >= 0;
}

/**
 * A batch access as record fields `[op, cb, where, value]` (see accessParams), its address and
 * value checked as the single calls check them (TypeError, RangeError). Throws TypeError for an
 * unknown `op`.
 */
function accessFields(a: BatchAccess): [number, number, number | bigint | string, number | bigint] {
  switch (a.op) {
    case 'pioRead':
      return [PCIRAWR0_DO.PIO_READ, a.cb, a.port, 0];
    case 'pioWrite':
      return [PCIRAWR0_DO.PIO_WRITE, a.cb, a.port, a.value];
    case 'mmioRead':
      return [PCIRAWR0_DO.MMIO_READ, a.cb, big('address', a.address), 0];
    case 'mmioWrite':
      return [PCIRAWR0_DO.MMIO_WRITE, a.cb, big('address', a.address), memLoc(a.cb, a.value).u];
    case 'cfgRead':
      return [PCIRAWR0_DO.PCICFG_READ, a.cb, a.offset, 0];
    case 'cfgWrite':
      return [PCIRAWR0_DO.PCICFG_WRITE, a.cb, a.offset, memLoc(a.cb, a.value).u];
    case 'ackIrq':
      return [PCIRAWR0_DO.ACK_IRQ, 0, irqKindWhere(a.kind ?? PCIRAW_IRQ_KIND.INTX), 0];
    default:
      throw new TypeError(`batch: unknown access op ${String((a as { op: unknown }).op)}`);
  }
}

/** ACK_IRQ's kind as a record's `where`: its FIXED_IRQ_KINDS index, or the kind itself when it has none (sent in msgpackr; ring 0 refuses it by name). */
function irqKindWhere(kind: PciRawIrqKind): number | string {
  const k = FIXED_IRQ_KINDS.indexOf(kind);
  return k < 0 ? kind : k;
}

/** A read's out value as the bare value: the fixed answer's own, or a msgpackr answer's PCIRAWMEMLOC `u`. */
function bareValue(out: Out): number | bigint | undefined {
  const v = out?.value;
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  return (v as PciRawMemLoc | undefined)?.u;
}

/** Ring 0's BATCH answer (PciRawOutBatch) as results in the order of `accesses` (a missing or malformed entry reads as VERR_INTERNAL_ERROR). */
function batchResults(accesses: readonly BatchAccess[], out: Out): BatchResult[] {
  const answers = (out?.answers ?? []) as unknown[];
  return accesses.map((a, i) => {
    const r = answers[i];
    if (!Array.isArray(r) || typeof r[0] !== 'number') return { rc: VERR_INTERNAL_ERROR, msg: 'ring 0 gave no answer for this batched access' };
    if (r[0] !== 0) return { rc: r[0], msg: typeof r[1] === 'string' ? r[1] : '' };
    const isRead = a.op === 'pioRead' || a.op === 'mmioRead' || a.op === 'cfgRead';
    return isRead && (typeof r[1] === 'number' || typeof r[1] === 'bigint') ? { rc: 0, value: r[1] } : { rc: 0 };
  });
}

function memLoc(cb: number, value: number | bigint): PciRawMemLoc {
  if (cb === 8) return { cb: 8, u: big('value', value) };
  if (cb !== 1 && cb !== 2 && cb !== 4) throw new RangeError(`width cb must be 1, 2, 4 or 8 bytes, got ${String(cb)}`);
  if (typeof value !== 'number') throw new TypeError(`a ${cb}-byte value must be a number`);
  return { cb, u: value };
}

function memInfo(hostStart: bigint | number, guestStart: bigint | number, size: bigint | number, action: number) {
  return { hostStart: big('hostStart', hostStart), guestStart: big('guestStart', guestStart), size: big('size', size), action };
}

function pct(sorted: number[], q: number): number {
  if (!sorted.length) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}
