// The fixed binary layout of the small data-plane operations: PIO, MMIO and config reads and writes of up to 8 bytes and ACK_IRQ, alone or batched (docs/protocol.md).
//
// msgpackr stays the protocol's codec (shared/codec.ts); these operations may also travel as
// fixed records, the way rawpci.h's parameter structs are fixed, because a vCPU sends them by
// the million and each one's values vary (no encoding to reuse). Every integer little-endian.
//
// Request (ring 3 to ring 0), FIXED_REQ_HEADER_BYTES + count * FIXED_RECORD_BYTES bytes:
//    0 u32 magic    PCIRAW_FIXED_REQ_MAGIC ('RPCF')
//    4 u32 version  PCIRAW_PROTOCOL_VERSION
//    8 u32 size     bytes of the whole frame
//   12 u32 session  session id
//   16 u32 flags    FIXED_FLAG_BATCH: answered as BATCH (each access its own status); else one access
//   20 u32 count    records that follow: 1 without FIXED_FLAG_BATCH, 1..PCIRAW_BATCH_MAX with it
//   24 records, FIXED_RECORD_BYTES each:
//        0 u16 op      a PCIRAW_BATCH_OPS operation (PCIRAWR0_DO)
//        2 u8  cb      width in bytes (1, 2, 4, or 8 for MMIO); 0 for ACK_IRQ
//        3 u8  zero
//        4 u32 target  device handle
//        8 u64 where   port (PIO), host physical address (MMIO), config offset, ACK_IRQ kind (FIXED_IRQ_KINDS index)
//       16 u64 value   the value a write stores (0 for reads)
//
// Answer (ring 0 to ring 3) when every access succeeded, FIXED_ANS_HEADER_BYTES + count * 16 bytes:
//    0 u32 magic    PCIRAW_FIXED_ANS_MAGIC: its first byte 0xc1 is the one byte msgpack never
//                   uses, so ring 3 tells it from a msgpackr answer by that byte alone
//    4 u16 count
//    6 u16 flags    FIXED_FLAG_BATCH when the request was a BATCH
//    8 per access:  i32 rc (0), u32 kind (0: nothing read, 4: a value of up to 32 bits, 8: a 64-bit value), u64 value
// Any other outcome (a refused access, a frame ring 0 cannot read) is answered in msgpackr as
// always ([rc, out, msg]: a single access's failure with its message, a batch's flat answers).
//
// Ring 0 decodes a fixed request into the same PciRawSendReq a msgpackr one gives, so every
// check of the dispatcher applies unchanged: a field the layout cannot make valid (a port past
// 0xffff, a value past the width) reaches those checks and is refused there with its message.

import {
  PCIRAW_BATCH_MAX,
  PCIRAW_BATCH_OPS,
  PCIRAW_IRQ_KIND,
  PCIRAW_PROTOCOL_VERSION,
  PCIRAWR0_DO,
  type PciRawAnswer,
  type PciRawSendReq,
} from './protocol.js';
import { VERR_INVALID_PARAMETER, VERR_NOT_SUPPORTED, VERR_VERSION_MISMATCH } from './status.js';

/** Magic of a fixed request frame ('RPCF'). */
export const PCIRAW_FIXED_REQ_MAGIC = 0x4643_5052;
/** Magic of a fixed answer (bytes c1 'R' 'X' 'F'; 0xc1 is never a msgpack byte). */
export const PCIRAW_FIXED_ANS_MAGIC = 0x4658_52c1;
/** First byte of a fixed answer. */
export const FIXED_ANS_FIRST_BYTE = 0xc1;
/** Bytes of a fixed request's header (before the records). */
export const FIXED_REQ_HEADER_BYTES = 24;
/** Bytes of one fixed access record. */
export const FIXED_RECORD_BYTES = 24;
/** Bytes of a fixed answer's header. */
export const FIXED_ANS_HEADER_BYTES = 8;
/** Bytes of each access's answer after a fixed answer's header. */
export const FIXED_ANS_RECORD_BYTES = 16;
/** Flag of a fixed request: the records are a BATCH. */
export const FIXED_FLAG_BATCH = 1;
/** Bytes of a fixed request with one access. */
export const FIXED_SINGLE_BYTES = FIXED_REQ_HEADER_BYTES + FIXED_RECORD_BYTES;

