// Test helper: post arbitrary bytes as a request frame on a channel, as a hostile ring 3 would.

import { attachChannel, type ChannelGeometry, type ChannelViews, Ctl, Slot, SlotState } from '../../shared/channel-layout.js';
import { PciRawCodec } from '../../shared/codec.js';
import type { PciRawAnswer } from '../../shared/protocol.js';

const codec = new PciRawCodec();

/**
 * Writes `frame` (any bytes, truncated to the slot) into a free slot of channel `sab`, rings the
 * doorbell and waits up to `timeoutMs` for the answer. Returns the decoded answer, or undefined
 * when ring 0 did not answer in time.
 */
export function postRawFrame(sab: SharedArrayBuffer, frame: Uint8Array, timeoutMs = 5000): PciRawAnswer | undefined {
  const v = attachChannel(sab);
  let slot = -1;
  for (let i = 0; i < v.slotCount && slot < 0; i++) if (claimRaw(v, i)) slot = i;
  if (slot < 0) throw new Error('no free slot');
  return postClaimed(v, slot, frame, timeoutMs);
}

/** Claims slot `i` if it is FREE (whatever else its state word holds). */
function claimRaw(v: ChannelViews, i: number): boolean {
  const st = v.header[i]! + Slot.STATE;
  const w = Atomics.load(v.i32, st);
  return (w & 7) === SlotState.FREE && Atomics.compareExchange(v.i32, st, w, SlotState.CLAIMED) === w;
}

/** Writes `frame` into the claimed `slot`, posts it, and waits for the answer (see {@link postRawFrame}). */
function postClaimed(v: ChannelViews, slot: number, frame: Uint8Array, timeoutMs: number): PciRawAnswer | undefined {
  const h = v.header[slot]!;
  const len = Math.min(frame.length, v.slotBytes);
  v.data[slot]!.set(frame.subarray(0, len));
  Atomics.store(v.i32, h + Slot.REQ_LEN, len);
  Atomics.store(v.i32, h + Slot.WAITER, 1);
  Atomics.store(v.i32, h + Slot.STATE, SlotState.POSTED);
  Atomics.or(v.i32, Ctl.POSTED_MASK + (slot >>> 5), 1 << (slot & 31));
  Atomics.add(v.i32, Ctl.DOORBELL, 1);
  Atomics.notify(v.i32, Ctl.DOORBELL);
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const s = Atomics.load(v.i32, h + Slot.STATE);
    if ((s & 7) === SlotState.DONE) break;
    const left = deadline - performance.now();
    if (left <= 0) {
      // Give up as a client does: a request ring 0 never took is freed, one it holds abandoned.
      if ((s & 7) === SlotState.POSTED) Atomics.compareExchange(v.i32, h + Slot.STATE, s, (s & ~7) | SlotState.FREE);
      else if ((s & 7) === SlotState.TAKEN) Atomics.compareExchange(v.i32, h + Slot.STATE, s, (s & ~7) | SlotState.ABANDONED);
      return undefined;
    }
    Atomics.wait(v.i32, h + Slot.STATE, s, left);
  }
  const n = Atomics.load(v.i32, h + Slot.ANS_LEN);
  const answer = codec.decodeAnswer(v.data[slot]!.subarray(0, n));
  Atomics.store(v.i32, h + Slot.STATE, SlotState.FREE);
  return answer;
}

/** A well-formed frame for `op` (used as the seed of mutations). */
export function frameFor(session: number, op: number, target: number, params: unknown): Uint8Array {
  return codec.encodeRequestBuffer(session, op, target, params);
}

/** The channel of a client (tests only reach into it through its endpoint). */
export function channelOf(vm: { endpoint(): { channel: SharedArrayBuffer } }): SharedArrayBuffer {
  return vm.endpoint().channel;
}

/**
 * A hostile ring 3 recycling a parked request's slot: `n` times, writes `frame` into slot `slot`,
 * posts it, waits until ring 0 took it (TAKEN: a parked GET_IRQ), then writes the slot FREE
 * behind ring 0's back. Leaves the slot FREE. Returns how many posts ring 0 took.
 */
export function repostUntilTaken(sab: SharedArrayBuffer, slot: number, frame: Uint8Array, n: number): number {
  const v = attachChannel(sab);
  const h = v.header[slot]!;
  let taken = 0;
  for (let k = 0; k < n; k++) {
    v.data[slot]!.set(frame);
    Atomics.store(v.i32, h + Slot.REQ_LEN, frame.length);
    Atomics.store(v.i32, h + Slot.STATE, SlotState.POSTED);
    Atomics.or(v.i32, Ctl.POSTED_MASK + (slot >>> 5), 1 << (slot & 31));
    Atomics.add(v.i32, Ctl.DOORBELL, 1);
    Atomics.notify(v.i32, Ctl.DOORBELL);
    const deadline = performance.now() + 1000;
    while ((Atomics.load(v.i32, h + Slot.STATE) & 7) === SlotState.POSTED && performance.now() < deadline) {
      // ring 0 takes it within microseconds when polling
    }
    if ((Atomics.load(v.i32, h + Slot.STATE) & 7) === SlotState.TAKEN) taken++;
    Atomics.store(v.i32, h + Slot.STATE, SlotState.FREE);
  }
  return taken;
}

/**
 * Like {@link postRawFrame} but into slot `slot` (which must be FREE): a hostile thread can then
 * aim at that slot's bytes while the frame is posted.
 */
export function postRawFrameAt(sab: SharedArrayBuffer, slot: number, frame: Uint8Array, timeoutMs = 5000): PciRawAnswer | undefined {
  const v = attachChannel(sab);
  if (!claimRaw(v, slot)) throw new Error(`slot ${slot} is not free`);
  return postClaimed(v, slot, frame, timeoutMs);
}

/** Posts `frame` in FREE slot `slot` and returns at once (for a ring 0 driven by serveOnce in the same thread). */
export function postNoWait(sab: SharedArrayBuffer, slot: number, frame: Uint8Array, word: number = SlotState.CLAIMED): void {
  const v = attachChannel(sab);
  const h = v.header[slot]!;
  const w = Atomics.load(v.i32, h + Slot.STATE);
  if ((w & 7) !== SlotState.FREE || Atomics.compareExchange(v.i32, h + Slot.STATE, w, word) !== w) throw new Error(`slot ${slot} is not free`);
  v.data[slot]!.set(frame);
  Atomics.store(v.i32, h + Slot.REQ_LEN, frame.length);
  Atomics.store(v.i32, h + Slot.STATE, (word & ~7) | SlotState.POSTED);
  Atomics.or(v.i32, Ctl.POSTED_MASK + (slot >>> 5), 1 << (slot & 31));
  Atomics.add(v.i32, Ctl.DOORBELL, 1);
}

/** The state of slot `slot` (low bits of its state word). */
export function slotStateOf(sab: SharedArrayBuffer, slot: number, geometry?: ChannelGeometry): number {
  const v = attachChannel(sab, geometry);
  return Atomics.load(v.i32, v.header[slot]! + Slot.STATE) & 7;
}

/** Decodes the answer in DONE slot `slot` (without freeing it). */
export function answerIn(sab: SharedArrayBuffer, slot: number): PciRawAnswer {
  const v = attachChannel(sab);
  const n = Atomics.load(v.i32, v.header[slot]! + Slot.ANS_LEN);
  return codec.decodeAnswer(v.data[slot]!.slice(0, n));
}
