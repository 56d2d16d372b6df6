// Bench worker: one vCPU thread of a VM, attached to its channel, doing synchronous PIO reads for a fixed time.

import { parentPort, workerData } from 'node:worker_threads';
import { RawPciClient } from '../../r3/client.js';
import type { RawPciEndpoint } from '../../shared/connection.js';

/** What a vCPU worker gets as workerData. */
export interface VcpuWorkerData {
  endpoint: RawPciEndpoint;
  /** Device handle (opened by the VM's main thread; handles are per session, so valid here). */
  handle: number;
  port: number;
  /** The value the port must read (checked on the first and last read). */
  expect: number;
  /** Word 0: start flag (the main thread sets it to 1 once every vCPU is ready); word 1: ready count. */
  gate: SharedArrayBuffer;
  warmupMs: number;
  timeMs: number;
}

/** What a vCPU worker posts back: round-trip samples in microseconds (sorted) and the count. */
export interface VcpuWorkerResult {
  ops: number;
  elapsedMs: number;
  samplesUs: Float64Array;
}

/** Runs the vCPU loop and returns its samples. Throws when the port reads a wrong value. */
export function runVcpu(d: VcpuWorkerData): VcpuWorkerResult {
  const vm = RawPciClient.attach(d.endpoint);
  const gate = new Int32Array(d.gate);
  const check = () => {
    const v = vm.pioRead(d.handle, d.port, 4);
    if (v !== d.expect) throw new Error(`vCPU read 0x${v.toString(16)} at port 0x${d.port.toString(16)}, expected 0x${d.expect.toString(16)}`);
  };
  check();
  Atomics.add(gate, 1, 1);
  Atomics.wait(gate, 0, 0);
  const wEnd = performance.now() + d.warmupMs;
  while (performance.now() < wEnd) vm.pioRead(d.handle, d.port, 4);
  const cap = 1 << 21;
  const samples = new Float64Array(cap);
  let n = 0;
  const t0 = performance.now();
  const end = t0 + d.timeMs;
  let t = t0;
  while (t < end) {
    vm.pioRead(d.handle, d.port, 4);
    const t1 = performance.now();
    if (n < cap) samples[n] = (t1 - t) * 1000;
    n++;
    t = t1;
  }
  const elapsedMs = t - t0;
  check();
  return { ops: n, elapsedMs, samplesUs: samples.slice(0, Math.min(n, cap)).sort() };
}

if (parentPort && workerData && (workerData as VcpuWorkerData).endpoint) {
  const r = runVcpu(workerData as VcpuWorkerData);
  parentPort.postMessage(r, [r.samplesUs.buffer as ArrayBuffer]);
}
