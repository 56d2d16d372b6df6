// Layout of the shared-memory channel between ring 3 and a ring-0 worker: named word indices, slot states.
//
// One channel = one SharedArrayBuffer:
//
//   [ control block: CTL_WORDS Int32 words ][ slot 0 ][ slot 1 ] ... [ slot N-1 ]
//   slot = [ SLOT_HEADER_WORDS Int32 words ][ slotBytes bytes of data ]
//
// A slot carries one request and then its answer (the answer overwrites the request in the data
// area after ring 0 has copied the request out). Its state word moves:
//
//   FREE --ring 3 claims (CAS)--> CLAIMED --writes frame--> POSTED --ring 0 takes (CAS)--> TAKEN
//   TAKEN --ring 0 answers (CAS)--> DONE --ring 3 reads the answer--> FREE
//   POSTED --ring 3 deadline passes (CAS)--> FREE              (ring 0 never saw it)
// After POSTED, ring 3 sets the slot's bit in the posted mask and rings the doorbell; ring 0
// takes the mask to find posted slots without reading every slot header.
//   TAKEN  --ring 3 deadline passes (CAS)--> ABANDONED --ring 0 finishes--> FREE
//
// Only the slot's owner of the moment writes its data, so no lock is needed: the CAS on the
// state word is the hand-over.

/** Magic of a channel's control block ('RPCH'). */
export const CHANNEL_MAGIC = 0x4843_5052;
/** Layout version of the channel (changes when any index below changes). */
export const CHANNEL_LAYOUT_VERSION = 2;

/** Int32 word indices of the control block. */
export const Ctl = {
  /** CHANNEL_MAGIC. */
  MAGIC: 0,
  /** CHANNEL_LAYOUT_VERSION. */
  LAYOUT: 1,
  /** Number of slots. */
  SLOT_COUNT: 2,
  /** Data bytes per slot. */
  SLOT_BYTES: 3,
  /** Incremented by ring 3 after each post; ring 0 sleeps on it (Atomics.wait) when idle. */
  DOORBELL: 4,
  /** {@link ServerState}. */
  SERVER_STATE: 5,
  /** 1 while ring 0 sleeps on DOORBELL: ring 3 only calls Atomics.notify then. */
  SERVER_SLEEPING: 6,
  /** Session id of the VM this channel belongs to. */
  SESSION: 7,
  /** Requests answered (statistics, wraps). */
  ANSWERED: 8,
  /** Times ring 0 went to sleep (statistics, wraps). */
  SLEEPS: 9,
  /** Spin budget of ring 0 in microseconds before it sleeps (ring 3 may tune it). */
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

/** States of ring 0's serve loop in Ctl.SERVER_STATE. */
export const ServerState = {
  NOT_STARTED: 0,
  RUNNING: 1,
  STOP_REQUESTED: 2,
  STOPPED: 3,
} as const;

/** Int32 word indices of a slot header. */
export const Slot = {
  /** {@link SlotState}. */
  STATE: 0,
  /** Bytes of the request frame in the data area. */
  REQ_LEN: 1,
  /** Bytes of the answer in the data area. */
  ANS_LEN: 2,
  /** 1 while ring 3 sleeps on STATE: ring 0 only calls Atomics.notify then. */
  WAITER: 3,
} as const;

/** Words in a slot header. */
export const SLOT_HEADER_WORDS = 8;

/** Slot states (Slot.STATE). */
export const SlotState = {
  FREE: 0,
  CLAIMED: 1,
  POSTED: 2,
  TAKEN: 3,
  DONE: 4,
  ABANDONED: 5,
} as const;

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

/** Byte size of a channel with `slotCount` slots of `slotBytes` data bytes. */
export function channelBytes(slotCount: number, slotBytes: number): number {
  return CTL_WORDS * 4 + slotCount * (SLOT_HEADER_WORDS * 4 + slotBytes);
}

/** Byte offset of slot `i`'s header. */
export function slotOffset(i: number, slotBytes: number): number {
  return CTL_WORDS * 4 + i * (SLOT_HEADER_WORDS * 4 + slotBytes);
}

/** Views over a channel's memory shared by both ends (ring 0 and ring 3 build the same). */
export interface ChannelViews {
  sab: SharedArrayBuffer;
  /** The whole channel as Int32 words (control block and slot headers). */
  i32: Int32Array;
  /** Per slot: its data area as bytes. */
  data: Uint8Array[];
  /** Per slot: the Int32 index of its header's first word in `i32`. */
  header: Int32Array;
  slotCount: number;
  slotBytes: number;
}

/**
 * Creates a channel of `slotCount` slots with `slotBytes` data bytes each (a multiple of 8,
 * at least 256) for session `session`. Throws RangeError naming the bad option.
 */
export function createChannel(session: number, slotCount = DEFAULT_SLOT_COUNT, slotBytes = DEFAULT_SLOT_BYTES): ChannelViews {
  if (!Number.isInteger(slotCount) || slotCount < 1 || slotCount > 1024) {
    throw new RangeError(`slotCount ${slotCount} must be an integer in 1..1024`);
  }
  if (!Number.isInteger(slotBytes) || slotBytes < 256 || slotBytes > 1 << 20 || slotBytes % 8 !== 0) {
    throw new RangeError(`slotBytes ${slotBytes} must be a multiple of 8 in 256..1048576`);
  }
  const sab = new SharedArrayBuffer(channelBytes(slotCount, slotBytes));
  const i32 = new Int32Array(sab);
  i32[Ctl.MAGIC] = CHANNEL_MAGIC;
  i32[Ctl.LAYOUT] = CHANNEL_LAYOUT_VERSION;
  i32[Ctl.SLOT_COUNT] = slotCount;
  i32[Ctl.SLOT_BYTES] = slotBytes;
  i32[Ctl.SESSION] = session;
  i32[Ctl.SERVER_SPIN_US] = DEFAULT_SERVER_SPIN_US;
  return attachChannel(sab);
}

/**
 * Builds the views of an existing channel (the other end, or another vCPU thread). Throws
 * TypeError when `sab` is not a rawpci channel of this layout version.
 */
export function attachChannel(sab: SharedArrayBuffer): ChannelViews {
  if (!(sab instanceof SharedArrayBuffer) || sab.byteLength < CTL_WORDS * 4) {
    throw new TypeError('a rawpci channel is a SharedArrayBuffer made by createChannel()');
  }
  const i32 = new Int32Array(sab);
  if (i32[Ctl.MAGIC] !== CHANNEL_MAGIC || i32[Ctl.LAYOUT] !== CHANNEL_LAYOUT_VERSION) {
    throw new TypeError('SharedArrayBuffer is not a rawpci channel of this layout version');
  }
  const slotCount = i32[Ctl.SLOT_COUNT]!;
  const slotBytes = i32[Ctl.SLOT_BYTES]!;
  if (sab.byteLength !== channelBytes(slotCount, slotBytes)) throw new TypeError('rawpci channel size does not match its header');
  const data: Uint8Array[] = [];
  const header = new Int32Array(slotCount);
  for (let i = 0; i < slotCount; i++) {
    const off = slotOffset(i, slotBytes);
    header[i] = off / 4;
    data.push(new Uint8Array(sab, off + SLOT_HEADER_WORDS * 4, slotBytes));
  }
  return { sab, i32, data, header, slotCount, slotBytes };
}
