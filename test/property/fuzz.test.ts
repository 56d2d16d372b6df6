// Property tests: random and mutated request buffers and hostile parameter maps are all answered with a VBox status that is never VERR_INTERNAL_ERROR, the service stays up, and valid requests keep working.
import { fc, testProp } from '@fast-check/ava';
import test from 'ava';
import type { Ring0Service } from '../../r0/service.js';
import type { RawPciClient } from '../../r3/client.js';
import { FIXED_RECORD_BYTES, FIXED_REQ_HEADER_BYTES, writeFixedHeader, writeFixedRecord } from '../../shared/fixed-frame.js';
import { PCIRAW_BATCH_OPS, PCIRAW_POWER, PCIRAWR0_DO } from '../../shared/protocol.js';
import { statusName, VERR_INTERNAL_ERROR } from '../../shared/status.js';
import { PARAM_KEYS } from '../helpers/params.js';
import { channelOf, frameFor, postRawFrame } from '../helpers/raw-channel.js';
import { connectVm, EDU, openOn, startService, TESTDEV } from '../helpers/ring0.js';

let service: Ring0Service;
let vm: RawPciClient;
let edu: number;
let td: number;
let bar0: bigint;
const seen = new Map<string, number>();

test.before(async () => {
  service = await startService();
  vm = await connectVm(service, { timeoutMs: 5000 });
  edu = openOn(vm, EDU);
  td = openOn(vm, TESTDEV);
  bar0 = vm.getRegionInfo(edu, 0).regionStart;
});

test.after.always(async () => {
  await vm?.close();
  await service?.close();
});

/** Ring 0 answered with an integer status that is not VERR_INTERNAL_ERROR (ring-3 input is never a ring-0 bug), and is still alive and correct. */
function answeredAndAlive(answer: { rc: number } | undefined): boolean {
  if (!answer || !Number.isInteger(answer.rc) || answer.rc === VERR_INTERNAL_ERROR) return false;
  const name = statusName(answer.rc);
  seen.set(name, (seen.get(name) ?? 0) + 1);
  return vm.mmioRead(edu, bar0, 4) === 0x0100_00ed;
}

const ops = Object.values(PCIRAWR0_DO);
/** Maps whose keys trip naive code: toString, valueOf, constructor, __proto__. */
const hostileMap = fc.dictionary(
  fc.constantFrom('toString', 'valueOf', 'constructor', '__proto__', 'hasOwnProperty', 'cb', 'u'),
  fc.oneof(fc.integer(), fc.string({ maxLength: 4 }), fc.constant(null)),
  {
    maxKeys: 4,
  },
);
const anyValue = fc.oneof(
  hostileMap,
  fc.constantFrom(2 ** 53, -1, 1e300, -0, Number.NaN, Number.POSITIVE_INFINITY, 0xffff_ffff + 1, (1n << 64n) - 1n, -(1n << 63n)),
  fc.uint8Array({ maxLength: 8 }),
  fc.date(),
  fc.integer(),
  fc.bigInt({ min: -(1n << 63n), max: (1n << 64n) - 1n }),
  fc.double(),
  fc.string({ maxLength: 8 }),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.record({ cb: fc.integer({ min: -1, max: 9 }), u: fc.oneof(fc.integer(), fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })) }),
);
const paramsArb = fc.dictionary(fc.constantFrom(...PARAM_KEYS, 'zz', 'toString', 'valueOf', 'constructor'), anyValue, { maxKeys: 5 });

testProp.serial(
  'random bytes as a request frame get a status and ring 0 keeps serving',
  [fc.uint8Array({ minLength: 0, maxLength: 300 })],
  (t, bytes) => {
    t.true(answeredAndAlive(postRawFrame(channelOf(vm), bytes)));
  },
  { numRuns: 150 },
);

