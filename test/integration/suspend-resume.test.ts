// SUSPEND freezes a device (no access, timer, IRQ or DMA) and keeps its state; RESUME continues where it stopped.
import test from 'ava';
import { RawPciError } from '../../r3/errors.js';
import { PCIRAW_IRQ_KIND, PCIRAW_POWER } from '../../shared/protocol.js';
import { EDU as E, EduDriver } from '../../src/drivers/edu.js';
import { EDU, openOn, withVm } from '../helpers/ring0.js';

test('a DMA started before SUSPEND completes only after RESUME, with its interrupt', async (t) => {
  await withVm(async (vm) => {
    const h = openOn(vm, EDU);
    vm.registerIrqHandler(h, 11);
    const edu = new EduDriver(vm, h);
    vm.ram.fill(9, 0x1000, 0x1000 + 128);
    edu.write(E.LIVENESS, 0x0f0f_0f0f);
    edu.write64(E.DMA_SRC, 0x1000n);
    edu.write64(E.DMA_DST, BigInt(E.DMA_BUF));
    edu.write64(E.DMA_COUNT, 128n);
    edu.write(E.DMA_CMD, E.CMD_START | E.CMD_IRQ);
    vm.powerStateChange(h, PCIRAW_POWER.SUSPEND);
    t.is(vm.getIrq(100, h), undefined, 'no interrupt while suspended');
    for (const f of [() => edu.read(E.ID), () => vm.cfgWrite(h, 4, 2, 0)]) {
      t.is(t.throws(f, { instanceOf: RawPciError })?.code, 'VERR_INVALID_STATE');
    }
    t.is(vm.cfgRead(h, 0, 2), 0x1234, 'config reads still work while suspended');
    t.is(t.throws(() => vm.powerStateChange(h, PCIRAW_POWER.SUSPEND), { instanceOf: RawPciError })?.code, 'VERR_INVALID_STATE');
    vm.powerStateChange(h, PCIRAW_POWER.RESUME);
    const ev = vm.getIrq(5000, h);
    t.is(ev?.kind, PCIRAW_IRQ_KIND.INTX);
    t.is(edu.read(E.IRQ_STATUS) & E.IRQ_DMA, E.IRQ_DMA);
    t.is(edu.read(E.LIVENESS), ~0x0f0f_0f0f >>> 0, 'register state kept across suspend');
    t.is(t.throws(() => vm.powerStateChange(h, PCIRAW_POWER.RESUME), { instanceOf: RawPciError })?.code, 'VERR_INVALID_STATE');
  });
});

test('RESET and a power cycle bring registers back to power-on values', async (t) => {
  await withVm(async (vm) => {
    const h = openOn(vm, EDU);
    const edu = new EduDriver(vm, h);
    edu.write(E.LIVENESS, 5);
    vm.powerStateChange(h, PCIRAW_POWER.RESET);
    t.is(vm.cfgRead(h, 4, 2) & 0x7, 0, 'reset clears the command register');
    edu.enable();
    t.is(edu.read(E.LIVENESS), 0);
    edu.write(E.LIVENESS, 5);
    vm.powerStateChange(h, PCIRAW_POWER.OFF);
    t.is(t.throws(() => edu.read(E.ID), { instanceOf: RawPciError })?.code, 'VERR_INVALID_STATE');
    vm.powerStateChange(h, PCIRAW_POWER.ON);
    edu.enable();
    t.is(edu.read(E.LIVENESS), 0);
  });
});
