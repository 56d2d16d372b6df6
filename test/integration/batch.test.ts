// BATCH (rawpci's own operation): N data-plane accesses in one request, performed and answered in order, each with its own status; the batch is bounded, refuses what it may not carry, and never overruns a slot.
import test from 'ava';
import type { Ring0Service } from '../../r0/service.js';
import type { RawPciClient } from '../../r3/client.js';
import { RawPciError } from '../../r3/errors.js';
import { EDU_REG } from '../../shared/devices/edu.js';
import { PCIRAWR0_DO as DO, PCIRAW_BATCH_MAX } from '../../shared/protocol.js';
import { VBoxStatus as S } from '../../shared/status.js';
import { connectVm, EDU, openOn, startService, TESTDEV } from '../helpers/ring0.js';

let service: Ring0Service;
let vm: RawPciClient;
let other: RawPciClient;
let edu: number;
let td: number;
let bar0: bigint;
let port: number;

test.before(async () => {
  service = await startService();
  vm = await connectVm(service);
  other = await connectVm(service, { slotBytes: 256 });
  edu = openOn(vm, EDU);
  td = openOn(vm, TESTDEV);
  bar0 = vm.getRegionInfo(edu, 0).regionStart;
  port = Number(vm.getRegionInfo(td, 0).regionStart);
  vm.cfgWrite(edu, 0x04, 2, vm.cfgRead(edu, 0x04, 2) | 0x2);
});

test.after.always(async () => {
  await vm?.close();
  await other?.close();
  await service?.close();
});

test.serial('a batch performs its accesses in order and answers each: a write is seen by the read after it', (t) => {
  const r = vm.batch([
    { op: 'mmioRead', handle: edu, address: bar0 + BigInt(EDU_REG.ID), cb: 4 },
    { op: 'mmioWrite', handle: edu, address: bar0 + BigInt(EDU_REG.LIVENESS), cb: 4, value: 0x1234_5678 },
    { op: 'mmioRead', handle: edu, address: bar0 + BigInt(EDU_REG.LIVENESS), cb: 4 },
    { op: 'pioRead', handle: td, port, cb: 4 },
    { op: 'cfgRead', handle: edu, offset: 0, cb: 4 },
    { op: 'cfgWrite', handle: edu, offset: 0x3c, cb: 1, value: 5 },
    { op: 'cfgRead', handle: edu, offset: 0x3c, cb: 1 },
  ]);
  t.deepEqual(r, [
    { rc: 0, value: 0x0100_00ed },
    { rc: 0 },
    { rc: 0, value: ~0x1234_5678 >>> 0 },
    { rc: 0, value: 0x5250_0001 },
    { rc: 0, value: 0x11e8_1234 },
    { rc: 0 },
    { rc: 0, value: 5 },
  ]);
});

test.serial('a refused access gets its own status and the accesses after it still run', (t) => {
  const r = vm.batch([
    { op: 'mmioRead', handle: 0x0bad_f00d, address: bar0, cb: 4 },
    { op: 'mmioRead', handle: edu, address: bar0, cb: 3 as 4 },
    { op: 'cfgWrite', handle: edu, offset: 0x10, cb: 4, value: 0xffff_ffff },
    { op: 'mmioRead', handle: edu, address: bar0, cb: 4 },
  ]);
  t.is(r[0]!.rc, S.VERR_INVALID_HANDLE);
  t.is(r[1]!.rc, S.VERR_INVALID_PARAMETER);
  t.is(r[2]!.rc, S.VERR_ACCESS_DENIED);
  t.regex(r[2]!.msg ?? '', /\S/);
  t.deepEqual(r[3], { rc: 0, value: 0x0100_00ed });
});

test.serial("another session's handle in a batch is refused like a single call", (t) => {
  t.is(other.batch([{ op: 'mmioRead', handle: edu, address: bar0, cb: 4 }])[0]!.rc, S.VERR_INVALID_HANDLE);
});

test.serial(`the batch itself: empty, over ${PCIRAW_BATCH_MAX} accesses, or with a target is refused with VERR_INVALID_PARAMETER`, (t) => {
  for (const n of [0, PCIRAW_BATCH_MAX + 1]) {
    const e = t.throws(() => vm.batch(Array.from({ length: n }, () => ({ op: 'pioRead' as const, handle: td, port, cb: 4 as const }))), {
      instanceOf: RawPciError,
    });
    t.is(e?.rc, S.VERR_INVALID_PARAMETER);
  }
  t.is(vm.rawSync(DO.BATCH, edu, { accesses: [[DO.PIO_READ, td, { port, cb: 4 }]] }).rc, S.VERR_INVALID_PARAMETER);
  t.is(vm.batch(Array.from({ length: PCIRAW_BATCH_MAX }, () => ({ op: 'pioRead' as const, handle: td, port, cb: 4 as const }))).length, PCIRAW_BATCH_MAX);
});

test.serial('entries a batch may not carry (a nested batch, OPEN_DEVICE, GET_IRQ, MAP_REGION, garbage) each answer VERR_INVALID_PARAMETER', (t) => {
  const a = vm.rawSync(DO.BATCH, 0, {
    accesses: [
      [DO.BATCH, 0, { accesses: [] }],
      [DO.OPEN_DEVICE, 0, { pciAddress: 0x20, flags: 1 }],
      [DO.GET_IRQ, edu, { timeoutMs: 1000 }],
      [DO.MAP_REGION, td, {}],
      'garbage',
      [DO.PIO_READ, -1, {}],
      [DO.PIO_READ, td, { port, cb: 4 }],
    ],
  });
  t.is(a.rc, 0);
  const answers = (a.out as unknown as { answers: [number, unknown][] }).answers;
  t.deepEqual(
    answers.map((x) => x[0]),
    [...Array(6).fill(S.VERR_INVALID_PARAMETER), 0],
  );
});

test.serial('an entry whose params are not a map (null, a number, an array) answers VERR_INVALID_PARAMETER, not VERR_INTERNAL_ERROR', (t) => {
  // Regression: a null params block reached the access checks, which threw (VERR_INTERNAL_ERROR).
  const a = vm.rawSync(DO.BATCH, 0, {
    accesses: [
      [DO.PIO_READ, td, null],
      [DO.ACK_IRQ, td, null],
      [DO.MMIO_READ, edu, 5],
      [DO.PCICFG_READ, td, [0, 4]],
      [DO.PIO_READ, td, { port, cb: 4 }],
    ],
  });
  t.is(a.rc, 0);
  const answers = (a.out as unknown as { answers: [number, unknown][] }).answers;
  t.deepEqual(
    answers.map((x) => x[0]),
    [...Array(4).fill(S.VERR_INVALID_PARAMETER), 0],
  );
});

test.serial('an answer that outgrows the slot is VERR_BUFFER_OVERFLOW, never an overrun or VERR_INTERNAL_ERROR; the channel serves on', (t) => {
  // The request fits the 256-byte slot; the answer (8 refusals with their messages) does not.
  const many = Array.from({ length: 8 }, () => ({ op: 'pioRead' as const, handle: 0x0bad_f00d, port: 0, cb: 4 as const }));
  const e = t.throws(() => other.batch(many), { instanceOf: RawPciError });
  t.is(e?.rc, S.VERR_BUFFER_OVERFLOW);
  t.regex(e?.message ?? '', /the answer outgrew the slot: send fewer accesses per BATCH, or connect with a larger slotBytes/);
  t.is(other.batch(many.slice(0, 1))[0]!.rc, S.VERR_INVALID_HANDLE, 'a batch that fits is answered');
});
