// Formatting ring-3 values for messages never runs code they carry.
import test from 'ava';
import { show } from '../../shared/show.js';

test('show describes every value msgpack can carry without calling its methods', (t) => {
  t.is(show(5), '5');
  t.is(show(-0), '-0');
  t.is(show(Number.NaN), 'NaN');
  t.is(show(1n << 64n), '18446744073709551616n');
  t.is(show('x'), '"x"');
  t.is(show('y'.repeat(100)), `"${'y'.repeat(40)}..."`);
  t.is(show(true), 'true');
  t.is(show(null), 'null');
  t.is(show(undefined), 'undefined');
  t.is(show([1, 2]), 'an array of 2');
  t.is(show(new Uint8Array(3)), '3 bytes of binary');
  t.is(show(new Date(0)), 'a date');
  t.is(show({ toString: 1, valueOf: 2 }), 'a map');
  t.is(
    show({
      toString: () => {
        throw new Error('ran');
      },
    }),
    'a map',
  );
});
