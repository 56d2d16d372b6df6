// Ring 0 as a long-lived process (`rawpci serve`): a unix socket VMs connect to, their memfds mapped and bounds-checked, their deaths cleaned up, and the admin requests of the CLI.
//
// One Ring0Service (r0/service.ts) serves every VM; this file is the process boundary around it.
// A connection starts with one frame (shared/serve-protocol.ts): a VM's `hello` carries its
// channel and guest RAM as sealed memfds (SCM_RIGHTS), which ring 0 checks (memfd, sealed
// against shrinking and growing, exactly the announced size) before it maps them, so nothing the
// VM does later can make ring 0's mappings fault. The channel then runs with futex wake-ups
// (shared/wake.ts). The VM's identity is the socket's SO_PEERCRED, checked against the policy at
// every OPEN_DEVICE. When the socket closes (the VM exited, crashed or was killed) ring 0 ends
// the session in the fixed order (r0/session.ts, r0/open-device.ts) and logs how long it took.
//
// The socket fd is read by libuv only after the first frame (which carries fds: libuv's reads
// would drop them), and ring 0 writes only through sendmsg (xproc.sendFds), never libuv.
//
// Restart safety: the devices VMs hold with their host driver detached are kept in a state
// file (written atomically, under a lock); a new instance rebinds whatever an instance that
// died left there, before it serves.

