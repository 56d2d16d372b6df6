// Ring 0's service in the host process: owns the piscina pool of ring-0 workers, opens one channel per VM, and replaces a worker that is stuck or dead, releasing what it held.
//
// Each VM's channel is served by one worker. The service keeps, per VM, a private control block
// (r0/serve-control.ts) that ring 3 never sees: the stop request, the worker's heartbeat and the
// journal of what the worker holds. A watchdog thread (r0/watchdog.ts) reads the heartbeats; a
// worker inside one request (or timer run) for longer than `requestLimitMs` is given up: the
// watchdog closes the VM's channel at once (every waiting call answered VERR_INVALID_STATE),
// piscina terminates and replaces the worker (the task's AbortSignal), and once the thread has
// exited the service releases the VM's devices the way a close does: host resources the thread
// held (r0/reaper.ts), host drivers rebound, exclusivity freed.

import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { MessageChannel, type Worker } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Bdf } from '../shared/bdf.js';
import {
  type ChannelGeometry,
  Ctl,
  checkGeometry,
  createChannel,
  DEFAULT_SERVER_SPIN_US,
  DEFAULT_SLOT_BYTES,
  DEFAULT_SLOT_COUNT,
  initChannel,
} from '../shared/channel-layout.js';
import type { Ring0Connection } from '../shared/connection.js';
import { checkGuestMemory, type GuestMemoryAccess } from '../shared/guest-memory.js';
import { allocGuestRam } from '../shared/guest-ram.js';
import { childLogger } from '../shared/log.js';
import type { WakeKind } from '../shared/wake.js';
import { closeOrphanedChannel, MAX_SERVER_SPIN_US } from './channel-server.js';
import { DEFAULT_DMA_TIMEOUT_MS, DMA_TIMEOUT_RANGE_MS } from './dma-lane.js';
import { HostTable } from './host-table.js';
import { AccessPolicy, type PeerIdentity } from './policy.js';
import { releaseWorkerResources } from './reaper.js';
import { type JournalEntry, ServeControl, ServeState } from './serve-control.js';
import { Watchdog } from './watchdog.js';
import type { Ring0Task, Ring0WorkerData, ServeResult } from './worker.js';

/** Default of {@link Ring0ServiceOptions.requestLimitMs}: 10 s. */
export const DEFAULT_REQUEST_LIMIT_MS = 10_000;
/** How long the service waits for a given-up worker thread to exit before releasing its VM anyway, in ms. */
const WORKER_EXIT_WAIT_MS = 10_000;

/** Options of {@link Ring0Service.start}. */
export interface Ring0ServiceOptions {
  /** Which host ring 0 drives: the simulated host (default) or Linux VFIO. */
  host?: 'sim' | 'vfio';
  /**
   * Simulated host inventory: a path to a JSON file or the parsed document (see
   * r0/sim/default-inventory.json). Default: the embedded inventory (host bridge, edu, testdev).
   */
  inventory?: string | object;
  /**
   * Modules ring-0 workers import before serving (absolute paths or file: URLs): each may call
   * `registerSimModel` to add user fake hardware that the inventory can then name.
   */
  modelModules?: (string | URL)[];
  /**
   * vfio host: the directory that stands for /sys (devices under DIR/bus/pci/devices), where
   * ring 0 finds devices and makes its driver_override, unbind and drivers_probe writes.
   * Default /sys. The simulated host ignores it.
   */
  sysfsRoot?: string;
  /** VMs served at once (one worker each while connected). Default 4. */
  maxVms?: number;
  /**
   * Longest a ring-0 worker may spend inside one request or one run of device timers, in ms
   * (default {@link DEFAULT_REQUEST_LIMIT_MS}, 10 s; 50 .. 3,600,000). A worker past it is
   * deemed stuck (a device model that never returns, a host call that hangs): piscina replaces
   * it and the VM is disconnected with its devices released. Well-behaved requests take
   * microseconds; a VFIO reset takes up to about a second.
   */
  requestLimitMs?: number;
  /**
   * `rawpci serve`: the access policy file (r0/policy.ts, docs/policy.md) that OPEN_DEVICE is
   * checked against for VMs connected with a `peer`. Read and checked here: throws PolicyError
   * naming the file, the rule and the field. Without it such VMs get root-only access.
   */
  policyFile?: string;
  /** `rawpci serve`: allocate mappable device memory as memfds, so MAP_REGION views can go to another process (shared/shareable.ts). */
  shareableMemory?: boolean;
  /** `rawpci serve`: the directory where each worker writes its detaches ahead (r0/detach-log.ts). */
  detachLogDir?: string;
}

