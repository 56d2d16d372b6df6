// Ring 3's end of the shared-memory channel: claim a slot under a lease, post a request frame, wait (spin, then sleep) for the answer, honour a deadline, and notice a closed channel at once.

import {
  attachChannel,
  type ChannelViews,
  Ctl,
  channelClockMs,
  claimWord,
  leaseExpired,
  ServerState,
  Slot,
  SlotState,
  slotState,
  toChannelClock,
  VCPU_LANE_LEASE_MS,
  VCPU_LANE_REQ_BYTES,
  VcpuLane,
  withSlotState,
} from '../shared/channel-layout.js';
import { FrameTooLargeError, PciRawCodec } from '../shared/codec.js';
import { FIXED_ANS_FIRST_BYTE, isFixedRequest } from '../shared/fixed-frame.js';
import type { PciRawAnswer } from '../shared/protocol.js';
import { VERR_BUFFER_OVERFLOW, VERR_INTERNAL_ERROR, VERR_INVALID_PARAMETER, VERR_INVALID_STATE, VERR_TIMEOUT } from '../shared/status.js';
import type { WakeKind } from '../shared/wake.js';
import { POLL, xproc } from '../shared/xproc.js';

/** How long a synchronous call spins on a request ring 0 has not taken yet, in microseconds. */
const TAKE_SPIN_US = 5;
/**
 * Longest single sleep of a waiting call, in ms: between sleeps it looks at the channel state,
 * so a close that raced with its post is seen within this time even without a wake-up.
 */
const WAIT_SLICE_MS = 50;

/** Options of a {@link ChannelClient}. */
export interface ChannelClientOptions {
  /** Deadline of one call in milliseconds (default 5000). A call past it answers VERR_TIMEOUT. */
  timeoutMs?: number;
  /** How long a synchronous call spins before it sleeps, in microseconds (default 50). */
  spinUs?: number;
  /** How this channel's sleepers are woken: 'atomics' (default, ring 0 in this process) or 'futex' (ring 0 is `rawpci serve`). */
  wake?: WakeKind;
  /**
   * The unix socket to a `rawpci serve` ring 0 (an fd of this process; every thread may poll
   * it): a waiting call polls it once per wait slice and, when ring 0 hung up (it died or was
   * killed), marks the channel closed and answers VERR_INVALID_STATE instead of waiting for
   * its deadline.
   */
  peerSocket?: number;
}

const CLOSED: PciRawAnswer = { rc: VERR_INVALID_STATE, msg: 'the channel is closed: ring 0 no longer serves this VM (connect again)' };

/**
 * One thread's client end of a channel. Several threads (vCPUs) may each hold one over the same
 * SharedArrayBuffer: each call claims its own slot, so calls run concurrently. Not for use by
 * two threads at once through the same instance (its codec is per thread).
 *
 * Every call returns a {@link PciRawAnswer}; transport failures are answers too: VERR_TIMEOUT
 * when ring 0 did not answer by the deadline (the slot is handed back), VERR_BUFFER_OVERFLOW when
 * the request does not fit a slot, VERR_INVALID_STATE when the channel is closed (also for a call
 * in flight when it closes: it learns of it at once, not at its deadline).
 *
 * Each claim carries the caller's deadline as a lease (shared/channel-layout.ts): a slot left
 * behind by a thread that died in the middle of a call is reclaimed by the next thread that finds
 * no free slot, once that lease is SLOT_LEASE_GRACE_MS past.
 */
export class ChannelClient {
  readonly views: ChannelViews;
  readonly session: number;
  readonly timeoutMs: number;
  readonly spinUs: number;
  readonly #codec = new PciRawCodec();
  /** Private copy of the last answer (reused: see PciRawCodec.decodeRequest). */
  readonly #answer: Uint8Array;
  /** A word nobody changes, to sleep on while every slot is busy. */
  readonly #nap = new Int32Array(new SharedArrayBuffer(4));
  #hint = 0;
  readonly #peerSocket: number | undefined;
  /** This client's claim tokens: a random base (per client) and a counter. */
  readonly #tokenBase = (Math.random() * 0x7fff) << 16;
  #tokenSeq = 0;
  /**
   * Serves ring 0's DMA requests while this thread waits in a synchronous call (set by
   * RawPciClient on the thread that owns `guestMemory`): a vCPU blocked in an MMIO access
   * whose device DMAs meanwhile must copy for it, or ring 0 would wait in vain.
   */
  dmaServer: { serve(): boolean } | undefined;
  /** Calls made, calls that timed out, and slots of dead callers this client reclaimed (statistics). */
  readonly stats = { calls: 0, timeouts: 0, reclaimed: 0 };

