// Ring 0's end of the shared-memory channel: the serve loop that takes posted slots, copies them out, answers, and sleeps when idle.

import { attachChannel, type ChannelViews, Ctl, ServerState, Slot, SlotState } from '../shared/channel-layout.js';

/**
 * What the serve loop calls. `handle` gets a private copy of the request frame (never shared
 * memory: no double fetch) and returns the encoded answer, or `undefined` when it will answer
 * later through {@link ChannelServer.answer} (a parked GET_IRQ).
 */
export interface ChannelHandler {
  /** `frame[0, length)` is the request: a private buffer reused for every request. */
  handle(frame: Uint8Array, length: number, slot: number): Uint8Array | undefined;
  /**
   * Runs due timers (device time, parked-request deadlines). Returns milliseconds until the next
   * timer (Infinity when none): the longest the loop may sleep.
   */
  poll(now: number): number;
}

/** Options of the serve loop. */
export interface ChannelServerOptions {
  /** How long to keep polling after the last request before sleeping, in microseconds (default: the channel's Ctl.SERVER_SPIN_US). */
  spinUs?: number;
  /** Longest single sleep in milliseconds, so a stop request is seen even without a notify (default 500). */
  maxSleepMs?: number;
}

/**
 * Serves one channel until ring 3 (or the service) sets SERVER_STATE to STOP_REQUESTED.
 * The loop polls while requests keep coming (a spin budget), then sleeps on the doorbell with
 * Atomics.wait, so an idle VM costs no CPU. It never throws out of `run`: a handler exception
 * is answered as VERR_INTERNAL_ERROR by the handler itself.
 */
export class ChannelServer {
  readonly views: ChannelViews;
  readonly #handler: ChannelHandler;
  readonly #spinUs: number | undefined;
  readonly #maxSleepMs: number;
  /** Ring 0's private copy of the request being served (reused). */
  readonly #frame: Uint8Array;
  /** Requests answered, sleeps taken (statistics). */
  readonly stats = { answered: 0, sleeps: 0 };

  constructor(sab: SharedArrayBuffer, handler: ChannelHandler, options: ChannelServerOptions = {}) {
    this.views = attachChannel(sab);
    this.#handler = handler;
    this.#spinUs = options.spinUs;
    this.#maxSleepMs = options.maxSleepMs ?? 500;
    this.#frame = new Uint8Array(this.views.slotBytes);
  }

