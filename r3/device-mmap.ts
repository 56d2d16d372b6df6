// Ring 3's own mappings of device memory (MAP_REGION on the vfio host): mmap(2) of the device fd range ring 0 handed over, seen as an ArrayBuffer; koffi is loaded on the first such mapping only.
//
// Ring 0 (a worker thread of the same process) keeps the VFIO device fd open while a mapping
// exists; descriptors are per process, so ring 3 maps the fd number as it is. The simulated host
// hands SharedArrayBuffers instead and never reaches this file.

import { createRequire } from 'node:module';
import { MAP_ANONYMOUS, MAP_FAILED, MAP_FIXED, MAP_NORESERVE, MAP_PRIVATE, MAP_SHARED, PROT_RW } from '../shared/linux/mman.js';

type Koffi = typeof import('koffi');

/** A range of a device fd mapped into ring 3. */
export interface DeviceMapping {
  /** The device memory itself: an ArrayBuffer over the mapping (loads and stores reach the device, no copy). */
  readonly buffer: ArrayBuffer;
  /**
   * Withdraws the device memory (idempotent). The range is replaced in one step by anonymous zero
   * pages (mmap MAP_FIXED), which drops the mapping's reference on the device file at once, so
   * ring 0 can close and rebind the device; a stray access through a view kept past this reads
   * zeros instead of faulting the whole process. Those pages are munmapped once `buffer` is
   * garbage collected.
   */
  release(): void;
}

interface Libc {
  koffi: Koffi;
  mmap: (addr: unknown, len: number, prot: number, flags: number, fd: number, off: bigint) => unknown;
  munmap: (addr: unknown, len: number) => number;
}

let libc: Libc | undefined;

/** Binds mmap/munmap through koffi, loading it on first use (synchronously: MAP_REGION has a synchronous form). */
function load(): Libc {
  if (libc) return libc;
  const koffi = createRequire(import.meta.url)('koffi') as Koffi;
  const lib = koffi.load('libc.so.6');
  libc = {
    koffi,
    mmap: lib.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)'),
    munmap: lib.func('int munmap(void *addr, size_t len)'),
  };
  return libc;
}

/** Anonymous ranges left where device mappings were, munmapped when their buffer is collected. */
const leftovers = new FinalizationRegistry<{ ptr: unknown; size: number }>(({ ptr, size }) => {
  libc?.munmap(ptr, size);
});

/**
 * mmap(2) MAP_SHARED read/write of `size` bytes of `fd` at `offset`. Throws Error naming errno
 * when the kernel refuses (VFIO: the region is not mmap-able, or the device is gone).
 */
export function mapDevice(fd: number, offset: bigint, size: number): DeviceMapping {
  const c = load();
  const ptr = c.mmap(null, size, PROT_RW, MAP_SHARED, fd, offset);
  if (ptr === null || c.koffi.address(ptr) === MAP_FAILED) {
    throw new Error(`mmap of ${size} bytes of fd ${fd} at offset 0x${offset.toString(16)} failed with errno ${c.koffi.errno()}`);
  }
  const buffer = c.koffi.view(ptr, size);
  let released = false;
  return {
    buffer,
    release() {
      if (released) return;
      released = true;
      const anon = c.mmap(ptr, size, PROT_RW, MAP_PRIVATE | MAP_FIXED | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0n);
      if (anon === null || c.koffi.address(anon) === MAP_FAILED) {
        // Could not put zero pages there: unmap outright (a later access through the view faults).
        c.munmap(ptr, size);
        return;
      }
      leftovers.register(buffer, { ptr, size });
    },
  };
}