  /** Attaches to `sab` (made by ring 0's service). Throws TypeError when it is not a channel. */
  constructor(sab: SharedArrayBuffer, options: ChannelClientOptions = {}) {
    this.views = attachChannel(sab, undefined, options.wake);
    this.#peerSocket = options.peerSocket;
    this.#answer = new Uint8Array(this.views.slotBytes);
    this.session = this.views.i32[Ctl.SESSION]!;
    this.timeoutMs = checkPositive('timeoutMs', options.timeoutMs ?? 5000);
    this.spinUs = checkPositive('spinUs', options.spinUs ?? 50, true);
  }

  /** True once ring 0 has stopped serving this channel (or is closing it). */
  get closed(): boolean {
    return Atomics.load(this.views.i32, Ctl.SERVER_STATE) >= ServerState.STOP_REQUESTED;
  }

  /**
   * Synchronous call: blocks the calling thread (Atomics.wait; allowed on Node's main thread)
   * until the answer or the deadline. `timeoutMs` overrides the client's deadline for this call.
   */
  callSync(op: number, target: number, params: unknown, timeoutMs = this.timeoutMs): PciRawAnswer {
    return this.#callSync(op, target, params, undefined, timeoutMs);
  }

  /**
   * Encodes a request once, for {@link callSyncFrame}: a vCPU that reads the same register again
   * and again sends the same bytes, and skips the encoder (the frame carries this session).
   */
  frame(op: number, target: number, params: unknown): Uint8Array {
    return this.#codec.encodeRequestBuffer(this.session, op, target, params);
  }

  /**
   * Synchronous call with a ready frame: one made by {@link frame}, or a fixed-layout one
   * (shared/fixed-frame.ts). `op` is for messages only. A single fixed access goes through this
   * thread's vCPU lane when it holds one (shared/channel-layout.ts VcpuLane), else a slot.
   */
  callSyncFrame(op: number, frame: Uint8Array, timeoutMs = this.timeoutMs): PciRawAnswer {
    if (frame.length <= VCPU_LANE_REQ_BYTES && isFixedRequest(frame, frame.length)) {
      const t0 = performance.now();
      const deadline = t0 + timeoutMs;
      const lane = this.#holdLane(deadline, t0);
      if (lane >= 0) return this.#callLane(lane, op, frame, deadline, t0 + this.spinUs / 1000);
    }
    return this.#callSync(op, 0, undefined, frame, timeoutMs);
  }

  /** The vCPU lane this client holds (-1: none), the OWNER word it last wrote there, and the REQ_SEQ it last posted. */
  #lane = -1;
  #laneOwner = 0;
  #laneSeq = 0;
  /** The end of the lease this client last wrote into its lane's OWNER word (performance.now() ms). */
  #laneLeaseUntil = 0;
  /** Until when (performance.now() ms) not to look for a free lane again after finding none. */
  #noLaneUntil = 0;

