// Ring 0's end of the shared-memory channel: the serve loop that takes posted slots, copies them out, answers, sleeps when idle, and closes the channel so that every waiter hears of it.

import { threadId } from 'node:worker_threads';
import {
  attachChannel,
  type ChannelGeometry,
  type ChannelViews,
  Ctl,
  DEFAULT_SERVER_SPIN_US,
  ServerState,
  Slot,
  SlotState,
  slotState,
  VCPU_LANE_ANS_BYTES,
  VCPU_LANE_COUNT,
  VCPU_LANE_REQ_AT,
  VCPU_LANE_REQ_BYTES,
  VcpuLane,
  withSlotState,
} from '../shared/channel-layout.js';
import { PciRawCodec } from '../shared/codec.js';
import { FIXED_SINGLE_BYTES, isFixedRequest } from '../shared/fixed-frame.js';
import { VERR_BUFFER_OVERFLOW, VERR_INTERNAL_ERROR, VERR_INVALID_PARAMETER, VERR_INVALID_STATE } from '../shared/status.js';
import type { WakeKind } from '../shared/wake.js';
import { FUTEX } from '../shared/xproc.js';
import { PeerLife } from './peer-life.js';
import { ServeControl } from './serve-control.js';

/**
 * What the serve loop calls. `handle` gets a private copy of the request frame (never shared
 * memory: no double fetch) and returns the encoded answer, or `undefined` when it will answer
 * later through {@link ChannelServer.answer} with the same `ticket` (a parked GET_IRQ).
 * Neither should throw; if one does (a ring-0 bug), the loop logs it through `error`, answers
 * the request with VERR_INTERNAL_ERROR and keeps serving.
 */
export interface ChannelHandler {
  /**
   * `frame[0, length)` is the request: a private buffer reused for every request. `ticket` is
   * undefined for a vCPU lane's request (shared/channel-layout.ts VcpuLane), which cannot park:
   * it must be answered now.
   */
  handle(frame: Uint8Array, length: number, ticket: number | undefined): Uint8Array | undefined;
  /**
   * Runs due timers (device time, parked-request deadlines). Returns milliseconds until the next
   * timer (Infinity when none): the longest the loop may sleep.
   */
  poll(now: number): number;
  /** A ring-0 bug surfaced on the serve path (`where`: 'handle' or 'poll'). Default: ignored. */
  error?(where: string, e: unknown): void;
}

/** Longest spin budget ring 0 accepts, in microseconds (10 ms); larger values are clamped. */
export const MAX_SERVER_SPIN_US = 10_000;

/** Options of the serve loop. */
export interface ChannelServerOptions {
  /**
   * The geometry the channel was created with. Ring 0 uses this, never the slot count and size
   * written in the channel's control block (ring 3 can rewrite those). Default: read from the
   * control block (tests and benchmarks that made the channel themselves).
   */
  geometry?: ChannelGeometry;
  /** Ring 0's private control block: stop request, state, heartbeat (default: a new one). */
  control?: ServeControl;
  /**
   * How long to keep polling after the last request before sleeping, in microseconds (default
   * DEFAULT_SERVER_SPIN_US, 1000; clamped to 0..MAX_SERVER_SPIN_US).
   */
  spinUs?: number;
  /** How the loop sleeps and wakes ring 3: 'atomics' (default, one process) or 'futex' (a channel mapped by two processes). */
  wake?: WakeKind;
  /** Longest single sleep in milliseconds, so a stop request is seen even without a notify (default 500). */
  maxSleepMs?: number;
  /**
   * The VM process's liveness page (`rawpci serve`, r0/peer-life.ts): the loop ends as soon as
   * its robust futex says the VM died, and sleeps on it beside the doorbell ('futex' wake only).
   */
  life?: SharedArrayBuffer;
}

/** Largest slot count a ticket can name (the channel's own limit). */
const TICKET_SLOTS = 1024;

