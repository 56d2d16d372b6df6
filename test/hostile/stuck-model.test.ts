// A device model that never returns does not take the service with it: its worker is replaced through piscina, the VM's devices are released as a close releases them, and capacity comes back.

import { fileURLToPath } from 'node:url';
import test from 'ava';
import type { Ring0ServiceOptions } from '../../r0/service.js';
import { RawPciClient } from '../../r3/client.js';
import { RawPciError } from '../../r3/errors.js';
import { PCIRAWR0_DO } from '../../shared/protocol.js';
import { VBoxStatus } from '../../shared/status.js';
import { connectVm, startService } from '../helpers/ring0.js';
import { within } from './helpers/threads.js';

const stallModule = fileURLToPath(new URL('../fixtures/stall-model.js', import.meta.url));
const STALL = '0000:00:06.0';
const inventory = { devices: [{ bdf: STALL, model: 'test-stall', driver: 'stalldrv', iommuGroup: 9, irq: 5, options: { stallMs: 1e9 } }] };

test("a worker stuck in a device model past requestLimitMs is replaced; the VM's calls and close return, its device is released and rebound, and maxVms VMs connect again", async (t) => {
  const service = await startService({ inventory, modelModules: [stallModule], maxVms: 3, requestLimitMs: 500 } as Ring0ServiceOptions);
  const stuck = await connectVm(service, { timeoutMs: 300 });
  const bystander = await connectVm(service);
  try {
    const h = stuck.openDevice(STALL, { detachHostDriver: true });
    const bar = stuck.getRegionInfo(h, 0).regionStart;
    const err = t.throws(() => stuck.mmioRead(h, bar, 4), { instanceOf: RawPciError });
    t.is(err?.code, 'VERR_TIMEOUT');
    // Once ring 0 gave the worker up, the VM's calls are answered at once with a status.
    const t0 = performance.now();
    let rc: number = VBoxStatus.VERR_TIMEOUT;
    while (rc === VBoxStatus.VERR_TIMEOUT && performance.now() - t0 < 5000) rc = stuck.rawSync(PCIRAWR0_DO.GET_REGION_INFO, h, { region: 0 }).rc;
    t.is(rc, VBoxStatus.VERR_INVALID_STATE);
    t.log(`the stuck VM's calls answered VERR_INVALID_STATE ${Math.round(performance.now() - t0 + 300)} ms after the stuck request began (requestLimitMs 500)`);
    await within(stuck.close(), 5000, 'closing the stuck VM');
    // The device was released the way a close releases it: exclusivity freed, host driver back.
    const bound = t.throws(() => bystander.openDevice(STALL), { instanceOf: RawPciError });
    t.regex(bound!.message, /bound to host driver stalldrv/);
    const again = bystander.openDevice(STALL, { detachHostDriver: true });
    bystander.closeDevice(again);
    // Capacity came back: with the bystander connected, two more VMs connect (maxVms 3).
    const more = [await connectVm(service, { startTimeoutMs: 5000 }), await connectVm(service, { startTimeoutMs: 5000 })];
    for (const vm of more) await vm.close();
  } finally {
    await bystander.close();
    await within(service.close(), 10_000, 'service.close() after a stuck worker');
  }
});

test('Ring0Service.close() returns while a worker is stuck in a model', async (t) => {
  const service = await startService({ inventory, modelModules: [stallModule], requestLimitMs: 500 } as Ring0ServiceOptions);
  const vm = await RawPciClient.connect(service, { timeoutMs: 200 });
  const h = vm.openDevice(STALL, { detachHostDriver: true });
  const bar = vm.getRegionInfo(h, 0).regionStart;
  t.is(vm.rawSync(PCIRAWR0_DO.MMIO_READ, h, { address: bar, cb: 4 }).rc, VBoxStatus.VERR_TIMEOUT);
  await within(service.close(), 10_000, 'service.close()');
  await within(vm.close(), 2000, 'vm.close() after the service closed');
  t.is(service.stats.workersReplaced, 1);
});

test('terminateVm disconnects a VM at once: its worker is replaced, its calls answer VERR_INVALID_STATE, its devices are released and rebound', async (t) => {
  const service = await startService({ maxVms: 2 });
  const vm = await connectVm(service);
  const other = await connectVm(service);
  try {
    const h = vm.openDevice('0000:00:04.0', { detachHostDriver: true });
    t.true(await within(service.terminateVm(vm.session), 5000, 'terminateVm'));
    t.is(service.stats.workersReplaced, 1);
    t.is(vm.rawSync(PCIRAWR0_DO.GET_REGION_INFO, h, { region: 0 }).rc, VBoxStatus.VERR_INVALID_STATE);
    // edu's host driver is back and nobody owns it: opening without detaching is refused for the driver, with detaching it works.
    const bound = t.throws(() => other.openDevice('0000:00:04.0'), { instanceOf: RawPciError });
    t.regex(bound!.message, /bound to host driver edu/);
    other.closeDevice(other.openDevice('0000:00:04.0', { detachHostDriver: true }));
    t.false(await service.terminateVm(9999));
    // The replaced worker's capacity serves a new VM (maxVms 2, one still connected).
    const next = await connectVm(service, { startTimeoutMs: 5000 });
    await next.close();
    await within(vm.close(), 2000, 'vm.close() after terminateVm');
  } finally {
    await other.close();
    await service.close();
  }
});
