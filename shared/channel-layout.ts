// Layout of the shared-memory channel between ring 3 and a ring-0 worker: named word indices, slot states, slot leases.
//
// One channel = one SharedArrayBuffer:
//
//   [ control block: CTL_WORDS Int32 words ][ slot 0 ][ slot 1 ] ... [ slot N-1 ]
//   slot = [ SLOT_HEADER_WORDS Int32 words ][ slotBytes bytes of data ]
//   then the DMA lane: [ DMA_LANE_HEADER_WORDS Int32 words ][ request data DMA_LANE_BYTES ][ answer data DMA_LANE_BYTES ]
//   then, 64-byte aligned, VCPU_LANE_COUNT vCPU lanes of VCPU_LANE_BYTES (see VcpuLane)
//
// A slot carries one request and then its answer (the answer overwrites the request in the data
// area after ring 0 has copied the request out). Its state word holds the state in its low
// SLOT_STATE_BITS bits and, above them, the lease of the ring-3 caller that claimed it (see
// below). The state moves:
//
//   FREE --ring 3 claims (CAS)--> CLAIMED --writes frame (CAS)--> POSTED --ring 0 takes (CAS)--> TAKEN
//   TAKEN --ring 0 answers (CAS)--> DONE --ring 3 reads the answer (CAS)--> FREE
//   POSTED --ring 3 deadline passes (CAS)--> FREE              (ring 0 never saw it)
//   TAKEN  --ring 3 deadline passes (CAS)--> ABANDONED --ring 0 finishes--> FREE
//   CLAIMED, POSTED, DONE --lease expired (CAS, by another ring-3 thread)--> FREE
// After POSTED, ring 3 sets the slot's bit in the posted mask and rings the doorbell; ring 0
// takes the mask to find posted slots without reading every slot header.
//
// Leases: a caller that claims a slot writes its own deadline (LEASE_TICK_MS ticks of the
// process-wide monotonic clock, modulo 2^29) into the state word with the claim, in one CAS.
// Ring 0 keeps those bits on every transition. A caller that dies (a vCPU thread terminated in
// the middle of a call) leaves its slot CLAIMED, POSTED or DONE; another ring-3 thread that finds
// no free slot reclaims slots whose lease expired more than SLOT_LEASE_GRACE_MS ago.
//
// Trust: every word here can be written by ring 3 at any moment. Ring 0 reads only the slot
// states, lengths and frames (copying a frame out before it looks at it), the posted mask and the
// doorbell (as hints to look); its own state (stop requests, spin budget, slot geometry) lives in
// ring 0's private memory (r0/serve-control.ts). The words ring 0 writes for ring 3 to read
// (SERVER_STATE, SERVER_SLEEPING, ANSWERED, SLEEPS, SERVER_SPIN_US) are never read back by ring 0.

import { type WakeKind, type Waker, waker } from './wake.js';

/** Magic of a channel's control block ('RPCH'). */
export const CHANNEL_MAGIC = 0x4843_5052;
/** Layout version of the channel (changes when any index or encoding below changes). */
export const CHANNEL_LAYOUT_VERSION = 5;

