// A VM's state in ring 0: its handle table, IOMMU domain, interrupt queue and parked GET_IRQ requests, each with a bound.
//
// Bounds (a hostile ring 3 cannot grow ring 0's memory without limit):
// - open devices: SESSION_MAX_DEVICES per session (and each device once: r0/ring0.ts);
// - MAP_REGION mappings: DEVICE_MAX_MAPPINGS per open device (r0/open-device.ts);
// - parked GET_IRQ waits: one per channel slot whose caller still waits, at most SESSION_MAX_PARKED;
// - queued events: SESSION_EVENT_QUEUE_MAX (the oldest is dropped and counted);
// - IOMMU faults kept: 64 per domain (r0/iommu.ts); device timers: TIMER_GROUP_MAX per device (r0/timers.ts).

import type { PciRawIrqEvent } from '../shared/protocol.js';
import { VERR_TIMEOUT } from '../shared/status.js';
import type { HostDeviceInfo } from './host.js';
import type { DomainMemory, IommuDomain } from './iommu.js';
import type { OpenDevice } from './open-device.js';

/** A GET_IRQ request held by ring 0 until an event arrives or its timeout passes. */
export interface ParkedIrqWait {
  /** 0 = any device of the session, else the device handle it waits for. */
  target: number;
  /** Time (ms, performance.now clock) at which it is answered with VERR_TIMEOUT. */
  deadline: number;
  /** True while its caller still waits (it did not give up, its slot was not recycled). */
  alive: () => boolean;
  /** Answers the request (rc, out). Returns true when the caller got the answer. */
  reply: (rc: number, out?: unknown, msg?: string) => boolean;
}

/**
 * How a session's channel answers a request later (ChannelServer.answer/waiting): `ticket` names
 * one request the channel took. Absent for sessions without a channel (pool.run): nothing parks.
 */
export interface SessionReplier {
  answer(ticket: number, bytes: Uint8Array): boolean;
  waiting(ticket: number): boolean;
}

/**
 * A message ring 0 sends to ring 3 out of band (the views MAP_REGION creates). A 'map' carries
 * either `sab` (the simulated host: a SharedArrayBuffer onto the region) or `fd`, `offset` and
 * `size` (VFIO: ring 3 mmaps that range of the device fd itself; see HostFdMapping). `memfd`: the
 * memfd behind `sab` when ring 0 is `rawpci serve` (shared/shareable.ts), sent to the VM with it.
 */
export type ControlMessage =
  | ({ type: 'map'; mapId: number; handle: number; region: number } & (
      | { sab: SharedArrayBuffer; memfd?: number | undefined }
      | { fd: number; offset: bigint; size: number }
    ))
  | { type: 'unmap'; mapId: number };

/** Most events kept per session before the oldest is dropped. */
export const SESSION_EVENT_QUEUE_MAX = 4096;
/** Most devices one session may hold open at once (OPEN_DEVICE past it: VERR_OUT_OF_RESOURCES). */
export const SESSION_MAX_DEVICES = 64;
/** Most GET_IRQ waits parked at once (the channel's slot limit; past it: VERR_OUT_OF_RESOURCES). */
export const SESSION_MAX_PARKED = 1024;

/**
 * One VM (rawpci.h: the session of PCIRAWSENDREQ.pSession). Handles are capabilities of one
 * session: another session's table does not have them, so they answer VERR_INVALID_HANDLE.
 */
export class Session {
  readonly id: number;
  /** The VM's guest RAM (what its IOMMU domain maps). */
  readonly ram: Uint8Array;
  /**
   * Guest RAM ring 0 cannot share (the VMM gave `guestMemory`): the DMA lane to ring 3
   * (r0/dma-lane.ts). `ram` is then empty. Undefined: DMA goes to `ram` directly.
   */
  memory: DomainMemory | undefined;
  /** The VM's IOMMU domain (INIT_VM .. DEINIT_VM). */
  domain: IommuDomain | undefined;
  /** Open devices by handle. */
  readonly handles = new Map<number, OpenDevice>();
  /** Pending interrupts and faults, oldest first. */
  readonly events: PciRawIrqEvent[] = [];
  /** Events dropped because the queue was full. */
  droppedEvents = 0;
  /** GET_IRQ requests waiting for an event. */
  readonly parked: ParkedIrqWait[] = [];
  /** Sends a control message to ring 3 (absent for pool.run sessions, which cannot map). */
  readonly postControl: ((msg: ControlMessage, transfer?: unknown[]) => void) | undefined;
  /** Answers parked requests through the session's channel (set by the serve task). */
  replier: SessionReplier | undefined;
  /** True once the session ended. */
  ended = false;
  /** The last SESSION_MAX_DEVICES devices closed and how long each step of their close took, in ms (statistics: `rawpci serve` logs them). */
  readonly closeTimings: { bdf: string; steps: Record<string, number> }[] = [];
  /** Interrupts (INTx, MSI, MSI-X) and IOMMU faults queued for this VM (statistics: `rawpci status`). */
  readonly counts = { irqs: 0, faults: 0 };
  /**
   * Ring 0's access policy for this VM's peer (`rawpci serve`: r0/policy.ts against the socket's
   * SO_PEERCRED): a refusal to answer OPEN_DEVICE with, or undefined to allow. Absent: allowed
   * (the embedded ring 0 has no privilege boundary).
   */
  access: ((info: HostDeviceInfo) => { rc: number; msg: string } | undefined) | undefined;

