// Bench worker: the far side of the raw SharedArrayBuffer ping-pong (no codec, no channel), spinning on one Int32 word.

import { workerData } from 'node:worker_threads';

/** What {@link runPingPongServer} gets as workerData. */
export interface PingPongWorkerData {
  /** Word 0: the ball (ring 3 writes odd values, this side answers with value + 1; -1 stops). Word 1: set to 1 once spinning. */
  sab: SharedArrayBuffer;
}

/**
 * Answers every odd value written to word 0 with value + 1, spinning all the time (both sides
 * spinning: the floor of any shared-memory round trip). Stops on -1.
 */
export function runPingPongServer(sab: SharedArrayBuffer): void {
  const i32 = new Int32Array(sab);
  Atomics.store(i32, 1, 1);
  let last = 0;
  for (;;) {
    let v = Atomics.load(i32, 0);
    while (v === last) v = Atomics.load(i32, 0);
    if (v < 0) break;
    last = v + 1;
    Atomics.store(i32, 0, last);
  }
}

if (workerData && (workerData as PingPongWorkerData).sab) runPingPongServer((workerData as PingPongWorkerData).sab);