/** Int32 word indices of the control block. */
export const Ctl = {
  /** CHANNEL_MAGIC. */
  MAGIC: 0,
  /** CHANNEL_LAYOUT_VERSION. */
  LAYOUT: 1,
  /** Number of slots (for ring 3; ring 0 uses the geometry it created the channel with). */
  SLOT_COUNT: 2,
  /** Data bytes per slot (for ring 3; ring 0 uses its own copy). */
  SLOT_BYTES: 3,
  /** Incremented by ring 3 after each post; ring 0 sleeps on it (Atomics.wait) when idle. */
  DOORBELL: 4,
  /** {@link ServerState}, published by ring 0 (ring 0 never reads it back). */
  SERVER_STATE: 5,
  /** 1 while ring 0 sleeps on DOORBELL: ring 3 only calls Atomics.notify then. */
  SERVER_SLEEPING: 6,
  /** Session id of the VM this channel belongs to. */
  SESSION: 7,
  /** Requests answered (statistics, wraps). */
  ANSWERED: 8,
  /** Times ring 0 went to sleep (statistics, wraps). */
  SLEEPS: 9,
  /** Ring 0's spin budget in microseconds, published for information (set it with the serverSpinUs option). */
  SERVER_SPIN_US: 10,
  /**
   * First of {@link POSTED_MASK_WORDS} words: bit i%32 of word i/32 is set (Atomics.or) by ring 3
   * after it posts slot i, and taken (Atomics.exchange) by ring 0, which then looks at those
   * slots only instead of scanning every slot header (one page each).
   */
  POSTED_MASK: 16,
} as const;

/** Words of the posted-slots mask: one bit per slot, up to 1024 slots. */
export const POSTED_MASK_WORDS = 32;

/** Words in the control block (room to grow: unused words are zero). */
export const CTL_WORDS = 64;

/**
 * States of ring 0's serve loop in Ctl.SERVER_STATE, as ring 0 publishes them. ring 3 treats
 * STOP_REQUESTED and STOPPED alike: the channel is closed, no new request will be served.
 */
export const ServerState = {
  NOT_STARTED: 0,
  RUNNING: 1,
  /** Ring 0 is closing the channel: it answers what it holds with VERR_INVALID_STATE. */
  STOP_REQUESTED: 2,
  STOPPED: 3,
} as const;

/** Int32 word indices of a slot header. */
export const Slot = {
  /** {@link SlotState} in the low {@link SLOT_STATE_BITS} bits, the caller's lease above them. */
  STATE: 0,
  /** Bytes of the request frame in the data area. */
  REQ_LEN: 1,
  /** Bytes of the answer in the data area. */
  ANS_LEN: 2,
  /** 1 while ring 3 sleeps on STATE: ring 0 only calls Atomics.notify then. */
  WAITER: 3,
  /** Ring 3's claim token: the caller checks it is still its own before it trusts an answer. */
  TOKEN: 4,
} as const;

/** Words in a slot header. */
export const SLOT_HEADER_WORDS = 8;

/** Slot states (the low bits of Slot.STATE). */
export const SlotState = { FREE: 0, CLAIMED: 1, POSTED: 2, TAKEN: 3, DONE: 4, ABANDONED: 5 } as const;

/** Bits of Slot.STATE that hold the {@link SlotState}; the lease is above them. */
export const SLOT_STATE_BITS = 3;
/** Mask of the state bits of Slot.STATE. */
export const SLOT_STATE_MASK = (1 << SLOT_STATE_BITS) - 1;
/** Milliseconds per lease tick. */
export const LEASE_TICK_MS = 4;
/** Lease ticks wrap modulo 2^29 (about 24.8 days); comparisons are modular. */
const LEASE_MODULO = 1 << (32 - SLOT_STATE_BITS);
/**
 * How long past its lease a slot must stay unanswered, unread or unposted before another ring-3
 * thread reclaims it, in ms. A live caller gives its slot up at its deadline; this covers one
 * that is merely late (descheduled, a GC pause).
 */
export const SLOT_LEASE_GRACE_MS = 250;

/** The {@link SlotState} of a state word. */
export function slotState(word: number): number {
  return word & SLOT_STATE_MASK;
}

/** `word` with its state bits replaced by `state` (the lease is kept). */
export function withSlotState(word: number, state: number): number {
  return (word & ~SLOT_STATE_MASK) | state;
}

/** The per-thread offset of performance.now() from the process-wide monotonic clock (uv_hrtime). */
const CLOCK_OFFSET_MS = Number(process.hrtime.bigint() / 1000n) / 1000 - performance.now();

