// Ring 0's serve loop: a throwing handler or timer is answered with a status, tickets never deliver an answer to a caller that gave up, and closing answers everyone.
import test from 'ava';
import { ChannelServer, closeOrphanedChannel } from '../../r0/channel-server.js';
import { Ctl, createChannel, ServerState, SlotState } from '../../shared/channel-layout.js';
import { PciRawCodec } from '../../shared/codec.js';
import { PCIRAWR0_DO } from '../../shared/protocol.js';
import { VBoxStatus } from '../../shared/status.js';
import { answerIn, frameFor, postNoWait, slotStateOf } from '../helpers/raw-channel.js';

const codec = new PciRawCodec();
const okAnswer = codec.encodeAnswer({ rc: 0, out: { value: 7 } });
const frame = frameFor(1, PCIRAWR0_DO.INIT_VM, 0, {});

/** A 4-slot channel whose server parks every request it takes, recording the tickets. */
function parkingServer() {
  const ch = createChannel(1, 4, 256);
  const tickets: number[] = [];
  const server = new ChannelServer(
    ch.sab,
    { handle: (_f, _l, ticket) => void tickets.push(ticket ?? -1), poll: () => Number.POSITIVE_INFINITY },
    { geometry: { slotCount: 4, slotBytes: 256 } },
  );
  return { ch, tickets, server };
}

test('a handler that throws is answered VERR_INTERNAL_ERROR and the next request is served', (t) => {
  const ch = createChannel(1, 4, 256);
  let calls = 0;
  const errors: string[] = [];
  const server = new ChannelServer(
    ch.sab,
    {
      handle: () => {
        if (calls++ === 0) throw new Error('a ring-0 bug');
        return okAnswer;
      },
      poll: () => {
        throw new Error('a timer bug');
      },
      error: (where) => errors.push(where),
    },
    { geometry: { slotCount: 4, slotBytes: 256 } },
  );
  postNoWait(ch.sab, 0, frame);
  t.notThrows(() => server.serveOnce());
  t.is(answerIn(ch.sab, 0).rc, VBoxStatus.VERR_INTERNAL_ERROR);
  postNoWait(ch.sab, 1, frame);
  t.notThrows(() => server.serveOnce());
  t.deepEqual(answerIn(ch.sab, 1), { rc: 0, out: { value: 7 } });
  t.deepEqual(errors, ['handle', 'poll', 'poll']);
  t.is(server.stats.errors, 3);
});

test('a parked request answered after its caller gave up frees the slot and reaches nobody', (t) => {
  const { ch, tickets, server } = parkingServer();
  postNoWait(ch.sab, 2, frame);
  server.serveOnce();
  t.is(slotStateOf(ch.sab, 2), SlotState.TAKEN);
  t.true(server.waiting(tickets[0]!));
  // The caller gives up: TAKEN -> ABANDONED.
  const i32 = new Int32Array(ch.sab);
  const st = ch.header[2]!;
  Atomics.store(i32, st, (Atomics.load(i32, st) & ~7) | SlotState.ABANDONED);
  t.false(server.waiting(tickets[0]!));
  t.is(slotStateOf(ch.sab, 2), SlotState.FREE);
  t.false(server.answer(tickets[0]!, okAnswer));
});

test("a ticket goes stale when ring 3 recycles its slot behind ring 0's back", (t) => {
  const { ch, tickets, server } = parkingServer();
  postNoWait(ch.sab, 0, frame);
  server.serveOnce();
  // Hostile ring 3: writes the slot FREE while ring 0 holds it, and posts again.
  const i32 = new Int32Array(ch.sab);
  Atomics.store(i32, ch.header[0]!, SlotState.FREE);
  postNoWait(ch.sab, 0, frame);
  server.serveOnce();
  t.is(tickets.length, 2);
  t.false(server.waiting(tickets[0]!));
  t.false(server.answer(tickets[0]!, okAnswer));
  t.true(server.answer(tickets[1]!, okAnswer));
  t.is(slotStateOf(ch.sab, 0), SlotState.DONE);
});

test('stopping the loop answers held and posted requests VERR_INVALID_STATE and publishes STOPPED', (t) => {
  const ch = createChannel(1, 4, 256);
  let n = 0;
  const server = new ChannelServer(
    ch.sab,
    { handle: () => (n++ === 0 ? undefined : okAnswer), poll: () => Infinity },
    { geometry: { slotCount: 4, slotBytes: 256 } },
  );
  postNoWait(ch.sab, 0, frame);
  server.serveOnce(); // parked in slot 0
  postNoWait(ch.sab, 1, frame); // posted, never served
  server.stop();
  server.run(); // sees the stop at once, then closes
  t.is(Atomics.load(ch.i32, Ctl.SERVER_STATE), ServerState.STOPPED);
  t.is(answerIn(ch.sab, 0).rc, VBoxStatus.VERR_INVALID_STATE);
  t.is(answerIn(ch.sab, 1).rc, VBoxStatus.VERR_INVALID_STATE);
});

test("a worker given up never writes into the channel again; the service's orphan sweep answers for it", (t) => {
  const { ch, tickets, server } = parkingServer();
  postNoWait(ch.sab, 3, frame);
  server.serveOnce();
  server.control.giveUp();
  closeOrphanedChannel(ch.sab, { slotCount: 4, slotBytes: 256 }, 'its worker was given up');
  const closed = answerIn(ch.sab, 3);
  t.is(closed.rc, VBoxStatus.VERR_INVALID_STATE);
  t.regex(closed.msg ?? '', /given up/);
  t.false(server.answer(tickets[0]!, okAnswer));
  t.deepEqual(answerIn(ch.sab, 3), closed);
  t.is(Atomics.load(ch.i32, Ctl.SERVER_STATE), ServerState.STOPPED);
});

test("the spin budget is clamped and the geometry is ring 0's own, whatever the control block says", (t) => {
  const ch = createChannel(1, 4, 256);
  postNoWait(ch.sab, 3, frame);
  Atomics.store(ch.i32, Ctl.SLOT_COUNT, 1);
  Atomics.store(ch.i32, Ctl.SLOT_BYTES, 1 << 20);
  const server = new ChannelServer(
    ch.sab,
    { handle: () => okAnswer, poll: () => Infinity },
    { geometry: { slotCount: 4, slotBytes: 256 }, spinUs: 2 ** 31 - 1 },
  );
  t.is(server.views.slotCount, 4);
  t.true(server.serveOnce());
  t.is(slotStateOf(ch.sab, 3, { slotCount: 4, slotBytes: 256 }), SlotState.DONE);
  t.is(server.spinUs, 10_000);
});
