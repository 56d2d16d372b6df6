// vCPU lanes (shared/channel-layout.ts VcpuLane): the synchronous fixed-layout accesses use them, and nothing ring 3 writes into a lane reaches beyond its own answers.

import test from 'ava';
import { ChannelServer } from '../../r0/channel-server.js';
import { RawPciClient } from '../../r3/client.js';
import {
  attachChannel,
  channelClockMs,
  createChannel,
  leaseExpired,
  SLOT_LEASE_GRACE_MS,
  VCPU_LANE_COUNT,
  VCPU_LANE_LEASE_MS,
  VCPU_LANE_REQ_AT,
  VCPU_LANE_REQ_BYTES,
  VcpuLane,
} from '../../shared/channel-layout.js';
import { PciRawCodec } from '../../shared/codec.js';
import { FIXED_SINGLE_BYTES, FixedAnswerWriter, writeFixedHeader, writeFixedRecord } from '../../shared/fixed-frame.js';
import { PCIRAWR0_DO, type PciRawAnswer } from '../../shared/protocol.js';
import { VBoxStatus, VERR_INTERNAL_ERROR } from '../../shared/status.js';
import { channelOf, frameFor } from '../helpers/raw-channel.js';
import { connectVm, EDU, openOn, startService, TESTDEV } from '../helpers/ring0.js';
import { startHostile, stopWord, within } from './helpers/threads.js';

const TESTDEV_ID = 0x5250_0001;
const codec = new PciRawCodec();

/** A fixed single-access frame. */
function fixedFrame(session: number, op: number, cb: number, target: number, where: number | bigint, value: number | bigint = 0): Uint8Array {
  const b = new Uint8Array(FIXED_SINGLE_BYTES);
  const v = new DataView(b.buffer);
  writeFixedHeader(v, session, 1, false);
  writeFixedRecord(v, 24, op, cb, target, where, value);
  return b;
}

/** Posts `frame` on lane `k` of `sab` by hand (a hostile ring 3: any REQ_LEN), and waits for the answer to that sequence number. */
function postOnLane(sab: SharedArrayBuffer, k: number, frame: Uint8Array, reqLen = frame.length, timeoutMs = 5000): PciRawAnswer | undefined {
  const lane = attachChannel(sab).lanes[k]!;
  const base = lane.base;
  const i32 = new Int32Array(sab);
  lane.req.set(frame.subarray(0, Math.min(frame.length, VCPU_LANE_REQ_BYTES)));
  Atomics.store(i32, base + VcpuLane.REQ_LEN, reqLen);
  const seq = (Atomics.load(i32, base + VcpuLane.REQ_SEQ) + 1) | 0;
  Atomics.store(i32, base + VcpuLane.REQ_SEQ, seq);
  Atomics.store(i32, base + VcpuLane.WAITER, 1);
  const deadline = performance.now() + timeoutMs;
  for (let w = Atomics.load(i32, base + VcpuLane.ANS_SEQ); w !== seq; w = Atomics.load(i32, base + VcpuLane.ANS_SEQ)) {
    if (performance.now() > deadline) return undefined;
    Atomics.wait(i32, base + VcpuLane.ANS_SEQ, w, 20);
  }
  const n = Atomics.load(i32, base + VcpuLane.ANS_LEN);
  return codec.decodeAnswer(lane.ans.slice(0, n));
}

/** Lanes whose OWNER word is set (held by some ring-3 thread). */
function heldLanes(sab: SharedArrayBuffer): number[] {
  const i32 = new Int32Array(sab);
  return attachChannel(sab)
    .lanes.map((l, k) => (Atomics.load(i32, l.base + VcpuLane.OWNER) !== 0 ? k : -1))
    .filter((k) => k >= 0);
}

test('synchronous PIO, MMIO and config accesses go through a vCPU lane and read what the slots read', async (t) => {
  const service = await startService();
  const vm = await connectVm(service);
  try {
    const td = openOn(vm, TESTDEV);
    const port = Number(vm.getRegionInfo(td, 0).regionStart);
    t.is(vm.pioRead(td, port, 4), TESTDEV_ID);
    t.deepEqual(heldLanes(channelOf(vm)), [0], 'the VM thread holds lane 0, and only it');
    const i32 = new Int32Array(channelOf(vm));
    const base = attachChannel(channelOf(vm)).lanes[0]!.base;
    const before = Atomics.load(i32, base + VcpuLane.REQ_SEQ);
    for (let i = 0; i < 100; i++) {
      vm.pioWrite(td, port + 4, 4, i * 0x0101_0101);
      t.is(vm.pioRead(td, port + 4, 4), (i * 0x0101_0101) >>> 0);
      t.is(await vm.pioReadAsync(td, port + 4, 4), (i * 0x0101_0101) >>> 0, 'the asynchronous (slot) path agrees');
    }
    t.is(Atomics.load(i32, base + VcpuLane.REQ_SEQ) - before, 200, 'every synchronous access of the loop went through the lane');
    t.is(vm.cfgRead(td, 0, 4), await vm.cfgReadAsync(td, 0, 4));
    // An error answer (with its message) comes back through the lane too.
    const e = t.throws(() => vm.pioRead(td, 0x10, 4));
    t.regex(e!.message, /VERR_OUT_OF_RANGE.*outside the I\/O BARs/);
  } finally {
    await vm.close();
    await service.close();
  }
});

