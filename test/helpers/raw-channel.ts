// Test helper: post arbitrary bytes as a request frame on a channel, as a hostile ring 3 would.

import { attachChannel, Ctl, Slot, SlotState } from '../../shared/channel-layout.js';
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
  for (let i = 0; i < v.slotCount && slot < 0; i++) {
    if (Atomics.compareExchange(v.i32, v.header[i]! + Slot.STATE, SlotState.FREE, SlotState.CLAIMED) === SlotState.FREE) slot = i;
  }
  if (slot < 0) throw new Error('no free slot');
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
    if (s === SlotState.DONE) break;
    const left = deadline - performance.now();
    if (left <= 0) {
      if (Atomics.compareExchange(v.i32, h + Slot.STATE, SlotState.POSTED, SlotState.FREE) !== SlotState.POSTED) {
        Atomics.compareExchange(v.i32, h + Slot.STATE, SlotState.TAKEN, SlotState.ABANDONED);
      }
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
