// Interrupt delivery to ring 3: level INTx stays asserted until acknowledged; MSI and MSI-X are edges.
import test from 'ava';
import { PCIRAW_IRQ_KIND, type PciRawIrqEvent } from '../../shared/protocol.js';
import { EDU as E, EDU_MSI_ADDRESS, EDU_MSI_DATA, EduDriver } from '../../src/drivers/edu.js';
import { EDU, openOn, TESTDEV, withVm } from '../helpers/ring0.js';

test('INTx is level-triggered: one event per assertion, another after ACK_IRQ while still asserted, none once the device deasserts', async (t) => {
  await withVm(async (vm) => {
    const h = openOn(vm, EDU);
    t.is(vm.registerIrqHandler(h, 9), 11);
    const edu = new EduDriver(vm, h);
    edu.write(E.IRQ_RAISE, 0x10);
    const ev = vm.getIrq(2000, h);
    t.like(ev, { kind: PCIRAW_IRQ_KIND.INTX, guestIrq: 9, hostIrq: 11, device: h });
    edu.write(E.IRQ_RAISE, 0x20);
    t.is(vm.getIrq(50, h), undefined, 'masked until acknowledged');
    vm.ackIrq(h, 'intx');
    t.is(vm.getIrq(2000, h)?.kind, PCIRAW_IRQ_KIND.INTX, 'still asserted after the ack: next event');
    edu.write(E.IRQ_ACK, 0x30);
    vm.ackIrq(h, 'intx');
    t.is(vm.getIrq(50, h), undefined, 'deasserted: no more events');
  });
});

test('MSI is an edge: every raise sends one event with the programmed address and data', async (t) => {
  await withVm(async (vm) => {
    const h = openOn(vm, EDU);
    vm.registerIrqHandler(h, 9);
    const edu = new EduDriver(vm, h);
    edu.setMsi(true);
    for (let i = 0; i < 3; i++) edu.write(E.IRQ_RAISE, 1 << i);
    const evs = [vm.getIrq(2000, h), vm.getIrq(2000, h), vm.getIrq(2000, h)];
    for (const ev of evs) t.like(ev, { kind: PCIRAW_IRQ_KIND.MSI, address: EDU_MSI_ADDRESS, data: EDU_MSI_DATA });
    t.is(vm.getIrq(20, h), undefined);
  });
});

test('MSI-X vectors arrive as edges with their table entries; interrupts also come as events from the pump', async (t) => {
  await withVm(async (vm) => {
    const h = openOn(vm, TESTDEV);
    vm.registerIrqHandler(h, 10);
    const port = Number(vm.getRegionInfo(h, 0).regionStart);
    const table = vm.getRegionInfo(h, 4).regionStart;
    for (let v = 0; v < 8; v++) {
      vm.mmioWrite(h, table + BigInt(v * 16), 4, 0xfee0_0000 + v * 0x1000);
      vm.mmioWrite(h, table + BigInt(v * 16 + 8), 4, 0x40 + v);
      vm.mmioWrite(h, table + BigInt(v * 16 + 12), 4, 0);
    }
    vm.cfgWrite(h, 0x52, 2, vm.cfgRead(h, 0x52, 2) | 0x8000); // MSI-X enable
    const got: PciRawIrqEvent[] = [];
    vm.on('irq', (ev) => got.push(ev));
    vm.startIrqPump();
    for (const v of [2, 5, 2]) vm.pioWrite(h, port + 8, 4, v);
    const deadline = Date.now() + 5000;
    while (got.length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    await vm.stopIrqPump();
    t.deepEqual(
      got.map((e) => [e.kind, e.vector, e.data, e.address]),
      [
        ['msix', 2, 0x42, 0xfee0_2000n],
        ['msix', 5, 0x45, 0xfee0_5000n],
        ['msix', 2, 0x42, 0xfee0_2000n],
      ],
    );
  });
});
