// Ring 3's end of the unix socket to `rawpci serve`: offer the channel and guest RAM as sealed memfds, learn the session, receive MAP_REGION views, disconnect cleanly.
//
// The socket is driven by the addon (shared/xproc.ts), never by libuv: file descriptors arrive
// with the frames (SCM_RIGHTS), and libuv's reads would drop them. Every frame ring 0 sends is
// validated (shared/serve-protocol.ts) before use. The fd is process-wide, so vCPU threads of
// the VM poll it too (ChannelClient's peerSocket) to notice a ring 0 that died.

import { channelBytes, checkGeometry, DEFAULT_SLOT_BYTES, DEFAULT_SLOT_COUNT } from '../shared/channel-layout.js';
import {
  encodeFrame,
  FrameReader,
  LIFE_PAGE_BYTES,
  MAX_FRAME_BYTES,
  SERVE_PROTOCOL_VERSION,
  type ServerFrame,
  serverFrameSchema,
} from '../shared/serve-protocol.js';
import { VERR_INVALID_STATE, VERR_TIMEOUT } from '../shared/status.js';
import { POLL, xproc } from '../shared/xproc.js';
import { RawPciError } from './errors.js';

/** What the VM offers in its hello (see {@link UnixLink.open}). */
export interface UnixLinkOptions {
  slotCount?: number;
  slotBytes?: number;
  /** Bytes of guest RAM to allocate as a memfd shared with ring 0 (default 16 MiB); 0 with `guestMemorySize`. */
  guestRamBytes?: number;
  /** Guest memory the VMM keeps (DMA through the lane): its size in bytes; no RAM memfd is offered. */
  guestMemorySize?: number;
  dmaTimeoutMs?: number;
  serverSpinUs?: number;
  /** How long to wait for ring 0's welcome, in ms (default 10000). */
  startTimeoutMs?: number;
}

/** A control message for RegionViews: a shared view (`sab`), a device fd range (`owned`: an fd of this process, received with the frame: RegionViews closes it), or a withdrawal. */
export type LinkMessage =
  | { type: 'map'; mapId: number; sab: SharedArrayBuffer }
  | { type: 'map'; mapId: number; fd: number; offset: bigint; size: number; owned: true }
  | { type: 'unmap'; mapId: number };

/**
 * One VM's connection to a `rawpci serve` ring 0. {@link open} connects and returns the link
 * with the channel and guest RAM both processes map. Errors are RawPciError (op 'CONNECT'):
 * ring 0's refusal with its status, VERR_TIMEOUT when no welcome came in time,
 * VERR_INVALID_STATE when the socket closed; or the addon's Error (errno `code`, e.g. ENOENT
 * or ECONNREFUSED when nothing serves the path).
 */
export class UnixLink {
  #fd: number;
  readonly session: number;
  readonly host: 'sim' | 'vfio';
  readonly channel: SharedArrayBuffer;
  readonly ram: SharedArrayBuffer | undefined;
  readonly #reader: FrameReader;
  readonly #fds: number[] = [];
  readonly #queue: ServerFrame[] = [];
  #closed = false;
  /** The fd that has the liveness thread let go of its robust futex (-1 once it did). */
  #lifeStop: number;

  private constructor(
    fd: number,
    session: number,
    host: 'sim' | 'vfio',
    channel: SharedArrayBuffer,
    ram: SharedArrayBuffer | undefined,
    reader: FrameReader,
    lifeStop: number,
  ) {
    this.#fd = fd;
    this.#lifeStop = lifeStop;
    this.session = session;
    this.host = host;
    this.channel = channel;
    this.ram = ram;
    this.#reader = reader;
  }