import { existsSync, mkdirSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { dirname } from 'node:path';
import type { Logger } from 'pino';
import lockfile from 'proper-lockfile';
import writeFileAtomic from 'write-file-atomic';
import { Bdf } from '../shared/bdf.js';
import { channelBytes } from '../shared/channel-layout.js';
import { childLogger } from '../shared/log.js';
import {
  adminHelloSchema,
  adminRequestSchema,
  encodeFrame,
  FrameReader,
  HELLO_TIMEOUT_MS,
  type Hello,
  helloSchema,
  LIFE_PAGE_BYTES,
  MAX_FRAME_BYTES,
  SERVE_PROTOCOL_VERSION,
  vmFrameSchema,
  zodIssue,
} from '../shared/serve-protocol.js';
import {
  VERR_ACCESS_DENIED,
  VERR_BUFFER_OVERFLOW,
  VERR_INTERNAL_ERROR,
  VERR_INVALID_PARAMETER,
  VERR_NOT_FOUND,
  VERR_RESOURCE_BUSY,
  VERR_VERSION_MISMATCH,
  VINF_SUCCESS,
} from '../shared/status.js';
import { FUTEX_ROBUST, REQUIRED_SEALS, type Xproc, xproc } from '../shared/xproc.js';
import { type DetachedRecord, takeDetachLogs } from './detach-log.js';
import { lifeVerdict } from './peer-life.js';
import { type PeerIdentity, peerGroups } from './policy.js';
import { releaseWorkerResources } from './reaper.js';
import type { JournalEntry } from './serve-control.js';
import { Ring0Service, type Ring0ServiceOptions } from './service.js';
import type { ControlMessage } from './session.js';
import type { ServeResult } from './worker.js';

/** Options of {@link RawPciServer.start}. */
export interface RawPciServerOptions extends Ring0ServiceOptions {
  /** The unix socket to listen on (its directory is created, mode 0755). */
  socket: string;
  /** The state file of detached devices (default: the socket path + '.state.json'). */
  stateFile?: string;
  /** Socket file mode (default 0o666: who may open what is the policy's business, by SO_PEERCRED). */
  socketMode?: number;
}

/** The record of one VM's disconnect: how long the fixed-order cleanup took. */
export interface CleanupRecord {
  session: number;
  pid: number;
  uid: number;
  /**
   * 'died' (the VM's liveness futex said its process died: r0/peer-life.ts), 'disconnect'
   * (socket closed), 'bye' (clean close), 'end' (admin), 'shutdown' (SIGTERM).
   */
  why: 'died' | 'disconnect' | 'bye' | 'end' | 'shutdown';
  /** From noticing to the session ended (every device closed, drivers rebound), in ms. */
  ms: number;
  /** When ring 0 noticed (ms since the epoch): the liveness futex's wake, the socket's close, the bye, the request. */
  noticedAt: number;
  /** 'died': when the worker began the fixed-order cleanup (ms since the epoch; the serve loop had ended and closed the channel). */
  closingAt?: number;
  /** Each device closed: how long each step of the fixed order took in the worker, in ms. */
  devices: { bdf: string; steps: Record<string, number> }[];
}

/** The state file's shape: devices detached from their host driver by VMs of this instance. */
interface StateFile {
  version: 1;
  pid: number;
  host: 'sim' | 'vfio';
  devices: DetachedRecord[];
}

/** One live VM connection. */
interface VmConn {
  session: number;
  peer: PeerIdentity;
  sock: Socket;
  fd: number;
  ended: Promise<number> | undefined;
}

/**
 * A running `rawpci serve`: the socket, the ring-0 service behind it, and the VMs connected.
 * `start` it, `close` it (SIGTERM): every VM is ended in the fixed order first.
 */
export class RawPciServer {
  readonly service: Ring0Service;
  readonly socketPath: string;
  readonly stateFile: string;
  /** The last cleanups (most recent last, at most 100): what `rawpci status` shows and the tests measure. */
  readonly cleanups: CleanupRecord[] = [];
  /** Devices a previous instance left detached that this one rebound at start. */
  readonly reclaimed: string[] = [];
  readonly #server: Server;
  readonly #x: Xproc;
  readonly #log: Logger;
  readonly #vms = new Map<number, VmConn>();
  /** Per uid: VMs whose channel is being opened (they count against the quota too). */
  readonly #opening = new Map<number, number>();
  readonly #sockets = new Set<Socket>();
  #stateTimer: NodeJS.Timeout | undefined;
  #lastState = '';
  #closing: Promise<void> | undefined;

  private constructor(service: Ring0Service, server: Server, socketPath: string, stateFile: string, log: Logger) {
    this.service = service;
    this.#server = server;
    this.socketPath = socketPath;
    this.stateFile = stateFile;
    this.#x = xproc();
    this.#log = log;
  }

  /**
   * Starts ring 0 and listens on `options.socket`. Throws Error with the cause and the fix when
   * another instance serves that socket, the addon is not built, the policy or inventory is
   * bad, or the socket cannot be made.
   */
  static async start(options: RawPciServerOptions): Promise<RawPciServer> {
    const x = xproc();
    const log = childLogger({ ring: 0, part: 'serve' });
    const socketPath = options.socket;
    const stateFile = options.stateFile ?? `${socketPath}.state.json`;
    mkdirSync(dirname(socketPath), { recursive: true, mode: 0o755 });
    refuseIfServed(x, socketPath);
    const detachLogDir = `${stateFile}.d`;
    const service = await Ring0Service.start({ ...options, shareableMemory: true, detachLogDir });
    let server: Server | undefined;
    try {
      const reclaimed = await reclaimFromState(stateFile, detachLogDir, service, log);
      server = createServer({ pauseOnConnect: true });
      await new Promise<void>((resolve, reject) => {
        server!.once('error', (e: NodeJS.ErrnoException) =>
          reject(
            e.code === 'EADDRINUSE'
              ? new Error(`another rawpci serve took ${socketPath} while this one started: stop it first or give this one another --socket`)
              : new Error(`cannot listen on ${socketPath} (${e.code}): ${e.message}`),
          ),
        );
        server!.listen(socketPath, () => resolve());
      });
      const { chmodSync } = await import('node:fs');
      chmodSync(socketPath, options.socketMode ?? 0o666);
      const s = new RawPciServer(service, server, socketPath, stateFile, log);
      s.reclaimed.push(...reclaimed);
      server.on('connection', (sock) => s.#accept(sock));
      server.on('error', (e) => log.error(`socket ${socketPath}: ${e.message}`));
      s.#stateTimer = setInterval(() => s.#saveState(), 50);
      s.#stateTimer.unref();
      log.info({ socket: socketPath, host: service.host, pid: process.pid }, `rawpci serve: ring 0 (${service.host} host) listens on ${socketPath}`);
      return s;
    } catch (e) {
      server?.close();
      await service.close();
      throw e;
    }
  }

  /** VMs connected now. */
  get vms(): number {
    return this.#vms.size;
  }

  /**
   * Shuts down (SIGTERM): stops accepting, ends every VM's session in the fixed order, closes
   * ring 0, removes the socket and the state file. Idempotent.
   */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#server.close();
      const t0 = performance.now();
      await Promise.all([...this.#vms.values()].map((vm) => this.#end(vm, 'shutdown')));
      for (const s of this.#sockets) s.destroy();
      await this.service.close();
      if (this.#stateTimer) clearInterval(this.#stateTimer);
      this.#saveState(true);
      try {
        unlinkSync(this.socketPath);
      } catch {}
      this.#log.info(`rawpci serve: shut down (${this.cleanups.length} sessions ended, last ones in ${(performance.now() - t0).toFixed(1)} ms)`);
    })();
    return this.#closing;
  }

  // ---- connections ----

  #accept(sock: Socket): void {
    this.#sockets.add(sock);
    sock.on('close', () => this.#sockets.delete(sock));
    sock.on('error', () => {});
    const fd = (sock as unknown as { _handle?: { fd?: number } })._handle?.fd;
    if (typeof fd !== 'number' || fd < 0) {
      sock.destroy();
      return;
    }
    let peer: PeerIdentity;
    try {
      const cred = this.#x.peerCred(fd);
      peer = { ...cred, groups: peerGroups(cred.pid) };
    } catch (e) {
      this.#log.warn(`a connection without peer credentials was refused: ${(e as Error).message}`);
      sock.destroy();
      return;
    }
    if (this.#closing) {
      this.#refuse(sock, fd, VERR_RESOURCE_BUSY, 'rawpci serve is shutting down: connect to the next instance');
      return;
    }
    this.#readFirst(sock, fd, peer).catch((e: Error) => {
      // A ring-0 bug on this connection's path: log it, drop the connection, serve on.
      this.#log.error(`connection of pid ${peer.pid}: ${e.stack ?? e.message}`);
      sock.destroy();
    });
  }

  /** Reads the connection's first frame (with its fds) by recvmsg, before libuv reads anything. */
  async #readFirst(sock: Socket, fd: number, peer: PeerIdentity): Promise<void> {
    const reader = new FrameReader();
    const fds: number[] = [];
    const deadline = performance.now() + HELLO_TIMEOUT_MS;
    let first: unknown;
    try {
      for (;;) {
        const got = this.#x.recvFds(fd, MAX_FRAME_BYTES + 4);
        if (got) {
          fds.push(...got.fds);
          if (got.bytes.length === 0) throw new Error('the peer closed before its first frame');
          reader.push(got.bytes);
          first = reader.next();
          if (first !== undefined) break;
          continue;
        }
        if (performance.now() > deadline) throw new Error(`no first frame within ${HELLO_TIMEOUT_MS} ms`);
        await new Promise((r) => setTimeout(r, 2));
      }
    } catch (e) {
      for (const f of fds) this.#closeFd(f);
      this.#log.warn({ peer }, `connection of pid ${peer.pid} (uid ${peer.uid}) dropped: ${(e as Error).message}`);
      this.#refuse(sock, fd, VERR_INVALID_PARAMETER, (e as Error).message);
      return;
    }
    const kind = (first as { t?: unknown } | null)?.t;
    if (kind === 'admin') {
      for (const f of fds) this.#closeFd(f);
      this.#admin(sock, fd, peer, first, reader);
      return;
    }
    const hello = helloSchema.safeParse(first);
    if (!hello.success) {
      for (const f of fds) this.#closeFd(f);
      this.#refuse(sock, fd, VERR_INVALID_PARAMETER, `a bad hello frame (${zodIssue(hello.error)}): connect with RawPciClient.connect('unix:PATH')`);
      return;
    }
    await this.#hello(sock, fd, peer, hello.data, fds, reader);
  }

  /** A VM's hello: check and map its memfds, open its channel, answer welcome, then watch the socket. */
  async #hello(sock: Socket, fd: number, peer: PeerIdentity, h: Hello, fds: number[], reader: FrameReader): Promise<void> {
    if (h.v !== SERVE_PROTOCOL_VERSION) {
      for (const f of fds) this.#closeFd(f);
      this.#refuse(
        sock,
        fd,
        VERR_VERSION_MISMATCH,
        `the VM speaks control protocol ${h.v}, this rawpci serve ${SERVE_PROTOCOL_VERSION}: use the same rawpci version on both sides`,
      );
      return;
    }
    // A per-user quota, checked at connect: a user the policy grants nothing cannot fill every worker with empty sessions.
    const quota = this.service.maxSessionsPerUser;
    const held = [...this.#vms.values()].filter((v) => v.peer.uid === peer.uid);
    if (peer.uid !== 0 && peer.uid !== process.getuid?.() && held.length + (this.#opening.get(peer.uid) ?? 0) >= quota) {
      for (const f of fds) this.#closeFd(f);
      this.#refuse(
        sock,
        fd,
        VERR_RESOURCE_BUSY,
        `uid ${peer.uid} already holds ${held.length} sessions of this rawpci serve (pids ${held.map((v) => v.peer.pid).join(', ')}), its limit: close one, or raise "maxSessionsPerUser" in the policy file`,
      );
      return;
    }
    let channel: SharedArrayBuffer;
    let ram: SharedArrayBuffer | undefined;
    let life: SharedArrayBuffer | undefined;
    try {
      const names = ['the channel', ...(h.ramBytes > 0 ? ['guest RAM'] : []), ...(h.life ? ['the liveness page'] : [])];
      if (fds.length !== names.length) throw new Error(`the hello carried ${fds.length} fds, ${names.length} expected (${names.join(', ')})`);
      if (h.ramBytes > 0 && h.guestMemorySize !== undefined) throw new Error('give guest RAM (ramBytes) or guestMemorySize, not both');
      if (h.ramBytes === 0 && h.guestMemorySize === undefined) throw new Error('no guest RAM: send its memfd with ramBytes, or guestMemorySize');
      if (h.ramBytes % 4096 !== 0) throw new Error(`ramBytes ${h.ramBytes} must be a multiple of 4096`);
      channel = this.#mapChecked(fds[0]!, channelBytes(h.slotCount, h.slotBytes), 'the channel');
      if (h.ramBytes > 0) ram = this.#mapChecked(fds[1]!, h.ramBytes, 'guest RAM');
      if (h.life) life = this.#lifePage(this.#mapChecked(fds[names.length - 1]!, LIFE_PAGE_BYTES, 'the liveness page'), peer);
    } catch (e) {
      this.#refuse(sock, fd, VERR_INVALID_PARAMETER, (e as Error).message);
      return;
    } finally {
      for (const f of fds) this.#closeFd(f);
    }
    let conn: Awaited<ReturnType<Ring0Service['openChannel']>>;
    this.#opening.set(peer.uid, (this.#opening.get(peer.uid) ?? 0) + 1);
    try {
      conn = await this.service.openChannel({
        channel,
        slotCount: h.slotCount,
        slotBytes: h.slotBytes,
        wake: 'futex',
        peer,
        ...(life ? { life } : {}),
        ...(ram ? { guestRam: ram } : { guestMemory: { size: h.guestMemorySize!, read: () => new Uint8Array(0), write: () => {} } }),
        ...(h.dmaTimeoutMs === undefined ? {} : { dmaTimeoutMs: h.dmaTimeoutMs }),
        ...(h.serverSpinUs === undefined ? {} : { serverSpinUs: h.serverSpinUs }),
      });
    } catch (e) {
      this.#refuse(sock, fd, VERR_RESOURCE_BUSY, (e as Error).message);
      return;
    } finally {
      const n = (this.#opening.get(peer.uid) ?? 1) - 1;
      if (n > 0) this.#opening.set(peer.uid, n);
      else this.#opening.delete(peer.uid);
    }
    const vm: VmConn = { session: conn.session, peer, sock, fd, ended: undefined };
    this.#vms.set(conn.session, vm);
    const log = this.#log.child({ session: conn.session, vmPid: peer.pid, uid: peer.uid });
    conn.port.on('message', (m: ControlMessage) => this.#forward(vm, m));
    conn.served.then(
      // The worker saw the VM's liveness futex die and has already cleaned up: record it now (its socket closes later).
      (r) => {
        const result = r as ServeResult | undefined;
        if (result?.died) void this.#end(vm, 'died', result);
      },
      (e: Error) => log.error(`session ${conn.session}: ${e.message}`),
    );
    this.#send(fd, { t: 'welcome', session: conn.session, host: this.service.host });
    log.info(`VM pid ${peer.pid} (uid ${peer.uid}) connected as session ${conn.session}`);
    const onData = (bytes: Uint8Array) => {
      try {
        reader.push(bytes);
        for (let f = reader.next(); f !== undefined; f = reader.next()) {
          if (!vmFrameSchema.safeParse(f).success) throw new Error('a VM frame other than bye');
          this.#end(vm, 'bye').then(
            (ms) => {
              this.#send(fd, { t: 'closed', cleanupMs: ms });
              sock.end();
            },
            (e: Error) => {
              log.error(`session ${conn.session}: ending it failed: ${e.message}`);
              sock.destroy();
            },
          );
        }
      } catch (e) {
        log.warn(`session ${conn.session}: ${(e as Error).message}: disconnected`);
        sock.destroy();
      }
    };
    sock.on('data', onData);
    onData(new Uint8Array(0));
    sock.on('close', () => void this.#end(vm, 'disconnect'));
    // Gone while its channel was being opened: end it now (no close event will come).
    if (sock.destroyed) void this.#end(vm, 'disconnect');
    sock.resume();
  }

  /**
   * The VM's liveness page if its word is a robust futex held by a thread of the VM's process
   * (`/proc/PID/task/TID`); otherwise undefined, logged: the socket's close alone then says the
   * VM died (a VM in another PID namespace names TIDs ring 0 cannot check).
   */
  #lifePage(page: SharedArrayBuffer, peer: PeerIdentity): SharedArrayBuffer | undefined {
    const word = Atomics.load(new Int32Array(page, 0, 1), 0);
    const tid = word & FUTEX_ROBUST.TID_MASK;
    if (lifeVerdict(word) === undefined && existsSync(`/proc/${peer.pid}/task/${tid}`)) return page;
    this.#log.warn(`VM pid ${peer.pid}: its liveness word 0x${(word >>> 0).toString(16)} names no thread of it: its death is seen at its socket's close`);
    return undefined;
  }

  /** Checks that `fd` is a sealed memfd of exactly `bytes` and maps it. Throws Error naming what is wrong. */
  #mapChecked(fd: number, bytes: number, what: string): SharedArrayBuffer {
    let seals: number;
    try {
      seals = this.#x.getSeals(fd);
    } catch {
      throw new Error(`${what} is not a memfd (F_GET_SEALS failed): offer memory made by memfd_create with sealing allowed`);
    }
    if ((seals & REQUIRED_SEALS) !== REQUIRED_SEALS)
      throw new Error(`${what}'s memfd is not sealed against shrinking and growing (F_SEAL_SHRINK|F_SEAL_GROW|F_SEAL_SEAL): seal it before offering it`);
    const size = this.#x.fdSize(fd);
    if (size !== bytes) throw new Error(`${what}'s memfd has ${size} bytes, the hello announced ${bytes}`);
    return this.#x.mapShared(fd, bytes);
  }

  /** Sends a view ring 0 posted for MAP_REGION (or its withdrawal) to the VM, with its fd. */
  #forward(vm: VmConn, m: ControlMessage): void {
    if (m.type === 'unmap') {
      this.#send(vm.fd, { t: 'unmap', mapId: m.mapId });
      return;
    }
    if ('sab' in m) {
      if (m.memfd === undefined) return; // not shareable: the VM's MAP_REGION reports the view never arrived
      this.#send(vm.fd, { t: 'map', mapId: m.mapId, handle: m.handle, region: m.region, kind: 'shm', offset: 0, size: m.sab.byteLength }, [m.memfd]);
    } else {
      this.#send(vm.fd, { t: 'map', mapId: m.mapId, handle: m.handle, region: m.region, kind: 'device', offset: Number(m.offset), size: m.size }, [m.fd]);
    }
  }

  /**
   * Ends a VM's session once (every device in the fixed order); resolves with the cleanup time in
   * ms. `died`: the serve task's result when the worker already ended it (the liveness futex).
   */
  #end(vm: VmConn, why: CleanupRecord['why'], died?: ServeResult): Promise<number> {
    vm.ended ??= (async () => {
      let noticedAt = Date.now();
      const t0 = performance.now();
      const result = died ?? (await this.service.endVm(vm.session));
      let ms = performance.now() - t0;
      // The worker may have seen the death first (the liveness futex wakes before the socket closes).
      let closingAt: number | undefined;
      if (result !== false && result?.died) {
        why = 'died';
        ({ seenAt: noticedAt, closingAt, cleanupMs: ms } = result.died);
      }
      const devices = result ? result.closed.map((d) => ({ bdf: d.bdf, steps: roundSteps(d.steps) })) : [];
      this.#vms.delete(vm.session);
      this.#saveState();
      this.cleanups.push({
        session: vm.session,
        pid: vm.peer.pid,
        uid: vm.peer.uid,
        why,
        ms,
        noticedAt,
        ...(closingAt === undefined ? {} : { closingAt }),
        devices,
      });
      if (this.cleanups.length > 100) this.cleanups.shift();
      this.#log.info(
        { session: vm.session, vmPid: vm.peer.pid, why, cleanupMs: Number(ms.toFixed(2)), devices },
        `session ${vm.session} (pid ${vm.peer.pid}) ended (${why}): devices closed in the fixed order in ${ms.toFixed(1)} ms`,
      );
      if (why !== 'bye') vm.sock.destroy();
      return ms;
    })();
    return vm.ended;
  }

  // ---- admin ----

  #admin(sock: Socket, fd: number, peer: PeerIdentity, first: unknown, reader: FrameReader): void {
    const hello = adminHelloSchema.safeParse(first);
    if (!hello.success || hello.data.v !== SERVE_PROTOCOL_VERSION) {
      this.#refuse(sock, fd, VERR_VERSION_MISMATCH, 'a bad admin hello: use the rawpci CLI of the same version');
      return;
    }
    if (peer.uid !== 0 && peer.uid !== process.getuid?.()) {
      this.#refuse(
        sock,
        fd,
        VERR_ACCESS_DENIED,
        `uid ${peer.uid} may not administer rawpci serve (pid ${process.pid}): run the admin CLI as root or as uid ${process.getuid?.()}`,
      );
      return;
    }
    // The first read may have brought the first requests along with the admin hello.
    const onData = (bytes: Uint8Array) => {
      try {
        reader.push(bytes);
        for (let f = reader.next(); f !== undefined; f = reader.next()) {
          const req = adminRequestSchema.safeParse(f);
          if (!req.success) throw new Error(`a bad admin request (${zodIssue(req.error)})`);
          const id = req.data.id;
          this.#adminRequest(req.data).then(
            (reply) => this.#send(fd, { t: 'reply', id, ...reply }),
            (e: Error) => this.#send(fd, { t: 'reply', id, rc: VERR_INTERNAL_ERROR, msg: `ring 0 failed the request: ${e.message}` }),
          );
        }
      } catch (e) {
        this.#send(fd, { t: 'error', rc: VERR_INVALID_PARAMETER, msg: (e as Error).message });
        sock.destroy();
      }
    };
    sock.on('data', onData);
    onData(new Uint8Array(0));
    sock.resume();
  }

  async #adminRequest(r: { op: string; session?: number | undefined; bdf?: string | undefined }): Promise<{ rc: number; msg?: string; data?: unknown }> {
    switch (r.op) {
      case 'status':
        return { rc: VINF_SUCCESS, data: this.status() };
      case 'end': {
        const vm = r.session === undefined ? undefined : this.#vms.get(r.session);
        if (!vm) return { rc: VERR_NOT_FOUND, msg: `no live session ${r.session ?? '(none given)'}: 'rawpci status --socket ${this.socketPath}' lists them` };
        const ms = await this.#end(vm, 'end');
        return { rc: VINF_SUCCESS, data: { session: vm.session, cleanupMs: ms } };
      }
      case 'attach':
      case 'detach': {
        if (this.service.host !== 'sim')
          return { rc: VERR_INVALID_PARAMETER, msg: 'attach/detach --socket change the simulated host only: for vfio use rawpci attach without --socket' };
        let bdf: Bdf;
        try {
          bdf = Bdf.parse(r.bdf ?? '');
        } catch (e) {
          return { rc: VERR_INVALID_PARAMETER, msg: (e as Error).message };
        }
        const owner = this.service.table.devices.owner(bdf.pciAddress);
        if (owner !== 0) return { rc: VERR_RESOURCE_BUSY, msg: `${bdf} is open in session ${owner}: end it first ('rawpci end ${owner}')` };
        this.service.table.setDetached(bdf.pciAddress, r.op === 'attach');
        return { rc: VINF_SUCCESS, data: { bdf: bdf.toString(), detachedFromHostDriver: r.op === 'attach' } };
      }
      default:
        return { rc: VERR_INVALID_PARAMETER, msg: `unknown admin op ${r.op}` };
    }
  }

  /** What `rawpci status --socket` prints: this instance and its live sessions. */
  status(): {
    pid: number;
    host: 'sim' | 'vfio';
    socket: string;
    sessions: { session: number; pid: number; uid: number; gid: number; devices: string[]; requests: number; irqs: number; faults: number; since: string }[];
    cleanups: CleanupRecord[];
    reclaimed: string[];
  } {
    return {
      pid: process.pid,
      host: this.service.host,
      socket: this.socketPath,
      sessions: this.service.sessions().map((s) => ({
        session: s.session,
        pid: s.peer?.pid ?? process.pid,
        uid: s.peer?.uid ?? 0,
        gid: s.peer?.gid ?? 0,
        devices: s.devices,
        requests: s.requests,
        irqs: s.irqs,
        faults: s.faults,
        since: new Date(s.since).toISOString(),
      })),
      cleanups: [...this.cleanups],
      reclaimed: [...this.reclaimed],
    };
  }

  // ---- plumbing ----

  /** Sends one frame (and fds) by sendmsg, retrying while the socket buffer is full; a dead peer is ignored (its close ends the VM). */
  #send(fd: number, body: Record<string, unknown>, fds: number[] = []): void {
    let bytes: Uint8Array;
    try {
      bytes = encodeFrame(body);
    } catch (e) {
      bytes = encodeFrame({ t: 'error', rc: VERR_BUFFER_OVERFLOW, msg: `ring 0's answer could not be sent: ${(e as Error).message}` });
      fds = [];
    }
    let sendFds = fds;
    const deadline = performance.now() + 1000;
    const attempt = (): void => {
      try {
        while (bytes.length) {
          const n = this.#x.sendFds(fd, bytes, sendFds);
          if (n < 0) {
            if (performance.now() > deadline) return;
            setTimeout(attempt, 1);
            return;
          }
          bytes = bytes.subarray(n);
          sendFds = [];
        }
      } catch {
        // EPIPE, EBADF: the peer is gone; its socket's close ends the session.
      }
    };
    attempt();
  }

  #refuse(sock: Socket, fd: number, rc: number, msg: string): void {
    this.#send(fd, { t: 'error', rc, msg });
    sock.end();
    setTimeout(() => sock.destroy(), 100).unref();
  }

  #closeFd(fd: number): void {
    try {
      this.#x.closeFd(fd);
    } catch {}
  }

  /** Writes the state file when the set of detached devices changed (atomically, under a lock). */
  #saveState(final = false): void {
    const devices: StateFile['devices'] = [];
    if (!final)
      for (const e of this.service.journals())
        if (e.kind === 'device') devices.push({ pciAddress: e.pciAddress, bdf: Bdf.fromPciAddress(e.pciAddress).toString(), driver: e.driver });
    const doc: StateFile = { version: 1, pid: process.pid, host: this.service.host, devices };
    const text = `${JSON.stringify(doc, null, 2)}\n`;
    if (text === this.#lastState) return;
    this.#lastState = text;
    writeStateFile(this.stateFile, text, this.#log);
  }
}

