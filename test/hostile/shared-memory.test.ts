// Ring 3's shared memory never controls ring 0: stop requests, the spin budget and the slot geometry are ring 0's own, and a thread scribbling one VM's channel harms nobody else.

import test from 'ava';
import { Ctl, ServerState } from '../../shared/channel-layout.js';
import { channelOf } from '../helpers/raw-channel.js';
import { connectVm, EDU, openOn, startService, TESTDEV, withVm } from '../helpers/ring0.js';
import { startHostile, stopWord, within } from './helpers/threads.js';

test('vm.close() returns while a ring-3 thread keeps writing RUNNING into SERVER_STATE', async (t) => {
  const service = await startService();
  const vm = await connectVm(service);
  const h = openOn(vm, EDU);
  const stop = stopWord();
  const writer = await startHostile({ mode: 'store', channel: channelOf(vm), stop, index: Ctl.SERVER_STATE, value: ServerState.RUNNING });
  try {
    await within(vm.close(), 5000, 'vm.close() with a thread writing RUNNING');
    // The session really ended: its device is free for another VM.
    const other = await connectVm(service);
    t.true(other.openDevice(EDU, { detachHostDriver: true }) > 0);
    await other.close();
    t.true(h > 0);
  } finally {
    await writer.stop();
    await within(service.close(), 10_000, 'service.close()');
  }
});

test("a SERVER_SPIN_US of 2^31-1 written by ring 3 does not keep an idle VM's worker spinning", async (t) => {
  await withVm(async (vm) => {
    const i32 = new Int32Array(channelOf(vm));
    Atomics.store(i32, Ctl.SERVER_SPIN_US, 0x7fff_ffff);
    openOn(vm, TESTDEV); // work, then idleness
    const before = Atomics.load(i32, Ctl.SLEEPS);
    await new Promise((r) => setTimeout(r, 1500));
    // Ring 0 spins at most its own budget (1 ms by default), then sleeps at most 500 ms at a time.
    t.true(Atomics.load(i32, Ctl.SLEEPS) - before >= 2, `ring 0 slept ${Atomics.load(i32, Ctl.SLEEPS) - before} times in 1.5 s of idleness`);
  });
});

test('slot count and size rewritten by ring 3 change nothing: ring 0 keeps the geometry it created', async (t) => {
  const service = await startService();
  const vm = await connectVm(service);
  const i32 = new Int32Array(channelOf(vm));
  try {
    const h = openOn(vm, TESTDEV);
    const port = Number(vm.getRegionInfo(h, 0).regionStart);
    Atomics.store(i32, Ctl.SLOT_COUNT, 1024);
    Atomics.store(i32, Ctl.SLOT_BYTES, 1 << 20);
    for (let i = 0; i < 200; i++) t.is(vm.pioRead(h, port, 4), 0x5250_0001);
  } finally {
    await within(vm.close(), 5000, 'vm.close()');
    await service.close();
  }
});

test("a thread scribbling one VM's control block and slot headers leaves another VM correct, and the scribbled VM still closes and releases its device", async (t) => {
  const service = await startService();
  const victim = await connectVm(service);
  const bystander = await connectVm(service);
  const hv = openOn(victim, EDU);
  const hb = openOn(bystander, TESTDEV);
  const port = Number(bystander.getRegionInfo(hb, 0).regionStart);
  const stop = stopWord();
  const scribbler = await startHostile({ mode: 'scribble', channel: channelOf(victim), stop, seed: 0x5eed, slotCount: 64, slotBytes: 4096 });
  try {
    let wrong = 0;
    const t0 = performance.now();
    let reads = 0;
    while (performance.now() - t0 < 2000) {
      if (bystander.pioRead(hb, port, 4) !== 0x5250_0001) wrong++;
      bystander.pioWrite(hb, port + 4, 4, reads);
      if (bystander.pioRead(hb, port + 4, 4) !== reads >>> 0) wrong++;
      reads++;
    }
    t.is(wrong, 0);
    t.true(reads > 100);
    await scribbler.stop();
    const writes = scribbler.reports.at(-1)?.writes ?? 0;
    t.true(writes > 10_000);
    t.log(`${writes} random words scribbled into the victim's control block and slot headers; the bystander made ${reads} checked write/read pairs, all right`);
    await within(victim.close(), 5000, 'closing the scribbled VM');
    // Its device was released: the bystander can take it.
    t.true(bystander.openDevice(EDU, { detachHostDriver: true }) > 0);
    t.true(hv > 0);
  } finally {
    await scribbler.stop();
    await bystander.close();
    await within(service.close(), 10_000, 'service.close()');
  }
});
