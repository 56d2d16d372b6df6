// RawPciClient.connect('unix:PATH') to a real `rawpci serve` child is the same client as in-process: sync and async calls, vCPU threads through attach, interrupts, MAP_REGION views, DMA into memfd guest RAM and through the DMA lane.
import { Worker } from 'node:worker_threads';
import test from 'ava';
import { RawPciClient } from '../../r3/client.js';
import { PCIRAW_POWER } from '../../shared/protocol.js';
import { EDU, EduDriver } from '../../src/drivers/edu.js';
import { runRawpci, serveForFile } from '../helpers/serve-child.js';

const serveChild = serveForFile(test);

test.serial('sync and async calls, interrupts and edu DMA into memfd guest RAM work across processes', async (t) => {
  const vm = await RawPciClient.connect(`unix:${serveChild().socket}`, { guestRamBytes: 1 << 20 });
  t.true(vm.session > 0);
  vm.initVm();
  vm.contigMemInfo(0n, 0n, BigInt(1 << 20));
  const handle = vm.openDevice('0000:00:04.0', { detachHostDriver: true });
  vm.powerStateChange(handle, PCIRAW_POWER.ON);
  const edu = new EduDriver(vm, handle);
  edu.enable();
  t.is(edu.id(), 0x010000ed);
  t.is(await vm.mmioReadAsync(handle, edu.bar0, 4), 0x010000ed);
  t.is(edu.liveness(0x1234), ~0x1234 >>> 0);
  vm.registerIrqHandler(handle, 11);
  t.is(edu.factorial(5, 'intx').value, 120);
  // An async GET_IRQ parked in ring 0 is answered when the interrupt comes.
  const parked = vm.getIrqAsync(5000, handle);
  edu.write(EDU.IRQ_RAISE, 0x4);
  const ev = await parked;
  t.is(ev?.kind, 'intx');
  edu.write(EDU.IRQ_ACK, 0x4);
  vm.ackIrq(handle);
  // DMA: guest RAM is the memfd both processes map.
  vm.ram.fill(0xa5, 0x2000, 0x2000 + 256);
  edu.dma(0x2000n, 0, 256, false, 'poll');
  edu.dma(0x3000n, 0, 256, true, 'poll');
  t.deepEqual(vm.ram.subarray(0x3000, 0x3100), new Uint8Array(256).fill(0xa5));
  await vm.close();
});

test.serial('vCPU threads attached to a unix: VM make their own synchronous calls', async (t) => {
  const vm = await RawPciClient.connect(`unix:${serveChild().socket}`, { guestRamBytes: 1 << 20 });
  const handle = vm.openDevice('0000:00:04.0', { detachHostDriver: true });
  vm.powerStateChange(handle, PCIRAW_POWER.ON);
  vm.cfgWrite(handle, 0x04, 2, 0x6);
  const bar0 = vm.getRegionInfo(handle, 0).regionStart;
  const code = `
    const { workerData, parentPort } = await import('node:worker_threads');
    const { RawPciClient } = await import(${JSON.stringify(new URL('../../r3/client.js', import.meta.url).href)});
    const c = RawPciClient.attach(workerData.endpoint);
    let ok = 0;
    for (let i = 0; i < 2000; i++) if (c.mmioRead(workerData.handle, workerData.bar0, 4) === 0x010000ed) ok++;
    parentPort.postMessage(ok);`;
  const runs = [0, 1, 2].map(
    () =>
      new Promise<number>((resolve, reject) => {
        const w = new Worker(code, { eval: true, workerData: { endpoint: vm.endpoint(), handle, bar0 } });
        w.once('message', resolve);
        w.once('error', reject);
      }),
  );
  t.deepEqual(await Promise.all(runs), [2000, 2000, 2000]);
  await vm.close();
});

test.serial("MAP_REGION gives ring 3 the testdev's BAR2 itself, shared with ring 0 in the other process", async (t) => {
  const vm = await RawPciClient.connect(`unix:${serveChild().socket}`, { guestRamBytes: 1 << 20 });
  const handle = vm.openDevice('0000:00:05.0', { detachHostDriver: true });
  vm.powerStateChange(handle, PCIRAW_POWER.ON);
  vm.cfgWrite(handle, 0x04, 2, 0x6);
  const info = vm.getRegionInfo(handle, 2);
  const m = vm.mapRegion(handle, 2);
  m.view.setUint32(16, 0xdead_beef, true);
  t.is(vm.mmioRead(handle, info.regionStart + 16n, 4), 0xdead_beef);
  vm.mmioWrite(handle, info.regionStart + 32n, 4, 0x1234_5678);
  t.is(m.view.getUint32(32, true), 0x1234_5678);
  vm.unmapRegion(m);
  await vm.close();
});

test.serial('a VMM that keeps guest memory to itself is served DMA through the lane across processes', async (t) => {
  const mem = new Uint8Array(1 << 20);
  const vm = await RawPciClient.connect(`unix:${serveChild().socket}`, {
    guestMemory: { size: mem.length, read: (a, n) => mem.slice(a, a + n), write: (a, d) => mem.set(d, a) },
  });
  vm.initVm();
  vm.contigMemInfo(0n, 0n, BigInt(mem.length));
  const handle = vm.openDevice('0000:00:04.0', { detachHostDriver: true });
  vm.powerStateChange(handle, PCIRAW_POWER.ON);
  const edu = new EduDriver(vm, handle);
  edu.enable();
  mem.fill(0x3c, 0x4000, 0x4000 + 512);
  edu.dma(0x4000n, 0, 512, false, 'poll');
  edu.dma(0x8000n, 0, 512, true, 'poll');
  t.deepEqual(mem.subarray(0x8000, 0x8000 + 512), new Uint8Array(512).fill(0x3c));
  t.true(vm.dmaStats!.served >= 2);
  await vm.close();
});

test.serial('a second rawpci serve on the same socket is refused, naming the running one', async (t) => {
  const r = await runRawpci(['serve', '--socket', serveChild().socket]);
  t.is(r.code, 1);
  t.regex(r.stderr, new RegExp(`another rawpci serve \\(pid ${serveChild().proc.pid}\\) is serving ${serveChild().socket.replace(/[.]/g, '\\.')}`));
});

test.serial('guestRam cannot be given to a unix: connection (it cannot cross processes)', async (t) => {
  await t.throwsAsync(RawPciClient.connect(`unix:${serveChild().socket}`, { guestRam: new SharedArrayBuffer(4096) }), {
    instanceOf: TypeError,
    message: /guestRamBytes/,
  });
});
