// Ring 0's service in the host process: owns the piscina pool of ring-0 workers and opens one channel per VM.

import { readFileSync } from 'node:fs';
import { MessageChannel } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { Ctl, createChannel, DEFAULT_SLOT_BYTES, DEFAULT_SLOT_COUNT, ServerState } from '../shared/channel-layout.js';
import type { Ring0Connection } from '../shared/connection.js';
import { allocGuestRam } from '../shared/guest-ram.js';
import { HostTable } from './host-table.js';
import type { Ring0Task, Ring0WorkerData } from './worker.js';

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
}

/** Options of {@link Ring0Service.openChannel}. */
export interface OpenChannelOptions {
  /** Guest RAM to use (default: a new one of `guestRamBytes`). */
  guestRam?: SharedArrayBuffer;
  /** Bytes of guest RAM to allocate when `guestRam` is not given (default 16 MiB). */
  guestRamBytes?: number;
  /** Channel slots (requests in flight), default 64. */
  slotCount?: number;
  /** Data bytes per slot, default 4096. */
  slotBytes?: number;
  /** Ring 0's spin budget before sleeping, in microseconds (default DEFAULT_SERVER_SPIN_US, 1000). */
  serverSpinUs?: number;
  /** How long to wait for a worker to start serving, in ms (default 10000). */
  startTimeoutMs?: number;
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
  #closed = false;
  readonly #live = new Set<Ring0Connection>();

  private constructor(pool: Piscina, table: HostTable, host: 'sim' | 'vfio', maxVms: number) {
    this.pool = pool;
    this.table = table;
    this.host = host;
    this.maxVms = maxVms;
  }

  /**
   * Starts the pool and checks that a worker comes up with the chosen host. Throws Error with the
   * cause and the fix when the inventory cannot be read or parsed, or the host cannot start.
   */
  static async start(options: Ring0ServiceOptions = {}): Promise<Ring0Service> {
    const host = options.host ?? 'sim';
    if (host !== 'sim' && host !== 'vfio') throw new RangeError(`host '${String(host)}' must be 'sim' or 'vfio'`);
    const maxVms = options.maxVms ?? 4;
    if (!Number.isInteger(maxVms) || maxVms < 1 || maxVms > 64) throw new RangeError(`maxVms ${maxVms} must be an integer in 1..64`);
    let inventory: unknown;
    if (typeof options.inventory === 'string') {
      try {
        inventory = JSON.parse(readFileSync(options.inventory, 'utf8'));
      } catch (e) {
        throw new Error(`cannot read the inventory ${options.inventory}: ${(e as Error).message} (give a JSON file like r0/sim/default-inventory.json)`);
      }
    } else inventory = options.inventory;
    const table = HostTable.create();
    const workerData: Ring0WorkerData = {
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
    const service = new Ring0Service(pool, table, host, maxVms);
    try {
      await pool.run({ kind: 'ping' } satisfies Ring0Task);
    } catch (e) {
      await pool.destroy();
      throw new Error(`ring 0 could not start with the ${host} host: ${(e as Error).message}`);
    }
    return service;
  }

  /** VMs connected now. */
  get connections(): number {
    return this.#live.size;
  }

  /**
   * Opens a channel for a new VM: a worker starts serving it. Resolves once it serves. Throws
   * Error when the service is closed or no worker started serving in time (all `maxVms` busy).
   */
  async openChannel(options: OpenChannelOptions = {}): Promise<Ring0Connection> {
    if (this.#closed) throw new Error('the ring-0 service is closed: start a new one');
    const ramBytes = options.guestRamBytes ?? 16 << 20;
    if (options.guestRam === undefined && (!Number.isInteger(ramBytes) || ramBytes < 4096 || ramBytes % 4096 !== 0)) {
      throw new RangeError(`guestRamBytes ${ramBytes} must be a positive multiple of 4096`);
    }
    // A real IOMMU maps whole pages: the vfio host needs page-aligned guest RAM.
    const ram = options.guestRam ?? (this.host === 'vfio' ? allocGuestRam(ramBytes) : new SharedArrayBuffer(ramBytes));
    const session = this.table.nextSessionId();
    const views = createChannel(session, options.slotCount ?? DEFAULT_SLOT_COUNT, options.slotBytes ?? DEFAULT_SLOT_BYTES);
    if (options.serverSpinUs !== undefined) views.i32[Ctl.SERVER_SPIN_US] = options.serverSpinUs;
    const { port1, port2 } = new MessageChannel();
    const stop = () => {
      if (Atomics.compareExchange(views.i32, Ctl.SERVER_STATE, ServerState.RUNNING, ServerState.STOP_REQUESTED) !== ServerState.RUNNING) {
        Atomics.compareExchange(views.i32, Ctl.SERVER_STATE, ServerState.NOT_STARTED, ServerState.STOP_REQUESTED);
      }
      Atomics.add(views.i32, Ctl.DOORBELL, 1);
      Atomics.notify(views.i32, Ctl.DOORBELL);
    };
    const task: Ring0Task = { kind: 'serve', channel: views.sab, ram, session, port: port1 };
    const served = this.pool.run(task, { transferList: [port1] as never });
    const conn: Ring0Connection = { session, channel: views.sab, ram, port: port2, served, stop };
    this.#live.add(conn);
    served.finally(() => this.#live.delete(conn)).catch(() => {});
    // Wait until a worker runs the serve loop (piscina may be starting a thread).
    const deadline = performance.now() + (options.startTimeoutMs ?? 10_000);
    let failed: unknown;
    served.catch((e) => (failed = e));
    while (Atomics.load(views.i32, Ctl.SERVER_STATE) === ServerState.NOT_STARTED) {
      if (failed) throw new Error(`ring 0 failed to serve the channel: ${(failed as Error).message}`);
      if (performance.now() > deadline) {
        stop();
        throw new Error(
          `no ring-0 worker started serving within ${options.startTimeoutMs ?? 10_000} ms: all ${this.maxVms} workers serve other VMs (close one, or start the service with a larger maxVms)`,
        );
      }
      await new Promise((r) => setTimeout(r, 1));
    }
    return conn;
  }

  /** Stops every VM's serve loop and the pool. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const pending = [...this.#live];
    for (const c of pending) c.stop();
    await Promise.allSettled(pending.map((c) => c.served));
    await this.pool.destroy();
  }
}
