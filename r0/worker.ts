// The piscina worker of ring 0: builds this thread's Ring0 from workerData and runs tasks (serve a VM's channel, or one request).
//
// piscina owns the thread (start, resource limits, replacement, shutdown). The data path does not
// go through piscina: a `serve` task blocks this thread in the channel's serve loop until the VM
// disconnects, answering requests straight from shared memory. `call` tasks (one request per
// pool.run) exist for comparison benchmarks and for hosts without a channel.

import { type MessagePort, threadId } from 'node:worker_threads';
import { workerData } from 'piscina';
import type { ChannelGeometry } from '../shared/channel-layout.js';
import { childLogger } from '../shared/log.js';
import { enableShareableMemory } from '../shared/shareable.js';
import type { WakeKind } from '../shared/wake.js';
import { type BackendConfig, createBackend } from './backends.js';
import { ChannelServer } from './channel-server.js';
import { DetachLog } from './detach-log.js';
import { Ring3DmaLane } from './dma-lane.js';
import { HostTable } from './host-table.js';
import type { LifeVerdict } from './peer-life.js';
import { AccessPolicy, type PeerIdentity } from './policy.js';
import { Ring0 } from './ring0.js';
import { ServeControl, workerResources } from './serve-control.js';
import type { ControlMessage, Session } from './session.js';
import { TimerQueue } from './timers.js';

/** What the service hands every worker (cloned once per worker by piscina). */
export interface Ring0WorkerData extends BackendConfig {
  /** The process-wide {@link HostTable}'s memory. */
  table: SharedArrayBuffer;
  /**
   * The access policy of `rawpci serve` (r0/policy.ts): the file's text and its path for
   * messages. Checked at OPEN_DEVICE for channels whose task names a `peer`.
   */
  policy?: { text: string; source: string };
  /** `rawpci serve`: device memory MAP_REGION maps is memfd-backed, so it can go to another process (shared/shareable.ts). */
  shareable?: boolean;
  /** `rawpci serve`: the directory of the workers' write-ahead detach logs (r0/detach-log.ts). */
  detachLogDir?: string;
}

/** Serve a VM's channel until the service asks the worker to stop. */
export interface ServeTask {
  kind: 'serve';
  channel: SharedArrayBuffer;
  /** The channel's geometry as the service created it (the control block's copy is not trusted). */
  geometry: ChannelGeometry;
  /** Ring 0's private control block for this channel (r0/serve-control.ts). */
  control: SharedArrayBuffer;
  /** Guest RAM of the VM; absent when ring 3 keeps it (`guestMemory`): DMA then goes through the DMA lane. */
  ram: SharedArrayBuffer | undefined;
  /** Bytes of ring 3's guest memory when `ram` is absent. */
  guestMemorySize?: number;
  /** How long ring 0 waits for ring 3 to serve one DMA through the lane, in ms. */
  dmaTimeoutMs?: number;
  session: number;
  /** Control port: MAP_REGION views go to ring 3 on it. */
  port: MessagePort;
  /** Spin budget in microseconds (clamped by the serve loop). */
  spinUs?: number;
  /** How the channel's sleepers are woken: 'futex' when the VM is another process (default 'atomics'). */
  wake?: WakeKind;
  /** The VM process's socket credentials (`rawpci serve`): OPEN_DEVICE is checked against the policy for them. */
  peer?: PeerIdentity;
  /** The VM process's liveness page (`rawpci serve`, r0/peer-life.ts): its death ends the loop at once. */
  life?: SharedArrayBuffer;
}

/** Statistics a finished serve task returns. */
export interface ServeResult {
  session: number;
  answered: number;
  sleeps: number;
  opCounts: Record<string, number>;
  /** The devices the session's end (or earlier closes) closed, with each step's time in ms. */
  closed: { bdf: string; steps: Record<string, number> }[];
  /**
   * Set when the VM's liveness word ended the loop (r0/peer-life.ts): what it said, when the loop
   * saw it and when the fixed-order cleanup began (ms since the epoch), and how long that cleanup
   * took, in ms.
   */
  died?: { verdict: LifeVerdict; seenAt: number; closingAt: number; cleanupMs: number };
}

/** Create a session served through `call` tasks (pool.run), with its own guest RAM. */
export interface OpenSessionTask {
  kind: 'open-session';
  ram: SharedArrayBuffer;
}

/** Handle one request frame of a session made by open-session. Returns the answer bytes. */
export interface CallTask {
  kind: 'call';
  session: number;
  frame: Uint8Array;
}

