// Closing a device or ending a session cleans up in one fixed order: IRQs stopped, decode and bus mastering off, unmapped, domain detached, reset, driver rebound, exclusivity released.
import test from 'ava';
import { RawPciError } from '../../r3/errors.js';
import { PCIRAW_POWER } from '../../shared/protocol.js';
import { connectVm, EDU, openOn, startService, TESTDEV, withVm } from '../helpers/ring0.js';

test('ending a session closes its devices: drivers rebound, exclusivity released, devices reset', async (t) => {
  await withVm(async (a, service) => {
    const edu = openOn(a, EDU);
    const td = openOn(a, TESTDEV);
    const bar0 = a.getRegionInfo(edu, 0).regionStart;
    a.registerIrqHandler(edu, 11);
    a.mmioWrite(edu, bar0 + 4n, 4, 0x1111_2222); // liveness: device state that a reset clears
    const m = a.mapRegion(td, 2);
    m.view.setUint32(0, 0xabcd_ef01, true);
    await a.close(); // no CLOSE_DEVICE: the session end must do it all

    const b = await connectVm(service);
    // Host drivers are back: opening without DETACH_HOST_DRIVER is refused again.
    for (const bdf of [EDU, TESTDEV]) {
      const err = t.throws(() => b.openDevice(bdf), { instanceOf: RawPciError });
      t.is(err?.code, 'VERR_RESOURCE_BUSY', bdf);
      t.regex(err!.message, /bound to host driver/);
    }
    // Exclusivity is released: another VM opens them.
    const e2 = b.openDevice(EDU, { detachHostDriver: true });
    const t2 = b.openDevice(TESTDEV, { detachHostDriver: true });
    b.powerStateChange(e2, PCIRAW_POWER.ON);
    b.powerStateChange(t2, PCIRAW_POWER.ON);
    // Fresh, reset devices: decode and bus mastering off, registers at power-on values.
    t.is(b.cfgRead(e2, 4, 2) & 0x7, 0);
    b.cfgWrite(e2, 4, 2, 0x2);
    t.is(b.mmioRead(e2, bar0 + 4n, 4), 0);
    const m2 = b.mapRegion(t2, 2);
    t.is(m2.view.getUint32(0, true), 0);
    await b.close();
  });
});

test('CLOSE_DEVICE stops queued interrupts of the device and its handle dies', async (t) => {
  await withVm(async (vm) => {
    const edu = openOn(vm, EDU);
    const bar0 = vm.getRegionInfo(edu, 0).regionStart;
    vm.registerIrqHandler(edu, 11);
    vm.mmioWrite(edu, bar0 + 0x60n, 4, 0x8); // raise: an INTx event is queued
    await new Promise((r) => setTimeout(r, 20));
    vm.closeDevice(edu);
    t.is(vm.getIrq(0), undefined, 'queued events of a closed device are dropped');
    const err = t.throws(() => vm.mmioRead(edu, bar0, 4), { instanceOf: RawPciError });
    t.is(err?.code, 'VERR_INVALID_HANDLE');
  });
});

test('closing a VM twice and closing the service with VMs still connected are both clean', async (t) => {
  const service = await startService();
  const vm = await connectVm(service);
  openOn(vm, EDU);
  await vm.close();
  await vm.close();
  const vm2 = await connectVm(service);
  openOn(vm2, EDU);
  t.is(service.connections, 1);
  await service.close();
  t.is(service.connections, 0);
  t.true(vm2.rawSync(32, 0, {}).rc < 0, 'calls on a closed channel fail with a status');
});