test('more ring-3 clients than lanes: every one is answered, the ones without a lane through the slots', async (t) => {
  const service = await startService();
  const vm = await connectVm(service);
  try {
    const td = openOn(vm, TESTDEV);
    const port = Number(vm.getRegionInfo(td, 0).regionStart);
    const clients = Array.from({ length: VCPU_LANE_COUNT + 3 }, () => RawPciClient.attach(vm.endpoint()));
    for (let round = 0; round < 3; round++) for (const c of clients) t.is(c.pioRead(td, port, 4), TESTDEV_ID);
    t.is(heldLanes(channelOf(vm)).length, VCPU_LANE_COUNT);
  } finally {
    await vm.close();
    await service.close();
  }
});

test('a thread idle past its lane lease loses the lane to another and its next call claims a new one; within the lease it renews nothing', async (t) => {
  const service = await startService();
  const vm = await connectVm(service);
  try {
    const td = openOn(vm, TESTDEV);
    const port = Number(vm.getRegionInfo(td, 0).regionStart);
    // A thread whose calls have a 50 ms deadline: its lease runs VCPU_LANE_LEASE_MS past that.
    const cpu = RawPciClient.attach(vm.endpoint(), { timeoutMs: 50 });
    t.is(cpu.pioRead(td, port, 4), TESTDEV_ID);
    const i32 = new Int32Array(channelOf(vm));
    const lanes = attachChannel(channelOf(vm)).lanes;
    const k = heldLanes(channelOf(vm)).at(-1)!;
    const lease = Atomics.load(i32, lanes[k]!.base + VcpuLane.OWNER);
    for (let i = 0; i < 100; i++) t.is(cpu.pioRead(td, port, 4), TESTDEV_ID);
    t.is(Atomics.load(i32, lanes[k]!.base + VcpuLane.OWNER), lease, 'calls within the lease leave OWNER alone (no compare-and-swap per call)');
    await new Promise((r) => setTimeout(r, 50 + VCPU_LANE_LEASE_MS + SLOT_LEASE_GRACE_MS + 100));
    // Its lease expired: another thread takes the lane, as #holdLane does.
    t.true(leaseExpired(lease, channelClockMs()));
    Atomics.store(i32, lanes[k]!.base + VcpuLane.OWNER, 0x1234_5679);
    t.is(cpu.pioRead(td, port, 4), TESTDEV_ID);
    t.true(heldLanes(channelOf(vm)).length >= 3, 'the idle thread claimed another lane');
    t.is(Atomics.load(i32, lanes[k]!.base + VcpuLane.OWNER), 0x1234_5679, 'and did not take its old lane back from the new holder');
  } finally {
    await vm.close();
    await service.close();
  }
});

test('a lane frame that is not a fixed access, or a REQ_LEN out of range, is answered with a status and ring 0 keeps serving', async (t) => {
  const service = await startService();
  const vm = await connectVm(service);
  try {
    const td = openOn(vm, TESTDEV);
    const port = Number(vm.getRegionInfo(td, 0).regionStart);
    const sab = channelOf(vm);
    const k = VCPU_LANE_COUNT - 1; // a lane no client of this test holds
    const msgpackFrame = frameFor(vm.session, PCIRAWR0_DO.PIO_READ, td, { port, cb: 4 });
    t.true(msgpackFrame.length <= VCPU_LANE_REQ_BYTES);
    t.like(postOnLane(sab, k, msgpackFrame), { rc: VBoxStatus.VERR_INVALID_PARAMETER });
    // A parking operation cannot reach a lane: a GET_IRQ frame there is not fixed either.
    t.like(postOnLane(sab, k, frameFor(vm.session, PCIRAWR0_DO.GET_IRQ, 0, { timeoutMs: 10_000 })), { rc: VBoxStatus.VERR_INVALID_PARAMETER });
    const good = fixedFrame(vm.session, PCIRAWR0_DO.PIO_READ, 4, td, port);
    for (const len of [-1, 0, 3, 47, 49, VCPU_LANE_REQ_BYTES + 1, 0x7fff_ffff]) {
      const a = postOnLane(sab, k, good, len);
      t.true(a !== undefined && a.rc < 0 && a.rc !== VERR_INTERNAL_ERROR, `REQ_LEN ${len}: ${JSON.stringify(a)}`);
    }
    // The same frame with its true length is served, on the lane and through the client.
    t.deepEqual(postOnLane(sab, k, good), { rc: 0, out: { value: TESTDEV_ID } as never });
    // Another session's number in a fixed frame: refused like a msgpackr frame's.
    t.like(postOnLane(sab, k, fixedFrame(vm.session + 1, PCIRAWR0_DO.PIO_READ, 4, td, port)), { rc: VBoxStatus.VERR_INVALID_HANDLE });
    t.is(vm.pioRead(td, port, 4), TESTDEV_ID);
  } finally {
    await vm.close();
    await service.close();
  }
});

