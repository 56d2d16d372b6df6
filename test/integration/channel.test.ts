// The channel end to end: another protocol version is refused, an idle VM's worker sleeps, and a request is copied before it is checked.
import test from 'ava';
import { Ctl } from '../../shared/channel-layout.js';
import { PCIRAWR0_DO } from '../../shared/protocol.js';
import { VBoxStatus as S } from '../../shared/status.js';
import { channelOf, frameFor, postRawFrame } from '../helpers/raw-channel.js';
import { EDU, openOn, withVm } from '../helpers/ring0.js';

test('a ring 3 of another protocol version is refused with VERR_VERSION_MISMATCH and ring 0 keeps serving', async (t) => {
  await withVm(async (vm) => {
    const h = openOn(vm, EDU);
    const frame = frameFor(vm.session, PCIRAWR0_DO.PCICFG_READ, h, { offset: 0, cb: 4 });
    new DataView(frame.buffer).setUint32(4, 0x0002_0000, true);
    const a = postRawFrame(channelOf(vm), frame);
    t.is(a?.rc, S.VERR_VERSION_MISMATCH);
    t.regex(a?.msg ?? '', /protocol 0x20000.*0x10000/);
    t.is(vm.cfgRead(h, 0, 4), 0x11e8_1234);
  });
});

test('a request claiming another session is refused with VERR_INVALID_HANDLE', async (t) => {
  await withVm(async (vm) => {
    const a = postRawFrame(channelOf(vm), frameFor(vm.session + 1000, PCIRAWR0_DO.INIT_VM, 0, {}));
    t.is(a?.rc, S.VERR_INVALID_HANDLE);
  });
});

test('once a VM stops sending, its ring-0 worker goes to sleep on the doorbell and wakes for the next request', async (t) => {
  await withVm(async (vm) => {
    const h = openOn(vm, EDU);
    const i32 = new Int32Array(channelOf(vm));
    const sleepsBefore = Atomics.load(i32, Ctl.SLEEPS);
    t.is(vm.cfgRead(h, 0, 2), 0x1234); // a request: ring 0 is awake after it
    // No timed assertion: wait (up to 5 s) until ring 0 reports it sleeps.
    const deadline = Date.now() + 5000;
    const asleep = () => Atomics.load(i32, Ctl.SERVER_SLEEPING) === 1 && Atomics.load(i32, Ctl.SLEEPS) > sleepsBefore;
    while (!asleep() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    t.is(Atomics.load(i32, Ctl.SERVER_SLEEPING), 1, 'ring 0 sleeps while the VM is idle');
    t.true(Atomics.load(i32, Ctl.SLEEPS) > sleepsBefore);
    t.is(vm.cfgRead(h, 2, 2), 0x11e8, 'a request wakes it');
  });
});