/**
 * Milliseconds of the process-wide monotonic clock: the same in every thread of the process
 * (performance.now() alone starts at each thread's own origin).
 */
export function channelClockMs(): number {
  return performance.now() + CLOCK_OFFSET_MS;
}

/** A time on this thread's performance.now() clock (ms) on the {@link channelClockMs} clock. */
export function toChannelClock(performanceMs: number): number {
  return performanceMs + CLOCK_OFFSET_MS;
}

/** A state word claiming a slot (CLAIMED) for a caller whose deadline is `deadlineMs` on {@link channelClockMs}. */
export function claimWord(deadlineMs: number): number {
  const ticks = Math.ceil(deadlineMs / LEASE_TICK_MS) % LEASE_MODULO;
  return (ticks << SLOT_STATE_BITS) | SlotState.CLAIMED;
}

/**
 * True when the lease in `word` expired more than `graceMs` before `nowMs` ({@link channelClockMs}).
 * Modular: a lease more than half the modulus (12 days) in the future counts as expired.
 */
export function leaseExpired(word: number, nowMs: number, graceMs = SLOT_LEASE_GRACE_MS): boolean {
  const lease = word >>> SLOT_STATE_BITS;
  const now = Math.floor((nowMs - graceMs) / LEASE_TICK_MS) % LEASE_MODULO;
  const ahead = (now - lease + LEASE_MODULO) % LEASE_MODULO;
  return ahead !== 0 && ahead < LEASE_MODULO / 2;
}

/** Default number of slots: in-flight requests per VM (vCPUs + async control plane + IRQ pump). */
export const DEFAULT_SLOT_COUNT = 64;
/**
 * Default spin budget of ring 0, in microseconds: how long it polls after its last request
 * before it sleeps. It must outlast a ring-3 thread's futex wake-up (about 250 us on these
 * virtual machines): a shorter budget lets one slow wake-up put both sides to sleep in turn,
 * request after request (measured: 200 us gave bursts of 1,000+ ring-0 sleeps per 20,000 reads
 * and p50 20 us; 1000 us recovers within a few requests). An idle VM still costs nothing.
 */
export const DEFAULT_SERVER_SPIN_US = 1000;

/** Default data bytes per slot (largest request or answer frame). */
export const DEFAULT_SLOT_BYTES = 4096;

/**
 * The DMA lane (after the slots): ring 0 asks ring 3 to read or write guest memory it cannot
 * map (a VMM that gave `guestMemory`, see shared/guest-memory.ts and docs/dma.md), like
 * vfio-user's DMA_READ / DMA_WRITE messages, server to client. One request at a time (one
 * ring-0 thread serves a VM). Ring 0 writes the request words and, for a write, the data into
 * the request area, then stores REQ_SEQ, bumps BELL and wakes ring 3. Ring 3 copies the data
 * (read: into the answer area), stores ANS_STATUS and ANS_LEN, then ANS_SEQ = REQ_SEQ, and
 * notifies ANS_SEQ. Two data areas: a late answer to a request ring 0 gave up on never touches
 * the data of the next one. Every word is untrusted by ring 0: it reads the answer words once,
 * copies the answer bytes out before using them, and waits a bounded time.
 */
export const DmaLane = {
  /** Bumped by ring 0 after each request: ring 3's event loop waits on it (Atomics.waitAsync). */
  BELL: 0,
  /** Sequence number of the posted request (ring 0; never 0). */
  REQ_SEQ: 1,
  /** {@link DMA_OP}. */
  REQ_OP: 2,
  /** Guest-physical address, low and high 32 bits (unsigned). */
  REQ_ADDR_LO: 3,
  REQ_ADDR_HI: 4,
  /** Bytes to move, 1..DMA_LANE_BYTES. */
  REQ_LEN: 5,
  /** Sequence number ring 3 answers (ring 0 waits on it). */
  ANS_SEQ: 6,
  /** VBox status of the copy (0 on success). */
  ANS_STATUS: 7,
  /** Bytes moved (must equal REQ_LEN). */
  ANS_LEN: 8,
} as const;

