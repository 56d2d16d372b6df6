// Slot leases: a slot left CLAIMED, POSTED or DONE by a caller that died is reclaimed once its lease is past, a live caller's never.
import test from 'ava';
import { ChannelServer } from '../../r0/channel-server.js';
import { ChannelClient } from '../../r3/channel.js';
import {
  channelClockMs,
  claimWord,
  createChannel,
  LEASE_TICK_MS,
  leaseExpired,
  SLOT_LEASE_GRACE_MS,
  Slot,
  SlotState,
  withSlotState,
} from '../../shared/channel-layout.js';
import { PciRawCodec } from '../../shared/codec.js';
import { PCIRAWR0_DO } from '../../shared/protocol.js';

test('a lease is expired only once its deadline plus the grace has passed, modulo 2^29 ticks', (t) => {
  const now = 1_000_000;
  t.false(leaseExpired(claimWord(now + 5000), now));
  t.false(leaseExpired(claimWord(now), now));
  t.false(leaseExpired(claimWord(now - SLOT_LEASE_GRACE_MS + LEASE_TICK_MS), now));
  t.true(leaseExpired(claimWord(now - SLOT_LEASE_GRACE_MS - 2 * LEASE_TICK_MS), now));
  // Across the wrap of the tick counter.
  const wrap = 2 ** 29 * LEASE_TICK_MS;
  t.true(leaseExpired(claimWord(wrap - 10_000), wrap + 10_000));
  t.false(leaseExpired(claimWord(wrap + 10_000), wrap - 10_000));
});

test('slots of dead callers (CLAIMED, POSTED, DONE, lease past) are reclaimed by the next call that finds none free; a live lease is not', async (t) => {
  const ch = createChannel(1, 4, 256);
  const past = claimWord(channelClockMs() - 60_000);
  const future = claimWord(channelClockMs() + 60_000);
  Atomics.store(ch.i32, ch.header[0]! + Slot.STATE, withSlotState(past, SlotState.CLAIMED));
  Atomics.store(ch.i32, ch.header[1]! + Slot.STATE, withSlotState(past, SlotState.POSTED));
  Atomics.store(ch.i32, ch.header[2]! + Slot.STATE, withSlotState(past, SlotState.DONE));
  Atomics.store(ch.i32, ch.header[3]! + Slot.STATE, withSlotState(future, SlotState.DONE));
  const answer = new PciRawCodec().encodeAnswer({ rc: 0, out: { domain: 9 } });
  const server = new ChannelServer(ch.sab, { handle: () => answer, poll: () => Infinity }, { geometry: { slotCount: 4, slotBytes: 256 } });
  const client = new ChannelClient(ch.sab, { timeoutMs: 2000 });
  const pending = client.call(PCIRAWR0_DO.INIT_VM, 0, {});
  t.is(client.stats.reclaimed, 3);
  // The live caller's slot 3 is untouched.
  t.is(Atomics.load(ch.i32, ch.header[3]! + Slot.STATE), withSlotState(future, SlotState.DONE));
  server.serveOnce();
  t.deepEqual(await pending, { rc: 0, out: { domain: 9 } });
});
