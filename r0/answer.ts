// Ring 0's answers and the parameter checks every operation shares: the one place a request's status is made.
//
// An answer is a PCIRAWREQHDR-style status (rawpci.h: `rc`) with the operation's output, or a
// VBox error status (err.h) with a message saying what was wrong and how to fix it.

import type { PciRawAnswer } from '../shared/protocol.js';
import { VINF_SUCCESS } from '../shared/status.js';

/**
 * An answer; `cacheKey` marks a successful read whose encoding depends only on that key (its
 * value and width), so Ring0.handleFrame can reuse the bytes instead of encoding them again.
 */
export type Out = PciRawAnswer & { cacheKey?: number };

/** VINF_SUCCESS with the operation's output `out` (none when undefined). */
export const ok = (out?: unknown): Out => (out === undefined ? { rc: VINF_SUCCESS } : { rc: VINF_SUCCESS, out: out as never });

/** A failure: VBox status `rc` (negative, err.h) and a message for the ring-3 caller. */
export const fail = (rc: number, msg: string): Out => ({ rc, msg });

/** An answer from a `{ rc, msg }` result of a lower layer (rc 0: success without output). */
export function result(r: { rc: number; msg?: string }): Out {
  return r.rc === 0 ? ok() : fail(r.rc, r.msg ?? '');
}

/** Whether a ring-3 value is an integer JS number (msgpackr decodes integers to numbers). */
export function isInt(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v);
}

/** Whether a ring-3 value is an unsigned 32-bit integer (handles, flags, PCI addresses). */
export function isU32(v: unknown): v is number {
  return isInt(v) && v >= 0 && v <= 0xffff_ffff;
}
