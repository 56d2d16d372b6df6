// Ring 0's private control block for one served channel: the stop request, the serve state, the heartbeat the watchdog reads, and the journal of host resources the serving worker holds.
//
// The service (main thread) creates one per connection and hands it to the worker that serves
// the channel; ring 3 never gets it. So nothing ring 3 writes can stop, start or steer a serve
// loop, and if the worker has to be given up (stuck in a device model, killed), the service
// still knows what the dead thread held and releases it: VFIO fds and mappings (the kernel then
// quiesces and resets the device), host drivers to rebind, and the VM's device ownership.
//
// Journal records are written whole before their KIND word is set, and their KIND is cleared
// before the resource is released, so a thread stopped at any point leaves at worst a leak,
// never a record of a resource that no longer exists (which could be someone else's fd by then).

/** Int32 word indices of a serve control block. */
export const ServeCtl = {
  /** Set to 1 by the service: stop serving. Only the service writes it. */
  STOP: 0,
  /** {@link ServeState}, written by the worker. */
  STATE: 1,
  /**
   * Heartbeat: incremented by the worker when it enters a request or a timer run and again when
   * it leaves, so it is odd while the worker is inside one. The watchdog reads it.
   */
  BUSY: 2,
  /** threadId of the worker serving the channel (0 before it starts). */
  THREAD_ID: 3,
  /**
   * Set to 1 when the service gave the worker up (stuck past requestLimitMs, or terminateVm):
   * the service has closed the channel for ring 3 itself, and the worker, should it ever get
   * back from where it was stuck, must not write into the channel again.
   */
  GIVEN_UP: 4,
  /** Requests answered (statistics the worker publishes for `rawpci status`; ring 3 cannot write them). */
  ANSWERED: 5,
  /** Interrupts queued for the VM (statistics). */
  IRQS: 6,
  /** IOMMU faults reported to the VM (statistics). */
  FAULTS: 7,
} as const;

/** States of a serve task in ServeCtl.STATE. */
export const ServeState = { NOT_STARTED: 0, RUNNING: 1, STOPPED: 2 } as const;

/** Words before the journal. */
const HEADER_WORDS = 16;
/** Words per journal record. */
const RECORD_WORDS = 16;
/** Journal records per control block (see the bound in the file comment of r0/session.ts). */
export const JOURNAL_RECORDS = 1024;
/** Bytes of a driver name a DEVICE record keeps (UTF-8). */
const NAME_BYTES = (RECORD_WORDS - 4) * 4;

/** Record kinds (word 0 of a record; 0 = empty). */
const Rec = { EMPTY: 0, FD: 1, MAP: 2, DEVICE: 3 } as const;

/** One resource a worker holds, as the journal records it. */
export type JournalEntry =
  /** A file descriptor (VFIO container, group, device, eventfds, /dev/kmsg). */
  | { kind: 'fd'; fd: number }
  /** A mapping of `len` bytes at process address `address` (a VFIO BAR mmap). */
  | { kind: 'map'; address: bigint; len: number }
  /** A device whose host driver ring 0 detached: rebind `driver` (null: none) if the worker dies. */
  | { kind: 'device'; pciAddress: number; driver: string | null };

/**
 * A serve control block over its SharedArrayBuffer. `ServeControl.create()` in the service;
 * `new ServeControl(sab)` in the worker. Methods never throw.
 */
export class ServeControl {
  readonly sab: SharedArrayBuffer;
  readonly i32: Int32Array;

  constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.i32 = new Int32Array(sab);
  }

  /** A new control block (NOT_STARTED, not stopped, empty journal). */
  static create(): ServeControl {
    return new ServeControl(new SharedArrayBuffer((HEADER_WORDS + JOURNAL_RECORDS * RECORD_WORDS) * 4));
  }

  /** True once the service asked the worker to stop. */
  get stopRequested(): boolean {
    return Atomics.load(this.i32, ServeCtl.STOP) !== 0;
  }

  /** Asks the worker to stop (the caller also wakes it: see Ring0Connection.stop). */
  requestStop(): void {
    Atomics.store(this.i32, ServeCtl.STOP, 1);
  }

  /**
   * Marks the worker given up. Returns false when it was already. This is not a stop request:
   * a given-up worker must not run its own cleanup (which could block in the kernel on a device
   * ring 3 still maps) while piscina terminates it; it stops serving and waits to be terminated,
   * and the service releases what it held.
   */
  giveUp(): boolean {
    const first = Atomics.exchange(this.i32, ServeCtl.GIVEN_UP, 1) === 0;
    Atomics.notify(this.i32, ServeCtl.GIVEN_UP);
    return first;
  }

  /** Worker: waits (forever) to be terminated, once given up. */
  awaitTermination(): never {
    for (;;) Atomics.wait(this.i32, ServeCtl.STOP, Atomics.load(this.i32, ServeCtl.STOP), 1000);
  }

  /** True once the service gave the worker up: the worker must not touch the channel any more. */
  get givenUp(): boolean {
    return Atomics.load(this.i32, ServeCtl.GIVEN_UP) !== 0;
  }

  /** The {@link ServeState}. */
  get state(): number {
    return Atomics.load(this.i32, ServeCtl.STATE);
  }

  /**
   * Worker: moves NOT_STARTED -> RUNNING and records the thread. False when the service asked
   * for a stop before the worker got to the channel (it is then not served at all).
   */
  start(threadId: number): boolean {
    Atomics.store(this.i32, ServeCtl.THREAD_ID, threadId);
    if (Atomics.compareExchange(this.i32, ServeCtl.STATE, ServeState.NOT_STARTED, ServeState.RUNNING) !== ServeState.NOT_STARTED) return false;
    if (this.stopRequested) {
      Atomics.store(this.i32, ServeCtl.STATE, ServeState.STOPPED);
      return false;
    }
    return true;
  }

  /** Worker: the loop ended. */
  stopped(): void {
    Atomics.store(this.i32, ServeCtl.STATE, ServeState.STOPPED);
  }

  /** threadId of the serving worker (0 before it started). */
  get threadId(): number {
    return Atomics.load(this.i32, ServeCtl.THREAD_ID);
  }

  /** Worker: publishes its statistics (requests answered, interrupts, faults) for the service. */
  publish(answered: number, irqs: number, faults: number): void {
    // Plain stores: statistics need no ordering, and a seq_cst store is a full fence on x86
    // (three per request were a measurable part of a 1.7 us round trip).
    const i32 = this.i32;
    i32[ServeCtl.ANSWERED] = answered | 0;
    i32[ServeCtl.IRQS] = irqs | 0;
    i32[ServeCtl.FAULTS] = faults | 0;
  }

  /** The statistics last published by the worker. */
  get counts(): { answered: number; irqs: number; faults: number } {
    return {
      answered: Atomics.load(this.i32, ServeCtl.ANSWERED) >>> 0,
      irqs: Atomics.load(this.i32, ServeCtl.IRQS) >>> 0,
      faults: Atomics.load(this.i32, ServeCtl.FAULTS) >>> 0,
    };
  }

  /** Worker: entering (or leaving) one request or timer run. */
  beat(): void {
    // Only this worker writes the word, and the watchdog samples it every few hundred ms: a
    // plain store (no locked add, no fence) is seen in time.
    const i32 = this.i32;
    i32[ServeCtl.BUSY] = (i32[ServeCtl.BUSY]! + 1) | 0;
  }

  /** The heartbeat word (odd while the worker is inside a request or timer run). */
  get busy(): number {
    return Atomics.load(this.i32, ServeCtl.BUSY);
  }

  // ---- journal ----

  /** Writes `e` into a free record. Returns the record index, or -1 when the journal is full. */
  record(e: JournalEntry): number {
    const i32 = this.i32;
    for (let r = 0; r < JOURNAL_RECORDS; r++) {
      const at = HEADER_WORDS + r * RECORD_WORDS;
      if (Atomics.load(i32, at) !== Rec.EMPTY) continue;
      if (e.kind === 'fd') {
        i32[at + 1] = e.fd;
        Atomics.store(i32, at, Rec.FD);
      } else if (e.kind === 'map') {
        i32[at + 1] = Number(e.address & 0xffff_ffffn) | 0;
        i32[at + 2] = Number(e.address >> 32n) | 0;
        i32[at + 3] = (e.len % 2 ** 32) | 0;
        i32[at + 4] = Math.floor(e.len / 2 ** 32);
        Atomics.store(i32, at, Rec.MAP);
      } else {
        i32[at + 1] = e.pciAddress | 0;
        const name = e.driver === null ? undefined : new TextEncoder().encode(e.driver).subarray(0, NAME_BYTES);
        i32[at + 2] = name ? name.length : -1;
        const bytes = new Uint8Array(this.sab, (at + 4) * 4, NAME_BYTES);
        bytes.fill(0);
        if (name) bytes.set(name);
        Atomics.store(i32, at, Rec.DEVICE);
      }
      return r;
    }
    return -1;
  }

  /** Clears the first record equal to `e` (same kind and key). Returns true when one was. */
  forget(e: JournalEntry): boolean {
    const i32 = this.i32;
    for (let r = 0; r < JOURNAL_RECORDS; r++) {
      const at = HEADER_WORDS + r * RECORD_WORDS;
      const kind = Atomics.load(i32, at);
      if (kind === Rec.EMPTY) continue;
      const hit =
        (e.kind === 'fd' && kind === Rec.FD && i32[at + 1] === e.fd) ||
        (e.kind === 'map' && kind === Rec.MAP && this.#address(at) === e.address) ||
        (e.kind === 'device' && kind === Rec.DEVICE && i32[at + 1] === (e.pciAddress | 0));
      if (hit) {
        Atomics.store(i32, at, Rec.EMPTY);
        return true;
      }
    }
    return false;
  }

  /** Every recorded resource (service side, after the worker is gone). */
  entries(): JournalEntry[] {
    const out: JournalEntry[] = [];
    const i32 = this.i32;
    for (let r = 0; r < JOURNAL_RECORDS; r++) {
      const at = HEADER_WORDS + r * RECORD_WORDS;
      const kind = Atomics.load(i32, at);
      if (kind === Rec.FD) out.push({ kind: 'fd', fd: i32[at + 1]! });
      else if (kind === Rec.MAP) out.push({ kind: 'map', address: this.#address(at), len: (i32[at + 3]! >>> 0) + (i32[at + 4]! >>> 0) * 2 ** 32 });
      else if (kind === Rec.DEVICE) {
        const n = i32[at + 2]!;
        const driver = n < 0 ? null : new TextDecoder().decode(new Uint8Array(this.sab, (at + 4) * 4, Math.min(n, NAME_BYTES)).slice());
        out.push({ kind: 'device', pciAddress: i32[at + 1]! >>> 0, driver });
      }
    }
    return out;
  }

  #address(at: number): bigint {
    return (BigInt(this.i32[at + 2]! >>> 0) << 32n) | BigInt(this.i32[at + 1]! >>> 0);
  }
}

/**
 * The host resources of this worker thread, mirrored into the control block of the channel it
 * serves (if any). The VFIO host's libc layer and the dispatcher report what they acquire and
 * release; a `serve` task attaches its control block for as long as it serves.
 */
class WorkerResources {
  readonly #fds = new Set<number>();
  readonly #maps = new Map<bigint, number>();
  readonly #devices = new Map<number, string | null>();
  #control: ServeControl | undefined;
  /** Records the journal could not keep (full): logged by the worker. */
  lost = 0;

  /** Mirrors everything held now, and from now on, into `control`'s journal. */
  attach(control: ServeControl): void {
    this.#control = control;
    for (const fd of this.#fds) this.#record({ kind: 'fd', fd });
    for (const [address, len] of this.#maps) this.#record({ kind: 'map', address, len });
    for (const [pciAddress, driver] of this.#devices) this.#record({ kind: 'device', pciAddress, driver });
  }

  /** Stops mirroring (the serve task ended normally: its worker lives on). */
  detach(): void {
    this.#control = undefined;
  }

  /** A file descriptor was opened (call right after the syscall). */
  addFd(fd: number): void {
    if (fd < 0) return;
    this.#fds.add(fd);
    this.#record({ kind: 'fd', fd });
  }

  /** A file descriptor is about to be closed (call before the syscall). */
  removeFd(fd: number): void {
    if (!this.#fds.delete(fd)) return;
    this.#control?.forget({ kind: 'fd', fd });
  }

  /** A mapping was made. */
  addMap(address: bigint, len: number): void {
    this.#maps.set(address, len);
    this.#record({ kind: 'map', address, len });
  }

  /** A mapping is about to be released. */
  removeMap(address: bigint): void {
    const len = this.#maps.get(address);
    if (len === undefined) return;
    this.#maps.delete(address);
    this.#control?.forget({ kind: 'map', address, len });
  }

  /** Ring 0 detached `pciAddress` from host driver `driver` (rebound at close). */
  addDetached(pciAddress: number, driver: string | null): void {
    this.#devices.set(pciAddress, driver);
    this.#record({ kind: 'device', pciAddress, driver });
  }

  /** `pciAddress` is about to be rebound. */
  removeDetached(pciAddress: number): void {
    if (!this.#devices.delete(pciAddress)) return;
    this.#control?.forget({ kind: 'device', pciAddress, driver: null });
  }

  #record(e: JournalEntry): void {
    if (this.#control && this.#control.record(e) < 0) this.lost++;
  }
}

/** This thread's host resources (see {@link WorkerResources}). */
export const workerResources = new WorkerResources();