/** Operation codes of the DMA lane: vfio-user's message commands VFIO_USER_DMA_READ 11 and VFIO_USER_DMA_WRITE 12. */
export const DMA_OP = {
  /** Ring 3 copies guest memory into the answer area (the device reads memory). */
  READ: 11,
  /** Ring 3 copies the request area into guest memory (the device writes memory). */
  WRITE: 12,
} as const;

/** Words of the DMA lane header. */
export const DMA_LANE_HEADER_WORDS = 16;
/** Bytes of each DMA lane data area: the largest chunk of one lane request (32 KiB). */
export const DMA_LANE_BYTES = 32768;

/**
 * vCPU lanes (after the DMA lane): one synchronous fixed-layout access at a time
 * (shared/fixed-frame.ts, one record), for a ring-3 thread that holds the lane, with sequence
 * numbers instead of a slot's claim, posted mask and doorbell. A round trip moves two cache
 * lines: the request line (REQ_SEQ, REQ_LEN and the frame in one 64-byte line) and the
 * answer line. Ring 0 polls every lane's REQ_SEQ while it spins; before it sleeps it publishes
 * SERVER_SLEEPING and looks once more, and ring 3 rings the doorbell after a post only when it
 * sees SERVER_SLEEPING (both sides store, then load: one of them sees the other).
 *
 * Ring 3 posts: writes the frame and REQ_LEN, then stores REQ_SEQ (a new value). Ring 0 takes a
 * lane whose REQ_SEQ differs from the one it last served there (its own memory), copies the frame
 * out, answers into the answer area, stores ANS_LEN, then ANS_SEQ = the REQ_SEQ it served, and
 * wakes ANS_SEQ if WAITER is set. Ring 3 trusts an answer only while ANS_SEQ equals its own
 * REQ_SEQ; a late answer to a call it gave up on carries the older number and is ignored.
 *
 * OWNER is ring 3's alone (ring 0 never reads it): the state word of a lease as a slot's
 * (claimWord), renewed by CAS when a call's deadline passes the lease (a lease runs
 * VCPU_LANE_LEASE_MS past the deadline that renewed it, so a busy thread renews it about once a
 * second, not per call). A thread that finds no free lane takes one whose
 * lease expired more than SLOT_LEASE_GRACE_MS ago (its holder died or went idle); the holder's
 * next CAS fails and it claims another lane or uses the slots.
 */
export const VcpuLane = {
  /** Sequence number of the posted request (ring 3; any change is a new request). */
  REQ_SEQ: 0,
  /** Bytes of the request frame (at most VCPU_LANE_REQ_BYTES). */
  REQ_LEN: 1,
  /** Ring 3's lease of the lane (0: free), on a line of its own: ring 0 polls the request line, and a compare-and-swap there would pull it back. */
  OWNER: 240,
  /** The REQ_SEQ ring 0 answered (first word of the answer line). */
  ANS_SEQ: 16,
  /** Bytes of the answer. */
  ANS_LEN: 17,
  /** 1 while ring 3 sleeps on ANS_SEQ: ring 0 only calls notify then. */
  WAITER: 18,
} as const;

/** How far past the deadline of the call that renews it a lane's lease runs, in ms. */
export const VCPU_LANE_LEASE_MS = 1000;
/** Number of vCPU lanes of a channel (threads holding one at once; more use the slots). */
export const VCPU_LANE_COUNT = 16;
/** Bytes of one vCPU lane: the request line (64 bytes) and the answer area. */
export const VCPU_LANE_BYTES = 1024;
/** Byte offset of a lane's request frame (after REQ_SEQ and REQ_LEN). */
export const VCPU_LANE_REQ_AT = 8;
/** The largest frame a lane carries, in bytes (a single fixed access is 48). */
export const VCPU_LANE_REQ_BYTES = 64 - VCPU_LANE_REQ_AT;
/** Byte offset of a lane's answer (after ANS_SEQ, ANS_LEN, WAITER). */
export const VCPU_LANE_ANS_AT = 76;
/** The largest answer a lane carries, in bytes, up to the OWNER line (ring 0 shortens a message that would not fit). */
export const VCPU_LANE_ANS_BYTES = VcpuLane.OWNER * 4 - VCPU_LANE_ANS_AT;