/**
 * Serves one channel until the service asks it to stop (ServeCtl.STOP in ring 0's private
 * control block: nothing in the channel can stop or keep alive the loop). The loop polls while
 * requests keep coming (a spin budget), then sleeps on the doorbell with Atomics.wait, so an
 * idle VM costs no CPU. Nothing thrown on the serve path ends it. When it ends, it closes the
 * channel: every request ring 0 holds or finds posted is answered with VERR_INVALID_STATE, and
 * SERVER_STATE says STOPPED.
 *
 * Tickets: each request taken gets a ticket (slot and a per-slot serial kept in ring 0's own
 * memory). An answer given later is delivered only while the ticket is current and its caller
 * still waits (the slot is TAKEN, not ABANDONED, not taken again since): a caller that gave up,
 * or a slot ring 3 recycled behind ring 0's back, never receives someone else's answer.
 */
export class ChannelServer {
  readonly views: ChannelViews;
  readonly control: ServeControl;
  readonly #handler: ChannelHandler;
  readonly #spinMs: number;
  readonly #maxSleepMs: number;
  /** Ring 0's private copy of the request being served (reused). */
  readonly #frame: Uint8Array;
  /** Per slot: serial of the last request ring 0 took there (ring 0's memory). */
  readonly #serial: Float64Array;
  /** Per slot: 1 while ring 0 holds a taken request there that it has not answered. */
  readonly #held: Uint8Array;
  /** Answers the loop encodes itself: a ring-0 bug, and the channel closing. */
  readonly #internalError: Uint8Array;
  readonly #closedAnswer: Uint8Array;
  readonly #overflowAnswer: Uint8Array;
  readonly #notFixedAnswer: Uint8Array;
  /** Per vCPU lane: the REQ_SEQ ring 0 served last (ring 0's memory). */
  readonly #laneSeq = new Int32Array(VCPU_LANE_COUNT);
  /** #frame as words, for copying a lane's frame. */
  readonly #frame32: Int32Array;
  readonly #codec = new PciRawCodec();
  #closed = false;
  /** Requests answered, sleeps taken (statistics). */
  readonly stats = { answered: 0, sleeps: 0, errors: 0 };
  /** The VM's liveness word, when it offered one: `life.verdict` says whether its death ended the loop. */
  readonly life: PeerLife | undefined;