/** Options of {@link Ring0Service.openChannel}. */
export interface OpenChannelOptions {
  /** Guest RAM to use (default: a new one of `guestRamBytes`). Excludes `guestMemory`. */
  guestRam?: SharedArrayBuffer;
  /**
   * Guest RAM the VMM keeps to itself (v86's WebAssembly memory): ring 0 gets no view of it and
   * DMA goes through the channel's DMA lane, ring 3 copying on the connecting thread (docs/dma.md).
   * Excludes `guestRam` and `guestRamBytes`; the simulated host only (VFIO maps guest RAM into a
   * real IOMMU, which needs shared memory).
   */
  guestMemory?: GuestMemoryAccess;
  /**
   * With `guestMemory`: how long ring 0 waits for ring 3 to serve one DMA, in ms (default
   * DEFAULT_DMA_TIMEOUT_MS, 1000; 1..5000). Past it the DMA is a fault ("ring 3 did not serve
   * the DMA") and the device model sees a failed transfer.
   */
  dmaTimeoutMs?: number;
  /** Bytes of guest RAM to allocate when `guestRam` is not given (default 16 MiB). */
  guestRamBytes?: number;
  /** Channel slots (requests in flight), default 64. */
  slotCount?: number;
  /** Data bytes per slot, default 4096. */
  slotBytes?: number;
  /** Ring 0's spin budget before sleeping, in microseconds (default DEFAULT_SERVER_SPIN_US, 1000; 0..MAX_SERVER_SPIN_US). */
  serverSpinUs?: number;
  /** How long to wait for a worker to start serving, in ms (default 10000). */
  startTimeoutMs?: number;
  /**
   * Channel memory the VM offered (`rawpci serve`: its memfd mapped here), of
   * channelBytes(slotCount, slotBytes) bytes: ring 0 writes a fresh header into it and trusts
   * nothing the VM wrote. Default: a new SharedArrayBuffer.
   */
  channel?: SharedArrayBuffer;
  /** How the channel's sleepers are woken: 'futex' when the VM is another process (default 'atomics'). */
  wake?: WakeKind;
  /** The VM process's credentials (SO_PEERCRED): OPEN_DEVICE is then checked against the service's policy. */
  peer?: PeerIdentity;
  /**
   * The VM process's liveness page ('futex' wake, r0/peer-life.ts): a memfd mapping whose first
   * word a thread of the VM holds as a robust futex. Its serve loop ends, and the fixed cleanup
   * order runs, as soon as the kernel marks the holder dead.
   */
  life?: SharedArrayBuffer;
}

/** One live VM as {@link Ring0Service.sessions} reports it. */
export interface SessionStatus {
  session: number;
  /** The VM process (`rawpci serve`), undefined in-process. */
  peer: PeerIdentity | undefined;
  /** PCI addresses (BDF strings) of the devices it holds. */
  devices: string[];
  /** Requests answered, interrupts queued, IOMMU faults reported (published by its worker). */
  requests: number;
  irqs: number;
  faults: number;
  /** When it connected (ms since the epoch). */
  since: number;
}

/** What the service keeps about one connected VM (never shared with ring 3). */
interface Live {
  conn: Ring0Connection;
  control: ServeControl;
  geometry: ChannelGeometry;
  abort: AbortController;
  /** The worker thread serving it, once known. */
  worker: Worker | undefined;
  /** Set once the service gives the worker up: why. */
  givenUp: string | undefined;
  wake: WakeKind;
  peer: PeerIdentity | undefined;
  since: number;
}

