// Ring 0's dispatcher: one switch over the operations (SrvPciRawR0.cpp style), every request checked against the handle's own device.
//
// Ring 0 trusts nothing from ring 3. A request arrives as a private copy of its frame; it is
// decoded, its session and handle looked up, its parameters checked (types, widths, ranges, the
// device's own regions) and only then performed. Every request gets a VBox status; a bad one
// never stops the service. Unknown operations end in `default: VERR_NOT_SUPPORTED`.

import { Bdf } from '../shared/bdf.js';
import { PciRawCodec } from '../shared/codec.js';
import { FixedAnswerWriter, isFixedRequest } from '../shared/fixed-frame.js';
import {
  opName,
  PCIRAW_BATCH_MAX,
  PCIRAW_BATCH_OPS,
  PCIRAW_CAPS,
  PCIRAW_IRQ_KIND,
  PCIRAW_MEMINFO,
  PCIRAW_POWER,
  PCIRAWDRIVERRFLAG,
  PCIRAWR0_DO,
  type PciRawSendReq,
} from '../shared/protocol.js';
import { show } from '../shared/show.js';
import {
  VERR_ALREADY_EXISTS,
  VERR_DEV_IO_ERROR,
  VERR_INTERNAL_ERROR,
  VERR_INVALID_FLAGS,
  VERR_INVALID_HANDLE,
  VERR_INVALID_PARAMETER,
  VERR_INVALID_STATE,
  VERR_NOT_FOUND,
  VERR_NOT_SUPPORTED,
  VERR_OUT_OF_RESOURCES,
  VERR_RESOURCE_BUSY,
  VERR_TIMEOUT,
} from '../shared/status.js';
import { describeBlockers, groupBlockers, isHostDriver, PCI_BASE_CLASS_BRIDGE } from '../shared/sysfs/binding.js';
import { accessBlocked, configAccess, mmioAccess, pioAccess } from './access.js';
import { fail, isInt, isU32, type Out, ok, result } from './answer.js';
import type { DetachLog } from './detach-log.js';
import { type HostDeviceInfo, isHostFailure, type PciHostBackend } from './host.js';
import type { HostTable } from './host-table.js';
import { IommuDomain } from './iommu.js';
import { OpenDevice } from './open-device.js';
import { mapRegion, regionInfo, unmapRegion } from './regions.js';
import { workerResources } from './serve-control.js';
import { type ControlMessage, SESSION_MAX_DEVICES, SESSION_MAX_PARKED, Session } from './session.js';
import type { TimerQueue } from './timers.js';

/** Longest GET_IRQ wait ring 0 accepts, in milliseconds. */
export const GET_IRQ_MAX_TIMEOUT_MS = 60_000;

/** Options of {@link Ring0}. */
export interface Ring0Options {
  backend: PciHostBackend;
  table: HostTable;
  timers: TimerQueue;
  /** Log sink for device and guest mistakes (default: none). */
  log?: (msg: string) => void;
  /** `rawpci serve`: where detaches are written ahead (r0/detach-log.ts), so a restarted instance rebinds what this one left. */
  detachLog?: DetachLog;
}

/** One BATCH entry's answer on the wire: `[0]` (a write), `[0, value]` (a read: a number, a bigint for 8-byte MMIO), `[rc, msg]` (refused). */
type BatchAnswer = [0] | [0, number | bigint] | [number, string];

/** A successful access's answer: its read value flattened (PIO's number, MMIO's and config's PciRawMemLoc.u). */
function batchValue(out: unknown): BatchAnswer {
  const v = (out as { value?: unknown } | undefined)?.value;
  if (typeof v === 'number') return [0, v];
  const u = (v as { u?: unknown } | undefined)?.u;
  return typeof u === 'number' || typeof u === 'bigint' ? [0, u] : [0];
}

/**
 * The fixed answer of a fixed request `req` whose accesses all succeeded, or undefined when one
 * did not (the msgpackr answer then carries the statuses and messages).
 */