/** Byte offset of the first vCPU lane (64-byte aligned, after the DMA lane). */
export function vcpuLanesOffset(slotCount: number, slotBytes: number): number {
  const end = slotOffset(slotCount, slotBytes) + DMA_LANE_HEADER_WORDS * 4 + 2 * DMA_LANE_BYTES;
  return Math.ceil(end / 64) * 64;
}

/** Byte size of a channel with `slotCount` slots of `slotBytes` data bytes (and its DMA lane and vCPU lanes). */
export function channelBytes(slotCount: number, slotBytes: number): number {
  return vcpuLanesOffset(slotCount, slotBytes) + VCPU_LANE_COUNT * VCPU_LANE_BYTES;
}

/** Byte offset of slot `i`'s header. */
export function slotOffset(i: number, slotBytes: number): number {
  return CTL_WORDS * 4 + i * (SLOT_HEADER_WORDS * 4 + slotBytes);
}

/** How many slots a channel has and how big each one's data area is (bytes). */
export interface ChannelGeometry {
  slotCount: number;
  slotBytes: number;
}

/** Views over a channel's memory shared by both ends (ring 0 and ring 3 build the same). */
export interface ChannelViews extends ChannelGeometry {
  sab: SharedArrayBuffer;
  /** The whole channel as Int32 words (control block and slot headers). */
  i32: Int32Array;
  /** Per slot: its data area as bytes. */
  data: Uint8Array[];
  /** Per slot: the Int32 index of its header's first word in `i32`. */
  header: Int32Array;
  /** The DMA lane: its header words ({@link DmaLane}) and its two data areas. */
  dma: { i32: Int32Array; req: Uint8Array; ans: Uint8Array };
  /** The vCPU lanes ({@link VcpuLane}): each one's first Int32 index in `i32`, its request frame area and its answer area. */
  lanes: { base: number; req: Uint8Array; ans: Uint8Array }[];
  /** How sleepers on this channel's words are woken: Atomics in one process, a futex across processes (shared/wake.ts). */
  wake: Waker;
}

/**
 * Checks a channel geometry: `slotCount` in 1..1024, `slotBytes` a multiple of 8 in
 * 256..1048576. Throws RangeError naming the bad option.
 */
export function checkGeometry(slotCount: number, slotBytes: number): ChannelGeometry {
  if (!Number.isInteger(slotCount) || slotCount < 1 || slotCount > 1024) {
    throw new RangeError(`slotCount ${slotCount} must be an integer in 1..1024`);
  }
  if (!Number.isInteger(slotBytes) || slotBytes < 256 || slotBytes > 1 << 20 || slotBytes % 8 !== 0) {
    throw new RangeError(`slotBytes ${slotBytes} must be a multiple of 8 in 256..1048576`);
  }
  return { slotCount, slotBytes };
}

/**
 * Creates a channel of `slotCount` slots with `slotBytes` data bytes each (see
 * {@link checkGeometry}) for session `session`. Throws RangeError naming the bad option.
 */
export function createChannel(session: number, slotCount = DEFAULT_SLOT_COUNT, slotBytes = DEFAULT_SLOT_BYTES): ChannelViews {
  const geometry = checkGeometry(slotCount, slotBytes);
  return initChannel(new SharedArrayBuffer(channelBytes(slotCount, slotBytes)), session, geometry);
}