  /** Runs the loop on this thread until stopped. Blocks the thread (that is its job). */
  run(): void {
    const { i32 } = this.views;
    // A channel given up before a worker got to it (ring 3's start deadline passed while the
    // task waited in piscina's queue) is not served: the loop ends at once and frees the worker.
    if (Atomics.compareExchange(i32, Ctl.SERVER_STATE, ServerState.NOT_STARTED, ServerState.RUNNING) !== ServerState.NOT_STARTED) {
      Atomics.store(i32, Ctl.SERVER_STATE, ServerState.STOPPED);
      return;
    }
    let lastWork = performance.now();
    let nextTimer = Number.POSITIVE_INFINITY;
    let full = true;
    for (;;) {
      if (Atomics.load(i32, Ctl.SERVER_STATE) !== ServerState.RUNNING) break;
      const bell = Atomics.load(i32, Ctl.DOORBELL);
      const worked = this.#scan(full);
      full = false;
      const now = performance.now();
      if (now >= nextTimer || worked) nextTimer = now + this.#handler.poll(now);
      if (worked) {
        lastWork = now;
        // Go round again at once only if the doorbell rang meanwhile; else poll it below.
        if (Atomics.load(i32, Ctl.DOORBELL) !== bell) continue;
      }
      const spinMs = (this.#spinUs ?? Atomics.load(i32, Ctl.SERVER_SPIN_US)) / 1000;
      if (now - lastWork < spinMs && now < nextTimer) {
        // Poll the doorbell alone while the budget lasts: the next vCPU access of a busy VM
        // usually arrives within microseconds, long before a futex wake would.
        const end = Math.min(lastWork + spinMs, nextTimer);
        for (let n = 0; Atomics.load(i32, Ctl.DOORBELL) === bell; n++) {
          if ((n & 255) === 255 && performance.now() >= end) break;
        }
        continue;
      }
      // Idle: sleep until the doorbell rings, the next device timer, or maxSleepMs.
      Atomics.store(i32, Ctl.ANSWERED, this.stats.answered | 0);
      Atomics.store(i32, Ctl.SERVER_SLEEPING, 1);
      if (Atomics.load(i32, Ctl.DOORBELL) === bell && Atomics.load(i32, Ctl.SERVER_STATE) === ServerState.RUNNING) {
        const sleep = Math.max(0, Math.min(this.#maxSleepMs, nextTimer - performance.now()));
        this.stats.sleeps++;
        Atomics.add(i32, Ctl.SLEEPS, 1);
        Atomics.wait(i32, Ctl.DOORBELL, bell, sleep);
      }
      Atomics.store(i32, Ctl.SERVER_SLEEPING, 0);
      full = true;
      lastWork = performance.now() - spinMs; // woke: poll once, do not restart the spin budget unless work comes
      if (performance.now() >= nextTimer) nextTimer = performance.now() + this.#handler.poll(performance.now());
    }
    Atomics.store(i32, Ctl.SERVER_STATE, ServerState.STOPPED);
    // Wake every ring-3 thread still waiting: their calls see the closed channel.
    for (let i = 0; i < this.views.slotCount; i++) Atomics.notify(i32, this.views.header[i]! + Slot.STATE);
  }

  /** Answers slot `slot` (taken earlier, answered later). Frees it if ring 3 gave up on it. */
  answer(slot: number, bytes: Uint8Array): void {
    const { i32, header, data, slotBytes } = this.views;
    const h = header[slot]!;
    if (bytes.length > slotBytes) {
      // Cannot happen for well-formed answers (the largest is far below a slot); never overrun.
      bytes = bytes.subarray(0, 0);
    }
    data[slot]!.set(bytes);
    Atomics.store(i32, h + Slot.ANS_LEN, bytes.length);
    // Published in batches (and before sleeping): a locked add per answer would bounce the
    // control block's cache line that ring 3 writes on every doorbell.
    if ((++this.stats.answered & 63) === 0) Atomics.store(i32, Ctl.ANSWERED, this.stats.answered | 0);
    if (Atomics.compareExchange(i32, h + Slot.STATE, SlotState.TAKEN, SlotState.DONE) !== SlotState.TAKEN) {
      // Ring 3 abandoned it at its deadline: nobody will read this answer.
      Atomics.store(i32, h + Slot.STATE, SlotState.FREE);
      return;
    }
    if (Atomics.load(i32, h + Slot.WAITER) !== 0) Atomics.notify(i32, h + Slot.STATE);
  }

  /**
   * One pass without sleeping: serves every posted slot, then runs due timers. Returns true when
   * a request was served. For tests and for embedding the server in another loop.
   */
  serveOnce(now = performance.now()): boolean {
    const worked = this.#scan(true);
    this.#handler.poll(now);
    return worked;
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

  /** Serves slot `i` if it is posted. Returns true when it was. */
  #serveSlot(i: number): boolean {
    const { i32, header, data, slotBytes } = this.views;
    const st = header[i]! + Slot.STATE;
    if (Atomics.load(i32, st) !== SlotState.POSTED) return false;
    if (Atomics.compareExchange(i32, st, SlotState.POSTED, SlotState.TAKEN) !== SlotState.POSTED) return false;
    // Copy the frame out before looking at it: ring 3 can still write the shared bytes.
    let len = Atomics.load(i32, header[i]! + Slot.REQ_LEN);
    if (len < 0 || len > slotBytes) len = 0; // decodes as a too-short frame: answered with a status
    this.#frame.set(data[i]!.subarray(0, len));
    const ans = this.#handler.handle(this.#frame, len, i);
    if (ans !== undefined) this.answer(i, ans);
    return true;
  }
}
