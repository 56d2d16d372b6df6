// Starting and stopping hostile ring-3 threads from a test.

import { Worker } from 'node:worker_threads';
import type { HostileThreadData, HostileThreadReport } from './hostile-thread.js';

/** A running hostile thread: `reports` collects what it posted; `stop()` ends a loop and waits. */
export interface HostileThread {
  worker: Worker;
  reports: HostileThreadReport[];
  /** Resolves with the first report matching `pred` (e.g. `done`). */
  next(pred: (r: HostileThreadReport) => boolean): Promise<HostileThreadReport>;
  /** Sets the stop word, then waits for the thread's exit. */
  stop(): Promise<void>;
}

const script = new URL('./hostile-thread.js', import.meta.url);

/** Starts a hostile thread and resolves once it reported `started`. */
export async function startHostile(data: HostileThreadData): Promise<HostileThread> {
  const worker = new Worker(script, { workerData: data });
  const reports: HostileThreadReport[] = [];
  const waiters: { pred: (r: HostileThreadReport) => boolean; resolve: (r: HostileThreadReport) => void }[] = [];
  worker.on('message', (r: HostileThreadReport) => {
    reports.push(r);
    for (let i = waiters.length - 1; i >= 0; i--) {
      if (waiters[i]!.pred(r)) waiters.splice(i, 1)[0]!.resolve(r);
    }
  });
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const next = (pred: (r: HostileThreadReport) => boolean) =>
    new Promise<HostileThreadReport>((resolve, reject) => {
      const have = reports.find(pred);
      if (have) return resolve(have);
      waiters.push({ pred, resolve });
      worker.once('error', reject);
    });
  await next((r) => r.started === true);
  return {
    worker,
    reports,
    next,
    stop: async () => {
      if ('stop' in data) Atomics.store(new Int32Array(data.stop), 0, 1);
      else await worker.terminate();
      await exited;
    },
  };
}

/** A fresh stop word for a hostile thread. */
export function stopWord(): SharedArrayBuffer {
  return new SharedArrayBuffer(4);
}

/** Resolves `p`, or rejects after `ms` with `what` in the message (so a hang fails the test instead of stalling it). */
export function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]);
}
