// Close is prompt for everyone: calls in flight on other vCPU threads learn of the close within milliseconds, not at their deadlines.

import test from 'ava';
import { connectVm, EDU, openOn, withVm, withVms } from '../helpers/ring0.js';
import { startHostile, within } from './helpers/threads.js';

test('20 times over, a vCPU thread reading in a loop when the VM closes gets VERR_INVALID_STATE at once, not at its 3 s deadline', async (t) => {
  await withVms({ vms: 0 }, async (_vms, service) => {
    const late: number[] = [];
    const waits: number[] = [];
    for (let trial = 0; trial < 20; trial++) {
      const vm = await connectVm(service);
      const h = openOn(vm, EDU);
      const bar = vm.getRegionInfo(h, 0).regionStart;
      const vcpu = await startHostile({ mode: 'call', endpoint: vm.endpoint(), op: 'loop', handle: h, address: String(bar), timeoutMs: 3000 });
      await new Promise((r) => setTimeout(r, 5 + trial));
      const closing = Date.now();
      await within(vm.close(), 5000, 'vm.close()');
      const r = await within(
        vcpu.next((x) => x.done === true),
        5000,
        'the vCPU thread',
      );
      t.is(r.code, 'VERR_INVALID_STATE');
      waits.push(r.endedAt! - closing);
      if (r.endedAt! - closing > 500) late.push(r.endedAt! - closing);
      await vcpu.worker.terminate();
    }
    t.deepEqual(late, [], `calls that learned of the close late (ms after close began): ${late.join(', ')}`);
    t.log(`ms from close to the vCPU's VERR_INVALID_STATE over 20 trials: max ${Math.max(...waits)}, median ${waits.sort((a, b) => a - b)[10]}`);
  });
});

test('a vCPU thread parked in GET_IRQ when the VM closes gets VERR_INVALID_STATE at once', async (t) => {
  await withVm(async (vm) => {
    const h = openOn(vm, EDU);
    vm.registerIrqHandler(h, 11);
    const vcpu = await startHostile({ mode: 'call', endpoint: vm.endpoint(), op: 'getIrq', handle: h, timeoutMs: 3000, irqTimeoutMs: 3000 });
    await new Promise((r) => setTimeout(r, 50));
    const closing = Date.now();
    await vm.close();
    const r = await within(
      vcpu.next((x) => x.done === true),
      5000,
      'the parked vCPU thread',
    );
    t.is(r.code, 'VERR_INVALID_STATE');
    t.true(r.endedAt! - closing < 500, `learned of the close after ${r.endedAt! - closing} ms`);
  });
});