/** Field offsets of a fixed request header, in bytes. */
export const FixedReq = { MAGIC: 0, VERSION: 4, SIZE: 8, SESSION: 12, FLAGS: 16, COUNT: 20 } as const;
/** Field offsets of a fixed answer header, in bytes. */
export const FixedAns = { MAGIC: 0, COUNT: 4, FLAGS: 6 } as const;
/** Field offsets of a fixed access record, in bytes from the record's start. */
export const FixedRecord = { OP: 0, CB: 2, ZERO: 3, TARGET: 4, WHERE: 8, VALUE: 16 } as const;

/** ACK_IRQ's `kind` as a record's `where`: the index in this list. */
export const FIXED_IRQ_KINDS = [PCIRAW_IRQ_KIND.INTX, PCIRAW_IRQ_KIND.MSI, PCIRAW_IRQ_KIND.MSIX, PCIRAW_IRQ_KIND.FAULT] as const;

const TWO_32 = 0x1_0000_0000;

/** True when `frame[0, length)` starts with the fixed request magic. */
export function isFixedRequest(frame: Uint8Array, length: number): boolean {
  return length >= 4 && frame[0] === 0x52 && frame[1] === 0x50 && frame[2] === 0x43 && frame[3] === 0x46;
}

/**
 * Writes one access record at `offset` of `view`. `where` and `value` are numbers below 2^53
 * or bigints below 2^64 (the caller checked them); ring 0 checks them again.
 */
export function writeFixedRecord(view: DataView, offset: number, op: number, cb: number, target: number, where: number | bigint, value: number | bigint): void {
  view.setUint16(offset + FixedRecord.OP, op, true);
  view.setUint8(offset + FixedRecord.CB, cb);
  view.setUint8(offset + FixedRecord.ZERO, 0);
  view.setUint32(offset + FixedRecord.TARGET, target >>> 0, true);
  writeU64(view, offset + FixedRecord.WHERE, where);
  writeU64(view, offset + FixedRecord.VALUE, value);
}

/** Writes a fixed request header for `count` records into `view` (at 0). Returns the frame's size in bytes. */
export function writeFixedHeader(view: DataView, session: number, count: number, batch: boolean, version = PCIRAW_PROTOCOL_VERSION): number {
  const size = FIXED_REQ_HEADER_BYTES + count * FIXED_RECORD_BYTES;
  view.setUint32(FixedReq.MAGIC, PCIRAW_FIXED_REQ_MAGIC, true);
  view.setUint32(FixedReq.VERSION, version, true);
  view.setUint32(FixedReq.SIZE, size, true);
  view.setUint32(FixedReq.SESSION, session >>> 0, true);
  view.setUint32(FixedReq.FLAGS, batch ? FIXED_FLAG_BATCH : 0, true);
  view.setUint32(FixedReq.COUNT, count, true);
  return size;
}

function writeU64(view: DataView, offset: number, v: number | bigint): void {
  if (typeof v === 'bigint')
    view.setBigUint64(offset, v, true); // modulo 2^64 by itself (ToBigUint64)
  else {
    view.setUint32(offset, v >>> 0, true);
    view.setUint32(offset + 4, Math.floor(v / TWO_32) >>> 0, true);
  }
}

/** A DataView over `bytes[0, length)`, reused while the same buffer comes back (ring 0's frame copy, ring 3's answer copy). */
function viewOf(bytes: Uint8Array, length: number): DataView {
  const v = lastView;
  if (v !== undefined && v.buffer === bytes.buffer && v.byteOffset === bytes.byteOffset && v.byteLength >= length) return v;
  lastView = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return lastView;
}
let lastView: DataView | undefined;

