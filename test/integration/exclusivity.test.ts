// A device belongs to one VM at a time; host drivers, bridges and IOMMU groups decide what may be opened.
import test from 'ava';
import { RawPciError } from '../../r3/errors.js';
import { connectVm, EDU, HOST_BRIDGE, startService, TESTDEV, withVm, withVms } from '../helpers/ring0.js';

test('a device open in one VM is VERR_RESOURCE_BUSY for another until closed', async (t) => {
  await withVms({ vms: 2 }, async ([a, b]) => {
    const h = a.openDevice(EDU, { detachHostDriver: true });
    const err = t.throws(() => b.openDevice(EDU, { detachHostDriver: true }), { instanceOf: RawPciError });
    t.is(err?.code, 'VERR_RESOURCE_BUSY');
    t.regex(err!.message, new RegExp(`open in VM session ${a.session}`));
    a.closeDevice(h);
    const hb = b.openDevice(EDU, { detachHostDriver: true });
    t.true(hb > 0);
  });
});

test('a device bound to a host driver needs DETACH_HOST_DRIVER; a host bridge is never assignable', async (t) => {
  await withVm(async (vm) => {
    const busy = t.throws(() => vm.openDevice(TESTDEV), { instanceOf: RawPciError });
    t.is(busy?.code, 'VERR_RESOURCE_BUSY');
    t.regex(busy!.message, /bound to host driver rawpci_testdev.*DETACH_HOST_DRIVER/);
    const bridge = t.throws(() => vm.openDevice(HOST_BRIDGE, { detachHostDriver: true }), { instanceOf: RawPciError });
    t.is(bridge?.code, 'VERR_ACCESS_DENIED');
    t.regex(bridge!.message, /bridge/);
  });
});

test('an IOMMU group with a member still bound to its driver is not viable, and the message names it', async (t) => {
  const inventory = {
    devices: [
      { bdf: '0000:03:00.0', model: 'edu', driver: 'edu', iommuGroup: 7, irq: 11 },
      { bdf: '0000:03:00.1', model: 'rawpci-testdev', driver: 'snd_hda_intel', iommuGroup: 7, irq: 10 },
    ],
  };
  await withVm({ service: { inventory } }, async (vm, service) => {
    const err = t.throws(() => vm.openDevice('0000:03:00.0', { detachHostDriver: true }), { instanceOf: RawPciError });
    t.is(err?.code, 'VERR_RESOURCE_BUSY');
    t.regex(
      err!.message,
      /0000:03:00\.0 is in IOMMU group 7 with 0000:03:00\.1 \(bound to snd_hda_intel\), which is still bound to a host driver: detach it too/,
    );
    // The same group with the other member unbound (as after 'rawpci attach') is viable.
    await vm.close();
    await service.close();
    const viable = { devices: [inventory.devices[0]!, { ...inventory.devices[1]!, driver: null }] };
    const s2 = await startService({ inventory: viable });
    const vm2 = await connectVm(s2);
    const h = vm2.openDevice('0000:03:00.0', { detachHostDriver: true });
    t.true(h > 0);
    await vm2.close();
    await s2.close();
  });
});

test('a bad inventory stops the service from starting with a message naming the field', async (t) => {
  const err = await t.throwsAsync(startService({ inventory: { devices: [{ bdf: 'nope', model: 'edu', driver: null, iommuGroup: 1, irq: 1 }] } }));
  t.regex(err!.message, /devices\[0\]\.bdf/);
});
