// The one msgpackr configuration both rings use, and the binary frame around each request and answer.
//
// Request frame (little-endian), the PCIRAWSENDREQ of shared/protocol.ts:
//   0  u32 magic    PCIRAW_REQ_MAGIC
//   4  u32 version  PCIRAW_PROTOCOL_VERSION
//   8  u32 size     bytes of the whole frame, header included
//  12  u32 session  session id
//  16  ...          msgpack body: [op, target, params]
// The header is binary so ring 0 can refuse another protocol version before decoding anything.
//
// Answer frame: msgpack [rc, out, msg] (out and msg may be null).

import { Packr } from 'msgpackr';
import { decodeFixedAnswer, decodeFixedRequest, FIXED_ANS_FIRST_BYTE, isFixedRequest } from './fixed-frame.js';
import { readLe } from './le.js';
import { PCIRAW_PROTOCOL_VERSION, PCIRAW_REQ_MAGIC, type PciRawAnswer, type PciRawSendReq } from './protocol.js';
import { VERR_INVALID_MAGIC, VERR_INVALID_PARAMETER, VERR_PARSE_ERROR, VERR_VERSION_MISMATCH } from './status.js';

/** Thrown by {@link PciRawCodec.encodeRequest} when a frame does not fit its slot. */
export class FrameTooLargeError extends RangeError {
  override readonly name = 'FrameTooLargeError';
}

/** Bytes of the binary request header. */
export const REQ_HEADER_BYTES = 16;

/** Field offsets of the binary request header, in bytes. */
export const ReqHeader = { MAGIC: 0, VERSION: 4, SIZE: 8, SESSION: 12 } as const;

/**
 * Every parameter block and answer shape, as msgpackr record structures shared by both rings.
 * Order matters: both rings must hold the same list (the layout test pins it). A shape not in
 * the list still encodes (inline record definition), only slower.
 */
const SHARED_STRUCTURES: readonly (readonly string[])[] = [
  ['pciAddress', 'flags'],
  ['flags'],
  ['region'],
  ['startAddress', 'regionSize', 'region', 'flags'],
  ['startAddress', 'regionSize', 'mapId', 'region'],
  ['port', 'cb', 'value'],
  ['port', 'cb'],
  ['address', 'value'],
  ['address', 'cb'],
  ['offset', 'value'],
  ['offset', 'cb'],
  ['cb', 'u'],
  ['guestIrq'],
  ['hostIrq'],
  ['state'],
  ['hostStart', 'guestStart', 'size', 'action'],
  ['timeoutMs'],
  ['kind'],
  ['device'],
  ['regionStart', 'regionSize', 'present', 'flags'],
  ['mapId'],
  ['value'],
  ['caps'],
  ['domain'],
  ['irq', 'pending'],
  ['timeNs', 'kind', 'device', 'guestIrq', 'hostIrq', 'vector', 'address', 'data'],
  ['timeNs', 'kind', 'device', 'guestIrq', 'hostIrq', 'vector', 'address', 'data', 'detail'],
];

/** Number of shared structures (pinned by the layout test). */
export const SHARED_STRUCTURE_COUNT = SHARED_STRUCTURES.length;

/**
 * Creates the shared Packr. Both rings must use this and nothing else: 64-bit integers decode
 * as bigint (PCIRAWMEMLOC u64, addresses), records use the shared structures, and new shapes
 * are never added to the shared set (each side would otherwise grow its own).
 */
export function createPackr(): Packr {
  return new Packr({
    structures: SHARED_STRUCTURES.map((s) => s.slice()),
    maxSharedStructures: SHARED_STRUCTURES.length,
    shouldShareStructure: () => false,
    int64AsType: 'bigint',
    useRecords: true,
    moreTypes: false,
    mapsAsObjects: true,
    // Binary values become copies, never views into the (reused) frame buffer.
    copyBuffers: true,
  });
}

/** A copy of the last message decoded (up to 64 bytes), to recognise the same bytes again. */
class LastBytes {
  readonly #bytes = new Uint8Array(64);
  #length = -1;

