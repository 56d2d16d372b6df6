// Ring 0's end of the DMA lane: guest RAM that only ring 3 can touch, reached by asking ring 3 to copy (vfio-user DMA_READ / DMA_WRITE), with a bounded wait.
//
// Used when the VMM connected with `guestMemory` (shared/guest-memory.ts): the IOMMU domain has
// checked the range already; this only moves the bytes. Hostile ring 3: every lane word can
// change at any moment. Ring 0 reads ANS_SEQ, ANS_STATUS and ANS_LEN once each, copies exactly
// the bytes it asked for out of the answer area into its own buffer before using them, and
// never waits past its deadline (a no-answer is a DMA fault and the device model sees failure).

import { type ChannelViews, DMA_LANE_BYTES, DMA_OP, DmaLane, Slot } from '../shared/channel-layout.js';
import { statusName } from '../shared/status.js';
import type { DomainMemory } from './iommu.js';

/** Default of {@link Ring3DmaLane}'s timeout: how long ring 0 waits for ring 3 to serve one DMA, in ms. */
export const DEFAULT_DMA_TIMEOUT_MS = 1000;
/** Accepted range of the DMA timeout, in ms (below the watchdog's smallest request limit, 50 ms, is allowed: it bounds the whole DMA). */
export const DMA_TIMEOUT_RANGE_MS = { min: 1, max: 5000 } as const;
/** How long ring 0 spins on the answer before it sleeps, in ms: a ring 3 awake in its own wait loop answers within microseconds. */
const ANSWER_SPIN_MS = 0.05;
/** Longest single sleep while waiting for the answer, in ms. */
const ANSWER_SLICE_MS = 20;

/**
 * Guest RAM of `byteLength` bytes (ring 3's `guestMemory.size`) reached through the channel's DMA
 * lane. `timeoutMs` bounds one whole DMA (all its chunks). Reads copy into a private buffer and
 * hand it over only when every chunk came back whole (whole or nothing); writes go out in
 * chunks of DMA_LANE_BYTES. Failure reasons name the cause: no answer in time, ring 3's status,
 * a wrong length.
 */
export class Ring3DmaLane implements DomainMemory {
  readonly byteLength: number;
  readonly timeoutMs: number;
  readonly #views: ChannelViews;
  /** Ring 0's own sequence counter (never read back from the lane). */
  #seq = 0;
  /** DMAs served, chunks moved, and failures (statistics). */
  readonly stats = { dmas: 0, chunks: 0, failures: 0 };

  constructor(views: ChannelViews, byteLength: number, timeoutMs = DEFAULT_DMA_TIMEOUT_MS) {
    this.#views = views;
    this.byteLength = byteLength;
    this.timeoutMs = timeoutMs;
  }

  read(offset: number, dest: Uint8Array): string | undefined {
    const tmp = new Uint8Array(dest.length);
    const why = this.#transfer(DMA_OP.READ, offset, tmp);
    if (why === undefined) dest.set(tmp);
    return why;
  }

  write(offset: number, src: Uint8Array): string | undefined {
    return this.#transfer(DMA_OP.WRITE, offset, src);
  }

  #transfer(op: number, offset: number, bytes: Uint8Array): string | undefined {
    this.stats.dmas++;
    const deadline = performance.now() + this.timeoutMs;
    for (let done = 0; done < bytes.length; done += DMA_LANE_BYTES) {
      const n = Math.min(DMA_LANE_BYTES, bytes.length - done);
      const why = this.#chunk(op, offset + done, bytes.subarray(done, done + n), deadline);
      if (why !== undefined) {
        this.stats.failures++;
        return done ? `${why} (after ${done} of ${bytes.length} bytes)` : why;
      }
      this.stats.chunks++;
    }
    return undefined;
  }

  /** One lane request of `bytes.length` (1..DMA_LANE_BYTES) bytes at `address`. */
  #chunk(op: number, address: number, bytes: Uint8Array, deadline: number): string | undefined {
    const { i32, req, ans } = this.#views.dma;
    // REQ_SEQ is 0 (withdrawn) or the last request's, already answered: ring 3 does not copy
    // the request area while the new data goes in (it checks REQ_SEQ after copying).
    Atomics.store(i32, DmaLane.REQ_SEQ, 0);
    // An answer left in the lane before this request (a hostile ring 3 answering the next
    // sequence number ahead of time) must not pass for this request's.
    Atomics.store(i32, DmaLane.ANS_SEQ, 0);
    this.#seq = (this.#seq % 0x7fff_ffff) + 1;
    const seq = this.#seq;
    if (op === DMA_OP.WRITE) req.set(bytes);
    Atomics.store(i32, DmaLane.REQ_OP, op);
    Atomics.store(i32, DmaLane.REQ_ADDR_LO, (address % 0x1_0000_0000) | 0);
    Atomics.store(i32, DmaLane.REQ_ADDR_HI, Math.floor(address / 0x1_0000_0000) | 0);
    Atomics.store(i32, DmaLane.REQ_LEN, bytes.length);
    Atomics.store(i32, DmaLane.REQ_SEQ, seq);
    Atomics.add(i32, DmaLane.BELL, 1);
    this.#views.wake.notify(i32, DmaLane.BELL);
    this.#wakeSyncWaiters();
    // Wait for ANS_SEQ == seq, bounded: ring 3 writing other values only wakes us early.
    const spinEnd = performance.now() + ANSWER_SPIN_MS;
    for (;;) {
      const a = Atomics.load(i32, DmaLane.ANS_SEQ);
      if (a === seq) break;
      const now = performance.now();
      if (now >= deadline) {
        // Withdraw the request before the next one's data goes into the lane: a ring 3 that
        // serves it late sees the sequence change and drops it (r3/dma-server.ts).
        Atomics.store(i32, DmaLane.REQ_SEQ, 0);
        return `ring 3 did not serve the DMA within ${this.timeoutMs} ms`;
      }
      if (now < spinEnd) continue;
      this.#views.wake.wait(i32, DmaLane.ANS_SEQ, a, Math.min(deadline - now, ANSWER_SLICE_MS));
    }
    const status = Atomics.load(i32, DmaLane.ANS_STATUS);
    const len = Atomics.load(i32, DmaLane.ANS_LEN);
    if (status !== 0) return `ring 3 failed the DMA (${statusName(status)})`;
    if (len !== bytes.length) return `ring 3 answered the DMA with ${len} bytes instead of ${bytes.length}`;
    // Copy exactly the bytes asked for, once; what ring 3 writes there afterwards is not seen.
    if (op === DMA_OP.READ) bytes.set(ans.subarray(0, bytes.length));
    return undefined;
  }

  /**
   * Wakes ring-3 threads sleeping in a synchronous call (a vCPU blocked in an MMIO write whose
   * DMA this is): the owner of guest memory serves the lane from its wait loop. Only slots whose
   * waiter flag is set are notified; the notify changes nothing they read.
   */
  #wakeSyncWaiters(): void {
    const { i32, header, slotCount } = this.#views;
    for (let i = 0; i < slotCount; i++) {
      const h = header[i]!;
      if (Atomics.load(i32, h + Slot.WAITER) !== 0) this.#views.wake.notify(i32, h + Slot.STATE);
    }
  }
}
