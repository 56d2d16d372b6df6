// mmap(2) numbers from Linux's sys/mman.h (the same on x86-64 and arm64): constants only, for the FFI code of both rings.

/** PROT_READ | PROT_WRITE. */
export const PROT_RW = 0x3;
/** Share the mapping with the file (device BARs). */
export const MAP_SHARED = 0x01;
/** Private copy-on-write mapping. */
export const MAP_PRIVATE = 0x02;
/** Place the mapping exactly at the given address (replacing what was there). */
export const MAP_FIXED = 0x10;
/** Not backed by a file (zero pages). */
export const MAP_ANONYMOUS = 0x20;
/** Reserve no swap space. */
export const MAP_NORESERVE = 0x4000;
/** What mmap returns on failure: (void *)-1 as an unsigned 64-bit address. */
export const MAP_FAILED = 0xffff_ffff_ffff_ffffn;