/** Step timings rounded to 0.01 ms for logs and status. */
function roundSteps(steps: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(steps).map(([k, v]) => [k, Math.round(v * 100) / 100]));
}

/** Refuses to start when another instance answers on `socketPath`; removes a stale socket file left by one that died. */
function refuseIfServed(x: Xproc, socketPath: string): void {
  let isSocket = false;
  try {
    isSocket = statSync(socketPath).isSocket();
  } catch {
    return;
  }
  if (!isSocket) throw new Error(`${socketPath} exists and is not a socket: remove it or give another --socket`);
  let fd: number;
  try {
    fd = x.connectUnix(socketPath);
  } catch {
    unlinkSync(socketPath); // nobody listens: a previous instance died
    return;
  }
  let pid = 0;
  try {
    pid = x.peerCred(fd).pid;
  } finally {
    x.closeFd(fd);
  }
  throw new Error(`another rawpci serve (pid ${pid}) is serving ${socketPath}: stop it first (kill -TERM ${pid}) or give this one another --socket`);
}

function writeStateFile(path: string, text: string, log: Logger): void {
  let release: (() => void) | undefined;
  try {
    release = lockfile.lockSync(path, { realpath: false, stale: 5000 });
  } catch (e) {
    log.warn(`state file ${path}: could not lock (${(e as Error).message}); writing anyway`);
  }
  try {
    writeFileAtomic.sync(path, text, { mode: 0o600 });
  } catch (e) {
    log.error(`state file ${path}: ${(e as Error).message}`);
  } finally {
    release?.();
  }
}