/** A u64 field as a number: exact below 2^53, and past that still too large for every check it meets. */
function u64Number(view: DataView, offset: number): number {
  return view.getUint32(offset, true) + view.getUint32(offset + 4, true) * TWO_32;
}

/** An address field: a number below 2^53 (exact; no bigint to allocate), else a bigint. */
function u64Address(view: DataView, offset: number): number | bigint {
  const hi = view.getUint32(offset + 4, true);
  return hi < 0x20_0000 ? view.getUint32(offset, true) + hi * TWO_32 : view.getBigUint64(offset, true);
}

/** A u64 field as a bigint. */
function u64Big(view: DataView, offset: number): bigint {
  return view.getBigUint64(offset, true);
}

/**
 * The parameter block a data-plane access carries (the one msgpackr requests carry, rawpci.h's
 * parameter struct of the operation), from a record's fields: `where` is the port, address or
 * config offset, or ACK_IRQ's kind (an index into FIXED_IRQ_KINDS, or the kind itself);
 * `value` what a write stores. Undefined for an operation without a fixed layout. The one
 * mapping both rings use: ring 0 for a fixed record, ring 3 for an access it sends in msgpackr.
 */
export function accessParams(op: number, cb: number, where: number | bigint | string, value: number | bigint): Record<string, unknown> | undefined {
  switch (op) {
    case PCIRAWR0_DO.PIO_READ:
      return { port: where, cb };
    case PCIRAWR0_DO.PIO_WRITE:
      return { port: where, cb, value };
    case PCIRAWR0_DO.MMIO_READ:
      return { address: where, cb };
    case PCIRAWR0_DO.MMIO_WRITE:
      return { address: where, value: { cb, u: value } };
    case PCIRAWR0_DO.PCICFG_READ:
      return { offset: where, cb };
    case PCIRAWR0_DO.PCICFG_WRITE:
      return { offset: where, value: { cb, u: value } };
    case PCIRAWR0_DO.ACK_IRQ:
      return { kind: typeof where === 'number' ? (FIXED_IRQ_KINDS[where] ?? where) : where };
    default:
      return undefined;
  }
}

/** The `[op, target, params]` of one record, with the parameter block the msgpackr request would carry. */
function recordAccess(view: DataView, at: number): [number, number, Record<string, unknown>] | string {
  const op = view.getUint16(at + FixedRecord.OP, true);
  const cb = view.getUint8(at + FixedRecord.CB);
  if (view.getUint8(at + FixedRecord.ZERO) !== 0) return 'byte 3 of a fixed access record must be 0';
  const target = view.getUint32(at + FixedRecord.TARGET, true);
  const mmio = op === PCIRAWR0_DO.MMIO_READ || op === PCIRAWR0_DO.MMIO_WRITE;
  // Addresses below 2^53 as numbers (no bigint to allocate), ports and offsets as numbers, an 8-byte value as a bigint.
  const where = mmio ? u64Address(view, at + FixedRecord.WHERE) : u64Number(view, at + FixedRecord.WHERE);
  const value = mmio && cb === 8 ? u64Big(view, at + FixedRecord.VALUE) : u64Number(view, at + FixedRecord.VALUE);
  const params = accessParams(op, cb, where, value);
  if (!params) return `operation ${op} has no fixed layout: only PIO, MMIO and config reads and writes and ACK_IRQ do`;
  return [op, target, params];
}

/**
 * Decodes a fixed request `frame[0, length)` (ring 0's private copy, never shared memory) into
 * the request the same access would make in msgpackr: one access, or a BATCH of `count`.
 * Failures: VERR_VERSION_MISMATCH, VERR_INVALID_PARAMETER (size, count, flags, a non-zero
 * reserved byte), VERR_NOT_SUPPORTED (a single record of an operation without a fixed layout;
 * in a batch such a record is answered on its own by BATCH's checks).
 */
