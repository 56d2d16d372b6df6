// Bench worker: a VM thread waiting for edu's interrupt in a synchronous GET_IRQ, as a VMM's interrupt thread does; it stamps when its handler runs, lowers the line and acknowledges.

import { workerData } from 'node:worker_threads';
import { RawPciClient } from '../../r3/client.js';
import type { RawPciEndpoint } from '../../shared/connection.js';
import { EDU_REG } from '../../shared/devices/edu.js';

/** What the interrupt thread gets. */
export interface IrqWorkerData {
  endpoint: RawPciEndpoint;
  /** edu's handle (the VM registered its IRQ handler) and BAR0's address. */
  handle: number;
  bar0: bigint;
  /**
   * Float64 words: 0 the event's timeNs (ring 0's stamp when the model raised it), 1 this thread's stamp when its
   * handler ran (both `process.hrtime.bigint()` as numbers: one monotonic clock for every thread, ns); Int32 word 4 (bytes
   * 16..19): handled count; word 5: stop (1).
   */
  sab: SharedArrayBuffer;
  /** The interrupt thread's spin budget per GET_IRQ, in microseconds (RawPciClient.attach's spinUs; default the client's 50). */
  spinUs?: number;
}

/** Waits for interrupts until told to stop: stamps, lowers edu's line (ACK register), acknowledges to ring 0, counts. */
export function runIrqThread(d: IrqWorkerData): void {
  const vm = RawPciClient.attach(d.endpoint, { timeoutMs: 5000, ...(d.spinUs === undefined ? {} : { spinUs: d.spinUs }) });
  const f64 = new Float64Array(d.sab, 0, 2);
  const i32 = new Int32Array(d.sab, 16, 2);
  while (Atomics.load(i32, 1) === 0) {
    const ev = vm.getIrq(200, d.handle);
    if (!ev) continue;
    f64[1] = Number(process.hrtime.bigint());
    f64[0] = ev.timeNs;
    const status = vm.mmioRead(d.handle, d.bar0 + BigInt(EDU_REG.IRQ_STATUS), 4);
    vm.mmioWrite(d.handle, d.bar0 + BigInt(EDU_REG.IRQ_ACK), 4, status);
    vm.ackIrq(d.handle);
    Atomics.add(i32, 0, 1);
    Atomics.notify(i32, 0);
  }
}

if (workerData && (workerData as IrqWorkerData).endpoint) runIrqThread(workerData as IrqWorkerData);
