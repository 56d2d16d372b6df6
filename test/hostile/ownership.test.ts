// A device belongs to one VM, and so does its IOMMU group: a second open in the same session, or a function of a group another VM holds, is VERR_RESOURCE_BUSY naming the holder.

import test from 'ava';
import { RawPciError } from '../../r3/errors.js';
import { Bdf } from '../../shared/bdf.js';
import { PCIRAWDRIVERRFLAG, PCIRAWR0_DO } from '../../shared/protocol.js';
import { VBoxStatus } from '../../shared/status.js';
import { TESTDEV, withVms } from '../helpers/ring0.js';

test('a session that opens a device it already holds is refused, naming its handle, and the first handle keeps exclusivity', async (t) => {
  await withVms({ vms: 2 }, async ([a, b]) => {
    const h = a.openDevice(TESTDEV, { detachHostDriver: true });
    const again = t.throws(() => a.openDevice(TESTDEV, { detachHostDriver: true }), { instanceOf: RawPciError });
    t.is(again?.code, 'VERR_RESOURCE_BUSY');
    t.regex(again!.message, new RegExp(`already open in this session as handle 0x${h.toString(16)}`));
    // 300 more tries: every one refused, none gives a second instance.
    const params = { pciAddress: Bdf.parse(TESTDEV).pciAddress, flags: PCIRAWDRIVERRFLAG.DETACH_HOST_DRIVER };
    let refused = 0;
    for (let i = 0; i < 300; i++) if (a.rawSync(PCIRAWR0_DO.OPEN_DEVICE, 0, params).rc === VBoxStatus.VERR_RESOURCE_BUSY) refused++;
    t.is(refused, 300);
    // Another VM still cannot open it while the first handle lives.
    const other = t.throws(() => b.openDevice(TESTDEV, { detachHostDriver: true }), { instanceOf: RawPciError });
    t.is(other?.code, 'VERR_RESOURCE_BUSY');
    t.regex(other!.message, new RegExp(`open in VM session ${a.session}`));
    a.closeDevice(h);
    t.true(b.openDevice(TESTDEV, { detachHostDriver: true }) > 0);
  });
});

test('two VMs cannot each open one function of the same IOMMU group; one VM may open both', async (t) => {
  const inventory = {
    devices: [
      { bdf: '0000:03:00.0', model: 'edu', driver: null, iommuGroup: 7, irq: 11 },
      { bdf: '0000:03:00.1', model: 'rawpci-testdev', driver: null, iommuGroup: 7, irq: 10 },
      { bdf: '0000:04:00.0', model: 'rawpci-testdev', driver: null, iommuGroup: 8, irq: 10 },
    ],
  };
  await withVms({ vms: 2, service: { inventory } }, async ([a, b]) => {
    const fn0 = a.openDevice('0000:03:00.0', { detachHostDriver: true });
    const err = t.throws(() => b.openDevice('0000:03:00.1', { detachHostDriver: true }), { instanceOf: RawPciError });
    t.is(err?.code, 'VERR_RESOURCE_BUSY');
    t.regex(err!.message, new RegExp(`IOMMU group 7.*VM session ${a.session}.*0000:03:00\\.0`));
    // A device of another group is unaffected.
    t.true(b.openDevice('0000:04:00.0') > 0);
    // The holder may open the group's other function too.
    const fn1 = a.openDevice('0000:03:00.1');
    a.closeDevice(fn0);
    // While a still holds one function, the group is still a's.
    t.is(b.rawSync(PCIRAWR0_DO.OPEN_DEVICE, 0, { pciAddress: Bdf.parse('0000:03:00.0').pciAddress, flags: 1 }).rc, VBoxStatus.VERR_RESOURCE_BUSY);
    a.closeDevice(fn1);
    t.true(b.openDevice('0000:03:00.1') > 0);
  });
});
