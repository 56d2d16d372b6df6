// A device DMA whose range crosses the top of the 64-bit IOVA space is a clean fault: the VM's channel keeps serving and other VMs still connect.
import { createHash } from 'node:crypto';
import test from 'ava';
import type { Ring0Service } from '../../r0/service.js';
import { RawPciClient } from '../../r3/client.js';
import { PCIRAW_IRQ_KIND, PCIRAW_MEMINFO, PCIRAW_POWER } from '../../shared/protocol.js';
import { EDU as E, EduDriver } from '../../src/drivers/edu.js';
import { connectVm, RAM_BYTES, startService } from '../helpers/ring0.js';

const EDU_BDF = '0000:00:04.0';
/** The last IOVA page, 2^64 - 4096 .. 2^64 - 1: the only one mapped (to guest RAM offset 0). */
const TOP_PAGE = (1n << 64n) - 4096n;
/** 100 bytes at 2^64 - 50: the first 50 are in the top page, the other 50 would be past 2^64. */
const IOVA = (1n << 64n) - 50n;
const COUNT = 100;

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** One edu whose DMA mask keeps all 64 address bits; its DMA completes 50 ms after the command. */
const inventory = {
  devices: [{ bdf: EDU_BDF, model: 'edu', driver: 'edu', iommuGroup: 3, irq: 11, options: { dmaMask: '0xffffffffffffffff', dmaDelayMs: 50 } }],
};

/** A VM whose IOMMU domain maps only the top IOVA page, with edu powered on, decoding, bus master and an IRQ handler. */
async function vmWithTopPage(service: Ring0Service): Promise<{ vm: RawPciClient; h: number; edu: EduDriver }> {
  const vm = await RawPciClient.connect(service, { guestRamBytes: RAM_BYTES, timeoutMs: 3000 });
  vm.initVm();
  vm.contigMemInfo(0n, TOP_PAGE, 4096n, PCIRAW_MEMINFO.MAP);
  const h = vm.openDevice(EDU_BDF, { detachHostDriver: true });
  vm.powerStateChange(h, PCIRAW_POWER.ON);
  vm.cfgWrite(h, 0x04, 2, vm.cfgRead(h, 0x04, 2) | 0x6); // PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER
  vm.registerIrqHandler(h, 11);
  return { vm, h, edu: new EduDriver(vm, h) };
}

// `queued`: the DMA completes (bit 0 polled clear) before GET_IRQ asks, so the fault waits in the
// queue; `parked`: GET_IRQ is already waiting in ring 0 when the DMA completes.
for (const order of ['queued', 'parked'] as const) {
  for (const toRam of [true, false]) {
    const what = `${toRam ? 'to' : 'from'} RAM, GET_IRQ ${order}`;
    test(`an edu DMA of 100 bytes at IOVA 2^64-50 (${what}) is a FAULT event below 2^64 and the VM keeps working`, async (t) => {
      const service = await startService({ inventory });
      const { vm, h, edu } = await vmWithTopPage(service);
      let second: RawPciClient | undefined;
      try {
        vm.ram.fill(0x5a);
        const before = sha(vm.ram);
        const dev = BigInt(E.DMA_BUF);
        edu.write64(E.DMA_SRC, toRam ? dev : IOVA);
        edu.write64(E.DMA_DST, toRam ? IOVA : dev);
        edu.write64(E.DMA_COUNT, BigInt(COUNT));
        edu.write(E.DMA_CMD, E.CMD_START | (toRam ? E.CMD_TO_RAM : 0));
        if (order === 'queued') {
          const deadline = Date.now() + 3000;
          while (edu.read(E.DMA_CMD) & E.CMD_START && Date.now() < deadline);
        }

        const ev = vm.getIrq(3000, h);
        t.is(ev?.kind, PCIRAW_IRQ_KIND.FAULT, 'GET_IRQ is answered (undefined: VERR_TIMEOUT, ring 0 stopped serving)');
        const address = ev?.address ?? -1n;
        t.true(address >= 0n && address < 1n << 64n, `fault address 0x${address.toString(16)} is a u64`);
        // Every byte below 2^64 is mapped, so the fault names the start of the transfer.
        t.is(address, IOVA);
        t.is(sha(vm.ram), before, 'nothing written to guest RAM');

        // The VM's channel still serves: the device answers and its DMA command completed.
        t.is(edu.id(), 0x0100_00ed);
        t.is(edu.read(E.DMA_CMD) & E.CMD_START, 0);
        // A DMA wholly inside the top page still works (RAM offset 16 -> buffer -> RAM offset 2048).
        vm.ram.fill(0x77, 16, 16 + 32);
        edu.dma(TOP_PAGE + 16n, 0, 32, false, 'poll');
        edu.dma(TOP_PAGE + 2048n, 0, 32, true, 'poll');
        t.deepEqual([...vm.ram.subarray(2048, 2048 + 32)], new Array(32).fill(0x77));

        // And ring 0 still takes new VMs.
        second = await connectVm(service);
        t.not(second.session, vm.session);
      } finally {
        await second?.close();
        await vm.close();
        await service.close();
      }
    });
  }
}
