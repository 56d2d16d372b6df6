// Guest RAM allocation: page-aligned shared memory, so a real IOMMU (VFIO_IOMMU_MAP_DMA) can map it.

/** WebAssembly page size (64 KiB): the granule of {@link allocGuestRam}. */
export const WASM_PAGE_BYTES = 65536;

/**
 * Allocates `bytes` of zeroed guest RAM as a SharedArrayBuffer whose first byte is page aligned.
 * A plain `new SharedArrayBuffer(n)` comes from malloc and starts 16 bytes into a page, which an
 * IOMMU cannot map at IOVA 0; shared WebAssembly memory is mmap'ed and page aligned. `bytes` is
 * rounded up to 64 KiB. Throws RangeError for a size that is not a positive integer up to 4 GiB.
 */
export function allocGuestRam(bytes: number): SharedArrayBuffer {
  if (!Number.isInteger(bytes) || bytes <= 0 || bytes > 2 ** 32) throw new RangeError(`guest RAM size ${bytes} must be a positive integer up to 4 GiB`);
  const pages = Math.ceil(bytes / WASM_PAGE_BYTES);
  // lib es2024 has no WebAssembly types; Node has had shared memories since v16.
  const wasm = (
    globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number; maximum: number; shared: boolean }) => { buffer: SharedArrayBuffer } } }
  ).WebAssembly;
  return new wasm.Memory({ initial: pages, maximum: pages, shared: true }).buffer;
}
