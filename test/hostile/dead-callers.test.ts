// Slots of a dead caller come back: vCPU threads terminated in the middle of calls do not use up the channel.

import test from 'ava';
import { attachChannel, Slot, SlotState } from '../../shared/channel-layout.js';
import { EDU, openOn, withVm } from '../helpers/ring0.js';
import { startHostile } from './helpers/threads.js';

test('a VM with 16 slots stays usable after 96 vCPU threads were terminated in the middle of their calls', async (t) => {
  await withVm({ connect: { slotCount: 16 } }, async (vm) => {
    const h = openOn(vm, EDU);
    const bar = vm.getRegionInfo(h, 0).regionStart;
    // Each thread parks a GET_IRQ in ring 0 (its slot TAKEN, answered later) and dies in it.
    for (let wave = 0; wave < 8; wave++) {
      const threads = await Promise.all(
        Array.from({ length: 10 }, () => startHostile({ mode: 'call', endpoint: vm.endpoint(), op: 'getIrq', handle: h, timeoutMs: 300, irqTimeoutMs: 200 })),
      );
      await new Promise((r) => setTimeout(r, 30));
      await Promise.all(threads.map((th) => th.worker.terminate()));
    }
    // A last wave as large as the channel: every slot is left behind by a dead caller.
    const last = await Promise.all(
      Array.from({ length: 16 }, () => startHostile({ mode: 'call', endpoint: vm.endpoint(), op: 'getIrq', handle: h, timeoutMs: 300, irqTimeoutMs: 200 })),
    );
    await new Promise((r) => setTimeout(r, 30));
    await Promise.all(last.map((th) => th.worker.terminate()));
    // Slots the dead callers left behind (their GET_IRQs are answered into them, never read).
    const i32 = new Int32Array(vm.endpoint().channel);
    const view = attachChannel(vm.endpoint().channel);
    const leftBehind = Array.from({ length: view.slotCount }, (_, i) => Atomics.load(i32, view.header[i]! + Slot.STATE) & 7).filter(
      (st) => st !== SlotState.FREE,
    ).length;
    // Every call of the VM still works (the dead callers' slots are reclaimed once their deadlines pass).
    for (let i = 0; i < 100; i++) t.is(vm.mmioRead(h, bar, 4), 0x0100_00ed);
    t.is(vm.transport.timeouts, 0);
    t.log(
      `96 vCPU threads terminated inside GET_IRQ on a 16-slot channel; ${leftBehind} of 16 slots left behind; the VM's next calls reclaimed ${vm.transport.reclaimed} and all 100 succeeded`,
    );
  });
});
