// The libc calls the VFIO host needs (open, ioctl, pread/pwrite, eventfd, read, mmap), bound through koffi; loaded only by r0/vfio/* and the reaper.
//
// Every descriptor and mapping made here is reported to this thread's workerResources (recorded
// right after it is made, forgotten right before it is released), so the service can release
// them if the thread is given up (r0/serve-control.ts, r0/reaper.ts).

import koffi from 'koffi';
import { MAP_SHARED, PROT_RW } from '../../shared/linux/mman.js';
import { workerResources } from '../serve-control.js';

/** A failed libc call: `errno` and the call's name. */
export class LibcError extends Error {
  override readonly name = 'LibcError';
  readonly errno: number;
  readonly call: string;
  constructor(call: string, errno: number, what: string) {
    super(`${what}: ${call} failed with errno ${errno} (${errnoName(errno)})`);
    this.call = call;
    this.errno = errno;
  }
}

const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM',
  2: 'ENOENT',
  5: 'EIO',
  9: 'EBADF',
  11: 'EAGAIN',
  12: 'ENOMEM',
  13: 'EACCES',
  14: 'EFAULT',
  16: 'EBUSY',
  17: 'EEXIST',
  19: 'ENODEV',
  22: 'EINVAL',
  25: 'ENOTTY',
  28: 'ENOSPC',
};

/** Symbolic name of an errno (asm-generic/errno-base.h), or `errno N`. */
export function errnoName(errno: number): string {
  return ERRNO_NAMES[errno] ?? `errno ${errno}`;
}

const lib = koffi.load('libc.so.6');
const c = {
  open: lib.func('int open(const char *path, int flags)'),
  close: lib.func('int close(int fd)'),
  ioctlPtr: lib.func('ioctl', 'int', ['int', 'unsigned long', 'void *']),
  ioctlInt: lib.func('ioctl', 'int', ['int', 'unsigned long', 'unsigned long']),
  pread: lib.func('long pread(int fd, void *buf, size_t count, int64_t offset)'),
  pwrite: lib.func('long pwrite(int fd, const void *buf, size_t count, int64_t offset)'),
  read: lib.func('long read(int fd, void *buf, size_t count)'),
  write: lib.func('long write(int fd, const void *buf, size_t count)'),
  lseek: lib.func('int64_t lseek(int fd, int64_t offset, int whence)'),
  eventfd: lib.func('int eventfd(unsigned int initval, int flags)'),
  mmap: lib.func('void *mmap(void *addr, size_t len, int prot, int flags, int fd, int64_t off)'),
  munmap: lib.func('int munmap(void *addr, size_t len)'),
  munmapAt: lib.func('munmap', 'int', ['uint64_t', 'size_t']),
  // memset(p, 0, 0) returns p: the address of a (Shared)ArrayBuffer's backing store.
  addressOf: lib.func('memset', 'uint64_t', ['void *', 'int', 'size_t']),
};

function errno(): number {
  return koffi.errno();
}

/** open(2). Throws LibcError. */
export function open(path: string, flags: number, what = `opening ${path}`): number {
  const fd = c.open(path, flags) as number;
  if (fd < 0) throw new LibcError('open', errno(), what);
  workerResources.addFd(fd);
  return fd;
}

/** close(2); errors ignored (nothing to do about them). */
export function close(fd: number): void {
  if (fd < 0) return;
  workerResources.removeFd(fd);
  c.close(fd);
}

/** ioctl(2) with a pointer argument (a struct in `arg`). Returns the result; throws LibcError. */
export function ioctl(fd: number, request: number, arg: Uint8Array | null, what: string): number {
  const r = c.ioctlPtr(fd, request, arg) as number;
  if (r < 0) throw new LibcError('ioctl', errno(), what);
  return r;
}

/** ioctl(2) that returns a new file descriptor (VFIO_GROUP_GET_DEVICE_FD). Throws LibcError. */
export function ioctlFd(fd: number, request: number, arg: Uint8Array | null, what: string): number {
  const r = ioctl(fd, request, arg, what);
  workerResources.addFd(r);
  return r;
}

/** ioctl(2) with an integer argument. Returns the result; throws LibcError. */
export function ioctlInt(fd: number, request: number, arg: number, what: string): number {
  const r = c.ioctlInt(fd, request, arg) as number;
  if (r < 0) throw new LibcError('ioctl', errno(), what);
  return r;
}

/** pread(2) of `buf.length` bytes at `offset`. True when all bytes were read. */
export function pread(fd: number, buf: Uint8Array, offset: bigint): boolean {
  return (c.pread(fd, buf, buf.length, offset) as number) === buf.length;
}

/** pwrite(2) of `buf` at `offset`. True when all bytes were written. */
export function pwrite(fd: number, buf: Uint8Array, offset: bigint): boolean {
  return (c.pwrite(fd, buf, buf.length, offset) as number) === buf.length;
}

/** read(2); returns the byte count, or -errno (e.g. -EAGAIN on an empty non-blocking fd). */
export function read(fd: number, buf: Uint8Array): number {
  const n = c.read(fd, buf, buf.length) as number;
  return n < 0 ? -errno() : n;
}

/** lseek(2). Returns the new offset or -errno. */
export function lseek(fd: number, offset: number, whence: number): number {
  const r = Number(c.lseek(fd, offset, whence));
  return r < 0 ? -errno() : r;
}

/** eventfd(2). Throws LibcError. */
export function eventfd(flags: number): number {
  const fd = c.eventfd(0, flags) as number;
  if (fd < 0) throw new LibcError('eventfd', errno(), 'creating an eventfd for an interrupt');
  workerResources.addFd(fd);
  return fd;
}

/** Process virtual address of `view`'s first byte (same in every thread of the process). */
export function addressOf(view: Uint8Array): bigint {
  return BigInt(c.addressOf(view, 0, 0) as number | bigint);
}

/** A shared mapping of `len` bytes of `fd` at `offset`, viewed as an ArrayBuffer (zero-copy). */
export interface Mapping {
  buffer: ArrayBuffer;
  /** Releases the mapping; the buffer must not be used afterwards. */
  unmap(): void;
}

/** mmap(2) MAP_SHARED read/write. Throws LibcError. */
export function mmap(fd: number, len: number, offset: bigint, what: string): Mapping {
  const ptr = c.mmap(null, len, PROT_RW, MAP_SHARED, fd, offset);
  if (ptr === null || koffi.address(ptr) === 0xffff_ffff_ffff_ffffn) throw new LibcError('mmap', errno(), what);
  const buffer = koffi.view(ptr, len);
  const address = BigInt(koffi.address(ptr));
  workerResources.addMap(address, len);
  let mapped = true;
  return {
    buffer,
    unmap: () => {
      if (!mapped) return;
      mapped = false;
      workerResources.removeMap(address);
      c.munmap(ptr, len);
    },
  };
}

/**
 * munmap(2) of a mapping made by another thread (a dead worker's BAR mapping, from its journal),
 * by address. Errors ignored.
 */
export function munmapAt(address: bigint, len: number): void {
  c.munmapAt(address, len);
}

/**
 * A zeroed ioctl argument of `size` bytes for a VFIO struct whose first field is `argsz` (every
 * VFIO ioctl struct, linux/vfio.h), with argsz set to `size`; `dv` views it for the other fields.
 */
export function vfioArg(size: number): { bytes: Uint8Array; dv: DataView } {
  const bytes = new Uint8Array(size);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(0, size, true);
  return { bytes, dv };
}