function fixedAnswer(writer: FixedAnswerWriter, req: PciRawSendReq, answer: Out): Uint8Array | undefined {
  if (answer.rc !== 0) return undefined;
  const out = answer.out as Record<string, unknown> | undefined;
  if (req.op !== PCIRAWR0_DO.BATCH) {
    const one = batchValue(out);
    return writer.encode([one.length === 2 ? (one[1] as number | bigint) : undefined], false);
  }
  const answers = out?.answers as BatchAnswer[] | undefined;
  if (!answers) return undefined;
  const values: (number | bigint | undefined)[] = [];
  for (const a of answers) {
    if (a[0] !== 0) return undefined;
    values.push(a.length === 2 ? (a[1] as number | bigint) : undefined);
  }
  return writer.encode(values, true);
}

/** Longest message of one failed BATCH entry, in characters (the whole answer must fit a slot). */
export const BATCH_MSG_CHARS = 96;

/** An encoded VERR_INTERNAL_ERROR answer, for when even encoding a message fails. */
const INTERNAL_ERROR_ANSWER = new PciRawCodec().encodeAnswer({ rc: VERR_INTERNAL_ERROR, msg: 'ring 0 failed internally (a bug: please report it)' });

/**
 * The ring-0 service of one worker thread: its sessions and the dispatcher over them.
 * All methods are synchronous and never throw on ring-3 input.
 */
export class Ring0 {
  readonly backend: PciHostBackend;
  readonly table: HostTable;
  readonly timers: TimerQueue;
  readonly sessions = new Map<number, Session>();
  readonly codec = new PciRawCodec();
  /** Where fixed answers are encoded (reused: the bytes handleFrame returns are copied out before the next request). */
  readonly #fixedAnswers = new FixedAnswerWriter();
  readonly #log: (msg: string) => void;
  readonly #detachLog: DetachLog | undefined;
  #nextMapId = 1;
  readonly #newMapId = (): number => this.#nextMapId++;
  /** Requests handled, per operation name (statistics). */
  readonly opCounts: Record<string, number> = {};

  constructor(options: Ring0Options) {
    this.backend = options.backend;
    this.table = options.table;
    this.timers = options.timers;
    this.#log = options.log ?? (() => {});
    this.#detachLog = options.detachLog;
  }

  /** Creates a session (a VM) over `ram`. `postControl` carries MAP_REGION views to ring 3. */
  createSession(ram: Uint8Array, postControl?: (msg: ControlMessage) => void, id = this.table.nextSessionId()): Session {
    const s = new Session(id, ram, postControl);
    this.sessions.set(id, s);
    return s;
  }

  /**
   * Ends a session: closes every device it still holds (the same fixed order as CLOSE_DEVICE),
   * answers its parked requests, destroys its IOMMU domain. Idempotent; never throws.
   */
  endSession(session: Session): void {
    if (session.ended) return;
    for (const dev of [...session.handles.values()]) this.#close(dev);
    for (const p of session.parked.splice(0)) p.reply(VERR_INVALID_STATE, undefined, 'the session ended');
    try {
      if (session.domain) this.backend.dma?.sync(session.domain.id, session.ram, []);
    } catch (e) {
      this.#log(`session ${session.id}: clearing its IOMMU mappings failed: ${(e as Error).message}`);
    }
    session.domain?.clear();
    session.domain = undefined;
    session.ended = true;
    this.sessions.delete(session.id);
  }

