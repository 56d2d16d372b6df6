// Bench worker: the far side of the raw SharedArrayBuffer ping-pong (no codec, no channel), spinning on one Int32 word; in batch mode it answers N words per hand-over.

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
}

/** Word index of the first batch request; the answers follow the `batch` requests. */
export const PINGPONG_BATCH_AT = 2;

/**
 * Answers every odd value written to word 0 with value + 1, spinning all the time (both sides
 * spinning: the floor of any shared-memory round trip); with `batch`, first answers each of the
 * batch's request words. Stops on -1.
 */
export function runPingPongServer(sab: SharedArrayBuffer, batch = 0): void {
  const i32 = new Int32Array(sab);
  Atomics.store(i32, 1, 1);
  let last = 0;
  for (;;) {
    let v = Atomics.load(i32, 0);
    while (v === last) v = Atomics.load(i32, 0);
    if (v < 0) break;
    for (let k = 0; k < batch; k++) i32[PINGPONG_BATCH_AT + batch + k] = i32[PINGPONG_BATCH_AT + k]! + 1;
    last = v + 1;
    Atomics.store(i32, 0, last);
  }
}

if (workerData && (workerData as PingPongWorkerData).sab)
  runPingPongServer((workerData as PingPongWorkerData).sab, (workerData as PingPongWorkerData).batch ?? 0);
