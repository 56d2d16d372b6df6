// DMA into guest RAM that ring 0 cannot share: the IOMMU domain checks the range, ring 3 copies through the channel's DMA lane (vfio-user DMA_READ / DMA_WRITE).

import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import type { Ring0ServiceOptions } from '../../r0/service.js';
import { RawPciClient } from '../../r3/client.js';
import { PCIRAW_IRQ_KIND, PCIRAW_MEMINFO } from '../../shared/protocol.js';
import { EDU as E, EduDriver } from '../../src/drivers/edu.js';
import { CountingMemory, connectLaneVm } from '../helpers/guest-memory.js';
import { EDU, openOn, RAM_BYTES, startService, withVm } from '../helpers/ring0.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const pattern = (n: number, seed: number) => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const dmaNowModule = fileURLToPath(new URL('../fixtures/dma-now-model.js', import.meta.url));
const NOW = '0000:00:07.0';
const nowInventory = {
  devices: [
    { bdf: EDU, model: 'edu', driver: 'edu', iommuGroup: 4, irq: 11 },
    { bdf: NOW, model: 'test-dma-now', driver: 'dmanow', iommuGroup: 8, irq: 10 },
  ],
};

test('edu DMA to and from a plain ArrayBuffer guest memory, driven by synchronous MMIO (polling): bytes compared, ring 0 has no view of guest RAM', async (t) => {
  const service = await startService();
  const mem = new CountingMemory(RAM_BYTES);
  const vm = await connectLaneVm(service, mem);
  try {
    t.is(vm.ram.length, 0);
    t.is(vm.guestMemory, mem);
    const h = openOn(vm, EDU);
    const edu = new EduDriver(vm, h);
    const src = pattern(4095, 7);
    mem.bytes.set(src, 0x1000);
    edu.dma(0x1000n, 0, 4095, false, 'poll'); // guest memory -> device buffer (DMA_READ)
    t.is(mem.reads, 1);
    t.is(mem.bytesRead, 4095);
    edu.dma(0x20000n, 0, 4095, true, 'poll'); // device buffer -> guest memory (DMA_WRITE)
    t.is(mem.writes, 1);
    t.deepEqual(mem.bytes.subarray(0x20000, 0x20000 + 4095), src);
    t.is(mem.bytes[0x20000 + 4095], 0);
    // With interrupts too (a synchronous GET_IRQ wait serves the lane meanwhile).
    vm.registerIrqHandler(h, 9);
    mem.bytes.set(pattern(100, 3), 0x5000);
    edu.dma(0x5000n, 0, 100, false, 'intx');
    edu.dma(0x6000n, 0, 100, true, 'intx');
    t.deepEqual(mem.bytes.subarray(0x6000, 0x6000 + 100), pattern(100, 3));
    t.deepEqual(vm.dmaStats, { served: 4, failed: 0, dropped: 0 });
  } finally {
    await vm.close();
    await service.close();
  }
});

test('edu DMA through ring 3 from the asynchronous API and from an idle event loop (Atomics.waitAsync on the lane bell)', async (t) => {
  const service = await startService();
  const mem = new CountingMemory(RAM_BYTES);
  const vm = await connectLaneVm(service, mem);
  try {
    const h = openOn(vm, EDU);
    const bar = vm.getRegionInfo(h, 0).regionStart;
    const w = (reg: number, v: number | bigint, cb: 4 | 8 = 4) => vm.mmioWriteAsync(h, bar + BigInt(reg), cb, v);
    const src = pattern(2000, 11);
    mem.bytes.set(src, 0x8000);
    await w(E.DMA_SRC, 0x8000n, 8);
    await w(E.DMA_DST, BigInt(E.DMA_BUF), 8);
    await w(E.DMA_COUNT, 2000n, 8);
    await w(E.DMA_CMD, E.CMD_START);
    while (((await vm.mmioReadAsync(h, bar + BigInt(E.DMA_CMD), 4)) as number) & E.CMD_START) await sleep(1);
    t.is(mem.reads, 1);
    // Back to guest memory, and this time nobody calls ring 0 while the DMA runs: the event
    // loop's waiter serves it.
    await w(E.DMA_SRC, BigInt(E.DMA_BUF), 8);
    await w(E.DMA_DST, 0x9000n, 8);
    await w(E.DMA_CMD, E.CMD_START | E.CMD_TO_RAM);
    const t0 = performance.now();
    while (mem.writes === 0 && performance.now() - t0 < 5000) await sleep(5);
    t.is(mem.writes, 1);
    t.deepEqual(mem.bytes.subarray(0x9000, 0x9000 + 2000), src);
  } finally {
    await vm.close();
    await service.close();
  }
});

test("a DMA done inside the synchronous MMIO write that commands it is served from that call's wait (no deadlock), in lane-sized chunks for 100 KiB", async (t) => {
  const service = await startService({ inventory: nowInventory, modelModules: [dmaNowModule] } as Ring0ServiceOptions);
  const mem = new CountingMemory(RAM_BYTES);
  const vm = await connectLaneVm(service, mem);
  try {
    const h = openOn(vm, NOW);
    const bar = vm.getRegionInfo(h, 0).regionStart;
    const src = pattern(100 << 10, 5);
    mem.bytes.set(src, 0x10000);
    vm.mmioWrite(h, bar + 0x00n, 4, 0x10000);
    vm.mmioWrite(h, bar + 0x04n, 4, 100 << 10);
    vm.mmioWrite(h, bar + 0x10n, 4, 0x40000);
    vm.mmioWrite(h, bar + 0x08n, 4, 3); // read 100 KiB, then write it back elsewhere
    t.is(vm.mmioRead(h, bar + 0x0cn, 4), 1);
    t.deepEqual(mem.bytes.subarray(0x40000, 0x40000 + (100 << 10)), src);
    t.is(mem.reads, 4, '100 KiB read in 32 KiB lane chunks');
    t.is(mem.writes, 4);
  } finally {
    await vm.close();
    await service.close();
  }
});