  /**
   * Handles the request frame `frame[0, length)` (a private copy) of `session`. Returns the
   * encoded answer, or undefined when the request was parked (GET_IRQ with a timeout, on a
   * session whose channel can answer later: `ticket` names the request for
   * {@link Session.replier}). The bytes may live in a buffer the next call reuses: copy them
   * out first. Never throws: a ring-0 bug anywhere here (decode, dispatch, encode) is logged
   * and answered VERR_INTERNAL_ERROR.
   */
  handleFrame(session: Session, frame: Uint8Array, length = frame.length, ticket?: number): Uint8Array | undefined {
    let answer: Out | undefined;
    try {
      const req = this.codec.decodeRequest(frame, length);
      // A fixed request (shared/fixed-frame.ts) never parks (no ticket): its operations answer at once.
      const fixed = isFixedRequest(frame, length);
      answer = 'rc' in req ? req : this.dispatch(session, req, fixed ? undefined : ticket);
      if (answer === undefined) return undefined;
      if (fixed && !('rc' in req)) {
        const bytes = fixedAnswer(this.#fixedAnswers, req, answer);
        if (bytes) return bytes;
      }
      const key = answer.cacheKey;
      if (key === undefined) return this.codec.encodeAnswer(answer);
      // Register reads answer the same few values again and again (a status bit being polled).
      let bytes = this.#answers.get(key);
      if (!bytes) {
        if (this.#answers.size >= 4096) this.#answers.clear();
        bytes = this.codec.encodeAnswer(answer).slice();
        this.#answers.set(key, bytes);
      }
      return bytes;
    } catch (e) {
      return this.#internalError('answering a request', e);
    }
  }

  /** Logs a ring-0 bug and encodes a VERR_INTERNAL_ERROR answer for it (never throws). */
  #internalError(what: string, e: unknown): Uint8Array {
    this.#log(`internal error ${what}: ${(e as Error)?.stack ?? String(e)}`);
    try {
      return this.codec.encodeAnswer({ rc: VERR_INTERNAL_ERROR, msg: `ring 0 failed internally ${what} (a bug: please report it with the ring-0 log)` });
    } catch {
      return INTERNAL_ERROR_ANSWER;
    }
  }

  /** Encoded answers of register reads by value and width (see handleFrame). */
  readonly #answers = new Map<number, Uint8Array>();

  readonly #onTimerError = (e: unknown) => this.#log(`device timer failed: ${(e as Error).message}`);

  /** Runs due device timers and expires parked waits. Returns ms until the next deadline. */
  poll(now: number): number {
    let next = this.timers.runDue(now, this.#onTimerError);
    if (this.backend.poll) {
      try {
        next = Math.min(next, this.backend.poll(now));
      } catch (e) {
        this.#log(`host poll failed: ${(e as Error).message}`);
        next = Math.min(next, 1);
      }
    }
    for (const s of this.sessions.values()) if (s.parked.length) next = Math.min(next, s.expireParked(now));
    return next;
  }

  /**
   * The dispatcher: checks and performs one decoded request. Returns the answer, or undefined
   * when it was parked and will be answered later through the session's replier with `ticket`
   * (a GET_IRQ waiting for an interrupt; without a ticket or replier nothing parks).
   */
  dispatch(session: Session, req: PciRawSendReq, ticket?: number): Out | undefined {
    const name = opName(req.op);
    if (name) this.opCounts[name] = (this.opCounts[name] ?? 0) + 1;
    if (req.session !== session.id) {
      return fail(VERR_INVALID_HANDLE, `request claims session ${req.session} but arrived on session ${session.id}'s channel`);
    }
    if (session.ended) return fail(VERR_INVALID_STATE, 'the session has ended');
    try {
      return this.#dispatch(session, req, ticket);
    } catch (e) {
      this.#log(`internal error in ${name ?? req.op}: ${(e as Error).stack ?? e}`);
      return fail(VERR_INTERNAL_ERROR, `ring 0 failed internally in ${name ?? `operation ${req.op}`}: ${(e as Error).message} (a bug: please report it)`);
    }
  }

  #dispatch(session: Session, req: PciRawSendReq, ticket?: number): Out | undefined {
    const p = req.params as Record<string, unknown>;
    switch (req.op) {
      case PCIRAWR0_DO.OPEN_DEVICE:
        return this.#noTarget(req) ?? this.#open(session, p);
      case PCIRAWR0_DO.INIT_VM:
        return this.#noTarget(req) ?? this.#initVm(session);
      case PCIRAWR0_DO.DEINIT_VM:
        return this.#noTarget(req) ?? this.#deinitVm(session);
      case PCIRAWR0_DO.CONTIG_MEM_INFO:
        return this.#noTarget(req) ?? this.#contigMemInfo(session, p);
      case PCIRAWR0_DO.GET_IRQ:
        return this.#getIrq(session, req.target, p, ticket);
      case PCIRAWR0_DO.BATCH:
        return this.#noTarget(req) ?? this.#batch(session, req, p);
      default:
        break;
    }
    const dev = session.handles.get(req.target);
    if (!dev) {
      if (!opName(req.op)) return fail(VERR_NOT_SUPPORTED, `operation ${req.op} is not a raw PCI operation`);
      return fail(
        VERR_INVALID_HANDLE,
        `handle 0x${(req.target >>> 0).toString(16)} is not a device open in session ${session.id} (open it with OPEN_DEVICE; handles are valid only in their own session)`,
      );
    }
    switch (req.op) {
      case PCIRAWR0_DO.CLOSE_DEVICE:
        return this.#closeDevice(dev, p);
      case PCIRAWR0_DO.GET_REGION_INFO:
        return regionInfo(dev, p);
      case PCIRAWR0_DO.MAP_REGION:
        return mapRegion(dev, p, this.#newMapId);
      case PCIRAWR0_DO.UNMAP_REGION:
        return unmapRegion(dev, p);
      case PCIRAWR0_DO.PIO_READ:
      case PCIRAWR0_DO.PIO_WRITE:
        return pioAccess(dev, p, req.op === PCIRAWR0_DO.PIO_WRITE);
      case PCIRAWR0_DO.MMIO_READ:
      case PCIRAWR0_DO.MMIO_WRITE:
        return mmioAccess(dev, p, req.op === PCIRAWR0_DO.MMIO_WRITE);
      case PCIRAWR0_DO.PCICFG_READ:
      case PCIRAWR0_DO.PCICFG_WRITE:
        return configAccess(dev, p, req.op === PCIRAWR0_DO.PCICFG_WRITE);
      case PCIRAWR0_DO.REGISTER_R0_IRQ_HANDLER:
        return this.#registerIrq(dev, p);
      case PCIRAWR0_DO.UNREGISTER_R0_IRQ_HANDLER:
        return this.#unregisterIrq(dev, p);
      case PCIRAWR0_DO.POWER_STATE_CHANGE:
        return this.#power(dev, p);
      case PCIRAWR0_DO.ACK_IRQ:
        return this.#ackIrq(dev, p);
      default:
        return fail(VERR_NOT_SUPPORTED, `operation ${req.op} is not a raw PCI operation`);
    }
  }

  #noTarget(req: PciRawSendReq): Out | undefined {
    return req.target === 0 ? undefined : fail(VERR_INVALID_PARAMETER, `${opName(req.op)} takes no device handle: send target 0`);
  }

  // ---- factory: open and close ----

  #open(session: Session, p: Record<string, unknown>): Out {
    const addr = p.pciAddress;
    const flags = p.flags;
    if (!isU32(addr)) return fail(VERR_INVALID_PARAMETER, 'pciAddress must be an unsigned 32-bit PCI address (domain << 16 | bus << 8 | devfn)');
    if (!isU32(flags)) return fail(VERR_INVALID_PARAMETER, 'flags must be an unsigned 32-bit integer');
    if (flags & ~PCIRAWDRIVERRFLAG.DETACH_HOST_DRIVER) {
      return fail(
        VERR_INVALID_FLAGS,
        `unknown open flags 0x${(flags & ~PCIRAWDRIVERRFLAG.DETACH_HOST_DRIVER).toString(16)}: only DETACH_HOST_DRIVER (0x1) exists`,
      );
    }
    const bdf = Bdf.fromPciAddress(addr);
    const info = this.backend.find(bdf);
    if (!info)
      return fail(
        VERR_NOT_FOUND,
        `no PCI device at ${bdf} on the ${this.backend.kind} host: 'rawpci list --host ${this.backend.kind}' shows the devices there`,
      );
    const denied = session.access?.(info);
    if (denied) return fail(denied.rc, denied.msg);
    const refused = this.backend.assignable(info);
    if (refused) return refused;
    // A device has one handle: a second open in the same session would be a second instance.
    for (const dev of session.handles.values()) {
      if (dev.info.bdf.equals(bdf)) {
        return fail(VERR_RESOURCE_BUSY, `${bdf} is already open in this session as handle 0x${dev.handle.toString(16)}: use that handle (a device has one)`);
      }
    }
    if (session.handles.size >= SESSION_MAX_DEVICES) {
      return fail(VERR_OUT_OF_RESOURCES, `session ${session.id} already holds ${SESSION_MAX_DEVICES} devices (SESSION_MAX_DEVICES): close one first`);
    }
    const current = this.table.devices.owner(addr);
    if (current !== 0) {
      return fail(VERR_RESOURCE_BUSY, `${bdf} is already open in VM session ${current}: close it there first (a device belongs to one VM at a time)`);
    }
    // The IOMMU group belongs to one VM (VFIO: a group joins one container), then the device.
    const group = info.iommuGroup;
    let claimedGroup = false;
    if (group !== null) {
      const holder = this.table.groups.claim(group, session.id);
      if (holder === -1) return fail(VERR_OUT_OF_RESOURCES, 'ring 0 IOMMU group table is full');
      if (holder !== 0 && holder !== session.id) {
        const held = this.backend
          .devices()
          .filter((d) => d.iommuGroup === group && this.table.devices.owner(d.bdf.pciAddress) === holder)
          .map((d) => d.bdf.toString());
        return fail(
          VERR_RESOURCE_BUSY,
          `${bdf} is in IOMMU group ${group}, which VM session ${holder} holds${held.length ? ` (it has ${held.join(', ')} open)` : ''}: a group belongs to one VM; close its devices there first`,
        );
      }
      claimedGroup = holder === 0;
    }
    const release = (o: Out): Out => {
      this.table.devices.release(addr, session.id);
      if (claimedGroup && group !== null) this.table.groups.release(group, session.id);
      return o;
    };
    const owner = this.table.devices.claim(addr, session.id);
    if (owner === -1) return release(fail(VERR_OUT_OF_RESOURCES, 'ring 0 device table is full'));
    if (owner !== 0) {
      if (claimedGroup && group !== null) this.table.groups.release(group, session.id);
      return fail(VERR_RESOURCE_BUSY, `${bdf} is already open in VM session ${owner}: close it there first (a device belongs to one VM at a time)`);
    }
    // IOMMU group viability: every other member must be free of host drivers, as VFIO requires.
    if (group !== null) {
      const members = this.backend
        .devices()
        .filter((d) => d.iommuGroup === group)
        .map((d) => ({ bdf: d.bdf, driver: d.driver, bridge: d.classCode >>> 16 === PCI_BASE_CLASS_BRIDGE }));
      const blockers = groupBlockers(members, bdf);
      if (blockers.length) {
        const fix = blockers.map((b) => `'rawpci attach ${b.bdf}'`).join(', ');
        return release(
          fail(
            VERR_RESOURCE_BUSY,
            `${bdf} is in IOMMU group ${group} with ${describeBlockers(blockers)}: detach ${blockers.length > 1 ? 'them' : 'it'} too (${fix})`,
          ),
        );
      }
    }
    let detached: string | null | undefined;
    if (isHostDriver(info.driver)) {
      if (!(flags & PCIRAWDRIVERRFLAG.DETACH_HOST_DRIVER)) {
        return release(
          fail(
            VERR_RESOURCE_BUSY,
            `${bdf} is bound to host driver ${info.driver}: open it with DETACH_HOST_DRIVER, or detach it first with 'rawpci attach ${bdf}'`,
          ),
        );
      }
      if (!this.#logDetach(addr, info.driver)) {
        return release(
          fail(VERR_RESOURCE_BUSY, `${bdf}: ring 0 could not record the detach in its state directory (see the rawpci serve log); nothing was changed`),
        );
      }
      const d = this.backend.detachDriver(info);
      if (isHostFailure(d)) {
        this.#logRebound(addr);
        return release(d);
      }
      detached = d;
      // Recorded where the service finds it if this worker has to be given up.
      workerResources.addDetached(addr, d);
    }
    const handle = this.#newHandle(session);
    const dev = new OpenDevice({
      session,
      handle,
      info: { ...info, driver: null },
      timers: this.timers.group(),
      log: (m) => this.#log(`session ${session.id}: ${m}`),
    });
    dev.detachedDriver = detached;
    const opened = this.backend.open(info, dev);
    if (isHostFailure(opened)) {
      if (detached !== undefined) this.#rebind(info, detached);
      return release(opened);
    }
    dev.hostDevice = opened;
    session.handles.set(handle, dev);
    return ok({ device: handle });
  }