export function decodeFixedRequest(frame: Uint8Array, length: number): PciRawSendReq | { rc: number; msg: string } {
  if (length < FIXED_REQ_HEADER_BYTES || length > frame.length) {
    return { rc: VERR_INVALID_PARAMETER, msg: `fixed request of ${length} bytes is shorter than its ${FIXED_REQ_HEADER_BYTES}-byte header` };
  }
  const view = viewOf(frame, length);
  const version = view.getUint32(FixedReq.VERSION, true);
  if (version !== PCIRAW_PROTOCOL_VERSION) {
    return {
      rc: VERR_VERSION_MISMATCH,
      msg: `ring 3 speaks protocol 0x${version.toString(16)}, ring 0 speaks 0x${PCIRAW_PROTOCOL_VERSION.toString(16)}: use the same rawpci version on both sides`,
    };
  }
  const size = view.getUint32(FixedReq.SIZE, true);
  const session = view.getUint32(FixedReq.SESSION, true);
  const flags = view.getUint32(FixedReq.FLAGS, true);
  const count = view.getUint32(FixedReq.COUNT, true);
  if (flags & ~FIXED_FLAG_BATCH) return { rc: VERR_INVALID_PARAMETER, msg: `unknown fixed request flags 0x${flags.toString(16)}: only BATCH (0x1) exists` };
  const batch = flags === FIXED_FLAG_BATCH;
  const most = batch ? PCIRAW_BATCH_MAX : 1;
  if (count < 1 || count > most) {
    return { rc: VERR_INVALID_PARAMETER, msg: `a fixed ${batch ? 'BATCH' : 'request'} carries 1..${most} access records, not ${count}` };
  }
  const want = FIXED_REQ_HEADER_BYTES + count * FIXED_RECORD_BYTES;
  if (size !== length || size !== want) {
    return { rc: VERR_INVALID_PARAMETER, msg: `fixed request header says ${size} bytes, the frame holds ${length}, and ${count} record(s) need ${want}` };
  }
  if (!batch) {
    const a = recordAccess(view, FIXED_REQ_HEADER_BYTES);
    if (typeof a === 'string') return { rc: a.startsWith('operation') ? VERR_NOT_SUPPORTED : VERR_INVALID_PARAMETER, msg: a };
    return { version, size, session, op: a[0] as PciRawSendReq['op'], target: a[1], params: a[2] as never };
  }
  const accesses: unknown[] = [];
  for (let i = 0; i < count; i++) {
    const at = FIXED_REQ_HEADER_BYTES + i * FIXED_RECORD_BYTES;
    const a = recordAccess(view, at);
    // Not an access BATCH can carry: an entry BATCH's own check refuses, with its message.
    accesses.push(typeof a === 'string' ? [view.getUint16(at, true), 0, {}] : a);
  }
  return { version, size, session, op: PCIRAWR0_DO.BATCH, target: 0, params: { accesses } as never };
}

/**
 * Encodes fixed answers into buffers of its own, reused from one answer to the next (a new
 * ArrayBuffer per answer cost about 1 us here, ten times the rest of a dispatched access). The
 * bytes returned are valid until the next encode: the serve loop copies them into the channel
 * at once.
 */
export class FixedAnswerWriter {
  readonly #single = new Uint8Array(FIXED_ANS_HEADER_BYTES + FIXED_ANS_RECORD_BYTES);
  readonly #singleView = new DataView(this.#single.buffer);
  readonly #batch = new Uint8Array(FIXED_ANS_HEADER_BYTES + PCIRAW_BATCH_MAX * FIXED_ANS_RECORD_BYTES);
  readonly #batchView = new DataView(this.#batch.buffer);

