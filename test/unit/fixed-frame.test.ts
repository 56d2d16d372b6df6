// The fixed binary layout of the small data-plane operations: round trips, the pinned layout, and every malformed frame answered with a status.
import test from 'ava';
import { PciRawCodec } from '../../shared/codec.js';
import {
  FIXED_ANS_HEADER_BYTES,
  FIXED_ANS_RECORD_BYTES,
  FIXED_FLAG_BATCH,
  FIXED_IRQ_KINDS,
  FIXED_RECORD_BYTES,
  FIXED_REQ_HEADER_BYTES,
  FIXED_SINGLE_BYTES,
  FixedAns,
  FixedAnswerWriter,
  FixedRecord,
  FixedReq,
  PCIRAW_FIXED_ANS_MAGIC,
  PCIRAW_FIXED_REQ_MAGIC,
  writeFixedHeader,
  writeFixedRecord,
} from '../../shared/fixed-frame.js';
import { PCIRAW_BATCH_MAX, PCIRAWR0_DO } from '../../shared/protocol.js';
import { VBoxStatus } from '../../shared/status.js';

const codec = new PciRawCodec();

/** A fixed frame of `records` ([op, cb, target, where, value]); a BATCH when `batch`. */
function fixed(session: number, records: [number, number, number, number | bigint, number | bigint][], batch = records.length > 1): Uint8Array {
  const bytes = new Uint8Array(FIXED_REQ_HEADER_BYTES + records.length * FIXED_RECORD_BYTES);
  const view = new DataView(bytes.buffer);
  writeFixedHeader(view, session, records.length, batch);
  records.forEach((r, i) => {
    writeFixedRecord(view, FIXED_REQ_HEADER_BYTES + i * FIXED_RECORD_BYTES, ...r);
  });
  return bytes;
}

test('the fixed layout is pinned: magics, header and record offsets, sizes', (t) => {
  t.is(PCIRAW_FIXED_REQ_MAGIC, 0x4643_5052);
  t.is(PCIRAW_FIXED_ANS_MAGIC, 0x4658_52c1);
  t.deepEqual(FixedReq, { MAGIC: 0, VERSION: 4, SIZE: 8, SESSION: 12, FLAGS: 16, COUNT: 20 });
  t.deepEqual(FixedRecord, { OP: 0, CB: 2, ZERO: 3, TARGET: 4, WHERE: 8, VALUE: 16 });
  t.deepEqual(FixedAns, { MAGIC: 0, COUNT: 4, FLAGS: 6 });
  t.deepEqual(
    [FIXED_REQ_HEADER_BYTES, FIXED_RECORD_BYTES, FIXED_SINGLE_BYTES, FIXED_ANS_HEADER_BYTES, FIXED_ANS_RECORD_BYTES, FIXED_FLAG_BATCH],
    [24, 24, 48, 8, 16, 1],
  );
  t.deepEqual([...FIXED_IRQ_KINDS], ['intx', 'msi', 'msix', 'fault']);
  // The bytes on the wire, little-endian: 'RPCF', then the record.
  const f = fixed(7, [[PCIRAWR0_DO.MMIO_WRITE, 8, 0x1122_3344, 0xfe00_0010n, 0x0102_0304_0506_0708n]]);
  t.is(Buffer.from(f.subarray(0, 4)).toString('latin1'), 'RPCF');
  t.is(Buffer.from(f).toString('hex'), '52504346000001003000000007000000000000000100000007000800443322111000' + '00fe00000000' + '0807060504030201');
});

