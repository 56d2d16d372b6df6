// Bench worker: ring 0's side of a DMA measurement, IommuDomain reads of 64 KiB from shared guest RAM or through the DMA lane (ring 3 copies).

import { parentPort, workerData } from 'node:worker_threads';
import { Ring3DmaLane } from '../../r0/dma-lane.js';
import { IommuDomain } from '../../r0/iommu.js';
import { attachChannel } from '../../shared/channel-layout.js';

/** What the DMA bench worker gets as workerData. */
export interface DmaWorkerData {
  /** A channel made by createChannel: its DMA lane is used in mode 'ring3'. */
  channel: SharedArrayBuffer;
  /** Shared guest RAM in mode 'shared'; its size is the guest RAM size in mode 'ring3' too. */
  ram: SharedArrayBuffer;
  mode: 'shared' | 'ring3';
  /** Bytes per DMA. */
  bytes: number;
  /** Milliseconds of warm-up and of measuring. */
  warmupMs: number;
  timeMs: number;
  /** Word 0 set to 1 when the worker is done (ring 3 stops serving). */
  done: SharedArrayBuffer;
}

/** What the worker posts: per-DMA percentiles in microseconds and DMAs per second. */
export interface DmaWorkerResult {
  p50_us: number;
  p99_us: number;
  ops_per_s: number;
  failures: number;
}

function run(d: DmaWorkerData): DmaWorkerResult {
  const memory = d.mode === 'shared' ? new Uint8Array(d.ram) : new Ring3DmaLane(attachChannel(d.channel), d.ram.byteLength, 2000);
  const domain = new IommuDomain(1, memory);
  domain.map(0n, 0n, BigInt(d.ram.byteLength));
  const dest = new Uint8Array(d.bytes);
  let failures = 0;
  const once = () => {
    if (!domain.read(0x1000n, dest)) failures++;
  };
  const wEnd = performance.now() + d.warmupMs;
  while (performance.now() < wEnd) once();
  const samples: number[] = [];
  const t0 = performance.now();
  let t = t0;
  while (t < t0 + d.timeMs) {
    once();
    const t1 = performance.now();
    samples.push((t1 - t) * 1000);
    t = t1;
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
  return { p50_us: at(0.5), p99_us: at(0.99), ops_per_s: (samples.length * 1000) / (t - t0), failures };
}

if (workerData && (workerData as DmaWorkerData).channel) {
  const d = workerData as DmaWorkerData;
  const result = run(d);
  Atomics.store(new Int32Array(d.done), 0, 1);
  parentPort!.postMessage(result);
}
