// A thread of a hostile (or simply dying) ring 3: scribbles a channel's shared memory, flips posted frames, or sits in a call until it is terminated.

import { parentPort, workerData } from 'node:worker_threads';
import { RawPciClient } from '../../../r3/client.js';
import {
  CTL_WORDS,
  Ctl,
  DMA_LANE_BYTES,
  DMA_LANE_HEADER_WORDS,
  SLOT_HEADER_WORDS,
  slotOffset,
  VCPU_LANE_BYTES,
  VCPU_LANE_COUNT,
  vcpuLanesOffset,
} from '../../../shared/channel-layout.js';
import type { RawPciEndpoint } from '../../../shared/connection.js';
import { PCIRAWR0_DO } from '../../../shared/protocol.js';
import { statusName } from '../../../shared/status.js';

/** What a hostile thread does. `stop` word 0 set to 1 ends the loops. */
export type HostileThreadData =
  | { mode: 'store'; channel: SharedArrayBuffer; stop: SharedArrayBuffer; index: number; value: number }
  | { mode: 'scribble'; channel: SharedArrayBuffer; stop: SharedArrayBuffer; seed: number; slotCount: number; slotBytes: number }
  | { mode: 'lane'; channel: SharedArrayBuffer; stop: SharedArrayBuffer; seed: number; slotCount: number; slotBytes: number }
  | { mode: 'vcpu-lanes'; channel: SharedArrayBuffer; stop: SharedArrayBuffer; seed: number; slotCount: number; slotBytes: number }
  | { mode: 'flip'; channel: SharedArrayBuffer; stop: SharedArrayBuffer; byteOffset: number; a: number; b: number }
  | { mode: 'call'; endpoint: RawPciEndpoint; op: 'getIrq' | 'mmioRead' | 'loop'; handle: number; address?: string; timeoutMs: number; irqTimeoutMs?: number };

/** What the thread posts: `{ started: true }` first, then for 'call' the outcome of its call(s). */
export interface HostileThreadReport {
  started?: boolean;
  done?: boolean;
  writes?: number;
  calls?: number;
  code?: string;
  endedAt?: number;
}

/** A small xorshift generator (deterministic per seed). */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function run(d: HostileThreadData): void {
  const post = (r: HostileThreadReport) => parentPort!.postMessage(r);
  if (d.mode === 'call') {
    const vm = RawPciClient.attach(d.endpoint, { timeoutMs: d.timeoutMs });
    const read = () => vm.rawSync(PCIRAWR0_DO.MMIO_READ, d.handle, { address: BigInt(d.address ?? '0'), cb: 4 }, d.timeoutMs);
    post({ started: true });
    let calls = 0;
    try {
      if (d.op === 'getIrq') {
        calls++;
        vm.getIrq(d.irqTimeoutMs ?? 10_000, d.handle);
      } else if (d.op === 'mmioRead') {
        calls++;
        read();
      } else {
        // Read until ring 0 answers with a failure (the VM closed): report which and when.
        for (;;) {
          calls++;
          const a = read();
          if (a.rc < 0) {
            post({ done: true, calls, code: statusName(a.rc), endedAt: Date.now() });
            return;
          }
        }
      }
      post({ done: true, calls, code: 'ok', endedAt: Date.now() });
    } catch (e) {
      post({ done: true, calls, code: (e as { code?: string }).code ?? String(e), endedAt: Date.now() });
    }
    return;
  }
  const stop = new Int32Array(d.stop);
  const i32 = new Int32Array(d.channel);
  let writes = 0;
  post({ started: true });
  if (d.mode === 'store') {
    while (Atomics.load(stop, 0) === 0) {
      Atomics.store(i32, d.index, d.value);
      writes++;
    }
  } else if (d.mode === 'scribble') {
    const next = rng(d.seed);
    while (Atomics.load(stop, 0) === 0) {
      const r = next();
      const value = next() | 0;
      if (r & 1) {
        // A control-block word (any of them: magic, geometry, doorbell, states, masks).
        Atomics.store(i32, r % CTL_WORDS, value);
      } else {
        // A slot-header word of any slot.
        const slot = (r >>> 1) % d.slotCount;
        const word = (r >>> 11) % SLOT_HEADER_WORDS;
        Atomics.store(i32, slotOffset(slot, d.slotBytes) / 4 + word, value);
      }
      if ((writes & 1023) === 0) Atomics.add(i32, Ctl.DOORBELL, 1);
      writes++;
    }
  } else if (d.mode === 'lane') {
    // The DMA lane: its header words (sequence numbers, lengths, statuses, the bell) and bytes
    // of both data areas, at random.
    const next = rng(d.seed);
    const lane = slotOffset(d.slotCount, d.slotBytes);
    const u8 = new Uint8Array(d.channel);
    while (Atomics.load(stop, 0) === 0) {
      const r = next();
      const value = next() | 0;
      if (r & 1) Atomics.store(i32, lane / 4 + ((r >>> 1) % DMA_LANE_HEADER_WORDS), r & 2 ? value : value & 0xff);
      else u8[lane + DMA_LANE_HEADER_WORDS * 4 + ((r >>> 1) % (2 * DMA_LANE_BYTES))] = value;
      // In bursts with quiet gaps of 0..2 ms: DMAs run both while the lane is scribbled and in
      // between, so the test sees failures and successes (and the shared cores get a break).
      if ((++writes & 4095) === 0) Atomics.wait(stop, 0, 0, (next() % 2000) / 1000);
    }
  } else if (d.mode === 'vcpu-lanes') {
    // Every vCPU lane: sequence numbers, lengths, leases, waiter words and frame bytes, at
    // random; every 64th write a well-formed fixed frame's magic at the start of a request.
    const next = rng(d.seed);
    const lanes = vcpuLanesOffset(d.slotCount, d.slotBytes);
    const u8 = new Uint8Array(d.channel);
    while (Atomics.load(stop, 0) === 0) {
      const r = next();
      const value = next() | 0;
      const at = lanes + ((r >>> 4) % VCPU_LANE_COUNT) * VCPU_LANE_BYTES;
      if ((writes & 63) === 0) u8.set([0x52, 0x50, 0x43, 0x46], at + 12);
      else if (r & 1) Atomics.store(i32, at / 4 + ((r >>> 1) & 7) * (r & 8 ? 1 : 3), r & 2 ? value : value & 0x3f);
      else u8[at + ((r >>> 9) % VCPU_LANE_BYTES)] = value;
      writes++;
    }
  } else {
    const u8 = new Uint8Array(d.channel);
    while (Atomics.load(stop, 0) === 0) {
      u8[d.byteOffset] = writes & 1 ? d.a : d.b;
      writes++;
    }
  }
  post({ done: true, writes });
}

if (workerData) run(workerData as HostileThreadData);
