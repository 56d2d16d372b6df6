// Bench worker: the far side of the raw SharedArrayBuffer ping-pong (no codec, no channel), spinning on one Int32 word; in batch mode it answers N words per hand-over, in frame mode a framed request.

import { workerData } from 'node:worker_threads';

/** What {@link runPingPongServer} gets as workerData. */
export interface PingPongWorkerData {
  /**
   * Word 0: the ball (ring 3 writes odd values, this side answers with value + 1; -1 stops).
   * Word 1: set to 1 once spinning. Batch mode: words 2..2+batch are the requests, the next
   * `batch` words the answers (each request + 1), written before the ball is returned.
   */
  sab: SharedArrayBuffer;
  /** Words per hand-over (default 0: the ball alone). */
  batch?: number;
  /**
   * Frame mode (raw-sab-frame), the floor of a framed request and answer in JavaScript: word 16
   * (byte 64) is the request's sequence number, words 17.. its FRAME_REQ_BYTES; word 32 (byte 128)
   * the answer's sequence number, words 33.. its FRAME_ANS_BYTES. This side copies the request
   * out and writes a fixed answer, each in one cache line, as a vCPU lane does.
   */
  frame?: boolean;
}

/** Frame mode: Int32 index of the request line's sequence word (the frame follows it). */
export const FRAME_REQ_AT = 16;
/** Frame mode: Int32 index of the answer line's sequence word (the answer follows it). */
export const FRAME_ANS_AT = 32;
/** Frame mode: bytes of a request (a fixed single access, shared/fixed-frame.ts). */
export const FRAME_REQ_BYTES = 48;
/** Frame mode: bytes of an answer (a fixed single answer). */
export const FRAME_ANS_BYTES = 24;

/** The ball value that parks the ping-pong worker (Atomics.wait) until the ball changes again; -1 stops it. */
export const PINGPONG_PAUSE = -2;

/** Word index of the first batch request; the answers follow the `batch` requests. */
export const PINGPONG_BATCH_AT = 2;

/**
 * Answers every odd value written to word 0 with value + 1, spinning all the time (both sides
 * spinning: the floor of any shared-memory round trip); with `batch`, first answers each of the
 * batch's request words. Parks on PINGPONG_PAUSE, stops on -1.
 */
export function runPingPongServer(sab: SharedArrayBuffer, batch = 0): void {
  const i32 = new Int32Array(sab);
  Atomics.store(i32, 1, 1);
  let last = 0;
  for (;;) {
    let v = Atomics.load(i32, 0);
    while (v === last) v = Atomics.load(i32, 0);
    if (v === PINGPONG_PAUSE) {
      // Parked (not spinning) while the bench measures something else between its rounds. The
      // ball it wakes to is the last answer (not a request); word 1 says it spins again.
      Atomics.wait(i32, 0, PINGPONG_PAUSE);
      last = Atomics.load(i32, 0);
      Atomics.store(i32, 1, 1);
      continue;
    }
    if (v < 0) break;
    for (let k = 0; k < batch; k++) i32[PINGPONG_BATCH_AT + batch + k] = i32[PINGPONG_BATCH_AT + k]! + 1;
    last = v + 1;
    Atomics.store(i32, 0, last);
  }
}

/** Frame mode (see {@link PingPongWorkerData.frame}): answers each new request sequence number, spinning all the time. Stops on -1. */
export function runFrameServer(sab: SharedArrayBuffer): void {
  const i32 = new Int32Array(sab);
  const copy = new Int32Array(FRAME_REQ_BYTES / 4);
  Atomics.store(i32, 1, 1);
  let last = 0;
  for (;;) {
    let v = Atomics.load(i32, FRAME_REQ_AT);
    while (v === last) v = Atomics.load(i32, FRAME_REQ_AT);
    if (v < 0) break;
    last = v;
    for (let k = 0; k < copy.length; k++) copy[k] = i32[FRAME_REQ_AT + 1 + k]!;
    for (let k = 0; k < FRAME_ANS_BYTES / 4; k++) i32[FRAME_ANS_AT + 1 + k] = copy[k]! + 1;
    Atomics.store(i32, FRAME_ANS_AT, v);
  }
}

const data = workerData as PingPongWorkerData | undefined;
if (data?.sab) {
  if (data.frame) runFrameServer(data.sab);
  else runPingPongServer(data.sab, data.batch ?? 0);
}