  /** Connects to the socket at `path` and offers the VM's memory. See the class for errors. */
  static async open(path: string, o: UnixLinkOptions = {}): Promise<UnixLink> {
    const x = xproc();
    const { slotCount, slotBytes } = checkGeometry(o.slotCount ?? DEFAULT_SLOT_COUNT, o.slotBytes ?? DEFAULT_SLOT_BYTES);
    const ramBytes = o.guestMemorySize !== undefined ? 0 : (o.guestRamBytes ?? 16 << 20);
    if (o.guestMemorySize === undefined && (!Number.isInteger(ramBytes) || ramBytes < 4096 || ramBytes % 4096 !== 0)) {
      throw new RangeError(`guestRamBytes ${ramBytes} must be a positive multiple of 4096`);
    }
    const fds: number[] = [];
    let fd = -1;
    let lifeStop = -1;
    try {
      const chFd = x.memfdCreate('rawpci-channel', channelBytes(slotCount, slotBytes), true);
      fds.push(chFd);
      const channel = x.mapShared(chFd, channelBytes(slotCount, slotBytes));
      let ram: SharedArrayBuffer | undefined;
      if (ramBytes > 0) {
        const ramFd = x.memfdCreate('rawpci-guest-ram', ramBytes, true);
        fds.push(ramFd);
        ram = x.mapShared(ramFd, ramBytes);
      }
      // The liveness page: a thread of this process holds its robust futex until disconnect, so
      // ring 0 hears of this process's death from the kernel at once (r0/peer-life.ts).
      const lifeFd = x.memfdCreate('rawpci-life', LIFE_PAGE_BYTES, true);
      fds.push(lifeFd);
      lifeStop = x.lifeLockStart(lifeFd).stopFd;
      fd = x.connectUnix(path);
      const hello = {
        t: 'hello',
        v: SERVE_PROTOCOL_VERSION,
        slotCount,
        slotBytes,
        ramBytes,
        ...(o.guestMemorySize === undefined ? {} : { guestMemorySize: o.guestMemorySize }),
        ...(o.dmaTimeoutMs === undefined ? {} : { dmaTimeoutMs: o.dmaTimeoutMs }),
        ...(o.serverSpinUs === undefined ? {} : { serverSpinUs: o.serverSpinUs }),
        life: true,
      };
      const bytes = encodeFrame(hello);
      if (x.sendFds(fd, bytes, fds) !== bytes.length) throw new RawPciError(VERR_INVALID_STATE, 'CONNECT', `the hello to ${path} could not be sent whole`);
      const reader = new FrameReader();
      const link = new UnixLink(fd, 0, 'sim', channel, ram, reader, -1);
      const deadline = performance.now() + (o.startTimeoutMs ?? 10_000);
      for (;;) {
        const f = link.#next();
        if (f?.t === 'welcome') {
          const done = new UnixLink(fd, f.session, f.host, channel, ram, reader, lifeStop);
          lifeStop = -1;
          return done;
        }
        if (f?.t === 'error') throw new RawPciError(f.rc, 'CONNECT', `rawpci serve at ${path} refused the VM: ${f.msg}`);
        if (link.#closed) throw new RawPciError(VERR_INVALID_STATE, 'CONNECT', `rawpci serve at ${path} closed the connection before its welcome`);
        if (performance.now() > deadline)
          throw new RawPciError(VERR_TIMEOUT, 'CONNECT', `rawpci serve at ${path} did not welcome the VM within ${o.startTimeoutMs ?? 10_000} ms`);
        if (f === undefined) await new Promise((r) => setTimeout(r, 1));
      }
    } catch (e) {
      if (fd >= 0) x.closeFd(fd);
      throw e;
    } finally {
      for (const f of fds) x.closeFd(f);
      if (lifeStop >= 0) x.lifeLockStop(lifeStop);
    }
  }

  /** The socket (an fd of this process; -1 once closed). */
  get fd(): number {
    return this.#fd;
  }

  /** True once ring 0 hung up (or this side closed). */
  get closed(): boolean {
    return this.#closed;
  }

  /** The next frame from ring 0, reading what the socket holds (never blocks); undefined when none is whole yet. */
  #next(): ServerFrame | undefined {
    if (this.#queue.length) return this.#queue.shift();
    const x = xproc();
    while (!this.#closed) {
      let got: ReturnType<typeof x.recvFds>;
      try {
        got = x.recvFds(this.fd, MAX_FRAME_BYTES + 4);
      } catch {
        this.#closed = true;
        break;
      }
      if (!got) break;
      this.#fds.push(...got.fds);
      if (got.bytes.length === 0) {
        this.#closed = true;
        break;
      }
      this.#reader.push(got.bytes);
    }
    let raw: unknown;
    try {
      raw = this.#reader.next();
    } catch {
      this.#closed = true;
      return undefined;
    }
    if (raw === undefined) return undefined;
    const f = serverFrameSchema.safeParse(raw);
    if (!f.success) return this.#next();
    return f.data;
  }

  /**
   * The next control message for RegionViews (MAP_REGION views), undefined when none has
   * arrived. A shared view's memfd is mapped here and closed; a device fd is handed on.
   */
  receive(): LinkMessage | undefined {
    for (let f = this.#next(); f; f = this.#next()) {
      if (f.t === 'unmap') return { type: 'unmap', mapId: f.mapId };
      if (f.t !== 'map') continue;
      const fd = this.#fds.shift();
      if (fd === undefined) continue;
      if (f.kind === 'device') return { type: 'map', mapId: f.mapId, fd, offset: BigInt(f.offset), size: f.size, owned: true };
      try {
        return { type: 'map', mapId: f.mapId, sab: xproc().mapShared(fd, f.size) };
      } catch {
      } finally {
        xproc().closeFd(fd);
      }
    }
    return undefined;
  }

  /**
   * Disconnects cleanly: says bye and waits (at most `timeoutMs`) until ring 0 has ended the
   * session (every device closed in the fixed order). Resolves with ring 0's cleanup time in
   * ms, or undefined when it did not say. Idempotent.
   */
  async disconnect(timeoutMs = 5000): Promise<number | undefined> {
    if (this.#closed) {
      this.#release();
      return undefined;
    }
    const x = xproc();
    let ms: number | undefined;
    try {
      x.sendFds(this.fd, encodeFrame({ t: 'bye' }));
      const deadline = performance.now() + timeoutMs;
      while (!this.#closed && performance.now() < deadline) {
        const f = this.#next();
        if (f?.t === 'closed') {
          ms = f.cleanupMs;
          break;
        }
        if (!f) {
          if (x.pollFd(this.fd, POLL.IN, 0) === 0) await new Promise((r) => setTimeout(r, 1));
        }
      }
    } catch {}
    this.#release();
    return ms;
  }

  #release(): void {
    if (this.#fd < 0) return;
    this.#closed = true;
    const x = xproc();
    for (const f of this.#fds.splice(0)) x.closeFd(f);
    try {
      x.closeFd(this.#fd);
    } catch {}
    this.#fd = -1;
    if (this.#lifeStop >= 0) x.lifeLockStop(this.#lifeStop);
    this.#lifeStop = -1;
  }
}