test('each fixed access decodes into the request the msgpackr codec would give (an address below 2^53 as a number)', (t) => {
  const cases: [[number, number, number, number | bigint, number | bigint], unknown][] = [
    [[PCIRAWR0_DO.PIO_READ, 2, 9, 0xc010, 0], { port: 0xc010, cb: 2 }],
    [[PCIRAWR0_DO.PIO_WRITE, 1, 9, 0xc010, 0xab], { port: 0xc010, cb: 1, value: 0xab }],
    [[PCIRAWR0_DO.MMIO_READ, 8, 9, 0x80_0000_0000n, 0], { address: 0x80_0000_0000, cb: 8 }],
    // An address from 2^53 up stays a bigint (a number would round it).
    [[PCIRAWR0_DO.MMIO_READ, 4, 9, (1n << 53n) + 1n, 0], { address: (1n << 53n) + 1n, cb: 4 }],
    [[PCIRAWR0_DO.MMIO_WRITE, 4, 9, 0xfe00_0004n, 0xffff_ffff], { address: 0xfe00_0004, value: { cb: 4, u: 0xffff_ffff } }],
    [[PCIRAWR0_DO.MMIO_WRITE, 8, 9, 0xfe00_0008n, 0xdead_beef_cafe_f00dn], { address: 0xfe00_0008, value: { cb: 8, u: 0xdead_beef_cafe_f00dn } }],
    [[PCIRAWR0_DO.PCICFG_READ, 4, 9, 0x40, 0], { offset: 0x40, cb: 4 }],
    [[PCIRAWR0_DO.PCICFG_WRITE, 2, 9, 0x04, 0x0107], { offset: 0x04, value: { cb: 2, u: 0x0107 } }],
    [[PCIRAWR0_DO.ACK_IRQ, 0, 9, 1, 0], { kind: 'msi' }],
  ];
  for (const [record, params] of cases) {
    const req = codec.decodeRequest(fixed(3, [record]), FIXED_SINGLE_BYTES);
    t.like(req, { session: 3, op: record[0], target: 9, size: FIXED_SINGLE_BYTES });
    t.deepEqual((req as { params: unknown }).params, params);
  }
});

test('a fixed batch decodes into BATCH, and a record of an operation without a fixed layout becomes an entry BATCH refuses', (t) => {
  const req = codec.decodeRequest(
    fixed(3, [
      [PCIRAWR0_DO.PIO_READ, 4, 9, 0xc000, 0],
      [PCIRAWR0_DO.OPEN_DEVICE, 0, 0, 0, 0],
    ]),
    FIXED_REQ_HEADER_BYTES + 2 * FIXED_RECORD_BYTES,
  );
  t.like(req, { op: PCIRAWR0_DO.BATCH, target: 0 });
  t.deepEqual((req as { params: unknown }).params, {
    accesses: [
      [PCIRAWR0_DO.PIO_READ, 9, { port: 0xc000, cb: 4 }],
      [PCIRAWR0_DO.OPEN_DEVICE, 0, {}],
    ],
  });
});