testProp.serial(
  'well-formed frames with random operations, handles and parameters get a status and ring 0 keeps serving',
  [
    fc.oneof(fc.constantFrom(...ops), fc.integer({ min: -5, max: 100 })),
    fc.constantFrom('edu', 'td', 'zero', 'random'),
    fc.integer({ min: 0, max: 0xffff_ffff }),
    paramsArb,
  ],
  (t, op, which, rnd, params) => {
    // Never close the devices the property checks liveness with, nor end the VM's domain.
    if (op === PCIRAWR0_DO.CLOSE_DEVICE || op === PCIRAWR0_DO.DEINIT_VM) op = PCIRAWR0_DO.GET_REGION_INFO;
    let target = which === 'edu' ? edu : which === 'td' ? td : which === 'zero' ? 0 : rnd;
    // Power changes and config writes may legitimately switch a device off: aim those at the
    // testdev, keeping edu (the liveness probe) running. The request is still sent and checked.
    if ((op === PCIRAWR0_DO.POWER_STATE_CHANGE || op === PCIRAWR0_DO.PCICFG_WRITE) && target === edu) target = td;
    const answer = postRawFrame(channelOf(vm), frameFor(vm.session, op, target, params));
    t.true(answeredAndAlive(answer));
  },
  { numRuns: 400 },
);

testProp.serial(
  'valid frames with bit flips, truncation or header changes get a status and ring 0 keeps serving',
  [fc.integer({ min: 0, max: 1000 }), fc.integer({ min: 0, max: 7 }), fc.constantFrom('flip', 'truncate', 'size', 'session', 'extend')],
  (t, pos, bit, how) => {
    const frame = frameFor(vm.session, PCIRAWR0_DO.MMIO_READ, edu, { address: bar0 + 4n, cb: 4 });
    let mutated = frame.slice();
    const dv = () => new DataView(mutated.buffer);
    if (how === 'flip') mutated[pos % mutated.length]! ^= 1 << bit;
    else if (how === 'truncate') mutated = mutated.subarray(0, pos % mutated.length);
    else if (how === 'size') dv().setUint32(8, pos, true);
    else if (how === 'session') dv().setUint32(12, pos, true);
    else {
      const longer = new Uint8Array(frame.length + 1 + (pos % 64));
      longer.set(frame);
      mutated = longer;
    }
    t.true(answeredAndAlive(postRawFrame(channelOf(vm), mutated)));
  },
  { numRuns: 300 },
);

testProp.serial(
  'fixed-layout frames with random records (single or BATCH), headers and bytes get a status and ring 0 keeps serving',
  [
    fc.array(
      fc.record({
        op: fc.oneof(fc.constantFrom(...PCIRAW_BATCH_OPS), fc.integer({ min: 0, max: 0xffff })),
        cb: fc.integer({ min: 0, max: 255 }),
        target: fc.constantFrom('edu', 'td', 'random'),
        rnd: fc.integer({ min: 0, max: 0xffff_ffff }),
        where: fc.oneof(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }), fc.constantFrom(0n, 0xc000n, 0x40n, 3n)),
        value: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      }),
      { minLength: 1, maxLength: 4 },
    ),
    fc.boolean(),
    fc.option(fc.tuple(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 255 }))),
  ],
  (t, records, batch, poke) => {
    const n = batch ? records.length : 1;
    const frame = new Uint8Array(FIXED_REQ_HEADER_BYTES + n * FIXED_RECORD_BYTES);
    const view = new DataView(frame.buffer);
    writeFixedHeader(view, vm.session, n, batch);
    for (let i = 0; i < n; i++) {
      const r = records[i]!;
      // Writes that may switch the liveness probe's decoding off go to the testdev instead.
      const target = r.target === 'edu' && r.op !== PCIRAWR0_DO.PCICFG_WRITE ? edu : r.target === 'random' ? r.rnd : td;
      writeFixedRecord(view, FIXED_REQ_HEADER_BYTES + i * FIXED_RECORD_BYTES, r.op, r.cb, target, r.where, r.value);
    }
    if (poke) frame[poke[0] % frame.length] = poke[1];
    t.true(answeredAndAlive(postRawFrame(channelOf(vm), frame)));
  },
  { numRuns: 300 },
);

test.serial('the properties exercised many distinct failure statuses and valid requests still succeed', (t) => {
  t.true(seen.size >= 6, `statuses seen: ${[...seen.keys()].join(', ')}`);
  // The fuzzed requests may have suspended, powered off or reconfigured the testdev: bring it
  // back the way a VMM would, then it must answer correctly.
  vm.rawSync(PCIRAWR0_DO.POWER_STATE_CHANGE, td, { state: PCIRAW_POWER.RESUME });
  vm.powerStateChange(td, PCIRAW_POWER.ON);
  vm.cfgWrite(td, 0x04, 2, 0x7);
  t.is(vm.pioRead(td, Number(vm.getRegionInfo(td, 0).regionStart), 4), 0x5250_0001);
});