/**
 * Reads the state file a previous instance left: every device it lists was detached from its
 * host driver by a VM of an instance that did not shut down cleanly. Rebinds each (the vfio host:
 * driver_override cleared, the recorded driver bound again; the simulated host starts bound) and
 * empties the file. Returns the BDFs reclaimed.
 */
async function reclaimFromState(path: string, logDir: string, service: Ring0Service, log: Logger): Promise<string[]> {
  let doc: StateFile | undefined;
  try {
    doc = JSON.parse(readFileSync(path, 'utf8')) as StateFile;
  } catch {}
  const listed = doc?.version === 1 && Array.isArray(doc.devices) ? doc.devices : [];
  // The workers' write-ahead logs hold the detaches of the last 50 ms the state file may lack.
  const ahead = takeDetachLogs(logDir);
  for (const p of ahead.problems) log.error(`reclaiming from ${logDir}: ${p}`);
  const byAddress = new Map<number, string | null>();
  for (const d of [...listed, ...ahead.devices])
    if (Number.isInteger(d.pciAddress) && (d.driver === null || typeof d.driver === 'string')) byAddress.set(d.pciAddress >>> 0, d.driver);
  if (!byAddress.size) return [];
  const entries: JournalEntry[] = [...byAddress].map(([pciAddress, driver]) => ({ kind: 'device', pciAddress, driver }));
  const problems = await releaseWorkerResources(entries, { host: service.host, ...(service.sysfsRoot ? { sysfsRoot: service.sysfsRoot } : {}) }, service.table);
  for (const p of problems) log.error(`reclaiming from ${path}: ${p}`);
  const bdfs = entries.map((e) => Bdf.fromPciAddress((e as { pciAddress: number }).pciAddress).toString());
  log.warn(`rawpci serve: the previous instance${doc?.pid ? ` (pid ${doc.pid})` : ''} left ${bdfs.join(', ')} detached; rebound them to their host drivers`);
  writeStateFile(path, `${JSON.stringify({ version: 1, pid: process.pid, host: service.host, devices: [] }, null, 2)}\n`, log);
  return bdfs;
}