test('malformed fixed frames get statuses: version, size, count, flags, the reserved byte, an operation without a layout', (t) => {
  const good = fixed(1, [[PCIRAWR0_DO.PIO_READ, 4, 9, 0xc000, 0]]);
  const mutate = (f: (v: DataView, b: Uint8Array) => void, length = FIXED_SINGLE_BYTES) => {
    const b = good.slice();
    f(new DataView(b.buffer), b);
    return codec.decodeRequest(b, length);
  };
  t.like(
    mutate((v) => v.setUint32(FixedReq.VERSION, 2, true)),
    { rc: VBoxStatus.VERR_VERSION_MISMATCH },
  );
  t.like(
    mutate((v) => v.setUint32(FixedReq.SIZE, 47, true)),
    { rc: VBoxStatus.VERR_INVALID_PARAMETER },
  );
  t.like(
    mutate(() => {}, 40),
    { rc: VBoxStatus.VERR_INVALID_PARAMETER },
  );
  t.like(
    mutate(() => {}, 12),
    { rc: VBoxStatus.VERR_INVALID_PARAMETER },
  );
  t.like(
    mutate((v) => v.setUint32(FixedReq.COUNT, 2, true)),
    { rc: VBoxStatus.VERR_INVALID_PARAMETER },
  );
  t.like(
    mutate((v) => v.setUint32(FixedReq.COUNT, 0, true)),
    { rc: VBoxStatus.VERR_INVALID_PARAMETER },
  );
  t.like(
    mutate((v) => v.setUint32(FixedReq.FLAGS, 6, true)),
    { rc: VBoxStatus.VERR_INVALID_PARAMETER },
  );
  t.like(
    mutate((_v, b) => {
      b[FIXED_REQ_HEADER_BYTES + FixedRecord.ZERO] = 1;
    }),
    { rc: VBoxStatus.VERR_INVALID_PARAMETER },
  );
  t.like(
    mutate((v) => v.setUint16(FIXED_REQ_HEADER_BYTES + FixedRecord.OP, PCIRAWR0_DO.GET_IRQ, true)),
    { rc: VBoxStatus.VERR_NOT_SUPPORTED },
  );
  // A batch of more than PCIRAW_BATCH_MAX records.
  const big = new Uint8Array(FIXED_REQ_HEADER_BYTES + (PCIRAW_BATCH_MAX + 1) * FIXED_RECORD_BYTES);
  writeFixedHeader(new DataView(big.buffer), 1, PCIRAW_BATCH_MAX + 1, true);
  t.like(codec.decodeRequest(big, big.length), { rc: VBoxStatus.VERR_INVALID_PARAMETER });
});

test('fields the layout cannot make valid reach the dispatcher as values its checks refuse', (t) => {
  // A port with high bits set, a 4-byte value past 32 bits: numbers the access checks refuse by range.
  const req = codec.decodeRequest(fixed(1, [[PCIRAWR0_DO.PIO_WRITE, 4, 9, 0x1_0000_c000, 0x1_0000_0000]]), FIXED_SINGLE_BYTES) as {
    params: { port: number; value: number };
  };
  t.true(req.params.port > 0xffff);
  t.true(req.params.value > 0xffff_ffff);
  const ack = codec.decodeRequest(fixed(1, [[PCIRAWR0_DO.ACK_IRQ, 0, 9, 17, 0]]), FIXED_SINGLE_BYTES) as { params: { kind: unknown } };
  t.is(ack.params.kind, 17);
});

test('fixed answers round-trip: one value of every width, nothing read, and a batch in order', (t) => {
  const w = new FixedAnswerWriter();
  t.deepEqual(codec.decodeAnswer(w.encode([0xffff_ffff], false)), { rc: 0, out: { value: 0xffff_ffff } as never });
  t.deepEqual(codec.decodeAnswer(w.encode([0xdead_beef_cafe_f00dn], false)), { rc: 0, out: { value: 0xdead_beef_cafe_f00dn } as never });
  t.deepEqual(codec.decodeAnswer(w.encode([undefined], false)), { rc: 0 });
  const b = w.encode([1, undefined, 2n ** 64n - 1n], true);
  t.is(b.length, FIXED_ANS_HEADER_BYTES + 3 * FIXED_ANS_RECORD_BYTES);
  t.is(b[0], 0xc1, 'the first byte is the one msgpack never writes');
  t.deepEqual(codec.decodeAnswer(b), { rc: 0, out: { answers: [[0, 1], [0], [0, 2n ** 64n - 1n]] } as never });
  t.throws(() => w.encode([1, 2], false), { instanceOf: RangeError });
});

test('a fixed answer that does not hold what it announces is refused, not misread', (t) => {
  const b = new FixedAnswerWriter().encode([5, 6], true).slice();
  t.throws(() => codec.decodeAnswer(b, b.length - 1), { instanceOf: TypeError });
  const lying = b.slice();
  new DataView(lying.buffer).setUint32(FIXED_ANS_HEADER_BYTES + 4, 3, true); // width 3
  t.throws(() => codec.decodeAnswer(lying), { instanceOf: TypeError });
});
