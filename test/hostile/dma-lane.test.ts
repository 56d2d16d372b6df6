// A hostile ring 3 on the DMA lane (guest memory ring 0 cannot share): wrong sequence numbers, wrong lengths, bad statuses and a lane scribbled at any moment never crash, hang or confuse ring 0; each DMA is a success or a reported fault, and ring 0 serves on.

import { fileURLToPath } from 'node:url';
import test from 'ava';
import type { Ring0Service, Ring0ServiceOptions } from '../../r0/service.js';
import { RawPciClient } from '../../r3/client.js';
import { attachChannel, DMA_OP, DmaLane } from '../../shared/channel-layout.js';
import type { Ring0Connection } from '../../shared/connection.js';
import { PCIRAW_IRQ_KIND, PCIRAW_MEMINFO, PCIRAWR0_DO } from '../../shared/protocol.js';
import { VBoxStatus } from '../../shared/status.js';
import { CountingMemory, connectLaneVm } from '../helpers/guest-memory.js';
import { openOn, RAM_BYTES, startService } from '../helpers/ring0.js';
import { startHostile, stopWord, within } from './helpers/threads.js';

const dmaNowModule = fileURLToPath(new URL('../fixtures/dma-now-model.js', import.meta.url));
const NOW = '0000:00:07.0';
const inventory = { devices: [{ bdf: NOW, model: 'test-dma-now', driver: 'dmanow', iommuGroup: 8, irq: 10 }] };
const serviceOptions = { inventory, modelModules: [dmaNowModule] } as Ring0ServiceOptions;

/** What a hostile ring 3 answers to one lane request: the answer words it stores (or nothing). */
type Answer = (req: { seq: number; op: number; address: number; len: number }) => { seq: number; status: number; len: number; bytes?: Uint8Array } | undefined;

/**
 * A VM whose ring 3 serves the lane itself, badly: the channel opened with guestMemory but no
 * honest client; calls go through an attached client (which serves no DMA) while `answer` runs
 * on the event loop for every request.
 */
async function hostileVm(service: Ring0Service, answer: { current: Answer }): Promise<{ vm: RawPciClient; conn: Ring0Connection; stop: () => Promise<void> }> {
  const mem = new CountingMemory(RAM_BYTES);
  const conn = await service.openChannel({ guestMemory: mem, dmaTimeoutMs: 1000 });
  const vm = RawPciClient.attach({ session: conn.session, channel: conn.channel, ram: conn.ram }, { timeoutMs: 10_000 });
  const { i32, ans } = attachChannel(conn.channel).dma;
  let running = true;
  const loop = (async () => {
    let seen = 0;
    while (running) {
      const bell = Atomics.load(i32, DmaLane.BELL);
      const seq = Atomics.load(i32, DmaLane.REQ_SEQ);
      if (seq !== 0 && seq !== seen) {
        seen = seq;
        const a = answer.current({
          seq,
          op: Atomics.load(i32, DmaLane.REQ_OP),
          address: Atomics.load(i32, DmaLane.REQ_ADDR_LO),
          len: Atomics.load(i32, DmaLane.REQ_LEN),
        });
        if (a) {
          if (a.bytes) ans.set(a.bytes.subarray(0, ans.length));
          Atomics.store(i32, DmaLane.ANS_STATUS, a.status);
          Atomics.store(i32, DmaLane.ANS_LEN, a.len);
          Atomics.store(i32, DmaLane.ANS_SEQ, a.seq);
          Atomics.notify(i32, DmaLane.ANS_SEQ);
        }
        continue;
      }
      const w = Atomics.waitAsync(i32, DmaLane.BELL, bell, 50);
      if (w.async) await w.value;
    }
  })();
  vm.initVm();
  vm.contigMemInfo(0n, 0n, BigInt(RAM_BYTES), PCIRAW_MEMINFO.MAP);
  return {
    vm,
    conn,
    stop: async () => {
      running = false;
      await loop;
      conn.stop();
      await conn.served.catch(() => {});
      conn.port.close();
    },
  };
}

const honest: Answer = (r) => ({ seq: r.seq, status: 0, len: r.len, bytes: new Uint8Array(r.len).fill(0x42) });

