// Typed wrapper of the native addon native/xproc.cc: memfd, shared mappings as SharedArrayBuffers, cross-process futex, eventfd, SCM_RIGHTS and SO_PEERCRED.
//
// Only `rawpci serve` and unix: connections need it; the in-process ring 0 never loads it. The
// addon is built by `npm install` (scripts/build-addon.mjs) and is looked up at
// build/Release/xproc.node from the package root. Every function throws an Error whose `code` is
// the errno name (`EBADF`, `EINVAL`, ...) and whose message names the system call; bad argument
// types throw TypeError.

import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** F_SEAL_* bits of fcntl(2) (linux/fcntl.h). */
export const F_SEAL = { SEAL: 0x1, SHRINK: 0x2, GROW: 0x4, WRITE: 0x8 } as const;
/** The seals a memfd must carry before ring 0 maps it: it can then neither shrink (SIGBUS in ring 0) nor grow, nor be unsealed. */
export const REQUIRED_SEALS = F_SEAL.SEAL | F_SEAL.SHRINK | F_SEAL.GROW;
/** poll(2) event bits. */
export const POLL = { IN: 0x1, OUT: 0x4, ERR: 0x8, HUP: 0x10, NVAL: 0x20, RDHUP: 0x2000 } as const;
/** Results of {@link Xproc.futexWait}. */
export const FUTEX = { WOKEN: 0, NOT_EQUAL: 1, TIMED_OUT: 2 } as const;

/**
 * The bits of a robust futex word (linux/futex.h): the owner's TID, FUTEX_OWNER_DIED set by the
 * kernel when the owner died holding it, FUTEX_WAITERS set by whoever sleeps on it (the kernel
 * wakes a sleeper at the owner's death only when it is set).
 */
export const FUTEX_ROBUST = { WAITERS: 0x80000000 | 0, OWNER_DIED: 0x40000000, TID_MASK: 0x3fffffff } as const;

/** One received message: its bytes (empty at end of stream), the fds that came with it, and whether any were cut (MSG_CTRUNC/MSG_TRUNC). */
export interface Received {
  bytes: Uint8Array;
  fds: number[];
  truncated: boolean;
}

/** The addon's functions (see native/xproc.cc for each system call). */
export interface Xproc {
  /** A memfd of `size` bytes (O_CLOEXEC); `seal`: F_SEAL_SHRINK|GROW|SEAL added. Returns the fd. */
  memfdCreate(name: string, size: number, seal: boolean): number;
  /** F_GET_SEALS of `fd` (EINVAL: not a memfd or shmem file). */
  getSeals(fd: number): number;
  /** st_size of a regular file, in bytes (EINVAL: not a regular file). */
  fdSize(fd: number): number;
  /** Maps `size` bytes of `fd` from `offset` MAP_SHARED read/write, as a SharedArrayBuffer unmapped when the last view is collected. */
  mapShared(fd: number, size: number, offset?: number): SharedArrayBuffer;
  /** FUTEX_WAIT (non-private: any process mapping the page) on `i32[index]` while it equals `expected`, at most `timeoutMs` (negative: forever). Returns {@link FUTEX}. */
  futexWait(i32: Int32Array, index: number, expected: number, timeoutMs: number): number;
  /** FUTEX_WAKE on `i32[index]`: wakes up to `count` waiters (default all) of any process; returns how many. */
  futexWake(i32: Int32Array, index: number, count?: number): number;
  /**
   * futex_waitv(2) (Linux 5.16) on two words at once (non-private): sleeps while
   * `a[ia] === va` and `b[ib] === vb`, at most `timeoutMs` (negative: forever). Returns
   * {@link FUTEX}; throws Error code ENOSYS on an older kernel.
   */
  futexWaitEither(a: Int32Array, ia: number, va: number, b: Int32Array, ib: number, vb: number, timeoutMs: number): number;
  /**
   * Makes a robust, process-shared pthread mutex at offset 0 of memfd `fd` (its first 4096 bytes,
   * mapped by the addon itself) and has a new thread of this process hold it until
   * {@link lifeLockStop}. When the process dies, SIGKILL included, the kernel sets
   * FUTEX_OWNER_DIED in the mutex's word and wakes a sleeper on it ({@link FUTEX_ROBUST}):
   * another process mapping the memfd learns of the death before this one's sockets close.
   * Returns the holding thread's TID and the fd that stops it.
   */
  lifeLockStart(fd: number): { tid: number; stopFd: number };
  /** Has the thread of {@link lifeLockStart} unlock the mutex and end (closes `stopFd`). */
  lifeLockStop(stopFd: number): void;
  /** An eventfd (EFD_CLOEXEC, EFD_NONBLOCK with `nonblock`). */
  eventfdCreate(initval?: number, nonblock?: boolean): number;
  /** Adds `n` to an eventfd's counter. */
  eventfdWrite(fd: number, n: number): void;
  /** Reads (and resets) an eventfd's counter; -1 when a non-blocking one is 0. */
  eventfdRead(fd: number): number;
  /** One sendmsg(MSG_DONTWAIT|MSG_NOSIGNAL) of `bytes` with up to 16 `fds` (SCM_RIGHTS). Returns bytes sent, -1 when the socket buffer is full. */
  sendFds(sock: number, bytes: Uint8Array, fds?: number[]): number;
  /** One recvmsg(MSG_DONTWAIT|MSG_CMSG_CLOEXEC) of up to `maxBytes`; null when nothing is there. */
  recvFds(sock: number, maxBytes: number): Received | null;
  /** SO_PEERCRED of a unix socket: the peer's pid, uid and gid as of its connect(). */
  peerCred(sock: number): { pid: number; uid: number; gid: number };
  /** poll(2) of one fd for `events` ({@link POLL}), at most `timeoutMs`; the revents (0: timed out). */
  pollFd(fd: number, events: number, timeoutMs: number): number;
  /** A connected, non-blocking, close-on-exec unix stream socket to `path`. */
  connectUnix(path: string): number;
  /** close(2). */
  closeFd(fd: number): void;
  /** shutdown(SHUT_RDWR): the peer sees end of stream. */
  shutdownFd(fd: number): void;
}

/** Where the addon is built (node-gyp's output under the package root). */
export const ADDON_PATH = fileURLToPath(new URL('../../build/Release/xproc.node', import.meta.url));
const SOURCE_ADDON_PATH = fileURLToPath(new URL('../build/Release/xproc.node', import.meta.url));

let cached: Xproc | undefined;

/**
 * The addon, loaded once per thread. Throws Error naming the path and the fix when it was not
 * built (`npm run build:addon`: python3, make, g++ and Node's headers needed).
 */
export function xproc(): Xproc {
  if (cached) return cached;
  const path = [ADDON_PATH, SOURCE_ADDON_PATH].find((p) => existsSync(p));
  if (!path) {
    throw new Error(
      `the native addon is not built (no ${ADDON_PATH}): rawpci serve and unix: connections need it; run 'npm run build:addon' (python3, make, g++ and Node's headers)`,
    );
  }
  cached = createRequire(import.meta.url)(path) as Xproc;
  return cached;
}

/** True when the addon is built and loads. */
export function xprocAvailable(): boolean {
  try {
    xproc();
    return true;
  } catch {
    return false;
  }
}
