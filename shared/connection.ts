// What ring 0's service hands ring 3 for one VM: the channel, the guest RAM and the control port.

import type { MessagePort } from 'node:worker_threads';
import type { WakeKind } from './wake.js';

/**
 * One VM's connection to ring 0. `channel` and `ram` are shared memory; `port` carries the
 * SharedArrayBuffer views MAP_REGION creates; `served` settles when ring 0 has stopped serving
 * the channel and cleaned the session up (every device closed, drivers rebound).
 */
export interface Ring0Connection {
  session: number;
  channel: SharedArrayBuffer;
  /** Guest RAM shared with ring 0; undefined when the VMM keeps it (`guestMemory`: DMA through the channel's DMA lane). */
  ram: SharedArrayBuffer | undefined;
  port: MessagePort;
  served: Promise<unknown>;
  /** Asks ring 0 to stop serving (the serve loop sees it within one sleep). */
  stop(): void;
}

/**
 * What another thread (a vCPU) needs to call ring 0 for the same VM: postMessage it and pass it
 * to `RawPciClient.attach`. Such a client makes synchronous and asynchronous calls but cannot
 * map regions (views arrive on the primary client's port).
 */
export interface RawPciEndpoint {
  session: number;
  channel: SharedArrayBuffer;
  /** Guest RAM shared with ring 0; undefined when the VMM keeps it (`guestMemory`). */
  ram: SharedArrayBuffer | undefined;
  /** 'futex' when ring 0 is another process (`rawpci serve`); absent: in-process (Atomics). */
  wake?: WakeKind;
  /** The socket to `rawpci serve` (an fd of this process), polled to notice a ring 0 that died. */
  peerSocket?: number;
}