  /** True when `b[0, length)` equals the remembered bytes. */
  same(b: Uint8Array, length: number): boolean {
    if (length !== this.#length) return false;
    const m = this.#bytes;
    for (let i = 0; i < length; i++) if (b[i] !== m[i]) return false;
    return true;
  }

  /** Remembers `b[0, length)` (messages longer than 64 bytes are not remembered). */
  remember(b: Uint8Array, length: number): void {
    if (length > this.#bytes.length) {
      this.#length = -1;
      return;
    }
    this.#bytes.set(b.subarray(0, length));
    this.#length = length;
  }
}

/** msgpackr keeps the record structures it knows on the instance (not in its typings). */
function structuresOf(packr: Packr): unknown[] {
  return (packr as unknown as { structures: unknown[] }).structures;
}

/**
 * The request/answer codec of one thread. Ring 0 uses {@link decodeRequest} on bytes it has
 * already copied out of shared memory; a decode that fails or that tampered with the shared
 * structures (a crafted inline record) resets the Packr so one bad request cannot poison the next.
 */
export class PciRawCodec {
  #packr = createPackr();
  #canonical = structuresOf(this.#packr).slice();
  readonly #range = { start: 0, end: 0 };

  /**
   * Encodes a request into `dest` at offset 0. Returns the frame size in bytes.
   * Throws FrameTooLargeError when `dest` is too small (the caller maps it to VERR_BUFFER_OVERFLOW),
   * and msgpackr's RangeError/TypeError for values it cannot encode (bigints past 64 bits).
   */
  encodeRequest(dest: Uint8Array, session: number, op: number, target: number, params: unknown, version = PCIRAW_PROTOCOL_VERSION): number {
    const body = this.#packr.pack([op, target, params]);
    const size = REQ_HEADER_BYTES + body.length;
    if (size > dest.length) throw new FrameTooLargeError(`request of ${size} bytes exceeds the ${dest.length}-byte slot`);
    const dv = new DataView(dest.buffer, dest.byteOffset, dest.byteLength);
    dv.setUint32(ReqHeader.MAGIC, PCIRAW_REQ_MAGIC, true);
    dv.setUint32(ReqHeader.VERSION, version, true);
    dv.setUint32(ReqHeader.SIZE, size, true);
    dv.setUint32(ReqHeader.SESSION, session >>> 0, true);
    dest.set(body, REQ_HEADER_BYTES);
    return size;
  }

  /** Encodes a whole request as a new buffer (for pool.run and tests). */
  encodeRequestBuffer(session: number, op: number, target: number, params: unknown): Uint8Array {
    const body = this.#packr.pack([op, target, params]);
    const frame = new Uint8Array(REQ_HEADER_BYTES + body.length);
    const dv = new DataView(frame.buffer);
    dv.setUint32(ReqHeader.MAGIC, PCIRAW_REQ_MAGIC, true);
    dv.setUint32(ReqHeader.VERSION, PCIRAW_PROTOCOL_VERSION, true);
    dv.setUint32(ReqHeader.SIZE, frame.length, true);
    dv.setUint32(ReqHeader.SESSION, session >>> 0, true);
    frame.set(body, REQ_HEADER_BYTES);
    return frame;
  }

