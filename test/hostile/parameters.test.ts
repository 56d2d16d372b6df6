// Ring-3 input never causes VERR_INTERNAL_ERROR: hostile parameter maps (keys like toString, nested maps, wrong types) get a precise status for every operation.

import test from 'ava';
import { PCIRAWR0_DO } from '../../shared/protocol.js';
import { statusName, VBoxStatus } from '../../shared/status.js';
import { PARAM_KEYS } from '../helpers/params.js';
import { EDU, openOn, withVm } from '../helpers/ring0.js';

/** Values that break naive formatting or comparison: maps with toString/valueOf keys, arrays, binary, dates. */
const HOSTILE_VALUES: [string, unknown][] = [
  ['a map with a toString key', { toString: 1 }],
  ['a map with valueOf and toString keys', { valueOf: 2, toString: 'x' }],
  ['a map with a Symbol.toPrimitive-like key', { 'Symbol.toPrimitive': 1, constructor: 5 }],
  ['a nested map', { cb: { toString: 1 }, u: { valueOf: 1 } }],
  ['an array', [1, 2, { toString: 3 }]],
  ['binary', new Uint8Array([1, 2, 3])],
  ['a date', new Date(0)],
  ['a huge string', 'x'.repeat(3000)],
  ['NaN', Number.NaN],
  ['-0', -0],
  ['a negative bigint', -(1n << 63n)],
];

test('every operation answers hostile parameter maps with a status other than VERR_INTERNAL_ERROR, and ring 0 keeps serving', async (t) => {
  await withVm(async (vm) => {
    const h = openOn(vm, EDU);
    const bar = vm.getRegionInfo(h, 0).regionStart;
    const internal: string[] = [];
    let answered = 0;
    for (const [opName, op] of Object.entries(PCIRAWR0_DO)) {
      if (op === PCIRAWR0_DO.CLOSE_DEVICE || op === PCIRAWR0_DO.DEINIT_VM) continue;
      const target = [PCIRAWR0_DO.OPEN_DEVICE, PCIRAWR0_DO.INIT_VM, PCIRAWR0_DO.CONTIG_MEM_INFO].includes(op as never) ? 0 : h;
      for (const [what, v] of HOSTILE_VALUES) {
        const cases = [Object.fromEntries(PARAM_KEYS.map((k) => [k, v])), { toString: v, valueOf: v, hasOwnProperty: v }, { __proto__x: v, constructor: v }];
        for (const params of cases) {
          const a = vm.rawSync(op, target, params);
          answered++;
          if (!Number.isInteger(a.rc) || a.rc === VBoxStatus.VERR_INTERNAL_ERROR) internal.push(`${opName} with ${what}: ${statusName(a.rc)} ${a.msg ?? ''}`);
        }
      }
    }
    t.deepEqual(internal, []);
    t.true(answered > 400);
    t.is(vm.mmioRead(h, bar, 4), 0x0100_00ed);
  });
});