  /**
   * Makes sure this client's lane lease covers `deadline` (renewing it VCPU_LANE_LEASE_MS past
   * it when it does not), or claims a free lane (or one whose lease expired more than
   * SLOT_LEASE_GRACE_MS ago). Returns the lane, or -1 when none is to be had
   * (the call then uses a slot; the lanes are looked at again 100 ms later).
   */
  #holdLane(deadline: number, now: number): number {
    const { i32, lanes } = this.views;
    if (this.#lane >= 0) {
      // Our own lease still covers this call: nobody may take the lane before it expires.
      if (deadline <= this.#laneLeaseUntil) return this.#lane;
      const word = claimWord(toChannelClock(deadline + VCPU_LANE_LEASE_MS));
      const owner = lanes[this.#lane]!.base + VcpuLane.OWNER;
      if (Atomics.compareExchange(i32, owner, this.#laneOwner, word) === this.#laneOwner) {
        this.#laneOwner = word;
        this.#laneLeaseUntil = deadline + VCPU_LANE_LEASE_MS;
        return this.#lane;
      }
      this.#lane = -1; // another thread took it after our lease ran out
    }
    if (now < this.#noLaneUntil) return -1;
    const word = claimWord(toChannelClock(deadline + VCPU_LANE_LEASE_MS));
    const clock = channelClockMs();
    for (let k = 0; k < lanes.length; k++) {
      const owner = lanes[k]!.base + VcpuLane.OWNER;
      const w = Atomics.load(i32, owner);
      if ((w === 0 || leaseExpired(w, clock)) && Atomics.compareExchange(i32, owner, w, word) === w) {
        this.#lane = k;
        this.#laneOwner = word;
        this.#laneLeaseUntil = deadline + VCPU_LANE_LEASE_MS;
        this.#laneSeq = Atomics.load(i32, lanes[k]!.base + VcpuLane.REQ_SEQ);
        return k;
      }
    }
    this.#noLaneUntil = now + 100;
    return -1;
  }

  /**
   * One synchronous call through vCPU lane `k`: posts `frame` with the next sequence number,
   * spins until `spinEnd` and then sleeps on ANS_SEQ until the answer to that number, the
   * deadline (VERR_TIMEOUT) or the channel's close (VERR_INVALID_STATE). Times in performance.now() ms.
   */
  #callLane(k: number, op: number, frame: Uint8Array, deadline: number, spinEnd: number): PciRawAnswer {
    this.stats.calls++;
    if (this.closed) return CLOSED;
    const { i32, lanes } = this.views;
    const lane = lanes[k]!;
    const base = lane.base;
    // Plain stores for the frame and its length: the seq_cst store of REQ_SEQ below publishes them.
    lane.req.set(frame);
    i32[base + VcpuLane.REQ_LEN] = frame.length;
    if (Atomics.load(i32, base + VcpuLane.WAITER) !== 0) Atomics.store(i32, base + VcpuLane.WAITER, 0);
    const seq = (this.#laneSeq + 1) | 0;
    this.#laneSeq = seq;
    Atomics.store(i32, base + VcpuLane.REQ_SEQ, seq);
    // Ring 0 polls the lanes while it is awake; only a sleeping ring 0 needs the doorbell.
    if (Atomics.load(i32, Ctl.SERVER_SLEEPING) !== 0) {
      Atomics.add(i32, Ctl.DOORBELL, 1);
      this.views.wake.notify(i32, Ctl.DOORBELL);
    }
    const ans = base + VcpuLane.ANS_SEQ;
    let n = 0;
    while (Atomics.load(i32, ans) !== seq) {
      if ((++n & 63) !== 0) continue;
      this.dmaServer?.serve();
      if (performance.now() >= spinEnd) break;
    }
    let closedSince = Number.POSITIVE_INFINITY;
    for (let w = Atomics.load(i32, ans); w !== seq; w = Atomics.load(i32, ans)) {
      const now = performance.now();
      if (now >= deadline) {
        this.stats.timeouts++;
        return {
          rc: VERR_TIMEOUT,
          msg: `ring 0 did not answer operation ${op} within the deadline: it is busy or stopped (raise timeoutMs, check the ring-0 log)`,
        };
      }
      if (this.#peerSocket !== undefined && !this.closed && this.#peerHungUp()) markPeerGone(this.views);
      if (this.closed) {
        // Ring 0 answers what it holds when it closes; a request it never saw is ours to drop.
        if (closedSince === Number.POSITIVE_INFINITY) closedSince = now;
        else if (now - closedSince >= WAIT_SLICE_MS) return CLOSED;
      }
      Atomics.store(i32, base + VcpuLane.WAITER, 1);
      if (this.dmaServer?.serve()) continue;
      if (Atomics.load(i32, ans) !== w) continue;
      this.views.wake.wait(i32, ans, w, Math.min(deadline - now, WAIT_SLICE_MS));
    }
    const len = Atomics.load(i32, base + VcpuLane.ANS_LEN);
    const bytes = Math.max(0, Math.min(len, lane.ans.length));
    try {
      // A fixed answer is read where it lies (ring 0 does not touch it again before our next
      // post); a msgpackr one is copied out first (msgpackr's string decoding refuses shared memory).
      if (bytes > 0 && lane.ans[0] === FIXED_ANS_FIRST_BYTE) return this.#codec.decodeAnswer(lane.ans, bytes);
      this.#answer.set(lane.ans.subarray(0, bytes));
      return this.#codec.decodeAnswer(this.#answer, bytes);
    } catch (e) {
      return { rc: VERR_INTERNAL_ERROR, msg: `ring 0 answer could not be decoded: ${(e as Error).message}` };
    }
  }

  #callSync(op: number, target: number, params: unknown, frame: Uint8Array | undefined, timeoutMs: number): PciRawAnswer {
    const t0 = performance.now();
    const deadline = t0 + timeoutMs;
    const posted = this.#post(op, target, params, deadline, frame);
    if (typeof posted !== 'number') return posted;
    const slot = posted;
    const token = this.#token;
    const { i32, header } = this.views;
    const st = header[slot]! + Slot.STATE;
    // Spin first: a request served by a polling ring 0 comes back in about a microsecond, far
    // less than the ~60 us an Atomics.wait/notify round trip costs.
    // Spin only while ring 0 is seen working: a request it has not even taken within
    // TAKE_SPIN_US means ring 0 is off-CPU (asleep, or sharing this core), and sleeping hands
    // it the core (measured: 65 -> 27 us p50 with both threads pinned to one core).
    const spinEnd = t0 + this.spinUs / 1000;
    const takeEnd = t0 + TAKE_SPIN_US / 1000;
    let w = Atomics.load(i32, st);
    for (let n = 0; slotState(w) !== SlotState.DONE; n++) {
      if ((n & 63) === 63) {
        this.dmaServer?.serve();
        const now = performance.now();
        // Ring 0 awake (not sleeping) yet not taking the request: it is off-CPU, sharing this
        // core; sleeping hands it the core. Ring 0 asleep: our doorbell is waking it, spin on.
        if (now >= spinEnd || (slotState(w) === SlotState.POSTED && now >= takeEnd && Atomics.load(i32, Ctl.SERVER_SLEEPING) === 0)) break;
      }
      w = Atomics.load(i32, st);
    }
    const closed = { since: Number.POSITIVE_INFINITY };
    while (slotState(w) !== SlotState.DONE) {
      const next = this.#nextWait(slot, op, token, deadline, closed);
      if (typeof next !== 'number') return next;
      // After WAITER is set (in #nextWait): ring 0 posts a DMA, then looks at WAITER to wake us.
      if (this.dmaServer?.serve()) {
        w = Atomics.load(i32, st);
        continue;
      }
      this.views.wake.wait(i32, st, w, next);
      w = Atomics.load(i32, st);
    }
    return this.#finish(slot, token);
  }

  /**
   * Asynchronous call (control plane): waits with Atomics.waitAsync so the event loop runs.
   * Resolves with the answer, VERR_TIMEOUT at the deadline, or VERR_INVALID_STATE once the
   * channel closed.
   */
  async call(op: number, target: number, params: unknown, timeoutMs = this.timeoutMs): Promise<PciRawAnswer> {
    const deadline = performance.now() + timeoutMs;
    const posted = this.#post(op, target, params, deadline);
    if (typeof posted !== 'number') return posted;
    const slot = posted;
    const token = this.#token;
    const { i32, header } = this.views;
    const st = header[slot]! + Slot.STATE;
    let w = Atomics.load(i32, st);
    const closed = { since: Number.POSITIVE_INFINITY };
    let round = 0;
    while (slotState(w) !== SlotState.DONE) {
      const left = this.#nextWait(slot, op, token, deadline, closed);
      if (typeof left !== 'number') return left;
      await this.views.wake.waitAsync(i32, st, w, left, round++);
      w = Atomics.load(i32, st);
    }
    return this.#finish(slot, token);
  }

  /**
   * One step of waiting for slot `slot`'s answer: the answer to give up with (the deadline
   * passed, or the channel closed and nobody answered within a wait slice: ring 0 answers what
   * it holds when it closes, so a request it never saw is ours to drop), or how long to sleep
   * next in ms. `closed.since` remembers when the close was first seen.
   */
  #nextWait(slot: number, op: number, token: number, deadline: number, closed: { since: number }): PciRawAnswer | number {
    const now = performance.now();
    if (now >= deadline) return this.#abandon(slot, op, token, VERR_TIMEOUT);
    if (this.#peerSocket !== undefined && !this.closed && this.#peerHungUp()) markPeerGone(this.views);
    if (this.closed) {
      if (closed.since === Number.POSITIVE_INFINITY) closed.since = now;
      else if (now - closed.since >= WAIT_SLICE_MS) return this.#abandon(slot, op, token, VERR_INVALID_STATE);
    }
    Atomics.store(this.views.i32, this.views.header[slot]! + Slot.WAITER, 1);
    return Math.min(deadline - now, WAIT_SLICE_MS);
  }

  /** True when the ring-0 process's end of the socket is gone (it died, or closed the connection). */
  #peerHungUp(): boolean {
    try {
      return (xproc().pollFd(this.#peerSocket!, POLL.RDHUP, 0) & (POLL.HUP | POLL.RDHUP | POLL.ERR | POLL.NVAL)) !== 0;
    } catch {
      return true;
    }
  }

  /** The token of the last slot this client claimed (read right after #post). */
  #token = 0;

  /** Claims a slot, writes the frame and rings the doorbell. Returns the slot or a failed answer. */
  #post(op: number, target: number, params: unknown, deadline: number, frame?: Uint8Array): number | PciRawAnswer {
    this.stats.calls++;
    const { i32, header, slotCount, data } = this.views;
    if (this.closed) return CLOSED;
    const claimed = claimWord(toChannelClock(deadline));
    let slot = -1;
    for (let tries = 0; slot < 0; tries++) {
      for (let k = 0; k < slotCount; k++) {
        const i = (this.#hint + k) % slotCount;
        const st = header[i]! + Slot.STATE;
        const w = Atomics.load(i32, st);
        if (slotState(w) === SlotState.FREE && Atomics.compareExchange(i32, st, w, claimed) === w) {
          slot = i;
          this.#hint = i;
          break;
        }
      }
      if (slot >= 0) break;
      if (this.closed) return CLOSED;
      // Every slot is in flight. Slots whose callers died in the middle of a call come back here.
      if (this.#reclaim() > 0) continue;
      if (performance.now() >= deadline) {
        this.stats.timeouts++;
        return { rc: VERR_TIMEOUT, msg: `all ${slotCount} channel slots stayed busy until the deadline: fewer requests in flight, or a larger slotCount` };
      }
      // Back off briefly (a slot frees within one request's time).
      Atomics.wait(this.#nap, 0, 0, tries < 100 ? 0.01 : 1);
    }
    const h = header[slot]!;
    const token = (this.#tokenBase | (++this.#tokenSeq & 0xffff)) >>> 0;
    this.#token = token;
    let len: number;
    try {
      if (frame) {
        if (frame.length > this.views.slotBytes) throw new FrameTooLargeError(`request of ${frame.length} bytes exceeds the ${this.views.slotBytes}-byte slot`);
        data[slot]!.set(frame);
        len = frame.length;
      } else len = this.#codec.encodeRequest(data[slot]!, this.session, op, target, params);
    } catch (e) {
      Atomics.compareExchange(i32, h + Slot.STATE, claimed, withSlotState(claimed, SlotState.FREE));
      if (e instanceof FrameTooLargeError) {
        return { rc: VERR_BUFFER_OVERFLOW, msg: `${e.message}: split the request or connect with a larger slotBytes` };
      }
      return { rc: VERR_INVALID_PARAMETER, msg: `the request parameters cannot be encoded: ${(e as Error).message}` };
    }
    Atomics.store(i32, h + Slot.REQ_LEN, len);
    Atomics.store(i32, h + Slot.WAITER, 0);
    Atomics.store(i32, h + Slot.TOKEN, token | 0);
    const posted = withSlotState(claimed, SlotState.POSTED);
    if (Atomics.compareExchange(i32, h + Slot.STATE, claimed, posted) !== claimed) {
      // Another thread reclaimed the slot: only possible after our lease expired.
      this.stats.timeouts++;
      return { rc: VERR_TIMEOUT, msg: `operation ${op} lost its slot before it was posted: the deadline had passed` };
    }
    Atomics.or(i32, Ctl.POSTED_MASK + (slot >>> 5), 1 << (slot & 31));
    Atomics.add(i32, Ctl.DOORBELL, 1);
    if (Atomics.load(i32, Ctl.SERVER_SLEEPING) !== 0) this.views.wake.notify(i32, Ctl.DOORBELL);
    // Posted after ring 0 began closing? Then ring 0 may never look: take the request back.
    if (this.closed && Atomics.compareExchange(i32, h + Slot.STATE, posted, withSlotState(posted, SlotState.FREE)) === posted) return CLOSED;
    return slot;
  }

  /**
   * Frees slots of dead callers: CLAIMED, POSTED or DONE with a lease expired more than
   * SLOT_LEASE_GRACE_MS ago. Returns how many were freed.
   */
  #reclaim(): number {
    const { i32, header, slotCount } = this.views;
    const now = channelClockMs();
    let n = 0;
    for (let i = 0; i < slotCount; i++) {
      const st = header[i]! + Slot.STATE;
      const w = Atomics.load(i32, st);
      const s = slotState(w);
      if ((s === SlotState.CLAIMED || s === SlotState.POSTED || s === SlotState.DONE) && leaseExpired(w, now)) {
        if (Atomics.compareExchange(i32, st, w, withSlotState(w, SlotState.FREE)) === w) n++;
      }
    }
    this.stats.reclaimed += n;
    return n;
  }

  /** Reads the answer of a DONE slot and frees it, if the slot is still this call's. */
  #finish(slot: number, token: number): PciRawAnswer {
    const { i32, header, data } = this.views;
    const h = header[slot]!;
    const w = Atomics.load(i32, h + Slot.STATE);
    const len = Atomics.load(i32, h + Slot.ANS_LEN);
    let answer: PciRawAnswer;
    const n = Math.max(0, Math.min(len, this.#answer.length));
    this.#answer.set(data[slot]!.subarray(0, n));
    if (
      slotState(w) !== SlotState.DONE ||
      Atomics.load(i32, h + Slot.TOKEN) >>> 0 !== token ||
      Atomics.compareExchange(i32, h + Slot.STATE, w, withSlotState(w, SlotState.FREE)) !== w
    ) {
      // Reclaimed by another thread after our lease ran out: the bytes may be someone else's.
      this.stats.timeouts++;
      return { rc: VERR_TIMEOUT, msg: 'the answer arrived after this call had been given up for lost (far past its deadline)' };
    }
    try {
      answer = this.#codec.decodeAnswer(this.#answer, n);
    } catch (e) {
      answer = { rc: VERR_INTERNAL_ERROR, msg: `ring 0 answer could not be decoded: ${(e as Error).message}` };
    }
    return answer;
  }

  /**
   * The deadline passed or the channel closed: hand the slot back (or to ring 0 to free) and
   * answer `rc` (VERR_TIMEOUT or VERR_INVALID_STATE). An answer that arrived meanwhile is taken.
   */
  #abandon(slot: number, op: number, token: number, rc: number): PciRawAnswer {
    const { i32, header } = this.views;
    const st = header[slot]! + Slot.STATE;
    for (let n = 0; n < 4; n++) {
      const w = Atomics.load(i32, st);
      const s = slotState(w);
      if (s === SlotState.DONE) return this.#finish(slot, token);
      if (s === SlotState.POSTED && Atomics.compareExchange(i32, st, w, withSlotState(w, SlotState.FREE)) === w) break;
      if (s === SlotState.TAKEN && Atomics.compareExchange(i32, st, w, withSlotState(w, SlotState.ABANDONED)) === w) break;
      if (s !== SlotState.POSTED && s !== SlotState.TAKEN) break;
    }
    if (rc === VERR_INVALID_STATE) return CLOSED;
    this.stats.timeouts++;
    return {
      rc: VERR_TIMEOUT,
      msg: `ring 0 did not answer operation ${op} within the deadline: it is busy or stopped (raise timeoutMs, check the ring-0 log)`,
    };
  }
}

/**
 * Ring 0's process is gone (its socket hung up) and nobody will close the channel for it: ring 3
 * marks it STOPPED itself and wakes every thread waiting on a slot, which then answers
 * VERR_INVALID_STATE. Only ever called on a cross-process channel.
 */
export function markPeerGone(views: ChannelViews): void {
  Atomics.store(views.i32, Ctl.SERVER_STATE, ServerState.STOPPED);
  for (let i = 0; i < views.slotCount; i++) views.wake.notify(views.i32, views.header[i]! + Slot.STATE);
  for (const lane of views.lanes) views.wake.notify(views.i32, lane.base + VcpuLane.ANS_SEQ);
}

function checkPositive(name: string, v: number, zeroOk = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!zeroOk && v === 0)) {
    throw new RangeError(
      `${name} must be a ${zeroOk ? 'non-negative' : 'positive'} number of ${name.endsWith('Us') ? 'microseconds' : 'milliseconds'}, got ${v}`,
    );
  }
  return v;
}
