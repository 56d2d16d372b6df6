// The ring-0 watchdog: a thread of its own that notices a worker stuck in one request and closes that VM's channel at once, whatever the service's own thread is doing.
//
// In the embedded mode the service shares its thread with the VM, which may be blocked in
// synchronous calls for as long as it likes; the watchdog must not depend on that thread's event
// loop. So it runs in a plain worker thread of its own that reads every connection's heartbeat
// (ServeCtl.BUSY in ring 0's private control block). When one stays odd (inside one request or
// timer run) for longer than the limit, the watchdog marks the worker given up (ServeCtl.GIVEN_UP:
// it must not touch the channel again), closes the channel for ring 3 (every waiting call is
// answered VERR_INVALID_STATE) and tells the service, which has piscina replace the worker and
// releases the VM's devices as soon as its own event loop runs.

import { MessageChannel, type MessagePort, receiveMessageOnPort, Worker, workerData } from 'node:worker_threads';
import type { ChannelGeometry } from '../shared/channel-layout.js';
import type { WakeKind } from '../shared/wake.js';
import { closeOrphanedChannel } from './channel-server.js';
import { ServeControl } from './serve-control.js';

/** What the watchdog thread gets. */
interface WatchdogData {
  rawpciWatchdog: true;
  port: MessagePort;
  /** Word 0: 1 = stop; the thread sleeps on word 1 between checks (the service notifies it on news). */
  wake: SharedArrayBuffer;
  limitMs: number;
  intervalMs: number;
}

/** Service -> watchdog. */
type ToWatchdog =
  | { type: 'watch'; session: number; control: SharedArrayBuffer; channel: SharedArrayBuffer; geometry: ChannelGeometry; wake: WakeKind }
  | { type: 'unwatch'; session: number };

/** Watchdog -> service: a worker was given up, and why. */
export interface StuckReport {
  type: 'stuck';
  session: number;
  reason: string;
}

/**
 * The service's handle on its watchdog thread. `watch` a connection once its worker serves it,
 * `unwatch` it when it ends; `onStuck` hears of workers the watchdog gave up.
 */
export class Watchdog {
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #wake: Int32Array;

  constructor(limitMs: number, onStuck: (r: StuckReport) => void) {
    const { port1, port2 } = new MessageChannel();
    const wake = new SharedArrayBuffer(8);
    const data: WatchdogData = { rawpciWatchdog: true, port: port2, wake, limitMs, intervalMs: Math.max(10, Math.min(250, limitMs / 4)) };
    this.#worker = new Worker(new URL(import.meta.url), { workerData: data, transferList: [port2] });
    this.#worker.unref();
    this.#port = port1;
    this.#wake = new Int32Array(wake);
    port1.on('message', (m: StuckReport) => onStuck(m));
    port1.unref();
  }

  /** Starts watching a connection's heartbeat. */
  watch(session: number, control: ServeControl, channel: SharedArrayBuffer, geometry: ChannelGeometry, wake: WakeKind = 'atomics'): void {
    this.#send({ type: 'watch', session, control: control.sab, channel, geometry, wake });
  }

  /** Stops watching a connection. */
  unwatch(session: number): void {
    this.#send({ type: 'unwatch', session });
  }

  /** Ends the watchdog thread. */
  async close(): Promise<void> {
    Atomics.store(this.#wake, 0, 1);
    Atomics.add(this.#wake, 1, 1);
    Atomics.notify(this.#wake, 1);
    this.#port.close();
    await this.#worker.terminate();
  }

  #send(m: ToWatchdog): void {
    this.#port.postMessage(m);
    Atomics.add(this.#wake, 1, 1);
    Atomics.notify(this.#wake, 1);
  }
}

/** The watchdog thread's loop. */
function runWatchdog(d: WatchdogData): void {
  const wake = new Int32Array(d.wake);
  const watched = new Map<
    number,
    { control: ServeControl; channel: SharedArrayBuffer; geometry: ChannelGeometry; wake: WakeKind; lastBusy: number; since: number }
  >();
  while (Atomics.load(wake, 0) === 0) {
    const seen = Atomics.load(wake, 1);
    for (let m = receiveMessageOnPort(d.port); m; m = receiveMessageOnPort(d.port)) {
      const msg = m.message as ToWatchdog;
      if (msg.type === 'watch')
        watched.set(msg.session, {
          control: new ServeControl(msg.control),
          channel: msg.channel,
          geometry: msg.geometry,
          wake: msg.wake,
          lastBusy: 0,
          since: 0,
        });
      else watched.delete(msg.session);
    }
    const now = performance.now();
    for (const [session, w] of watched) {
      const busy = w.control.busy;
      if ((busy & 1) === 0 || w.control.givenUp) {
        w.lastBusy = busy;
        continue;
      }
      if (busy !== w.lastBusy) {
        w.lastBusy = busy;
        w.since = now;
        continue;
      }
      if (now - w.since < d.limitMs) continue;
      watched.delete(session);
      if (!w.control.giveUp()) continue;
      const reason = `its ring-0 worker was stuck in one request for over ${d.limitMs} ms (requestLimitMs) and was replaced`;
      try {
        closeOrphanedChannel(w.channel, w.geometry, reason, w.wake);
      } catch {
        // The service closes it again once the thread is gone.
      }
      d.port.postMessage({ type: 'stuck', session, reason } satisfies StuckReport);
    }
    Atomics.wait(wake, 1, seen, d.intervalMs);
  }
}

if ((workerData as WatchdogData | null)?.rawpciWatchdog) runWatchdog(workerData as WatchdogData);