test("a thread scribbling every vCPU lane of one VM leaves another VM correct, and the scribbled VM's slots still work and it closes", async (t) => {
  const service = await startService();
  const victim = await connectVm(service);
  const bystander = await connectVm(service);
  const hv = openOn(victim, EDU);
  const hb = openOn(bystander, TESTDEV);
  const port = Number(bystander.getRegionInfo(hb, 0).regionStart);
  const edu0 = victim.getRegionInfo(hv, 0).regionStart;
  const stop = stopWord();
  const scribbler = await startHostile({ mode: 'vcpu-lanes', channel: channelOf(victim), stop, seed: 0x1a2e, slotCount: 64, slotBytes: 4096 });
  try {
    let wrong = 0;
    let pairs = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 1500) {
      bystander.pioWrite(hb, port + 4, 4, pairs);
      if (bystander.pioRead(hb, port + 4, 4) !== pairs >>> 0) wrong++;
      pairs++;
    }
    t.is(wrong, 0);
    // The victim's own asynchronous calls (slots) are still served while its lanes are scribbled.
    t.is(await victim.mmioReadAsync(hv, edu0, 4), 0x0100_00ed);
    await scribbler.stop();
    const writes = scribbler.reports.at(-1)?.writes ?? 0;
    t.true(writes > 10_000);
    t.log(`${writes} random writes into the victim's 16 lanes; the bystander made ${pairs} checked write/read pairs, all right`);
    await within(victim.close(), 5000, 'closing the scribbled VM');
    t.true(bystander.openDevice(EDU, { detachHostDriver: true }) > 0);
  } finally {
    await scribbler.stop();
    await bystander.close();
    await within(service.close(), 10_000, 'service.close()');
  }
});

test('a lane request ring 0 holds when the channel closes is answered VERR_INVALID_STATE, and lane requests get no ticket (they cannot park)', (t) => {
  const ch = createChannel(1, 4, 256);
  const tickets: (number | undefined)[] = [];
  const answer = new FixedAnswerWriter();
  const server = new ChannelServer(
    ch.sab,
    {
      handle: (_f, _l, ticket) => {
        tickets.push(ticket);
        return answer.encode([7], false);
      },
      poll: () => Number.POSITIVE_INFINITY,
    },
    { geometry: { slotCount: 4, slotBytes: 256 } },
  );
  const i32 = ch.i32;
  const lane = ch.lanes[2]!;
  const post = () => {
    lane.req.set(fixedFrame(1, PCIRAWR0_DO.PIO_READ, 4, 5, 0xc000));
    Atomics.store(i32, lane.base + VcpuLane.REQ_LEN, FIXED_SINGLE_BYTES);
    Atomics.add(i32, lane.base + VcpuLane.REQ_SEQ, 1);
  };
  post();
  t.true(server.serveOnce());
  t.deepEqual(tickets, [undefined]);
  t.is(Atomics.load(i32, lane.base + VcpuLane.ANS_SEQ), 1);
  t.deepEqual(codec.decodeAnswer(lane.ans.slice(0, Atomics.load(i32, lane.base + VcpuLane.ANS_LEN))), { rc: 0, out: { value: 7 } as never });
  t.false(server.serveOnce(), 'an answered lane is not served again');
  post();
  server.stop();
  server.run(); // stopped before it starts: closes, answering what is posted
  t.is(Atomics.load(i32, lane.base + VcpuLane.ANS_SEQ), 2);
  t.like(codec.decodeAnswer(lane.ans.slice(0, Atomics.load(i32, lane.base + VcpuLane.ANS_LEN))), { rc: VBoxStatus.VERR_INVALID_STATE });
  t.is(VCPU_LANE_REQ_AT % 4, 0, 'the lane frame is word-aligned (ring 0 copies it by words)');
});
