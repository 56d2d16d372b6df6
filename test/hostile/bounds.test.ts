// Per-session state is bounded: parked interrupt waits, mappings and open devices each have a documented bound, and an interrupt never goes to a caller that gave up.

import { fileURLToPath } from 'node:url';
import test from 'ava';
import { DEVICE_MAX_MAPPINGS } from '../../r0/open-device.js';
import { SESSION_MAX_DEVICES } from '../../r0/session.js';
import type { RawPciClient } from '../../r3/client.js';
import { RawPciError } from '../../r3/errors.js';
import { PCIRAWR0_DO } from '../../shared/protocol.js';
import { VBoxStatus } from '../../shared/status.js';
import { EDU as EDU_REGS } from '../../src/drivers/edu.js';
import { channelOf, frameFor, repostUntilTaken } from '../helpers/raw-channel.js';
import { EDU, openOn, TESTDEV, withVm } from '../helpers/ring0.js';

const faultyModule = fileURLToPath(new URL('../fixtures/faulty-model.js', import.meta.url));

/** Opens edu on `vm` powered and decoding, registers its IRQ handler (guest IRQ 11); returns its handle and BAR0 start. */
function eduOn(vm: RawPciClient): { h: number; bar: bigint } {
  const h = openOn(vm, EDU);
  vm.registerIrqHandler(h, 11);
  return { h, bar: vm.getRegionInfo(h, 0).regionStart };
}

test('a slot recycled 20,000 times while its GET_IRQ is parked leaves no stale waiter: the next interrupt reaches the caller still waiting', async (t) => {
  await withVm(async (vm) => {
    const { h, bar } = eduOn(vm);
    const frame = frameFor(vm.session, PCIRAWR0_DO.GET_IRQ, 0, { timeoutMs: 30_000 });
    // Post a GET_IRQ, wait until ring 0 took (parked) it, then write the slot FREE behind ring 0's back and post again.
    const n = repostUntilTaken(channelOf(vm), 63, frame, 20_000);
    t.is(n, 20_000);
    const waiting = vm.getIrqAsync(3000, h);
    await new Promise((r) => setTimeout(r, 20));
    vm.mmioWrite(h, bar + BigInt(EDU_REGS.IRQ_RAISE), 4, 1);
    const ev = await waiting;
    t.is(ev?.kind, 'intx');
    t.is(vm.mmioRead(h, bar, 4), 0x0100_00ed);
  });
});

test('an interrupt is never delivered to a GET_IRQ whose caller gave up: the next GET_IRQ gets it', async (t) => {
  await withVm(async (vm) => {
    const { h, bar } = eduOn(vm);
    // Ring 0 would hold this one 5 s; its caller gives up after 100 ms (the slot becomes ABANDONED).
    const gaveUp = await vm.raw(PCIRAWR0_DO.GET_IRQ, 0, { timeoutMs: 5000 }, 100);
    t.is(gaveUp.rc, VBoxStatus.VERR_TIMEOUT);
    vm.mmioWrite(h, bar + BigInt(EDU_REGS.IRQ_RAISE), 4, 1);
    t.is(vm.getIrq(1000, h)?.kind, 'intx');
  });
});

test(`MAP_REGION past DEVICE_MAX_MAPPINGS (${DEVICE_MAX_MAPPINGS}) live mappings of a device is VERR_OUT_OF_RESOURCES; unmapping makes room`, async (t) => {
  await withVm(async (vm) => {
    const h = openOn(vm, TESTDEV);
    const maps = Array.from({ length: DEVICE_MAX_MAPPINGS }, () => vm.mapRegion(h, 2));
    const err = t.throws(() => vm.mapRegion(h, 2), { instanceOf: RawPciError });
    t.is(err?.code, 'VERR_OUT_OF_RESOURCES');
    t.regex(err!.message, new RegExp(`${DEVICE_MAX_MAPPINGS} mappings`));
    vm.unmapRegion(maps.pop()!);
    t.truthy(vm.mapRegion(h, 2));
  });
});

test(`a session holds at most SESSION_MAX_DEVICES (${SESSION_MAX_DEVICES}) devices: one more is VERR_OUT_OF_RESOURCES`, async (t) => {
  const devices = Array.from({ length: SESSION_MAX_DEVICES + 1 }, (_, i) => ({
    bdf: `0000:${(0x10 + (i >> 3)).toString(16)}:00.${i & 7}`,
    model: 'test-faulty',
    driver: null,
    iommuGroup: 100 + i,
    irq: 10,
  }));
  // A small model (one 4 KiB BAR) so that many fit the host's address windows.
  await withVm({ service: { inventory: { devices }, modelModules: [faultyModule] } }, async (vm) => {
    for (const d of devices.slice(0, SESSION_MAX_DEVICES)) vm.openDevice(d.bdf);
    const err = t.throws(() => vm.openDevice(devices.at(-1)!.bdf), { instanceOf: RawPciError });
    t.is(err?.code, 'VERR_OUT_OF_RESOURCES');
    t.regex(err!.message, new RegExp(`${SESSION_MAX_DEVICES} devices`));
  });
});