/** End a session made by open-session (closes its devices). */
export interface EndSessionTask {
  kind: 'end-session';
  session: number;
}

/** Any ring-0 task. */
export type Ring0Task = ServeTask | OpenSessionTask | CallTask | EndSessionTask | { kind: 'ping' };

const log = childLogger({ ring: 0 });
let ring0: Ring0 | undefined;
/** The service's access policy (`rawpci serve`), parsed once per worker. */
let policy: AccessPolicy | undefined;

async function getRing0(): Promise<Ring0> {
  if (ring0) return ring0;
  const data = workerData as Ring0WorkerData;
  const table = HostTable.attach(data.table);
  const timers = new TimerQueue();
  if (data.shareable) enableShareableMemory();
  const backend = await createBackend(data, table);
  if (data.policy) policy = AccessPolicy.parse(data.policy.text, data.policy.source);
  const detachLog = data.detachLogDir === undefined ? undefined : new DetachLog(data.detachLogDir, `worker-${threadId}`);
  ring0 = new Ring0({ backend, table, timers, log: (m) => log.warn(m), ...(detachLog ? { detachLog } : {}) });
  return ring0;
}

/** The worker's task entry (piscina calls it with the task). */
export default async function run(task: Ring0Task): Promise<unknown> {
  const r0 = await getRing0();
  switch (task.kind) {
    case 'serve':
      return serve(r0, task);
    case 'open-session':
      return r0.createSession(new Uint8Array(task.ram)).id;
    case 'call': {
      const s = r0.sessions.get(task.session);
      if (!s) throw new Error(`no pool session ${task.session}`);
      r0.poll(performance.now());
      return r0.handleFrame(s, task.frame);
    }
    case 'end-session': {
      const s = r0.sessions.get(task.session);
      if (s) r0.endSession(s);
      return true;
    }
    case 'ping':
      return 'pong';
    default:
      throw new TypeError(`unknown ring-0 task ${(task as { kind: string }).kind}`);
  }
}

function serve(r0: Ring0, task: ServeTask): ServeResult {
  const post = (msg: ControlMessage) => task.port.postMessage(msg);
  const control = new ServeControl(task.control);
  const session: Session = r0.createSession(task.ram ? new Uint8Array(task.ram) : new Uint8Array(0), post, task.session);
  // From here on, what this thread holds is recorded where the service finds it if the thread
  // has to be given up (stuck in a device model): fds, mappings, detached host drivers.
  workerResources.attach(control);
  const peer = task.peer;
  if (peer) {
    const rules = policy ?? AccessPolicy.rootOnly('the built-in policy (root only: rawpci serve found no --policy and no /etc/rawpci/policy.json)');
    session.access = (info) => {
      const d = rules.check(peer, { bdf: info.bdf, vendor: info.vendor, device: info.device, classCode: info.classCode });
      return d.rc === 0 ? undefined : d;
    };
  }
  const publish = () => control.publish(server.stats.answered, session.counts.irqs, session.counts.faults);
  const server = new ChannelServer(
    task.channel,
    {
      // Statistics are published by poll, which the loop runs after every pass that served a request.
      handle: (frame, length, ticket) => r0.handleFrame(session, frame, length, ticket),
      poll: (now) => {
        const next = r0.poll(now);
        publish();
        return next;
      },
      error: (where, e) => log.error(`session ${session.id}: ring-0 bug in ${where}: ${(e as Error)?.stack ?? String(e)}`),
    },
    {
      geometry: task.geometry,
      control,
      wake: task.wake ?? 'atomics',
      ...(task.spinUs === undefined ? {} : { spinUs: task.spinUs }),
      ...(task.life ? { life: task.life } : {}),
    },
  );
  session.replier = server;
  if (!task.ram) session.memory = new Ring3DmaLane(server.views, task.guestMemorySize ?? 0, task.dmaTimeoutMs);
  let endedAt = 0;
  let closingAt = 0;
  try {
    server.run();
  } finally {
    endedAt = performance.now();
    closingAt = Date.now();
    r0.endSession(session);
    if (workerResources.lost) log.error(`the resource journal was full: ${workerResources.lost} records lost`);
    workerResources.detach();
    task.port.close();
  }
  const life = server.life;
  return {
    session: session.id,
    answered: server.stats.answered,
    sleeps: server.stats.sleeps,
    opCounts: { ...r0.opCounts },
    closed: session.closeTimings,
    ...(life?.verdict ? { died: { verdict: life.verdict, seenAt: life.seenAt ?? closingAt, closingAt, cleanupMs: performance.now() - endedAt } } : {}),
  };
}
