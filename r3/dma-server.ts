// Ring 3's end of the DMA lane: copies guest memory for ring 0 (vfio-user DMA_READ / DMA_WRITE, served by the client) on the thread that owns it.

import { type ChannelViews, DMA_LANE_BYTES, DMA_OP, DmaLane } from '../shared/channel-layout.js';
import type { GuestMemoryAccess } from '../shared/guest-memory.js';
import { VERR_GENERAL_FAILURE, VERR_INVALID_PARAMETER } from '../shared/status.js';

/**
 * Serves the DMA lane of one channel with the VMM's {@link GuestMemoryAccess}. {@link serve} is
 * cheap when nothing is pending (one atomic load): the client calls it from the wait loop of
 * every synchronous call and from its event-loop waiter (RawPciClient). Only the thread that
 * owns guest memory may call it; it is not reentrant.
 *
 * Answers: status 0 and ANS_LEN = REQ_LEN on success; VERR_INVALID_PARAMETER for a request
 * outside guest memory or the lane (ring 0 never sends one: the IOMMU domain checked it);
 * VERR_GENERAL_FAILURE when `read` or `write` threw or `read` returned the wrong length. A
 * request ring 0 withdrew meanwhile (it timed out) is dropped unanswered.
 */
export class DmaLaneServer {
  readonly memory: GuestMemoryAccess;
  readonly #lane: ChannelViews['dma'];
  readonly #wake: ChannelViews['wake'];
  /** The last request sequence served. */
  #last = 0;
  /** Requests served and requests failed (statistics). */
  readonly stats = { served: 0, failed: 0, dropped: 0 };

  constructor(views: ChannelViews, memory: GuestMemoryAccess) {
    this.#lane = views.dma;
    this.#wake = views.wake;
    this.memory = memory;
  }

  /** The lane's bell word and its index, for Atomics.waitAsync. */
  get bell(): { i32: Int32Array; index: number } {
    return { i32: this.#lane.i32, index: DmaLane.BELL };
  }

  /** Serves the pending request, if any. Returns true when there was one. Never throws. */
  serve(): boolean {
    const { i32, req, ans } = this.#lane;
    const seq = Atomics.load(i32, DmaLane.REQ_SEQ);
    if (seq === 0 || seq === this.#last) return false;
    this.#last = seq;
    const op = Atomics.load(i32, DmaLane.REQ_OP);
    const address = (Atomics.load(i32, DmaLane.REQ_ADDR_HI) >>> 0) * 0x1_0000_0000 + (Atomics.load(i32, DmaLane.REQ_ADDR_LO) >>> 0);
    const len = Atomics.load(i32, DmaLane.REQ_LEN);
    let status = 0;
    if ((op !== DMA_OP.READ && op !== DMA_OP.WRITE) || len < 1 || len > DMA_LANE_BYTES || address + len > this.memory.size) {
      status = VERR_INVALID_PARAMETER;
    } else if (op === DMA_OP.READ) {
      try {
        const bytes = this.memory.read(address, len);
        if (bytes instanceof Uint8Array && bytes.length === len) ans.set(bytes);
        else status = VERR_GENERAL_FAILURE;
      } catch {
        status = VERR_GENERAL_FAILURE;
      }
    } else {
      const data = req.slice(0, len);
      // Withdrawn while we copied: the bytes may be the next request's, half written.
      if (Atomics.load(i32, DmaLane.REQ_SEQ) !== seq) {
        this.stats.dropped++;
        return true;
      }
      try {
        this.memory.write(address, data);
      } catch {
        status = VERR_GENERAL_FAILURE;
      }
    }
    if (Atomics.load(i32, DmaLane.REQ_SEQ) !== seq) {
      this.stats.dropped++;
      return true;
    }
    if (status) this.stats.failed++;
    else this.stats.served++;
    Atomics.store(i32, DmaLane.ANS_STATUS, status);
    Atomics.store(i32, DmaLane.ANS_LEN, status ? 0 : len);
    Atomics.store(i32, DmaLane.ANS_SEQ, seq);
    this.#wake.notify(i32, DmaLane.ANS_SEQ);
    return true;
  }
}
