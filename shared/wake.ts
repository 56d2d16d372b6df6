// The channel's wake seam: how a side that sleeps on a shared word is woken (Atomics in one process, a futex across processes).
//
// Atomics.wait/notify keep their waiters in the V8 process (a futex emulation keyed by address),
// so a notify in one process never wakes a wait in another, even on the same mapped page. A
// channel whose memory is a memfd mapped by two processes (`rawpci serve`) sleeps and wakes with
// non-private futexes instead (shared/xproc.ts). Both sides of a channel must use the same kind:
// it is fixed when the channel is created (in-process: 'atomics') or connected over a unix
// socket ('futex'). Spinning on Atomics.load works the same in both.

import { xproc } from './xproc.js';

/** Which wake-up mechanism a channel uses. */
export type WakeKind = 'atomics' | 'futex';

/** Sleeps and wake-ups on one word of a channel's memory. */
export interface Waker {
  readonly kind: WakeKind;
  /** Sleeps while `i32[index] === value`, at most `timeoutMs` (ms, >= 0; Infinity: no bound). Spurious returns are allowed. */
  wait(i32: Int32Array, index: number, value: number, timeoutMs: number): void;
  /**
   * Sleeps while `i32[index] === value` and `b[ib] === vb` (either changing or being woken
   * ends the sleep), at most `timeoutMs`; returns FUTEX's WOKEN, NOT_EQUAL or TIMED_OUT
   * (shared/xproc.ts). 'futex' only (futex_waitv, Linux 5.16); undefined for 'atomics' and on
   * a kernel without futex_waitv (then only the first word wakes the sleeper).
   */
  waitEither?(i32: Int32Array, index: number, value: number, b: Int32Array, ib: number, vb: number, timeoutMs: number): number;
  /** Wakes every thread (of any process, for 'futex') sleeping on `i32[index]`. */
  notify(i32: Int32Array, index: number): void;
  /**
   * For asynchronous waits: resolves when woken or after `timeoutMs`. 'atomics' uses
   * Atomics.waitAsync; 'futex' cannot wait off-thread and polls (1 ms, growing to
   * FUTEX_ASYNC_POLL_MAX_MS) — asynchronous calls are the control plane. `round` counts the
   * waits of one call (the poll interval grows with it); `keepAlive` (default true) keeps Node
   * running while it waits.
   */
  waitAsync(i32: Int32Array, index: number, value: number, timeoutMs: number, round: number, keepAlive?: boolean): Promise<void>;
}

/** Longest poll interval of an asynchronous wait on a futex channel, in ms. */
export const FUTEX_ASYNC_POLL_MAX_MS = 4;

/** In-process: Atomics.wait / Atomics.notify / Atomics.waitAsync. */
export const atomicsWaker: Waker = {
  kind: 'atomics',
  wait: (i32, index, value, timeoutMs) => {
    Atomics.wait(i32, index, value, timeoutMs);
  },
  notify: (i32, index) => {
    Atomics.notify(i32, index);
  },
  waitAsync: async (i32, index, value, timeoutMs, _round, hold = true) => {
    const w = Atomics.waitAsync(i32, index, value, timeoutMs);
    if (!w.async) return;
    if (!hold) {
      await w.value;
      return;
    }
    // A pending waitAsync does not keep Node alive: hold a timer until it settles.
    const keepAlive = setTimeout(() => {}, Math.ceil(timeoutMs) + 1);
    try {
      await w.value;
    } finally {
      clearTimeout(keepAlive);
    }
  },
};

let futex: Waker | undefined;
/** Set when the kernel has no futex_waitv (ENOSYS): waitEither then sleeps on its first word alone. */
let waitvMissing = false;

/** Across processes: FUTEX_WAIT / FUTEX_WAKE on the mapped word (the addon; throws when it is not built). */
export function futexWaker(): Waker {
  if (futex) return futex;
  const x = xproc();
  futex = {
    kind: 'futex',
    wait: (i32, index, value, timeoutMs) => {
      x.futexWait(i32, index, value, Number.isFinite(timeoutMs) ? Math.max(0, timeoutMs) : -1);
    },
    waitEither: (i32, index, value, b, ib, vb, timeoutMs) => {
      const ms = Number.isFinite(timeoutMs) ? Math.max(0, timeoutMs) : -1;
      if (!waitvMissing) {
        try {
          return x.futexWaitEither(i32, index, value, b, ib, vb, ms);
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== 'ENOSYS') throw e;
          waitvMissing = true;
        }
      }
      return x.futexWait(i32, index, value, ms);
    },
    notify: (i32, index) => {
      x.futexWake(i32, index);
    },
    waitAsync: async (i32, index, value, timeoutMs, round, hold = true) => {
      if (Atomics.load(i32, index) !== value) return;
      const ms = Math.min(timeoutMs, round < 2 ? 0 : Math.min(FUTEX_ASYNC_POLL_MAX_MS, 1 + (round >> 3)));
      await new Promise<void>((r) => {
        if (ms <= 0) setImmediate(r);
        else if (hold) setTimeout(r, ms);
        else setTimeout(r, ms).unref();
      });
    },
  };
  return futex;
}

/** The waker of `kind` (default 'atomics'). */
export function waker(kind: WakeKind = 'atomics'): Waker {
  return kind === 'futex' ? futexWaker() : atomicsWaker;
}
