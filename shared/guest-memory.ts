// Guest memory that ring 0 cannot map: the VMM's own accessors (v86 keeps guest RAM in its WebAssembly memory).

/**
 * Guest RAM the VMM keeps to itself (v86: its WebAssembly memory, which no other thread can
 * see), given to `RawPciClient.connect(service, { guestMemory })` instead of a shared `guestRam`.
 * Ring 0 then has no view of guest RAM: after the VM's IOMMU domain has checked a device's DMA
 * (IOVA -> guest-physical, whole or nothing), ring 0 asks ring 3 to copy through the channel's
 * DMA lane, as vfio-user's DMA_READ and DMA_WRITE messages do (docs/dma.md). The client calls
 * these on the thread that connected, only with `0 <= address`, `address + length <= size`.
 *
 * Addresses are guest-physical byte addresses, the IOMMU domain's "RAM offsets"
 * (CONTIG_MEM_INFO's hostStart).
 */
export interface GuestMemoryAccess {
  /** Bytes of guest RAM (the highest address + 1 that DMA may reach). */
  readonly size: number;
  /**
   * Copies `length` bytes of guest RAM at `address` out (v86: `emulator.read_memory(address,
   * length)`). Must return exactly `length` bytes; a throw or a shorter answer fails the DMA.
   */
  read(address: number, length: number): Uint8Array;
  /** Copies `data` into guest RAM at `address` (v86: `emulator.write_memory(data, address)`). A throw fails the DMA. */
  write(address: number, data: Uint8Array): void;
}

/**
 * Checks a {@link GuestMemoryAccess} given to connect: `size` a positive safe integer of bytes,
 * `read` and `write` functions. Throws TypeError naming what is wrong.
 */
export function checkGuestMemory(m: unknown): GuestMemoryAccess {
  const g = m as GuestMemoryAccess | undefined;
  if (typeof g !== 'object' || g === null || typeof g.read !== 'function' || typeof g.write !== 'function') {
    throw new TypeError('guestMemory must be an object with size, read(address, length) and write(address, data)');
  }
  if (!Number.isSafeInteger(g.size) || g.size <= 0) throw new TypeError(`guestMemory.size ${String(g.size)} must be a positive integer of bytes`);
  return g;
}
