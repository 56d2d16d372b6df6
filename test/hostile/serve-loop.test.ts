// No request can stop a serve loop silently: whatever a device model does and whatever ring 3 sends, every request is answered and the loop keeps serving.

import { fileURLToPath } from 'node:url';
import test from 'ava';
import { FAULTY } from '../fixtures/faulty-model.js';
import { connectVm, startService } from '../helpers/ring0.js';
import { within } from './helpers/threads.js';

const faultyModule = fileURLToPath(new URL('../fixtures/faulty-model.js', import.meta.url));
const FAULTY_BDF = '0000:00:07.0';
const inventory = { devices: [{ bdf: FAULTY_BDF, model: 'test-faulty', driver: null, iommuGroup: 5, irq: 9 }] };

for (const [name, code] of [
  ['an MSI address past 2^64', FAULTY.MSI_ADDRESS_PAST_2_64],
  ['a negative MSI address', FAULTY.MSI_ADDRESS_NEGATIVE],
  ['a non-integer MSI vector and data', FAULTY.MSI_NOT_INTEGER],
  ['a device timer that throws', FAULTY.THROWING_TIMER],
] as const) {
  test(`a device model sending ${name} does not stop the serve loop: GET_IRQ is answered, later calls succeed`, async (t) => {
    const service = await startService({ inventory, modelModules: [faultyModule] });
    const vm = await connectVm(service, { timeoutMs: 2000 });
    try {
      const h = vm.openDevice(FAULTY_BDF);
      vm.registerIrqHandler(h, 9);
      const bar = vm.getRegionInfo(h, 0).regionStart;
      // One GET_IRQ parked before the bad event, one sent after it.
      const parked = vm.getIrqAsync(300, h);
      await new Promise((r) => setTimeout(r, 20));
      vm.mmioWrite(h, bar, 4, code);
      await new Promise((r) => setTimeout(r, 20));
      t.is(await within(parked, 3000, 'the parked GET_IRQ'), undefined);
      t.is(vm.getIrq(50, h), undefined);
      t.is(vm.mmioRead(h, bar + 4n, 4), 0xfa17);
      // Events still flow after the bad one.
      vm.mmioWrite(h, bar, 4, FAULTY.RAISE_INTX);
      t.is(vm.getIrq(1000, h)?.kind, 'intx');
    } finally {
      await within(vm.close(), 5000, 'vm.close()');
      await service.close();
    }
  });
}