  /**
   * Decodes the request frame in `frame[0, length)` (a private copy, never shared memory): a
   * msgpackr frame, or a fixed one (shared/fixed-frame.ts, with that layout's failures). Returns the request or a
   * failure: `{ rc, msg }` with VERR_INVALID_MAGIC, VERR_VERSION_MISMATCH, VERR_INVALID_PARAMETER
   * (size field disagrees with the frame) or VERR_PARSE_ERROR (body is not a valid encoding).
   */
  decodeRequest(frame: Uint8Array, length = frame.length): PciRawSendReq | { rc: number; msg: string } {
    // A vCPU polling a register sends the same bytes again and again: decoding is a pure
    // function of the bytes, so an identical frame reuses the last result (callers never
    // mutate it). Comparing ~20 bytes costs far less than msgpackr's unpack.
    // The fixed layout of the small data-plane operations (shared/fixed-frame.ts): no msgpack.
    if (isFixedRequest(frame, length)) return decodeFixedRequest(frame, length);
    if (this.#lastReq !== undefined && this.#lastReqBytes.same(frame, length)) return this.#lastReq;
    const req = this.#decodeRequest(frame, length);
    if ('op' in req) {
      this.#lastReq = req;
      this.#lastReqBytes.remember(frame, length);
    }
    return req;
  }

  #lastReq: PciRawSendReq | undefined;
  readonly #lastReqBytes = new LastBytes();
  #lastAnswer: PciRawAnswer | undefined;
  readonly #lastAnswerBytes = new LastBytes();

  #decodeRequest(frame: Uint8Array, length: number): PciRawSendReq | { rc: number; msg: string } {
    if (length < REQ_HEADER_BYTES || length > frame.length) {
      return { rc: VERR_INVALID_PARAMETER, msg: `request frame of ${length} bytes is shorter than its ${REQ_HEADER_BYTES}-byte header` };
    }
    const magic = readLe(frame, ReqHeader.MAGIC, 4);
    if (magic !== PCIRAW_REQ_MAGIC) {
      return { rc: VERR_INVALID_MAGIC, msg: `bad request magic 0x${magic.toString(16)} (expected 0x${PCIRAW_REQ_MAGIC.toString(16)})` };
    }
    const version = readLe(frame, ReqHeader.VERSION, 4);
    if (version !== PCIRAW_PROTOCOL_VERSION) {
      return {
        rc: VERR_VERSION_MISMATCH,
        msg: `ring 3 speaks protocol 0x${version.toString(16)}, ring 0 speaks 0x${PCIRAW_PROTOCOL_VERSION.toString(16)}: use the same rawpci version on both sides`,
      };
    }
    const size = readLe(frame, ReqHeader.SIZE, 4);
    if (size !== length) {
      return { rc: VERR_INVALID_PARAMETER, msg: `request header says ${size} bytes but the frame holds ${length}` };
    }
    const session = readLe(frame, ReqHeader.SESSION, 4);
    let body: unknown;
    try {
      // msgpackr caches its DataView on the source array: decoding in place from a buffer that
      // is reused for every request (ring 0's private copy) avoids a new view per request.
      this.#range.start = REQ_HEADER_BYTES;
      this.#range.end = length;
      body = this.#packr.unpack(frame, this.#range);
    } catch (e) {
      this.#reset();
      return { rc: VERR_PARSE_ERROR, msg: `request body is not valid msgpack: ${(e as Error).message}` };
    }
    if (this.#tampered()) this.#reset();
    if (!Array.isArray(body) || body.length !== 3) {
      return { rc: VERR_PARSE_ERROR, msg: 'request body must be [op, target, params]' };
    }
    const [op, target, params] = body as [unknown, unknown, unknown];
    if (typeof op !== 'number' || !Number.isInteger(op)) return { rc: VERR_PARSE_ERROR, msg: 'request op must be an integer' };
    if (typeof target !== 'number' || !Number.isInteger(target) || target < 0 || target > 0xffff_ffff) {
      return { rc: VERR_PARSE_ERROR, msg: 'request target must be an unsigned 32-bit handle' };
    }
    if (params === null || typeof params !== 'object' || Array.isArray(params)) {
      return { rc: VERR_PARSE_ERROR, msg: 'request params must be a map' };
    }
    return { version, size, session, op, target, params } as PciRawSendReq;
  }

  /** Encodes an answer. */
  encodeAnswer(answer: PciRawAnswer): Uint8Array {
    return this.#packr.pack([answer.rc, answer.out ?? null, answer.msg ?? null]);
  }

  /**
   * Decodes an answer (ring 3 side) from `bytes[0, length)`: a msgpackr answer, or a fixed one
   * (see decodeFixedAnswer in shared/fixed-frame.ts for its shape). Throws when the bytes are not an
   * answer. Pass the same reused buffer each time for speed (see {@link decodeRequest}).
   */
  decodeAnswer(bytes: Uint8Array, length = bytes.length): PciRawAnswer {
    // A fixed answer (shared/fixed-frame.ts) starts with 0xc1, a byte msgpack never writes.
    if (length > 0 && bytes[0] === FIXED_ANS_FIRST_BYTE) return decodeFixedAnswer(bytes, length);
    // As decodeRequest: the same answer bytes (a register polled) give the same answer object.
    if (this.#lastAnswer !== undefined && this.#lastAnswerBytes.same(bytes, length)) return this.#lastAnswer;
    const a = this.#decodeAnswer(bytes, length);
    this.#lastAnswer = a;
    this.#lastAnswerBytes.remember(bytes, length);
    return a;
  }

  #decodeAnswer(bytes: Uint8Array, length: number): PciRawAnswer {
    this.#range.start = 0;
    this.#range.end = length;
    const v = this.#packr.unpack(bytes, this.#range) as unknown;
    if (!Array.isArray(v) || v.length !== 3 || typeof v[0] !== 'number') {
      throw new TypeError('ring 0 answer is not [rc, out, msg]');
    }
    const answer: PciRawAnswer = { rc: v[0] };
    if (v[1] !== null) answer.out = v[1];
    if (v[2] !== null) answer.msg = v[2];
    return answer;
  }

  #tampered(): boolean {
    const s = structuresOf(this.#packr);
    const c = this.#canonical;
    for (let i = 0; i < c.length; i++) if (s[i] !== c[i]) return true;
    return false;
  }

  #reset(): void {
    this.#packr = createPackr();
    this.#canonical = structuresOf(this.#packr).slice();
  }
}