/**
 * The ring-0 service: a piscina pool whose workers each serve one VM's channel. Start it once
 * per process; connect VMs with `RawPciClient.connect(service)`; close it at the end.
 */
export class Ring0Service {
  readonly pool: Piscina;
  readonly table: HostTable;
  readonly host: 'sim' | 'vfio';
  readonly maxVms: number;
  /** See {@link Ring0ServiceOptions.requestLimitMs}. */
  readonly requestLimitMs: number;
  /** Workers given up (stuck past requestLimitMs, or terminated with terminateVm) and replaced. */
  readonly stats = { workersReplaced: 0 };
  readonly #config: Ring0WorkerData;
  #closed = false;
  readonly #live = new Map<number, Live>();
  readonly #watchdog: Watchdog;
  readonly #log = childLogger({ ring: 0, part: 'service' });

  /**
   * Live sessions one uid other than root and the service's own may hold at once (rawpci serve
   * checks it at connect): the policy's `maxSessionsPerUser`, else every worker but one, so no
   * single user can take all of ring 0.
   */
  readonly maxSessionsPerUser: number;

  private constructor(pool: Piscina, table: HostTable, config: Ring0WorkerData, maxVms: number, requestLimitMs: number, maxSessionsPerUser: number) {
    this.maxSessionsPerUser = maxSessionsPerUser;
    this.pool = pool;
    this.table = table;
    this.host = config.host;
    this.#config = config;
    this.maxVms = maxVms;
    this.requestLimitMs = requestLimitMs;
    this.#watchdog = new Watchdog(requestLimitMs, (r) => {
      const live = this.#live.get(r.session);
      if (live) this.#giveUp(live, r.reason);
    });
  }

  /**
   * Starts the pool and checks that a worker comes up with the chosen host. Throws RangeError
   * naming a bad option, or Error with the cause and the fix when the inventory cannot be read
   * or parsed, or the host cannot start.
   */
  static async start(options: Ring0ServiceOptions = {}): Promise<Ring0Service> {
    const host = options.host ?? 'sim';
    if (host !== 'sim' && host !== 'vfio') throw new RangeError(`host '${String(host)}' must be 'sim' or 'vfio'`);
    const maxVms = options.maxVms ?? 4;
    if (!Number.isInteger(maxVms) || maxVms < 1 || maxVms > 64) throw new RangeError(`maxVms ${maxVms} must be an integer in 1..64`);
    const requestLimitMs = options.requestLimitMs ?? DEFAULT_REQUEST_LIMIT_MS;
    if (typeof requestLimitMs !== 'number' || !Number.isFinite(requestLimitMs) || requestLimitMs < 50 || requestLimitMs > 3_600_000) {
      throw new RangeError(`requestLimitMs ${requestLimitMs} must be a number of milliseconds in 50..3600000`);
    }
    let inventory: unknown;
    if (typeof options.inventory === 'string') {
      try {
        inventory = JSON.parse(readFileSync(options.inventory, 'utf8'));
      } catch (e) {
        throw new Error(`cannot read the inventory ${options.inventory}: ${(e as Error).message} (give a JSON file like r0/sim/default-inventory.json)`);
      }
    } else inventory = options.inventory;
    const table = HostTable.create();
    let policy: Ring0WorkerData['policy'];
    let accessPolicy: AccessPolicy | undefined;
    if (options.policyFile !== undefined) {
      accessPolicy = AccessPolicy.load(options.policyFile);
      policy = { text: readFileSync(options.policyFile, 'utf8'), source: options.policyFile };
    }
    const workerData: Ring0WorkerData = {
      ...(policy ? { policy } : {}),
      ...(options.shareableMemory ? { shareable: true } : {}),
      ...(options.detachLogDir === undefined ? {} : { detachLogDir: options.detachLogDir }),
      table: table.sab,
      host,
      inventory,
      modelModules: (options.modelModules ?? []).map((m) => (m instanceof URL ? m.href : m)),
      sysfsRoot: options.sysfsRoot,
    };
    const pool = new Piscina({
      filename: new URL('./worker.js', import.meta.url).href,
      minThreads: 1,
      maxThreads: maxVms,
      idleTimeout: 30_000,
      workerData,
    });
    try {
      await pool.run({ kind: 'ping' } satisfies Ring0Task);
    } catch (e) {
      await pool.destroy();
      throw new Error(`ring 0 could not start with the ${host} host: ${(e as Error).message}`);
    }
    return new Ring0Service(pool, table, workerData, maxVms, requestLimitMs, accessPolicy?.maxSessionsPerUser ?? Math.max(1, maxVms - 1));
  }

  /** The live VMs: who, which devices, and what their workers published. */
  sessions(): SessionStatus[] {
    return [...this.#live.values()].map((l) => ({
      session: l.conn.session,
      peer: l.peer,
      devices: this.table.devicesOf(l.conn.session).map((a) => Bdf.fromPciAddress(a).toString()),
      ...(({ answered, irqs, faults }) => ({ requests: answered, irqs, faults }))(l.control.counts),
      since: l.since,
    }));
  }

  /**
   * Ends VM `session` the way its disconnect does: its serve loop stops and its worker closes
   * every device in the fixed order (stop IRQs, decode and bus mastering off, unmap, detach the
   * IOMMU, reset, rebind, release). Resolves with the serve task's result (its devices' close
   * timings among it) when done, undefined when its worker was lost; false when no such VM is
   * connected.
   */
  async endVm(session: number): Promise<ServeResult | undefined | false> {
    const live = this.#live.get(session);
    if (!live) return false;
    live.conn.stop();
    return (await live.conn.served.catch(() => undefined)) as ServeResult | undefined;
  }

  /** vfio host: the directory standing for /sys (undefined: /sys). */
  get sysfsRoot(): string | undefined {
    return this.#config.sysfsRoot;
  }

  /** What every live VM's worker holds now (its resource journal: fds, mappings, devices detached from their host driver). */
  journals(): JournalEntry[] {
    return [...this.#live.values()].flatMap((l) => l.control.entries());
  }

  /** VMs connected now. */
  get connections(): number {
    return this.#live.size;
  }

  /**
   * Opens a channel for a new VM: a worker starts serving it. Resolves once it serves. Throws
   * Error when the service is closed or no worker started serving in time (all `maxVms` busy),
   * RangeError for a bad option.
   */
  async openChannel(options: OpenChannelOptions = {}): Promise<Ring0Connection> {
    if (this.#closed) throw new Error('the ring-0 service is closed: start a new one');
    const lane = options.guestMemory === undefined ? undefined : this.#laneOptions(options);
    const ramBytes = options.guestRamBytes ?? 16 << 20;
    if (options.guestRam === undefined && !lane && (!Number.isInteger(ramBytes) || ramBytes < 4096 || ramBytes % 4096 !== 0)) {
      throw new RangeError(`guestRamBytes ${ramBytes} must be a positive multiple of 4096`);
    }
    const spinUs = options.serverSpinUs ?? DEFAULT_SERVER_SPIN_US;
    if (typeof spinUs !== 'number' || !Number.isFinite(spinUs) || spinUs < 0 || spinUs > MAX_SERVER_SPIN_US) {
      throw new RangeError(`serverSpinUs ${spinUs} must be a number of microseconds in 0..${MAX_SERVER_SPIN_US}`);
    }
    // A real IOMMU maps whole pages: the vfio host needs page-aligned guest RAM.
    const ram = lane ? undefined : (options.guestRam ?? (this.host === 'vfio' ? allocGuestRam(ramBytes) : new SharedArrayBuffer(ramBytes)));
    const session = this.table.nextSessionId();
    const wake = options.wake ?? 'atomics';
    const views = options.channel
      ? initChannel(options.channel, session, checkGeometry(options.slotCount ?? DEFAULT_SLOT_COUNT, options.slotBytes ?? DEFAULT_SLOT_BYTES), wake)
      : createChannel(session, options.slotCount ?? DEFAULT_SLOT_COUNT, options.slotBytes ?? DEFAULT_SLOT_BYTES);
    const geometry: ChannelGeometry = { slotCount: views.slotCount, slotBytes: views.slotBytes };
    const control = ServeControl.create();
    const abort = new AbortController();
    const { port1, port2 } = new MessageChannel();
    const stop = () => {
      control.requestStop();
      // Wake the loop if it sleeps on the doorbell (what ring 3 writes there cannot stop this).
      Atomics.add(views.i32, Ctl.DOORBELL, 1);
      views.wake.notify(views.i32, Ctl.DOORBELL);
    };
    const peer = options.peer;
    const task: Ring0Task = {
      kind: 'serve',
      channel: views.sab,
      geometry,
      control: control.sab,
      ram,
      ...lane,
      session,
      port: port1,
      spinUs,
      wake,
      ...(peer ? { peer } : {}),
      ...(options.life && wake === 'futex' ? { life: options.life } : {}),
    };
    const run = this.pool.run(task, { transferList: [port1] as never, signal: abort.signal });
    const live: Live = { conn: undefined as never, control, geometry, abort, worker: undefined, givenUp: undefined, wake, peer, since: Date.now() };
    const served = run.then(
      (result) => result,
      async (e: unknown) => {
        await this.#afterLoss(live, e);
        throw new Error(`ring 0 stopped serving session ${session}: ${live.givenUp ?? (e as Error).message}`);
      },
    );
    const conn: Ring0Connection = { session, channel: views.sab, ram, port: port2, served, stop };
    live.conn = conn;
    this.#live.set(session, live);
    served
      .finally(() => {
        this.#live.delete(session);
        this.#watchdog.unwatch(session);
      })
      .catch(() => {});
    // Wait until a worker runs the serve loop (piscina may be starting a thread).
    const startMs = options.startTimeoutMs ?? 10_000;
    const deadline = performance.now() + startMs;
    let failed: unknown;
    served.catch((e) => (failed = e));
    while (control.state === ServeState.NOT_STARTED) {
      if (failed) throw new Error(`ring 0 failed to serve the channel: ${(failed as Error).message}`);
      if (performance.now() > deadline) {
        stop();
        const others = this.#live.size - 1;
        throw new Error(
          others >= this.maxVms
            ? `no ring-0 worker started serving within ${startMs} ms: all ${this.maxVms} workers serve other VMs (close one, or start the service with a larger maxVms)`
            : `no ring-0 worker started serving within ${startMs} ms (${others} of ${this.maxVms} workers serve other VMs): the pool's thread is still starting, on a loaded or emulated machine; raise startTimeoutMs`,
        );
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    live.worker = this.pool.threads.find((w) => w.threadId === control.threadId);
    this.#watchdog.watch(session, control, views.sab, geometry, wake);
    return conn;
  }

  /**
   * Checks the `guestMemory` options (exclusive with guestRam and guestRamBytes, simulated host
   * only, dmaTimeoutMs in range) and returns what the serve task needs. Throws TypeError or
   * RangeError naming the option.
   */
  #laneOptions(options: OpenChannelOptions): { guestMemorySize: number; dmaTimeoutMs: number } {
    if (options.guestRam !== undefined || options.guestRamBytes !== undefined) {
      throw new TypeError('give either guestRam (shared memory ring 0 copies itself) or guestMemory (ring 3 copies for ring 0), not both');
    }
    if (this.host === 'vfio') {
      throw new TypeError('guestMemory works with the simulated host only: VFIO maps guest RAM into the real IOMMU, so give a shared guestRam');
    }
    const { size } = checkGuestMemory(options.guestMemory);
    const dmaTimeoutMs = options.dmaTimeoutMs ?? DEFAULT_DMA_TIMEOUT_MS;
    if (typeof dmaTimeoutMs !== 'number' || !(dmaTimeoutMs >= DMA_TIMEOUT_RANGE_MS.min && dmaTimeoutMs <= DMA_TIMEOUT_RANGE_MS.max)) {
      throw new RangeError(`dmaTimeoutMs ${String(dmaTimeoutMs)} must be a number of milliseconds in ${DMA_TIMEOUT_RANGE_MS.min}..${DMA_TIMEOUT_RANGE_MS.max}`);
    }
    return { guestMemorySize: size, dmaTimeoutMs };
  }

  /**
   * Disconnects VM `session` at once, whatever its worker is doing, as the watchdog does with a
   * stuck one: the worker is terminated and replaced through piscina, the VM's calls are answered
   * VERR_INVALID_STATE, and its devices are released (host resources closed, host drivers
   * rebound, exclusivity freed). Resolves when that is done; false when no such VM is connected.
   */
  async terminateVm(session: number, reason = 'terminated by the service (terminateVm)'): Promise<boolean> {
    const live = this.#live.get(session);
    if (!live) return false;
    this.#giveUp(live, reason);
    await live.conn.served.catch(() => {});
    return true;
  }

  /** Stops every VM's serve loop and the pool. A worker stuck in a request is replaced after requestLimitMs. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const pending = [...this.#live.values()].map((l) => l.conn);
    for (const c of pending) c.stop();
    await Promise.allSettled(pending.map((c) => c.served));
    await this.#watchdog.close();
    await this.pool.destroy();
  }

  /**
   * Gives a VM's worker up: marks it (it must not touch the channel again), closes the channel
   * for ring 3 unless the watchdog already did, and has piscina terminate and replace the thread.
   */
  #giveUp(live: Live, reason: string): void {
    if (live.givenUp) return;
    live.givenUp = reason;
    if (live.control.giveUp()) {
      try {
        closeOrphanedChannel(live.conn.channel, live.geometry, reason, live.wake);
      } catch (e) {
        this.#log.error(`session ${live.conn.session}: closing its channel failed: ${(e as Error).message}`);
      }
    }
    this.stats.workersReplaced++;
    this.#log.warn(`session ${live.conn.session}: ${reason}`);
    live.worker ??= this.pool.threads.find((w) => w.threadId === live.control.threadId);
    // piscina terminates the thread running an aborted task and starts a replacement.
    live.abort.abort(new Error(reason));
  }

  /**
   * The serve task ended without finishing normally (given up, or its worker died). Once the
   * thread has exited, nothing of ring 0 serves the channel any more: close it for ring 3, then
   * release what the thread held and the VM's ownership of devices.
   */
  async #afterLoss(live: Live, e: unknown): Promise<void> {
    const session = live.conn.session;
    const worker = live.worker ?? this.pool.threads.find((w) => w.threadId === live.control.threadId);
    // Only a thread that is gone may have its resources released here: a live one still owns them
    // (a serve task that failed but whose thread lives on has run its own cleanup).
    let exited = worker === undefined || worker.threadId === -1;
    if (!exited && worker) {
      const wait = live.givenUp ? WORKER_EXIT_WAIT_MS : 500;
      const timer = new Promise((r) => setTimeout(r, wait).unref());
      await Promise.race([once(worker, 'exit'), timer]);
      exited = worker.threadId === -1;
      if (!exited && live.givenUp) {
        this.#log.error(`session ${session}: the worker did not exit within ${wait} ms (inside a host call?): its fds and mappings stay open`);
      }
    }
    const why = live.givenUp ?? `ring 0 failed: ${(e as Error)?.message ?? String(e)}`;
    try {
      closeOrphanedChannel(live.conn.channel, live.geometry, why, live.wake);
    } catch (err) {
      this.#log.error(`session ${session}: closing its channel failed: ${(err as Error).message}`);
    }
    if (exited && live.control.threadId !== 0) {
      const problems = await releaseWorkerResources(live.control.entries(), this.#config, this.table);
      for (const p of problems) this.#log.error(`session ${session}: ${p}`);
    }
    this.table.releaseSession(session);
  }
}
