// A connected VM holds one ring-0 worker: with every worker serving, connecting another VM fails with a message naming the fix, and works once one disconnects.
import test from 'ava';
import { RawPciClient } from '../../r3/client.js';
import { connectVm, startService, withVm, withVms } from '../helpers/ring0.js';

test('maxVms bounds the VMs served at once; a freed worker serves the next VM', async (t) => {
  await withVm({ service: { maxVms: 1 } }, async (a, service) => {
    const err = await t.throwsAsync(RawPciClient.connect(service, { startTimeoutMs: 500 }));
    t.regex(err!.message, /all 1 workers serve other VMs.*larger maxVms/);
    await a.close();
    const b = await connectVm(service);
    t.true(b.session > a.session);
    await b.close();
  });
});

test('a worker that has not started in time is reported as still starting, not as busy with other VMs', async (t) => {
  await withVm({ service: { maxVms: 2 } }, async (_a, service) => {
    // startTimeoutMs 0: the deadline passes before any thread can pick the channel up.
    const err = await t.throwsAsync(RawPciClient.connect(service, { startTimeoutMs: 0 }));
    t.regex(err!.message, /within 0 ms \(1 of 2 workers serve other VMs\).*still starting.*raise startTimeoutMs/);
    t.notRegex(err!.message, /all 2 workers/);
  });
});

test('bad service and connection options are RangeErrors naming the option', async (t) => {
  await t.throwsAsync(startService({ maxVms: 0 }), { instanceOf: RangeError, message: /maxVms/ });
  await t.throwsAsync(startService({ host: 'xen' as never }), { instanceOf: RangeError, message: /host 'xen'/ });
  await withVms({ vms: 0 }, async (_vms, service) => {
    await t.throwsAsync(RawPciClient.connect(service, { guestRamBytes: 1000 }), { instanceOf: RangeError, message: /guestRamBytes/ });
    await t.throwsAsync(RawPciClient.connect(service, { slotCount: 0 }), { instanceOf: RangeError, message: /slotCount/ });
  });
});