test('a DMA outside the IOMMU domain is refused with guest memory unchanged and reported to ring 3 exactly as with shared guest RAM', async (t) => {
  const detail = async (vm: RawPciClient, ram: () => Uint8Array) => {
    const h = openOn(vm, EDU);
    const edu = new EduDriver(vm, h);
    vm.contigMemInfo(0x2000n, 0x2000n, 0x1000n, PCIRAW_MEMINFO.UNMAP);
    ram().fill(0x5a, 0, 0x10000);
    const before = sha(ram());
    edu.dma(0x2000n, 0, 64, true, 'poll');
    const ev = vm.getIrq(5000, h);
    t.is(sha(ram()), before);
    t.is(edu.id(), 0x0100_00ed);
    return { kind: ev?.kind, address: ev?.address, detail: ev?.detail };
  };
  const shared = await withVm((vm) => detail(vm, () => vm.ram));
  const service = await startService();
  const mem = new CountingMemory(RAM_BYTES);
  const vm = await connectLaneVm(service, mem);
  try {
    const viaRing3 = await detail(vm, () => mem.bytes);
    t.is(viaRing3.kind, PCIRAW_IRQ_KIND.FAULT);
    t.deepEqual(viaRing3, shared);
    t.regex(viaRing3.detail ?? '', /DMA write of 64 bytes at IOVA 0x2000 refused: not mapped/);
    t.is(mem.writes + mem.reads, 0, 'ring 3 was never asked to copy');
  } finally {
    await vm.close();
    await service.close();
  }
});

test('ring 3 not serving the DMA (its thread busy elsewhere, or its memory throwing) is a bounded fault; ring 0 serves the next request', async (t) => {
  const service = await startService();
  const mem = new CountingMemory(RAM_BYTES);
  const vm = await connectLaneVm(service, mem, { dmaTimeoutMs: 300 });
  try {
    const h = openOn(vm, EDU);
    const edu = new EduDriver(vm, h);
    mem.bytes.fill(0x11, 0x3000, 0x3100);
    edu.write64(E.DMA_SRC, BigInt(E.DMA_BUF));
    edu.write64(E.DMA_DST, 0x3000n);
    edu.write64(E.DMA_COUNT, 256n);
    edu.write(E.DMA_CMD, E.CMD_START | E.CMD_TO_RAM);
    // This thread owns guest memory and now does something else than call rawpci.
    const end = performance.now() + 1000;
    while (performance.now() < end) {}
    const ev = vm.getIrq(5000, h);
    t.is(ev?.kind, PCIRAW_IRQ_KIND.FAULT);
    t.regex(ev?.detail ?? '', /DMA write of 256 bytes at IOVA 0x3000 refused: ring 3 did not serve the DMA within 300 ms/);
    t.is(edu.read(E.DMA_CMD) & E.CMD_START, 0, 'the command completed (failed) for the model');
    t.is(edu.id(), 0x0100_00ed);
    t.deepEqual([...new Set(mem.bytes.subarray(0x3000, 0x3100))], [0x11], 'nothing written');
    // The late request was withdrawn: the next serve does not copy it.
    t.is(mem.writes, 0);

    mem.onRead = () => {
      throw new Error('the VMM refuses');
    };
    edu.dma(0x1000n, 0, 16, false, 'poll');
    const ev2 = vm.getIrq(5000, h);
    t.regex(ev2?.detail ?? '', /DMA read of 16 bytes at IOVA 0x1000 refused: ring 3 failed the DMA \(VERR_GENERAL_FAILURE\)/);
    mem.onRead = undefined;
    mem.bytes.set(pattern(16, 9), 0x1000);
    edu.dma(0x1000n, 0, 16, false, 'poll');
    edu.dma(0x7000n, 0, 16, true, 'poll');
    t.deepEqual(mem.bytes.subarray(0x7000, 0x7010), pattern(16, 9));
  } finally {
    await vm.close();
    await service.close();
  }
});

test('guestRam and guestMemory are mutually exclusive; guestMemory is checked', async (t) => {
  const service = await startService();
  try {
    const mem = new CountingMemory(65536);
    await t.throwsAsync(RawPciClient.connect(service, { guestMemory: mem, guestRam: new SharedArrayBuffer(65536) }), {
      instanceOf: TypeError,
      message: /either guestRam .* or guestMemory .*, not both/,
    });
    await t.throwsAsync(RawPciClient.connect(service, { guestMemory: mem, guestRamBytes: 65536 }), { instanceOf: TypeError });
    await t.throwsAsync(RawPciClient.connect(service, { guestMemory: { size: -1, read: () => new Uint8Array(), write: () => {} } }), {
      instanceOf: TypeError,
      message: /guestMemory.size -1 must be a positive integer/,
    });
    await t.throwsAsync(RawPciClient.connect(service, { guestMemory: mem, dmaTimeoutMs: 0 }), { instanceOf: RangeError, message: /dmaTimeoutMs 0/ });
    // A domain mapping past guestMemory.size is refused like one past shared guest RAM.
    const vm = await RawPciClient.connect(service, { guestMemory: mem });
    vm.initVm();
    t.throws(() => vm.contigMemInfo(0n, 0n, 0x20000n), { message: /past the end|ends past the VM's 65536 bytes/ });
    await vm.close();
  } finally {
    await service.close();
  }
});
