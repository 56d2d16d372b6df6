// Ring 0's timer queue: device-time callbacks run by the serve loop, grouped per device so a suspend freezes them and a reset drops them.

/** One pending callback. */
interface Timer {
  due: number;
  seq: number;
  group: TimerGroup;
  callback: () => void;
  cancelled: boolean;
}

/**
 * Timers of the serve loop. Ring 0's worker blocks in Atomics.wait between requests, so Node's
 * own timers would not fire while a vCPU polls a register in a tight loop; instead the loop asks
 * this queue for due callbacks after every batch of requests and sleeps no longer than the next
 * due time. Times are milliseconds on the `performance.now()` clock.
 */
export class TimerQueue {
  #timers: Timer[] = [];
  #seq = 0;
  readonly #now: () => number;

  /** `now` is the clock (milliseconds); tests pass a manual one. */
  constructor(now: () => number = () => performance.now()) {
    this.#now = now;
  }

  /** Current time of this queue's clock, in milliseconds. */
  now(): number {
    return this.#now();
  }

  /** A new group (one per open device). */
  group(): TimerGroup {
    return new TimerGroup(this);
  }

  /**
   * Runs every callback due at `now`, oldest first (a callback may schedule more; those due
   * already run in the same call). A throwing callback is reported to `onError` and the rest run.
   * Returns milliseconds until the next timer, Infinity when none.
   */
  runDue(now = this.#now(), onError: (e: unknown) => void = () => {}): number {
    if (this.#timers.length === 0) return Number.POSITIVE_INFINITY;
    for (let guard = 0; guard < 10_000; guard++) {
      const t = this.#timers[0];
      if (!t || t.due > now) break;
      this.#timers.shift();
      if (t.cancelled) continue;
      t.group._fired(t);
      try {
        t.callback();
      } catch (e) {
        onError(e);
      }
    }
    const next = this.#timers.find((t) => !t.cancelled);
    return next ? Math.max(0, next.due - now) : Number.POSITIVE_INFINITY;
  }

  /** Pending timers (for tests and statistics). */
  get size(): number {
    return this.#timers.filter((t) => !t.cancelled).length;
  }

  /** @internal */
  _insert(t: Timer): void {
    t.seq = this.#seq++;
    const a = this.#timers;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      const m = a[mid]!;
      if (m.due < t.due || (m.due === t.due && m.seq < t.seq)) lo = mid + 1;
      else hi = mid;
    }
    a.splice(lo, 0, t);
  }

  /** @internal */
  _remove(t: Timer): void {
    const i = this.#timers.indexOf(t);
    if (i >= 0) this.#timers.splice(i, 1);
  }
}

/** Most timers one device may have pending; a schedule past it is dropped (see {@link TimerGroup.schedule}). */
export const TIMER_GROUP_MAX = 1024;

/**
 * The timers of one device. `suspend()` freezes them (their remaining time is kept),
 * `resume()` starts them again, `clear()` drops them (reset, close).
 */
export class TimerGroup {
  readonly #queue: TimerQueue;
  #pending = new Set<Timer>();
  #frozen: { left: number; t: Timer }[] | undefined;

  constructor(queue: TimerQueue) {
    this.#queue = queue;
  }

  /** True while suspended. */
  get suspended(): boolean {
    return this.#frozen !== undefined;
  }

  /**
   * Runs `callback` after `delayMs` milliseconds of device time. Returns a cancel function. A
   * device with {@link TIMER_GROUP_MAX} timers pending already gets none (the callback never
   * runs, `onDropped` is told): a model that schedules without bound cannot grow ring 0's memory.
   */
  schedule(delayMs: number, callback: () => void, onDropped?: () => void): () => void {
    if (this.#pending.size >= TIMER_GROUP_MAX) {
      onDropped?.();
      return () => {};
    }
    const delay = Number.isFinite(delayMs) && delayMs > 0 ? delayMs : 0;
    const t: Timer = { due: this.#queue.now() + delay, seq: 0, group: this, callback, cancelled: false };
    this.#pending.add(t);
    if (this.#frozen) this.#frozen.push({ left: delay, t });
    else this.#queue._insert(t);
    return () => {
      if (t.cancelled) return;
      t.cancelled = true;
      this.#pending.delete(t);
      this.#queue._remove(t);
    };
  }

  /** Freezes the group's timers. */
  suspend(): void {
    if (this.#frozen) return;
    const now = this.#queue.now();
    this.#frozen = [];
    for (const t of this.#pending) {
      this.#queue._remove(t);
      this.#frozen.push({ left: Math.max(0, t.due - now), t });
    }
  }

  /** Restarts frozen timers with the time they had left. */
  resume(): void {
    const frozen = this.#frozen;
    if (!frozen) return;
    this.#frozen = undefined;
    const now = this.#queue.now();
    for (const { left, t } of frozen) {
      if (t.cancelled) continue;
      t.due = now + left;
      this.#queue._insert(t);
    }
  }

  /** Drops every timer of the group. */
  clear(): void {
    for (const t of this.#pending) {
      t.cancelled = true;
      this.#queue._remove(t);
    }
    this.#pending.clear();
    if (this.#frozen) this.#frozen = [];
  }

  /** Timers pending in this group. */
  get size(): number {
    return this.#pending.size;
  }

  /** @internal */
  _fired(t: Timer): void {
    this.#pending.delete(t);
  }
}