  constructor(sab: SharedArrayBuffer, handler: ChannelHandler, options: ChannelServerOptions = {}) {
    this.views = attachChannel(sab, options.geometry, options.wake);
    this.control = options.control ?? ServeControl.create();
    this.#handler = handler;
    const spinUs = options.spinUs ?? DEFAULT_SERVER_SPIN_US;
    this.#spinMs = (Number.isFinite(spinUs) ? Math.min(Math.max(spinUs, 0), MAX_SERVER_SPIN_US) : DEFAULT_SERVER_SPIN_US) / 1000;
    this.#maxSleepMs = options.maxSleepMs ?? 500;
    this.life = options.life && this.views.wake.waitEither ? new PeerLife(options.life) : undefined;
    this.#frame = new Uint8Array(this.views.slotBytes);
    this.#frame32 = new Int32Array(this.#frame.buffer);
    this.#serial = new Float64Array(this.views.slotCount);
    this.#held = new Uint8Array(this.views.slotCount);
    const codec = this.#codec;
    this.#notFixedAnswer = codec
      .encodeAnswer({
        rc: VERR_INVALID_PARAMETER,
        msg: `a vCPU lane carries one fixed-layout access of ${FIXED_SINGLE_BYTES} bytes (shared/fixed-frame.ts): send anything else in a slot`,
      })
      .slice();
    this.#internalError = codec.encodeAnswer({
      rc: VERR_INTERNAL_ERROR,
      msg: 'ring 0 failed internally while serving this request (a bug: please report it with the ring-0 log)',
    });
    this.#closedAnswer = codec.encodeAnswer({ rc: VERR_INVALID_STATE, msg: 'the channel closed: ring 0 no longer serves this VM (connect again)' });
    this.#overflowAnswer = codec
      .encodeAnswer({ rc: VERR_BUFFER_OVERFLOW, msg: 'the answer outgrew the slot: send fewer accesses per BATCH, or connect with a larger slotBytes' })
      .slice();
  }

  /** The spin budget in use, in microseconds (after clamping). */
  get spinUs(): number {
    return Math.round(this.#spinMs * 1000);
  }

  /** Runs the loop on this thread until stopped, then closes the channel. Blocks the thread (that is its job). */
  run(): void {
    const { i32 } = this.views;
    // A channel given up before a worker got to it (ring 3's start deadline passed while the
    // task waited in piscina's queue) is not served: the loop ends at once and frees the worker.
    if (!this.control.start(threadId)) {
      this.#close();
      return;
    }
    Atomics.store(i32, Ctl.SERVER_SPIN_US, this.spinUs);
    Atomics.store(i32, Ctl.SERVER_STATE, ServerState.RUNNING);
    try {
      this.#loop();
    } finally {
      this.#close();
    }
  }

  #loop(): void {
    const { i32 } = this.views;
    const spinMs = this.#spinMs;
    let lastWork = performance.now();
    let nextTimer = Number.POSITIVE_INFINITY;
    let full = true;
    const life = this.life;
    for (;;) {
      if (this.control.stopRequested) break;
      // The VM died (its robust futex): end now, while the kernel still tears it down.
      if (life?.gone()) break;
      // Given up by the service (it closed the channel and is having this thread terminated):
      // serve nothing more, clean nothing up, wait for the end.
      if (this.control.givenUp) this.control.awaitTermination();
      const bell = Atomics.load(i32, Ctl.DOORBELL);
      const lanes = this.#serveLanes();
      const worked = this.#scan(full) || lanes;
      full = false;
      const now = performance.now();
      if (now >= nextTimer || worked) nextTimer = now + this.#poll(now);
      if (worked) {
        lastWork = now;
        // Go round again at once only if the doorbell rang (or a lane posted) meanwhile; else poll below.
        if (Atomics.load(i32, Ctl.DOORBELL) !== bell || this.#lanePosted()) continue;
      }
      if (now - lastWork < spinMs && now < nextTimer) {
        // Poll the doorbell alone while the budget lasts: the next vCPU access of a busy VM
        // usually arrives within microseconds, long before a futex wake would.
        const end = Math.min(lastWork + spinMs, nextTimer);
        // The vCPU lanes ring no doorbell while ring 0 is awake: their sequence words are polled too.
        for (let n = 0; Atomics.load(i32, Ctl.DOORBELL) === bell && !this.#lanePosted(); n++) {
          if ((n & 255) === 255 && (performance.now() >= end || this.control.stopRequested || this.control.givenUp || life?.gone())) break;
        }
        continue;
      }
      // Idle: sleep until the doorbell rings, the next device timer, or maxSleepMs.
      Atomics.store(i32, Ctl.ANSWERED, this.stats.answered | 0);
      Atomics.store(i32, Ctl.SERVER_SLEEPING, 1);
      // After SERVER_SLEEPING is published, one more look at the lanes: a lane posted before
      // ring 3 could see it rang no doorbell (ring 3 stores REQ_SEQ, then loads SERVER_SLEEPING).
      if (Atomics.load(i32, Ctl.DOORBELL) === bell && !this.control.stopRequested && !this.#lanePosted()) {
        const sleep = Math.max(0, Math.min(this.#maxSleepMs, nextTimer - performance.now()));
        this.stats.sleeps++;
        Atomics.add(i32, Ctl.SLEEPS, 1);
        const lw = life?.arm();
        const either = this.views.wake.waitEither;
        if (life && lw !== undefined && either) {
          const r = either(i32, Ctl.DOORBELL, bell, life.i32, 0, lw, sleep);
          life.slept(r === FUTEX.NOT_EQUAL && Atomics.load(i32, Ctl.DOORBELL) === bell && !life.gone());
        } else this.views.wake.wait(i32, Ctl.DOORBELL, bell, sleep);
      }
      Atomics.store(i32, Ctl.SERVER_SLEEPING, 0);
      full = true;
      lastWork = performance.now() - spinMs; // woke: poll once, do not restart the spin budget unless work comes
      const woke = performance.now();
      if (woke >= nextTimer) nextTimer = woke + this.#poll(woke);
    }
  }

  /**
   * Answers the request of `ticket` (taken earlier, answered later). Returns true when its
   * caller got it; false when the ticket is stale (the slot was taken again, or answered), the
   * caller gave up (the slot is then freed), or ring 3 moved the slot away.
   */
  answer(ticket: number, bytes: Uint8Array): boolean {
    const slot = ticket % TICKET_SLOTS;
    if (!this.#current(ticket, slot)) return false;
    // Given up (this thread was stuck): the service closed the channel; keep out of it.
    if (this.control.givenUp) return false;
    this.#held[slot] = 0;
    const { i32, header, data, slotBytes } = this.views;
    const h = header[slot]!;
    if (bytes.length > slotBytes) {
      // Ring 3 chose the slot size (256 bytes at least) and a BATCH whose answer outgrows it: never overrun, say so.
      bytes = this.#overflowAnswer;
    }
    data[slot]!.set(bytes);
    Atomics.store(i32, h + Slot.ANS_LEN, bytes.length);
    // Published in batches (and before sleeping): a locked add per answer would bounce the
    // control block's cache line that ring 3 writes on every doorbell.
    if ((++this.stats.answered & 63) === 0) Atomics.store(i32, Ctl.ANSWERED, this.stats.answered | 0);
    // Ring 3 may rewrite the state word at any time: a few tries, never a wait on ring 3.
    for (let n = 0; n < 4; n++) {
      const w = Atomics.load(i32, h + Slot.STATE);
      const s = slotState(w);
      if (s === SlotState.ABANDONED) {
        // Ring 3 gave up at its deadline: nobody will read this answer.
        Atomics.compareExchange(i32, h + Slot.STATE, w, withSlotState(w, SlotState.FREE));
        return false;
      }
      if (s !== SlotState.TAKEN) return false;
      if (Atomics.compareExchange(i32, h + Slot.STATE, w, withSlotState(w, SlotState.DONE)) === w) {
        if (Atomics.load(i32, h + Slot.WAITER) !== 0) this.views.wake.notify(i32, h + Slot.STATE);
        return true;
      }
    }
    return false;
  }

  /**
   * True while the caller of `ticket` still waits for its answer. A slot its caller abandoned is
   * freed here (and the ticket forgotten), so a parked request of a caller that gave up is
   * dropped at the first look.
   */
  waiting(ticket: number): boolean {
    const slot = ticket % TICKET_SLOTS;
    if (!this.#current(ticket, slot)) return false;
    const { i32, header } = this.views;
    const st = header[slot]! + Slot.STATE;
    const w = Atomics.load(i32, st);
    if (slotState(w) === SlotState.TAKEN) return true;
    this.#held[slot] = 0;
    if (slotState(w) === SlotState.ABANDONED) Atomics.compareExchange(i32, st, w, withSlotState(w, SlotState.FREE));
    return false;
  }

  #current(ticket: number, slot: number): boolean {
    return slot < this.views.slotCount && this.#held[slot] === 1 && this.#serial[slot] === Math.floor(ticket / TICKET_SLOTS);
  }

  /**
   * One pass without sleeping: serves every posted slot, then runs due timers. Returns true when
   * a request was served. For tests and for embedding the server in another loop.
   */
  serveOnce(now = performance.now()): boolean {
    const lanes = this.#serveLanes();
    const worked = this.#scan(true) || lanes;
    this.#poll(now);
    return worked;
  }

  /** Asks the loop to stop (the service does the same through the control block). */
  stop(): void {
    this.control.requestStop();
    Atomics.add(this.views.i32, Ctl.DOORBELL, 1);
    this.views.wake.notify(this.views.i32, Ctl.DOORBELL);
  }

  #poll(now: number): number {
    this.control.beat();
    try {
      const next = this.#handler.poll(now);
      return Number.isNaN(next) ? 0 : next;
    } catch (e) {
      this.stats.errors++;
      this.#handler.error?.('poll', e);
      return 1;
    } finally {
      this.control.beat();
    }
  }

  /** True when a vCPU lane holds a request ring 0 has not served (its REQ_SEQ moved). */
  #lanePosted(): boolean {
    const { i32, lanes } = this.views;
    const seen = this.#laneSeq;
    for (let k = 0; k < VCPU_LANE_COUNT; k++) if (Atomics.load(i32, lanes[k]!.base + VcpuLane.REQ_SEQ) !== seen[k]) return true;
    return false;
  }

  /**
   * Serves every vCPU lane whose REQ_SEQ moved: copies the frame out (at most
   * VCPU_LANE_REQ_BYTES), answers a fixed single access (anything else: VERR_INVALID_PARAMETER),
   * and publishes the answer with ANS_SEQ = the REQ_SEQ it read. Returns true when one was served.
   */
  #serveLanes(): boolean {
    const { i32, lanes } = this.views;
    const seen = this.#laneSeq;
    let worked = false;
    for (let k = 0; k < VCPU_LANE_COUNT; k++) {
      const lane = lanes[k]!;
      const seq = Atomics.load(i32, lane.base + VcpuLane.REQ_SEQ);
      if (seq === seen[k]) continue;
      seen[k] = seq;
      worked = true;
      let len = Atomics.load(i32, lane.base + VcpuLane.REQ_LEN);
      if (len < 0 || len > VCPU_LANE_REQ_BYTES) len = 0;
      // Copy the frame out before looking at it: ring 3 can still write the shared bytes. Word
      // by word (the lane's frame is 4-byte aligned): a subarray per request costs more.
      const frame32 = this.#frame32;
      for (let j = 0, w = lane.base + VCPU_LANE_REQ_AT / 4, end = (len + 3) >>> 2; j < end; j++) frame32[j] = i32[w + j]!;
      const ans = isFixedRequest(this.#frame, len) ? (this.#handle(len, undefined) ?? this.#internalError) : this.#notFixedAnswer;
      this.#answerLane(k, seq, ans);
    }
    return worked;
  }

  /** Writes `bytes` as lane `k`'s answer to request `seq` (a message too long for the lane is shortened) and wakes its waiter. */
  #answerLane(k: number, seq: number, bytes: Uint8Array): void {
    const { i32, lanes } = this.views;
    const lane = lanes[k]!;
    if (bytes.length > VCPU_LANE_ANS_BYTES) {
      const a = this.#codec.decodeAnswer(bytes);
      bytes = this.#codec.encodeAnswer({ rc: a.rc, msg: (a.msg ?? '').slice(0, 256) });
      if (bytes.length > VCPU_LANE_ANS_BYTES) bytes = this.#overflowAnswer;
    }
    // Plain stores for the answer and its length: the seq_cst store of ANS_SEQ publishes them
    // (one fence on the line ring 3 polls, not two).
    lane.ans.set(bytes);
    i32[lane.base + VcpuLane.ANS_LEN] = bytes.length;
    Atomics.store(i32, lane.base + VcpuLane.ANS_SEQ, seq);
    if ((++this.stats.answered & 63) === 0) Atomics.store(i32, Ctl.ANSWERED, this.stats.answered | 0);
    if (Atomics.load(i32, lane.base + VcpuLane.WAITER) !== 0) this.views.wake.notify(i32, lane.base + VcpuLane.ANS_SEQ);
  }

  /**
   * Takes and serves every posted slot once: those whose bits are set in the posted mask, and
   * with `full` every slot header too (after a sleep, as a safety net for a ring 3 that posted
   * without setting its bit). Returns true when any was served.
   */
  #scan(full = false): boolean {
    const { i32, slotCount } = this.views;
    let worked = false;
    const words = (slotCount + 31) >>> 5;
    for (let w = 0; w < words; w++) {
      if (Atomics.load(i32, Ctl.POSTED_MASK + w) === 0) continue;
      let bits = Atomics.exchange(i32, Ctl.POSTED_MASK + w, 0);
      while (bits !== 0) {
        const b = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        const i = (w << 5) + b;
        if (i < slotCount && this.#serveSlot(i)) worked = true;
      }
    }
    if (full) for (let i = 0; i < slotCount; i++) if (this.#serveSlot(i)) worked = true;
    return worked;
  }

  /** Takes slot `i` if it is posted: moves it POSTED -> TAKEN and gives it a new ticket. Returns the ticket or -1. */
  #take(i: number): number {
    const { i32, header } = this.views;
    const st = header[i]! + Slot.STATE;
    const w = Atomics.load(i32, st);
    if (slotState(w) !== SlotState.POSTED) return -1;
    if (Atomics.compareExchange(i32, st, w, withSlotState(w, SlotState.TAKEN)) !== w) return -1;
    const serial = this.#serial[i]! + 1;
    this.#serial[i] = serial;
    this.#held[i] = 1;
    return serial * TICKET_SLOTS + i;
  }

  /** Serves slot `i` if it is posted. Returns true when it was. */
  #serveSlot(i: number): boolean {
    const ticket = this.#take(i);
    if (ticket < 0) return false;
    const { i32, header, data, slotBytes } = this.views;
    // Copy the frame out before looking at it: ring 3 can still write the shared bytes.
    let len = Atomics.load(i32, header[i]! + Slot.REQ_LEN);
    if (len < 0 || len > slotBytes) len = 0; // decodes as a too-short frame: answered with a status
    this.#frame.set(data[i]!.subarray(0, len));
    const ans = this.#handle(len, ticket);
    if (ans !== undefined) this.answer(ticket, ans);
    return true;
  }

  /**
   * Hands the request in `#frame[0, len)` to the handler inside the heartbeat (the watchdog's
   * view of a request in progress). A handler that throws (a ring-0 bug) is logged and answered
   * VERR_INTERNAL_ERROR; undefined means parked (slots only: `ticket` undefined cannot park).
   */
  #handle(len: number, ticket: number | undefined): Uint8Array | undefined {
    this.control.beat();
    try {
      return this.#handler.handle(this.#frame, len, ticket);
    } catch (e) {
      this.stats.errors++;
      this.#handler.error?.('handle', e);
      return this.#internalError;
    } finally {
      this.control.beat();
    }
  }

  /**
   * Closes the channel (idempotent): publishes STOP_REQUESTED, answers every request ring 0 holds
   * and every one still posted with VERR_INVALID_STATE, then publishes STOPPED and wakes every
   * ring-3 thread. A request ring 3 posts after this sees the closed state itself (it checks the
   * state after posting: see r3/channel.ts).
   */
  #close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.control.givenUp) {
      // The service closed the channel when it gave this thread up.
      this.control.stopped();
      return;
    }
    const { i32, slotCount, header } = this.views;
    Atomics.store(i32, Ctl.SERVER_STATE, ServerState.STOP_REQUESTED);
    for (let i = 0; i < slotCount; i++) {
      if (this.#held[i] === 1) this.answer(this.#serial[i]! * TICKET_SLOTS + i, this.#closedAnswer);
      const ticket = this.#take(i);
      if (ticket >= 0) this.answer(ticket, this.#closedAnswer);
    }
    for (let k = 0; k < VCPU_LANE_COUNT; k++) {
      const seq = Atomics.load(i32, this.views.lanes[k]!.base + VcpuLane.REQ_SEQ);
      if (seq !== this.#laneSeq[k]) {
        this.#laneSeq[k] = seq;
        this.#answerLane(k, seq, this.#closedAnswer);
      }
    }
    Atomics.store(i32, Ctl.ANSWERED, this.stats.answered | 0);
    Atomics.store(i32, Ctl.SERVER_STATE, ServerState.STOPPED);
    for (let i = 0; i < slotCount; i++) this.views.wake.notify(i32, header[i]! + Slot.STATE);
    for (const lane of this.views.lanes) this.views.wake.notify(i32, lane.base + VcpuLane.ANS_SEQ);
    this.control.stopped();
  }
}