  /**
   * The fixed answer of accesses that all succeeded (status 0): `values[i]` is what access i
   * read (a number of up to 32 bits, a bigint for 8 bytes), undefined when it read nothing.
   * `batch` says the request was a BATCH (1..PCIRAW_BATCH_MAX values; else exactly one).
   * Throws RangeError for another count.
   */
  encode(values: readonly (number | bigint | undefined)[], batch: boolean): Uint8Array {
    const n = values.length;
    if (n < 1 || n > (batch ? PCIRAW_BATCH_MAX : 1)) throw new RangeError(`a fixed answer holds 1..${batch ? PCIRAW_BATCH_MAX : 1} values, not ${n}`);
    const view = batch ? this.#batchView : this.#singleView;
    view.setUint32(FixedAns.MAGIC, PCIRAW_FIXED_ANS_MAGIC, true);
    view.setUint16(FixedAns.COUNT, n, true);
    view.setUint16(FixedAns.FLAGS, batch ? FIXED_FLAG_BATCH : 0, true);
    for (let i = 0; i < n; i++) {
      const at = FIXED_ANS_HEADER_BYTES + i * FIXED_ANS_RECORD_BYTES;
      const v = values[i];
      view.setInt32(at, 0, true);
      view.setUint32(at + 4, v === undefined ? 0 : typeof v === 'bigint' ? 8 : 4, true);
      writeU64(view, at + 8, v ?? 0);
    }
    return batch ? this.#batch.subarray(0, FIXED_ANS_HEADER_BYTES + n * FIXED_ANS_RECORD_BYTES) : this.#single;
  }
}

/**
 * Decodes a fixed answer in `bytes[0, length)` (ring 3's private copy) into the answer the
 * msgpackr codec would give, except that a single read's `out.value` is the bare value (a
 * number, or a bigint for 8 bytes; no PCIRAWMEMLOC): one access `{ rc, out?: { value } }`, a
 * BATCH `{ rc: 0, out: { answers } }` with BATCH's flat answers. Throws TypeError when the
 * bytes are not a well-formed fixed answer.
 */
export function decodeFixedAnswer(bytes: Uint8Array, length: number): PciRawAnswer {
  if (length < FIXED_ANS_HEADER_BYTES || length > bytes.length) throw new TypeError('ring 0 fixed answer is shorter than its header');
  const view = viewOf(bytes, length);
  if (view.getUint32(FixedAns.MAGIC, true) !== PCIRAW_FIXED_ANS_MAGIC) throw new TypeError('ring 0 answer is not a fixed answer');
  const n = view.getUint16(FixedAns.COUNT, true);
  const batch = view.getUint16(FixedAns.FLAGS, true) === FIXED_FLAG_BATCH;
  if (n < 1 || n > (batch ? PCIRAW_BATCH_MAX : 1) || length !== FIXED_ANS_HEADER_BYTES + n * FIXED_ANS_RECORD_BYTES) {
    throw new TypeError(`ring 0 fixed answer of ${length} bytes does not hold the ${n} access answer(s) it announces`);
  }
  if (!batch) {
    const v = recordAnswer(view, FIXED_ANS_HEADER_BYTES);
    return v === undefined ? { rc: 0 } : { rc: 0, out: { value: v } as never };
  }
  const answers: ([0] | [0, number | bigint])[] = [];
  for (let i = 0; i < n; i++) {
    const v = recordAnswer(view, FIXED_ANS_HEADER_BYTES + i * FIXED_ANS_RECORD_BYTES);
    answers.push(v === undefined ? [0] : [0, v]);
  }
  return { rc: 0, out: { answers } as never };
}

/** One access's answer record at `at`: the value read, or undefined. Throws TypeError for a malformed record. */
function recordAnswer(view: DataView, at: number): number | bigint | undefined {
  const rc = view.getInt32(at, true);
  const kind = view.getUint32(at + 4, true);
  if (rc !== 0 || (kind !== 0 && kind !== 4 && kind !== 8)) throw new TypeError(`ring 0 fixed answer is malformed (rc ${rc}, width ${kind})`);
  return kind === 0 ? undefined : kind === 8 ? view.getBigUint64(at + 8, true) : view.getUint32(at + 8, true);
}

/** True for the operations a fixed record can carry ({@link PCIRAW_BATCH_OPS}). */
export function hasFixedLayout(op: number): boolean {
  return PCIRAW_BATCH_OPS.has(op);
}