test('wrong sequence numbers, wrong lengths and failed statuses are DMA faults reported to ring 3; the model sees failure and ring 0 serves on', async (t) => {
  const service = await startService(serviceOptions);
  const answer = { current: honest };
  const { vm, stop } = await hostileVm(service, answer);
  try {
    const h = openOn(vm, NOW);
    const bar = vm.getRegionInfo(h, 0).regionStart;
    const sum = async () => (await vm.mmioReadAsync(h, bar + 0x14n, 4)) as number;
    await vm.mmioWriteAsync(h, bar + 0x00n, 4, 0x1000);
    await vm.mmioWriteAsync(h, bar + 0x04n, 4, 64);
    // Honest first: the device buffer gets the 64 bytes ring 3 gave.
    await vm.mmioWriteAsync(h, bar + 0x08n, 4, 1);
    t.is(await vm.mmioReadAsync(h, bar + 0x0cn, 4), 1);
    t.is(await sum(), 64 * 0x42);
    const cases: [string, Answer, RegExp][] = [
      ['an answer for the next sequence number', (r) => ({ ...honest(r)!, seq: r.seq + 1 }), /ring 3 did not serve the DMA within 1000 ms/],
      // Follows the case above, which left ANS_SEQ at this request's number: an answer planted
      // before the request was taken for it once (fixed: ring 0 clears ANS_SEQ before posting).
      ['an answer for an old sequence number', (r) => ({ ...honest(r)!, seq: r.seq - 1 }), /ring 3 did not serve the DMA within 1000 ms/],
      ['no answer', () => undefined, /ring 3 did not serve the DMA within 1000 ms/],
      ['a length one byte longer', (r) => ({ ...honest(r)!, len: r.len + 1 }), /ring 3 answered the DMA with 65 bytes instead of 64/],
      ['a negative length', (r) => ({ ...honest(r)!, len: -1 }), /ring 3 answered the DMA with -1 bytes instead of 64/],
      ['a length of 2^31 - 1', (r) => ({ ...honest(r)!, len: 0x7fff_ffff }), /answered the DMA with 2147483647 bytes/],
      ['a failed status', (r) => ({ ...honest(r)!, status: VBoxStatus.VERR_ACCESS_DENIED }), /ring 3 failed the DMA \(VERR_ACCESS_DENIED\)/],
      ['a status no table knows', (r) => ({ ...honest(r)!, status: 0x1234_5678 }), /ring 3 failed the DMA/],
    ];
    for (const [what, a, reason] of cases) {
      answer.current = (r) => ({ ...a(r)!, bytes: new Uint8Array(r.len).fill(0x99) });
      if (what === 'no answer') answer.current = a;
      const wr = await vm.raw(PCIRAWR0_DO.MMIO_WRITE, h, { address: bar + 0x08n, value: { cb: 4, u: 1 } });
      t.is(wr.rc, 0, `${what}: the MMIO write itself is answered`);
      answer.current = honest;
      t.is(await vm.mmioReadAsync(h, bar + 0x0cn, 4), 2, `${what}: the model saw the DMA fail`);
      t.is(await sum(), 64 * 0x42, `${what}: nothing of the bad answer reached the device`);
      const ev = await vm.getIrqAsync(1000, h);
      t.is(ev?.kind, PCIRAW_IRQ_KIND.FAULT, what);
      t.regex(ev?.detail ?? '', reason, what);
      t.regex(ev?.detail ?? '', /DMA read of 64 bytes at IOVA 0x1000 refused/, what);
    }
    // A DMA write (device -> memory) with a hostile answer fails the same way.
    answer.current = (r) => ({ seq: r.seq, status: 0, len: r.op === DMA_OP.WRITE ? 3 : r.len });
    await vm.mmioWriteAsync(h, bar + 0x08n, 4, 2);
    t.is(await vm.mmioReadAsync(h, bar + 0x0cn, 4), 2);
    t.regex((await vm.getIrqAsync(1000, h))?.detail ?? '', /DMA write of 64 bytes at IOVA 0x1000 refused: ring 3 answered the DMA with 3 bytes instead of 64/);
    // Ring 0 is still whole: an honest DMA works, no worker was replaced.
    answer.current = honest;
    await vm.mmioWriteAsync(h, bar + 0x08n, 4, 1);
    t.is(await vm.mmioReadAsync(h, bar + 0x0cn, 4), 1);
    t.is(service.stats.workersReplaced, 0);
  } finally {
    await stop();
    await service.close();
  }
});

test('a thread scribbling the DMA lane (words and data) while DMAs run: every request is answered with a status, every DMA succeeds or faults, ring 0 never hangs', async (t) => {
  const service = await startService(serviceOptions);
  const mem = new CountingMemory(RAM_BYTES);
  const vm = await connectLaneVm(service, mem, { dmaTimeoutMs: 200 });
  const geometry = attachChannel(vm.endpoint().channel);
  const stop = stopWord();
  const scribbler = await startHostile({
    mode: 'lane',
    channel: vm.endpoint().channel,
    stop,
    seed: 0x5eed,
    slotCount: geometry.slotCount,
    slotBytes: geometry.slotBytes,
  });
  const h = openOn(vm, NOW);
  const bar = vm.getRegionInfo(h, 0).regionStart;
  try {
    let ok = 0;
    let failed = 0;
    try {
      await within(
        (async () => {
          for (let i = 0; i < 100; i++) {
            const len = 1 + ((i * 7919) % 70_000);
            for (const [off, v] of [
              [0x00n, 0x1000],
              [0x04n, len],
              [0x10n, 0x100000],
              [0x08n, 1 + (i % 3)],
            ] as const) {
              const a = vm.rawSync(PCIRAWR0_DO.MMIO_WRITE, h, { address: bar + off, value: { cb: 4, u: v } });
              t.true(a.rc === 0, `request answered ${a.rc}`);
            }
            const st = vm.mmioRead(h, bar + 0x0cn, 4);
            t.true(st === 1 || st === 2);
            if (st === 1) ok++;
            else failed++;
            if (i % 25 === 0) await new Promise((r) => setImmediate(r));
          }
        })(),
        60_000,
        'DMAs under a scribbled lane',
      );
    } finally {
      await scribbler.stop();
    }
    t.log(`${ok} DMAs succeeded and ${failed} faulted under the scribbler`);
    t.is(ok + failed, 100);
    t.is(service.stats.workersReplaced, 0);
    // With the scribbler gone the lane works as before.
    mem.bytes.fill(0x33, 0x1000, 0x1100);
    vm.mmioWrite(h, bar + 0x00n, 4, 0x1000);
    vm.mmioWrite(h, bar + 0x04n, 4, 256);
    vm.mmioWrite(h, bar + 0x10n, 4, 0x200000);
    vm.mmioWrite(h, bar + 0x08n, 4, 3);
    t.is(vm.mmioRead(h, bar + 0x0cn, 4), 1);
    t.deepEqual([...new Set(mem.bytes.subarray(0x200000, 0x200100))], [0x33]);
  } finally {
    await vm.close();
    await service.close();
  }
});