/**
 * Closes a channel whose serving worker is gone (stuck and replaced, or dead): ring 0 can no
 * longer answer what that worker held, so every slot that is POSTED, TAKEN or ABANDONED is
 * answered (or freed) here with VERR_INVALID_STATE, SERVER_STATE becomes STOPPED and every ring-3
 * thread is woken. Called by the service only after the worker thread has exited.
 */
export function closeOrphanedChannel(sab: SharedArrayBuffer, geometry: ChannelGeometry, why: string, wakeKind: WakeKind = 'atomics'): void {
  const { i32, slotCount, header, data, slotBytes, wake, lanes } = attachChannel(sab, geometry, wakeKind);
  let bytes = new PciRawCodec().encodeAnswer({ rc: VERR_INVALID_STATE, msg: `the channel closed: ${why}` });
  if (bytes.length > slotBytes) bytes = bytes.subarray(0, 0);
  Atomics.store(i32, Ctl.SERVER_STATE, ServerState.STOP_REQUESTED);
  for (let i = 0; i < slotCount; i++) {
    const st = header[i]! + Slot.STATE;
    for (let n = 0; n < 4; n++) {
      const w = Atomics.load(i32, st);
      const s = slotState(w);
      if (s === SlotState.ABANDONED) {
        if (Atomics.compareExchange(i32, st, w, withSlotState(w, SlotState.FREE)) === w) break;
      } else if (s === SlotState.POSTED || s === SlotState.TAKEN) {
        if (Atomics.compareExchange(i32, st, w, withSlotState(w, SlotState.TAKEN)) !== w) continue;
        data[i]!.set(bytes);
        Atomics.store(i32, header[i]! + Slot.ANS_LEN, bytes.length);
        Atomics.compareExchange(i32, st, withSlotState(w, SlotState.TAKEN), withSlotState(w, SlotState.DONE));
        break;
      } else break;
    }
  }
  // A lane's request the dead worker never answered: ANS_SEQ behind REQ_SEQ (words ring 3 can
  // write: at worst a lying VM gets this answer on its own lane).
  for (const lane of lanes) {
    const seq = Atomics.load(i32, lane.base + VcpuLane.REQ_SEQ);
    if (Atomics.load(i32, lane.base + VcpuLane.ANS_SEQ) === seq || bytes.length > lane.ans.length) continue;
    // Plain stores for the answer and its length: the seq_cst store of ANS_SEQ publishes them
    // (one fence on the line ring 3 polls, not two).
    lane.ans.set(bytes);
    i32[lane.base + VcpuLane.ANS_LEN] = bytes.length;
    Atomics.store(i32, lane.base + VcpuLane.ANS_SEQ, seq);
  }
  Atomics.store(i32, Ctl.SERVER_STATE, ServerState.STOPPED);
  for (let i = 0; i < slotCount; i++) wake.notify(i32, header[i]! + Slot.STATE);
  for (const lane of lanes) wake.notify(i32, lane.base + VcpuLane.ANS_SEQ);
}
