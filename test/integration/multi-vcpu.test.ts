// Several vCPU threads of one VM call ring 0 at once through the same channel, synchronously.

import { Worker } from 'node:worker_threads';
import test from 'ava';
import { openOn, TESTDEV, withVm } from '../helpers/ring0.js';

test('two vCPU threads each doing 2000 synchronous PIO round trips get every answer right', async (t) => {
  await withVm(async (vm) => {
    const h = openOn(vm, TESTDEV);
    const port = Number(vm.getRegionInfo(h, 0).regionStart);
    const src = `
      const { workerData, parentPort } = require('node:worker_threads');
      import(workerData.client).then(({ RawPciClient }) => {
        const c = RawPciClient.attach(workerData.endpoint);
        let bad = 0;
        for (let i = 0; i < 2000; i++) {
          if (c.pioRead(workerData.h, workerData.port, 4) !== 0x52500001) bad++;
          c.pioWrite(workerData.h, workerData.port + 4, 1, (i + workerData.id) & 0xff);
        }
        parentPort.postMessage({ bad, calls: c.transport.calls });
      });`;
    const client = new URL('../../r3/client.js', import.meta.url).href;
    const runs = [0, 1].map(
      (id) =>
        new Promise<{ bad: number; calls: number }>((resolve, reject) => {
          const w = new Worker(src, { eval: true, workerData: { client, endpoint: vm.endpoint(), h, port, id } });
          w.once('message', resolve);
          w.once('error', reject);
        }),
    );
    const results = await Promise.all(runs);
    for (const r of results) t.deepEqual(r, { bad: 0, calls: 4000 });
    t.is(vm.pioRead(h, port, 4), 0x5250_0001);
  });
});
