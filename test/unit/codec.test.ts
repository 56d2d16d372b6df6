// The request codec: round trips, and every malformed frame answered with a status instead of an exception.
import test from 'ava';
import { Packr } from 'msgpackr';
import { PciRawCodec, REQ_HEADER_BYTES } from '../../shared/codec.js';
import { PCIRAWR0_DO } from '../../shared/protocol.js';
import { VBoxStatus } from '../../shared/status.js';

const codec = new PciRawCodec();

test('a request round-trips with bigint addresses and PCIRAWMEMLOC values of every width', (t) => {
  const params = { address: 0xfe00_0000n, value: { cb: 8, u: 0xdead_beef_cafe_f00dn } };
  const frame = codec.encodeRequestBuffer(7, PCIRAWR0_DO.MMIO_WRITE, 0x1234_5678, params);
  const req = codec.decodeRequest(frame);
  t.false('rc' in req);
  t.like(req, { session: 7, op: PCIRAWR0_DO.MMIO_WRITE, target: 0x1234_5678, size: frame.length });
  t.deepEqual((req as { params: unknown }).params, params);
  for (const cb of [1, 2, 4] as const) {
    const r = codec.decodeRequest(codec.encodeRequestBuffer(1, PCIRAWR0_DO.PCICFG_WRITE, 9, { offset: 4, value: { cb, u: 2 ** (8 * cb) - 1 } }));
    t.deepEqual((r as { params: unknown }).params, { offset: 4, value: { cb, u: 2 ** (8 * cb) - 1 } });
  }
});

test('an answer round-trips with out-parameters and a message', (t) => {
  const a = codec.decodeAnswer(codec.encodeAnswer({ rc: 0, out: { regionStart: 0x80_0000_0000n, regionSize: 1n << 20n, present: true, flags: 0xc } as never }));
  t.deepEqual(a, { rc: 0, out: { regionStart: 0x80_0000_0000n, regionSize: 1n << 20n, present: true, flags: 0xc } as never });
  t.deepEqual(codec.decodeAnswer(codec.encodeAnswer({ rc: -4, msg: 'why' })), { rc: -4, msg: 'why' });
});

test('a frame of another protocol version is refused with VERR_VERSION_MISMATCH before decoding', (t) => {
  const frame = codec.encodeRequestBuffer(1, PCIRAWR0_DO.PIO_READ, 1, { port: 1, cb: 1 });
  new DataView(frame.buffer).setUint32(4, 0x0002_0000, true);
  frame.fill(0xc1, REQ_HEADER_BYTES); // body garbage: must not even be looked at
  t.like(codec.decodeRequest(frame), { rc: VBoxStatus.VERR_VERSION_MISMATCH });
});

test('bad magic, short frames, size mismatch and garbage bodies get statuses', (t) => {
  const good = codec.encodeRequestBuffer(1, PCIRAWR0_DO.PIO_READ, 1, { port: 1, cb: 1 });
  const badMagic = good.slice();
  badMagic[0] ^= 0xff;
  t.like(codec.decodeRequest(badMagic), { rc: VBoxStatus.VERR_INVALID_MAGIC });
  t.like(codec.decodeRequest(good.subarray(0, 8)), { rc: VBoxStatus.VERR_INVALID_PARAMETER });
  t.like(codec.decodeRequest(good.subarray(0, good.length - 1)), { rc: VBoxStatus.VERR_INVALID_PARAMETER });
  const garbage = good.slice();
  garbage.fill(0xc1, REQ_HEADER_BYTES);
  t.like(codec.decodeRequest(garbage), { rc: VBoxStatus.VERR_PARSE_ERROR });
  // and the codec still decodes a good frame afterwards
  t.like(codec.decodeRequest(good), { op: PCIRAWR0_DO.PIO_READ });
});

test('a body that is not [op, target, params] is a parse error', (t) => {
  const header = codec.encodeRequestBuffer(1, 0, 0, {}).subarray(0, REQ_HEADER_BYTES);
  const packr = new Packr({ useRecords: false });
  for (const body of [{ op: 1 }, [1, 2], ['x', 1, {}], [1, -1, {}], [1, 1, null], [1, 1, [1]], [1.5, 1, {}], 'text']) {
    const bytes = packr.pack(body);
    const frame = new Uint8Array(REQ_HEADER_BYTES + bytes.length);
    frame.set(header);
    frame.set(bytes, REQ_HEADER_BYTES);
    new DataView(frame.buffer).setUint32(8, frame.length, true);
    t.like(codec.decodeRequest(frame), { rc: VBoxStatus.VERR_PARSE_ERROR }, JSON.stringify(body));
  }
});
