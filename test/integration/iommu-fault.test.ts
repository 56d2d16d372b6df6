// Device DMA reaches guest RAM only through the VM's IOMMU domain; anything else is a reported fault that writes nothing.

import { createHash } from 'node:crypto';
import test from 'ava';
import { PCIRAW_IRQ_KIND, PCIRAW_MEMINFO, PCIRAW_POWER } from '../../shared/protocol.js';
import { EDU as E, EduDriver } from '../../src/drivers/edu.js';
import { EDU, openOn, withVm } from '../helpers/ring0.js';

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('DMA to an unmapped IOVA is a fault event, guest RAM is untouched and the device keeps running', async (t) => {
  await withVm(async (vm) => {
    const h = openOn(vm, EDU);
    const edu = new EduDriver(vm, h);
    vm.ram.fill(0x5a);
    const before = sha(vm.ram);
    edu.write64(E.DMA_SRC, BigInt(E.DMA_BUF));
    edu.write64(E.DMA_DST, 0x0080_0000n); // 8 MiB: past the 4 MiB mapped
    edu.write64(E.DMA_COUNT, 64n);
    edu.write(E.DMA_CMD, E.CMD_START | E.CMD_TO_RAM);
    const ev = vm.getIrq(5000, h);
    t.is(ev?.kind, PCIRAW_IRQ_KIND.FAULT);
    t.is(ev?.address, 0x0080_0000n);
    t.regex(ev?.detail ?? '', /DMA write of 64 bytes at IOVA 0x800000 refused: not mapped/);
    t.is(sha(vm.ram), before);
    t.is(edu.id(), 0x0100_00ed);
    // A good DMA still works afterwards.
    vm.ram.fill(7, 0x1000, 0x1000 + 32);
    edu.dma(0x1000n, 0, 32, false, 'poll');
    edu.dma(0x3000n, 0, 32, true, 'poll');
    t.deepEqual([...vm.ram.subarray(0x3000, 0x3000 + 32)], new Array(32).fill(7));
  });
});

test('after CONTIG_MEM_INFO UNMAP the range faults; without power ON or bus mastering DMA faults too', async (t) => {
  await withVm(async (vm) => {
    const h = openOn(vm, EDU);
    const edu = new EduDriver(vm, h);
    vm.contigMemInfo(0x2000n, 0x2000n, 0x1000n, PCIRAW_MEMINFO.UNMAP);
    vm.ram.fill(1, 0, 0x4000);
    const before = sha(vm.ram);
    edu.dma(0x2000n, 0, 16, true, 'poll');
    const f1 = vm.getIrq(1000, h);
    t.is(f1?.kind, PCIRAW_IRQ_KIND.FAULT);
    t.is(sha(vm.ram), before);

    vm.cfgWrite(h, 4, 2, 0x2); // memory decode only: a device without bus mastering issues no DMA
    edu.dma(0x1000n, 0, 16, true, 'poll');
    t.is(sha(vm.ram), before);

    const h2 = vm.openDevice('0000:00:05.0', { detachHostDriver: true });
    void h2;
    vm.powerStateChange(h, PCIRAW_POWER.OFF);
    t.is(sha(vm.ram), before);
  });
});

test('a device opened but not powered on has no IOMMU domain: its DMA faults', async (t) => {
  await withVm(async (vm) => {
    const h = vm.openDevice(EDU, { detachHostDriver: true });
    vm.cfgWrite(h, 4, 2, 0x6);
    const edu = new EduDriver(vm, h);
    edu.dma(0x1000n, 0, 16, true, 'poll');
    const f = vm.getIrq(1000, h);
    t.regex(f?.detail ?? '', /no IOMMU domain attached/);
  });
});