  constructor(id: number, ram: Uint8Array, postControl?: (msg: ControlMessage) => void) {
    this.id = id;
    this.ram = ram;
    this.postControl = postControl;
  }

  /**
   * Queues an event: answers the oldest parked GET_IRQ that waits for it and whose caller still
   * waits, or keeps it until one comes. Waits whose callers gave up are dropped on the way (an
   * event never goes to them). When the queue is full the oldest event is dropped (counted in
   * droppedEvents).
   */
  pushEvent(ev: PciRawIrqEvent): void {
    if (ev.kind === 'fault') this.counts.faults++;
    else this.counts.irqs++;
    if (this.#deliverable(ev)) {
      for (let i = 0; i < this.parked.length; ) {
        const w = this.parked[i]!;
        if (!w.alive()) {
          this.parked.splice(i, 1);
          continue;
        }
        if (w.target !== 0 && w.target !== ev.device) {
          i++;
          continue;
        }
        this.parked.splice(i, 1);
        if (w.reply(0, { irq: ev, pending: this.#pendingFor(w.target) })) return;
      }
    }
    this.events.push(ev);
    if (this.events.length > SESSION_EVENT_QUEUE_MAX) {
      this.events.shift();
      this.droppedEvents++;
    }
  }

  /** Drops parked waits whose callers no longer wait. */
  pruneParked(): void {
    for (let i = this.parked.length - 1; i >= 0; i--) if (!this.parked[i]!.alive()) this.parked.splice(i, 1);
  }

  /**
   * Takes the oldest deliverable event for `target` (0 = any device), or undefined. Events of a
   * suspended device stay queued until it resumes (a suspended VM gets no interrupts).
   */
  takeEvent(target: number): PciRawIrqEvent | undefined {
    const i = this.events.findIndex((e) => (target === 0 || e.device === target) && this.#deliverable(e));
    if (i < 0) return undefined;
    return this.events.splice(i, 1)[0];
  }

  #deliverable(e: PciRawIrqEvent): boolean {
    return this.handles.get(e.device)?.power !== 'suspended';
  }

  /** Answers parked waits with events that became deliverable (a device resumed). */
  flushToParked(): void {
    this.pruneParked();
    for (let k = 0; k < this.parked.length; ) {
      const w = this.parked[k]!;
      const ev = this.takeEvent(w.target);
      if (!ev) {
        k++;
        continue;
      }
      this.parked.splice(k, 1);
      // A caller that gave up meanwhile: the event goes back to the front of the queue.
      if (!w.reply(0, { irq: ev, pending: this.#pendingFor(w.target) })) this.events.unshift(ev);
    }
  }

  /** Events pending for `target` (0 = any). */
  #pendingFor(target: number): number {
    return target === 0 ? this.events.length : this.events.filter((e) => e.device === target).length;
  }

  /** Pending events for `target` (0 = any). */
  pendingFor(target: number): number {
    return this.#pendingFor(target);
  }

  /** Drops the queued events of one device (its handler was unregistered or it closed). */
  dropEventsOf(handle: number): void {
    for (let i = this.events.length - 1; i >= 0; i--) if (this.events[i]!.device === handle) this.events.splice(i, 1);
  }

  /** Answers parked waits whose deadline passed. Returns ms until the next deadline (Infinity: none). */
  expireParked(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (let i = this.parked.length - 1; i >= 0; i--) {
      const p = this.parked[i]!;
      if (p.deadline <= now) {
        this.parked.splice(i, 1);
        p.reply(VERR_TIMEOUT, undefined, 'no interrupt arrived before the GET_IRQ timeout');
      } else next = Math.min(next, p.deadline - now);
    }
    return next;
  }
}