/**
 * Writes a fresh control block for `session` into `sab` (all zeros but the header words) and
 * returns its views. For memory ring 0 did not allocate itself (a VM's memfd, `rawpci serve`):
 * ring 0 rewrites the header rather than trusting what the VM wrote. Throws TypeError when the
 * size does not match the geometry.
 */
export function initChannel(sab: SharedArrayBuffer, session: number, geometry: ChannelGeometry, wake: WakeKind = 'atomics'): ChannelViews {
  const { slotCount, slotBytes } = geometry;
  if (sab.byteLength !== channelBytes(slotCount, slotBytes)) throw new TypeError('rawpci channel size does not match its geometry');
  new Uint8Array(sab).fill(0);
  const i32 = new Int32Array(sab);
  i32[Ctl.MAGIC] = CHANNEL_MAGIC;
  i32[Ctl.LAYOUT] = CHANNEL_LAYOUT_VERSION;
  i32[Ctl.SLOT_COUNT] = slotCount;
  i32[Ctl.SLOT_BYTES] = slotBytes;
  i32[Ctl.SESSION] = session;
  return attachChannel(sab, geometry, wake);
}

/**
 * Builds the views of an existing channel. Ring 3 (another vCPU thread) passes only `sab` and
 * the geometry is read from the control block; ring 0 passes the `geometry` it created the
 * channel with and the control block is not trusted at all; `wake` says how sleepers are woken (shared/wake.ts). Throws TypeError when `sab` is not a
 * rawpci channel of this layout version or its size does not match the geometry.
 */
export function attachChannel(sab: SharedArrayBuffer, geometry?: ChannelGeometry, wake: WakeKind = 'atomics'): ChannelViews {
  if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < CTL_WORDS * 4) {
    throw new TypeError('a rawpci channel is a SharedArrayBuffer made by createChannel()');
  }
  const i32 = new Int32Array(sab);
  if (!geometry && (i32[Ctl.MAGIC] !== CHANNEL_MAGIC || i32[Ctl.LAYOUT] !== CHANNEL_LAYOUT_VERSION)) {
    throw new TypeError('SharedArrayBuffer is not a rawpci channel of this layout version');
  }
  const { slotCount, slotBytes } = geometry ?? { slotCount: i32[Ctl.SLOT_COUNT]!, slotBytes: i32[Ctl.SLOT_BYTES]! };
  if (sab.byteLength !== channelBytes(slotCount, slotBytes)) throw new TypeError('rawpci channel size does not match its header');
  const data: Uint8Array[] = [];
  const header = new Int32Array(slotCount);
  for (let i = 0; i < slotCount; i++) {
    const off = slotOffset(i, slotBytes);
    header[i] = off / 4;
    data.push(new Uint8Array(sab, off + SLOT_HEADER_WORDS * 4, slotBytes));
  }
  const lane = slotOffset(slotCount, slotBytes);
  const laneData = lane + DMA_LANE_HEADER_WORDS * 4;
  const dma = {
    i32: new Int32Array(sab, lane, DMA_LANE_HEADER_WORDS),
    req: new Uint8Array(sab, laneData, DMA_LANE_BYTES),
    ans: new Uint8Array(sab, laneData + DMA_LANE_BYTES, DMA_LANE_BYTES),
  };
  const lanesAt = vcpuLanesOffset(slotCount, slotBytes);
  const lanes = Array.from({ length: VCPU_LANE_COUNT }, (_, k) => {
    const at = lanesAt + k * VCPU_LANE_BYTES;
    return {
      base: at / 4,
      req: new Uint8Array(sab, at + VCPU_LANE_REQ_AT, VCPU_LANE_REQ_BYTES),
      ans: new Uint8Array(sab, at + VCPU_LANE_ANS_AT, VCPU_LANE_ANS_BYTES),
    };
  });
  return { sab, i32, data, header, slotCount, slotBytes, dma, lanes, wake: waker(wake) };
}