  #closeDevice(dev: OpenDevice, p: Record<string, unknown>): Out {
    if (p.flags !== undefined && p.flags !== 0) return fail(VERR_INVALID_FLAGS, 'CLOSE_DEVICE flags must be 0');
    this.#close(dev);
    return ok();
  }

  /** Fixed cleanup order; then rebind the host driver and release exclusivity (the device, then its group if no other device of the session is in it). Idempotent. */
  #close(dev: OpenDevice): void {
    dev.shutdown();
    const session = dev.session;
    session.handles.delete(dev.handle);
    if (dev.detachedDriver !== undefined) {
      const t0 = performance.now();
      this.#rebind(dev.info, dev.detachedDriver);
      dev.closeTimings['rebind host driver'] = performance.now() - t0;
      dev.detachedDriver = undefined;
    }
    // The last SESSION_MAX_DEVICES closes only: a VM opening and closing in a loop cannot grow it.
    if (session.closeTimings.length >= SESSION_MAX_DEVICES) session.closeTimings.shift();
    session.closeTimings.push({ bdf: dev.info.bdf.toString(), steps: dev.closeTimings });
    this.table.devices.release(dev.info.bdf.pciAddress, session.id);
    const group = dev.info.iommuGroup;
    if (group !== null && ![...session.handles.values()].some((d) => d.info.iommuGroup === group)) this.table.groups.release(group, session.id);
  }

  /** Rebinds the host driver ring 0 detached at open (never throws). */
  #rebind(info: HostDeviceInfo, driver: string | null): void {
    workerResources.removeDetached(info.bdf.pciAddress);
    try {
      this.backend.rebindDriver(info, driver);
    } catch (e) {
      this.#log(`rebinding ${info.bdf} to ${driver ?? '(no driver)'} failed: ${(e as Error).message}`);
    }
    this.#logRebound(info.bdf.pciAddress);
  }

  /**
   * BATCH: each access `[op, target, params]` is dispatched in order as its own request (the
   * same checks, counted the same), and answered in order with its own status; a malformed
   * entry gets VERR_INVALID_PARAMETER and the rest still run. The batch itself fails only when
   * `accesses` is not an array of 1..PCIRAW_BATCH_MAX entries. Messages are cut to
   * BATCH_MSG_CHARS so the whole answer stays small (a slot the answer overflows is answered
   * VERR_BUFFER_OVERFLOW by the serve loop).
   */
  #batch(session: Session, req: PciRawSendReq, p: Record<string, unknown>): Out {
    const list = p.accesses;
    if (!Array.isArray(list) || list.length < 1 || list.length > PCIRAW_BATCH_MAX) {
      return fail(VERR_INVALID_PARAMETER, `BATCH needs accesses: an array of 1..${PCIRAW_BATCH_MAX} [op, target, params] entries`);
    }
    const answers: BatchAnswer[] = [];
    for (const a of list as unknown[]) {
      let out: Out | undefined;
      if (
        !Array.isArray(a) ||
        a.length !== 3 ||
        !isInt(a[0]) ||
        !PCIRAW_BATCH_OPS.has(a[0]) ||
        !isU32(a[1]) ||
        a[2] === null ||
        typeof a[2] !== 'object' ||
        Array.isArray(a[2])
      ) {
        out = fail(VERR_INVALID_PARAMETER, 'a BATCH entry is [op, target, params] with op PIO, MMIO or PCICFG read or write, or ACK_IRQ, and params a map');
      } else {
        out = this.dispatch(session, {
          version: req.version,
          size: req.size,
          session: session.id,
          op: a[0] as PciRawSendReq['op'],
          target: a[1],
          params: a[2] as never,
        });
      }
      if (!out) out = fail(VERR_INTERNAL_ERROR, 'a BATCH entry was parked (a bug: please report it)');
      answers.push(out.rc === 0 ? batchValue(out.out) : [out.rc, (out.msg ?? '').slice(0, BATCH_MSG_CHARS)]);
    }
    return ok({ answers });
  }

  /** Writes the coming detach ahead (rawpci serve); false when that failed (the detach is then refused). */
  #logDetach(pciAddress: number, driver: string | null): boolean {
    try {
      this.#detachLog?.willDetach(pciAddress, driver);
      return true;
    } catch (e) {
      this.#log(`recording the detach of ${Bdf.fromPciAddress(pciAddress)} in ${this.#detachLog?.path}: ${(e as Error).message}`);
      return false;
    }
  }

  #logRebound(pciAddress: number): void {
    try {
      this.#detachLog?.rebound(pciAddress);
    } catch (e) {
      this.#log(`recording the rebind of ${Bdf.fromPciAddress(pciAddress)} in ${this.#detachLog?.path}: ${(e as Error).message}`);
    }
  }

  #newHandle(session: Session): number {
    const rnd = new Uint32Array(1);
    for (;;) {
      crypto.getRandomValues(rnd);
      const h = rnd[0]!;
      if (h !== 0 && !session.handles.has(h)) return h;
    }
  }

  // ---- interrupts ----

  #registerIrq(dev: OpenDevice, p: Record<string, unknown>): Out {
    const g = p.guestIrq;
    if (!isInt(g) || g < 0 || g > 0x7fff_ffff) return fail(VERR_INVALID_PARAMETER, `guestIrq ${show(g)} must be a non-negative 32-bit integer`);
    if (dev.guestIrq !== undefined)
      return fail(VERR_ALREADY_EXISTS, `${dev.info.bdf} already has an IRQ handler (guest IRQ ${dev.guestIrq}): unregister it first`);
    dev.registerIrq(g);
    return ok({ hostIrq: dev.info.irq });
  }

  #unregisterIrq(dev: OpenDevice, p: Record<string, unknown>): Out {
    if (dev.guestIrq === undefined) return fail(VERR_NOT_FOUND, `${dev.info.bdf} has no IRQ handler registered`);
    if (p.hostIrq !== dev.info.irq) return fail(VERR_INVALID_PARAMETER, `hostIrq ${show(p.hostIrq)} is not ${dev.info.bdf}'s host IRQ ${dev.info.irq}`);
    dev.unregisterIrq();
    return ok();
  }

  #getIrq(session: Session, target: number, p: Record<string, unknown>, ticket?: number): Out | undefined {
    if (target !== 0 && !session.handles.has(target)) {
      return fail(VERR_INVALID_HANDLE, `handle 0x${(target >>> 0).toString(16)} is not a device open in session ${session.id}`);
    }
    const t = p.timeoutMs;
    if (!isInt(t) || t < 0 || t > GET_IRQ_MAX_TIMEOUT_MS)
      return fail(VERR_INVALID_PARAMETER, `timeoutMs ${show(t)} must be an integer 0..${GET_IRQ_MAX_TIMEOUT_MS}`);
    const ev = session.takeEvent(target);
    if (ev) return ok({ irq: ev, pending: session.pendingFor(target) });
    const replier = session.replier;
    if (t === 0 || ticket === undefined || !replier) return fail(VERR_TIMEOUT, 'no interrupt pending');
    // Waits whose callers gave up (or whose slots ring 3 recycled) go first: at most one live
    // wait per channel slot remains, so the parked list is bounded by the slot count.
    session.pruneParked();
    if (session.parked.length >= SESSION_MAX_PARKED) {
      return fail(VERR_OUT_OF_RESOURCES, `session ${session.id} already has ${SESSION_MAX_PARKED} GET_IRQ requests waiting`);
    }
    session.parked.push({
      target,
      deadline: this.timers.now() + t,
      alive: () => replier.waiting(ticket),
      reply: (rc, out, msg) => {
        let bytes: Uint8Array;
        try {
          bytes = this.codec.encodeAnswer(rc >= 0 ? { rc, out: out as never } : { rc, msg: msg ?? '' });
        } catch (e) {
          bytes = this.#internalError('encoding a GET_IRQ answer', e);
        }
        return replier.answer(ticket, bytes);
      },
    });
    return undefined;
  }

  #ackIrq(dev: OpenDevice, p: Record<string, unknown>): Out {
    const kind = p.kind;
    if (kind === PCIRAW_IRQ_KIND.INTX) {
      const blocked = accessBlocked(dev, 'ACK_IRQ');
      if (blocked) return blocked;
      dev.ackIntx();
      return ok();
    }
    if (kind === PCIRAW_IRQ_KIND.MSI || kind === PCIRAW_IRQ_KIND.MSIX || kind === PCIRAW_IRQ_KIND.FAULT) return ok();
    return fail(VERR_INVALID_PARAMETER, `ACK_IRQ kind ${show(kind)} must be 'intx', 'msi', 'msix' or 'fault'`);
  }

  // ---- power and VM ----

  #power(dev: OpenDevice, p: Record<string, unknown>): Out {
    const state = p.state;
    const caps = () => ({ caps: dev.domain ? PCIRAW_CAPS.IOMMU : 0 });
    switch (state) {
      case PCIRAW_POWER.ON:
        if (dev.power === 'suspended') return fail(VERR_INVALID_STATE, `${dev.info.bdf} is suspended: RESUME it, or power it OFF first`);
        dev.powerOn();
        return ok(caps());
      case PCIRAW_POWER.OFF:
        dev.powerOff();
        return ok(caps());
      case PCIRAW_POWER.SUSPEND:
        if (dev.power === 'suspended' || dev.power === 'off')
          return fail(VERR_INVALID_STATE, `${dev.info.bdf} is ${dev.power}: only a running device can be suspended`);
        dev.suspend();
        return ok(caps());
      case PCIRAW_POWER.RESUME:
        if (dev.power !== 'suspended') return fail(VERR_INVALID_STATE, `${dev.info.bdf} is not suspended`);
        dev.resume();
        return ok(caps());
      case PCIRAW_POWER.RESET:
        if (dev.power === 'suspended') return fail(VERR_INVALID_STATE, `${dev.info.bdf} is suspended: RESUME it first`);
        return dev.reset() ? ok(caps()) : fail(VERR_DEV_IO_ERROR, `the host could not reset ${dev.info.bdf}`);
      default:
        return fail(VERR_INVALID_PARAMETER, `power state ${show(state)} must be ON 0, OFF 1, SUSPEND 2, RESUME 3 or RESET 4`);
    }
  }

  #initVm(session: Session): Out {
    if (session.domain) return fail(VERR_ALREADY_EXISTS, `session ${session.id} already has IOMMU domain ${session.domain.id}`);
    session.domain = new IommuDomain(this.table.nextDomainId(), session.memory ?? session.ram);
    return ok({ domain: session.domain.id });
  }

  #deinitVm(session: Session): Out {
    if (!session.domain) return fail(VERR_INVALID_STATE, `session ${session.id} has no IOMMU domain (INIT_VM first)`);
    for (const dev of session.handles.values()) if (dev.domain === session.domain) dev.domain = undefined;
    this.backend.dma?.sync(session.domain.id, session.ram, []);
    session.domain.clear();
    session.domain = undefined;
    return ok();
  }

  #contigMemInfo(session: Session, p: Record<string, unknown>): Out {
    if (!session.domain) return fail(VERR_INVALID_STATE, `session ${session.id} has no IOMMU domain: call INIT_VM first`);
    const { hostStart, guestStart, size, action } = p as { hostStart: bigint; guestStart: bigint; size: bigint; action: unknown };
    if (action !== PCIRAW_MEMINFO.MAP && action !== PCIRAW_MEMINFO.UNMAP) {
      return fail(VERR_INVALID_PARAMETER, `CONTIG_MEM_INFO action ${show(action)} must be MAP 0 or UNMAP 1`);
    }
    const domain = session.domain;
    const r = action === PCIRAW_MEMINFO.MAP ? domain.map(hostStart, guestStart, size) : domain.unmap(hostStart, guestStart, size);
    if (r.rc !== 0 || !this.backend.dma) return result(r);
    // A real IOMMU (VFIO) mirrors the domain; if it refuses, undo ring 0's change so both agree.
    const refused = this.backend.dma.sync(domain.id, session.ram, domain.mappings());
    if (!refused) return ok();
    if (action === PCIRAW_MEMINFO.MAP) domain.unmap(hostStart, guestStart, size);
    else domain.map(hostStart, guestStart, size);
    this.backend.dma.sync(domain.id, session.ram, domain.mappings());
    return refused;
  }
}
