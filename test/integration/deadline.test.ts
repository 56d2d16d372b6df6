// Every call has a deadline: a ring 0 that does not answer gives VERR_TIMEOUT, never a hang, and service resumes.

import { fileURLToPath } from 'node:url';
import test from 'ava';
import { ChannelClient } from '../../r3/channel.js';
import { RawPciError } from '../../r3/errors.js';
import { createChannel } from '../../shared/channel-layout.js';
import { PCIRAWR0_DO } from '../../shared/protocol.js';
import { VBoxStatus as S } from '../../shared/status.js';
import { connectVm, startService } from '../helpers/ring0.js';

const stallModule = fileURLToPath(new URL('../fixtures/stall-model.js', import.meta.url));
const inventory = { devices: [{ bdf: '0000:00:06.0', model: 'test-stall', driver: null, iommuGroup: 9, irq: 5, options: { stallMs: 1500 } }] };

test('a channel nobody serves answers VERR_TIMEOUT at the deadline', (t) => {
  const ch = createChannel(42, 4, 256);
  const client = new ChannelClient(ch.sab, { timeoutMs: 100 });
  const t0 = performance.now();
  const a = client.callSync(PCIRAWR0_DO.INIT_VM, 0, {});
  t.is(a.rc, S.VERR_TIMEOUT);
  t.true(performance.now() - t0 < 5000);
  t.regex(a.msg ?? '', /did not answer/);
  t.is(client.stats.timeouts, 1);
});

test('a stalled ring 0 gives VERR_TIMEOUT; once it recovers the next call succeeds', async (t) => {
  const service = await startService({ inventory, modelModules: [stallModule] });
  const vm = await connectVm(service, { timeoutMs: 300 });
  try {
    const h = vm.openDevice('0000:00:06.0');
    const bar = vm.getRegionInfo(h, 0).regionStart;
    const err = t.throws(() => vm.mmioRead(h, bar, 4), { instanceOf: RawPciError });
    t.is(err?.code, 'VERR_TIMEOUT');
    t.is(err?.op, 'MMIO_READ');
    // The async form times out the same way.
    const async = await vm.raw(PCIRAWR0_DO.MMIO_READ, h, { address: bar, cb: 4 }, 200);
    t.is(async.rc, S.VERR_TIMEOUT);
    // Ring 0 finishes its stalls and serves again; the abandoned slots were reclaimed.
    await new Promise((r) => setTimeout(r, 3500));
    t.is(vm.mmioRead(h, bar + 4n, 4), 0x5a11);
    t.is(vm.transport.timeouts, 2);
  } finally {
    await vm.close();
    await service.close();
  }
});
