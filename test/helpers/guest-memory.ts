// Test helpers: guest memory that ring 0 cannot share (a plain ArrayBuffer behind GuestMemoryAccess), counting the copies ring 3 makes for ring 0.
import type { Ring0Service } from '../../r0/service.js';
import { type ConnectOptions, RawPciClient } from '../../r3/client.js';
import type { GuestMemoryAccess } from '../../shared/guest-memory.js';
import { PCIRAW_MEMINFO } from '../../shared/protocol.js';

/**
 * A VMM's private guest RAM: a non-shared ArrayBuffer wrapped in a Uint8Array, with counters of
 * the reads and writes ring 3 made for ring 0's DMA. `onRead`/`onWrite` run before each copy
 * (a test can make it fail or stall there).
 */
export class CountingMemory implements GuestMemoryAccess {
  readonly bytes: Uint8Array;
  reads = 0;
  writes = 0;
  bytesRead = 0;
  bytesWritten = 0;
  onRead: ((address: number, length: number) => void) | undefined;
  onWrite: ((address: number, data: Uint8Array) => void) | undefined;

  constructor(size: number) {
    this.bytes = new Uint8Array(new ArrayBuffer(size));
  }

  get size(): number {
    return this.bytes.length;
  }

  read(address: number, length: number): Uint8Array {
    this.onRead?.(address, length);
    this.reads++;
    this.bytesRead += length;
    return this.bytes.slice(address, address + length);
  }

  write(address: number, data: Uint8Array): void {
    this.onWrite?.(address, data);
    this.writes++;
    this.bytesWritten += data.length;
    this.bytes.set(data, address);
  }
}

/** Connects a VM whose guest RAM is `memory` (ring 0 cannot see it), with an IOMMU domain mapping all of it at IOVA 0. */
export async function connectLaneVm(service: Ring0Service, memory: GuestMemoryAccess, options: ConnectOptions = {}): Promise<RawPciClient> {
  const vm = await RawPciClient.connect(service, { guestMemory: memory, timeoutMs: 10_000, ...options });
  vm.initVm();
  vm.contigMemInfo(0n, 0n, BigInt(memory.size), PCIRAW_MEMINFO.MAP);
  return vm;
}
