// The socket frames of rawpci serve: length-prefixed msgpack that reassembles from any chunking, refuses oversized or undecodable frames with FrameError, and the default socket paths.
import { fc, testProp } from '@fast-check/ava';
import test from 'ava';
import { decode } from 'msgpackr';
import {
  defaultSocketPath,
  encodeFrame,
  FrameError,
  FrameReader,
  HELLO_TIMEOUT_MS,
  helloSchema,
  MAX_FRAME_BYTES,
  SERVE_PROTOCOL_VERSION,
  serverFrameSchema,
} from '../../shared/serve-protocol.js';

test('the frame limits and the protocol version are pinned', (t) => {
  t.is(SERVE_PROTOCOL_VERSION, 1);
  t.is(MAX_FRAME_BYTES, 65536);
  t.is(HELLO_TIMEOUT_MS, 2000);
  const f = encodeFrame({ t: 'bye' });
  t.is(new DataView(f.buffer).getUint32(0, true), f.length - 4);
  t.deepEqual(decode(f.subarray(4)), { t: 'bye' });
});

testProp(
  'frames cut into any chunks come out whole and in order',
  [
    fc.array(fc.dictionary(fc.string({ maxLength: 8 }), fc.oneof(fc.integer(), fc.string({ maxLength: 32 }), fc.boolean()), { maxKeys: 4 }), { maxLength: 8 }),
    fc.array(fc.integer({ min: 1, max: 17 }), { minLength: 1, maxLength: 8 }),
  ],
  (t, bodies, cuts) => {
    const stream = Buffer.concat(bodies.map((b) => encodeFrame(b)));
    const r = new FrameReader();
    const out: unknown[] = [];
    for (let at = 0, k = 0; at < stream.length; k++) {
      const n = cuts[k % cuts.length]!;
      r.push(stream.subarray(at, at + n));
      at += n;
      for (let f = r.next(); f !== undefined; f = r.next()) out.push(f);
    }
    t.deepEqual(out, bodies);
    t.is(r.pending, 0);
  },
);

testProp('random bytes give frames, nothing yet, or a FrameError: never another throw', [fc.uint8Array({ maxLength: 200 })], (t, bytes) => {
  const r = new FrameReader();
  r.push(bytes);
  try {
    for (let i = 0; i < 100 && r.next() !== undefined; i++);
  } catch (e) {
    t.true(e instanceof FrameError, String(e));
  }
  // Whatever came out, the reader never holds more than it was given.
  t.true(r.pending >= 0 && r.pending <= bytes.length, `pending ${r.pending} of ${bytes.length} bytes`);
});

test('a length past MAX_FRAME_BYTES is refused before its body is buffered, and an empty frame too', (t) => {
  const r = new FrameReader();
  const b = new Uint8Array(4);
  new DataView(b.buffer).setUint32(0, MAX_FRAME_BYTES + 1, true);
  r.push(b);
  t.throws(() => r.next(), { instanceOf: FrameError, message: /MAX_FRAME_BYTES/ });
  const z = new FrameReader();
  z.push(new Uint8Array(4));
  t.throws(() => z.next(), { instanceOf: FrameError, message: /empty/ });
  t.throws(() => encodeFrame({ t: 'x', pad: 'a'.repeat(MAX_FRAME_BYTES) }), { instanceOf: RangeError });
});

test('hellos are validated field by field, unknown fields refused', (t) => {
  const ok = { t: 'hello', v: 1, slotCount: 64, slotBytes: 4096, ramBytes: 1 << 20 };
  t.true(helloSchema.safeParse(ok).success);
  for (const bad of [
    { ...ok, slotCount: 0 },
    { ...ok, slotBytes: 255 },
    { ...ok, ramBytes: -1 },
    { ...ok, extra: 1 },
    { ...ok, v: 'one' },
  ])
    t.false(helloSchema.safeParse(bad).success, JSON.stringify(bad));
  t.false(serverFrameSchema.safeParse({ t: 'map', mapId: 1, handle: 2, region: 0, kind: 'file', offset: 0, size: 1 }).success);
});

test('the default socket is under /run for root and under XDG_RUNTIME_DIR otherwise', (t) => {
  t.is(defaultSocketPath(0, {}), '/run/rawpci/rawpci.sock');
  t.is(defaultSocketPath(1000, { XDG_RUNTIME_DIR: '/run/user/1000' }), '/run/user/1000/rawpci.sock');
  t.is(defaultSocketPath(1000, {}), '/tmp/rawpci-1000/rawpci.sock');
});
