// Ring 0's view of a VM process's liveness word: the robust futex a thread of the VM holds for as long as the VM lives (rawpci serve).
//
// A VM connecting over a unix socket offers a 4096-byte memfd whose first word is a robust,
// process-shared pthread mutex that a thread of the VM holds until it disconnects
// (shared/xproc.ts lifeLockStart). When the VM process dies, SIGKILL included, the kernel walks
// the dying thread's robust list at the start of its exit (exit_mm, before the address space and
// the files are torn down), sets FUTEX_OWNER_DIED in the word and wakes one sleeper on it. The
// serve loop sleeps on the doorbell and this word at once (futex_waitv), so ring 0 starts the
// fixed cleanup order while the kernel is still tearing the VM down, instead of at its socket's
// close. The socket stays the authority: a VM whose word is unusable is still cleaned up when its
// socket closes.
//
// The word is ring 3's memory: it can hold anything at any moment. A word saying "died" (or "let
// go", TID 0) ends only that VM's own session, which it may end anyway; a word that keeps
// changing is given up on after LIFE_MAX_MISMATCHES sleeps (the socket then decides). Ring 0
// never waits on the word without the doorbell and a timeout beside it.

import { FUTEX_ROBUST } from '../shared/xproc.js';

/** Sleeps in a row the word may change under before ring 0 stops sleeping on it. */
export const LIFE_MAX_MISMATCHES = 16;

/** Why a VM's liveness word ended its session. */
export type LifeVerdict = 'owner-died' | 'released';

/** What a liveness word says: alive, or gone with why. */
export function lifeVerdict(word: number): LifeVerdict | undefined {
  if (word & FUTEX_ROBUST.OWNER_DIED) return 'owner-died';
  if ((word & FUTEX_ROBUST.TID_MASK) === 0) return 'released';
  return undefined;
}

/** One VM's liveness word as the serve loop watches it. */
export class PeerLife {
  readonly i32: Int32Array;
  /** What ended the session, once seen (sticky), and when (ms since the epoch). */
  verdict: LifeVerdict | undefined;
  seenAt: number | undefined;
  #mismatches = 0;

  /** `page`: the VM's liveness memfd as ring 0 mapped it (at least 4 bytes). */
  constructor(page: SharedArrayBuffer) {
    this.i32 = new Int32Array(page, 0, 1);
  }

  /** True once the word said the VM died or let go; a cheap load each call until then. */
  gone(): boolean {
    if (this.verdict) return true;
    const v = lifeVerdict(Atomics.load(this.i32, 0));
    if (!v) return false;
    this.verdict = v;
    this.seenAt = Date.now();
    return true;
  }

  /**
   * Prepares a sleep on the word: sets FUTEX_WAITERS (the kernel wakes a sleeper at the owner's
   * death only then; one compare-exchange, never a loop on ring 3's memory). Returns the value
   * to sleep on, or undefined when the word should not be slept on (gone, changing, given up).
   */
  arm(): number | undefined {
    if (this.#mismatches >= LIFE_MAX_MISMATCHES || this.gone()) return undefined;
    const w = Atomics.load(this.i32, 0);
    if (w & FUTEX_ROBUST.WAITERS) return w;
    const armed = w | FUTEX_ROBUST.WAITERS;
    return Atomics.compareExchange(this.i32, 0, w, armed) === w ? armed : undefined;
  }

  /** A sleep found the word changed: counted; a quiet sleep resets the count. */
  slept(mismatch: boolean): void {
    this.#mismatches = mismatch ? this.#mismatches + 1 : 0;
  }

  /** True when ring 0 gave up sleeping on the word (it kept changing). */
  get givenUp(): boolean {
    return this.#mismatches >= LIFE_MAX_MISMATCHES;
  }
}
