// The control frames between a VM (or the admin CLI) and `rawpci serve` over its unix socket: length-prefixed msgpackr maps, validated with zod.
//
// Frame: u32 little-endian body length, then the msgpack body (one map with a `t` field). File
// descriptors travel as SCM_RIGHTS with the frame that needs them (hello: the channel's and
// guest RAM's memfds; map: the region's memfd or device fd). The first frame of a connection
// says what it is: `hello` (a VM) or `admin` (the CLI). Everything a peer sends is untrusted:
// ring 0 decodes with a fresh Unpackr (no shared structures), checks the length before it
// buffers, validates every field, and answers a bad frame with an `error` frame and a
// disconnect, never with a crash.
//
//   VM -> ring 0    hello {v, slotCount, slotBytes, ramBytes, guestMemorySize?, dmaTimeoutMs?, serverSpinUs?}  + fds [channel, ram?, life?]
//   ring 0 -> VM    welcome {session, host}  |  error {rc, msg}
//   ring 0 -> VM    map {mapId, handle, region, kind: 'shm'|'device', offset, size} + fd    unmap {mapId}
//   VM -> ring 0    bye {}           ring 0 -> VM   closed {cleanupMs}     (a clean disconnect)
//   CLI -> ring 0   admin {v}, then request {id, op: 'status'|'end'|'attach'|'detach', session?, bdf?}
//   ring 0 -> CLI   reply {id, rc, msg?, data?}

import { Packr, Unpackr } from 'msgpackr';
import { z } from 'zod';

/** Version of these frames; a hello or admin frame of another version is refused (VERR_VERSION_MISMATCH). */
export const SERVE_PROTOCOL_VERSION = 1;
/** Largest body a frame may have, in bytes (64 KiB): a longer length prefix ends the connection. */
export const MAX_FRAME_BYTES = 65536;
/** How long ring 0 waits for a connection's first frame, in ms, before it hangs up. */
export const HELLO_TIMEOUT_MS = 2000;
/** Largest guest RAM a VM may offer, in bytes (64 GiB). */
export const MAX_GUEST_RAM_BYTES = 64 * 2 ** 30;

const u32 = z.number().int().min(0).max(0xffff_ffff);

/** Bytes of the liveness memfd a VM offers with `life` (one page; the robust mutex is at offset 0, r0/peer-life.ts). */
export const LIFE_PAGE_BYTES = 4096;

/** A VM's first frame (fds: the channel memfd, then guest RAM's when ramBytes > 0, then the liveness page's with `life`). */
export const helloSchema = z
  .object({
    t: z.literal('hello'),
    v: z.number().int(),
    slotCount: z.number().int().min(1).max(1024),
    slotBytes: z
      .number()
      .int()
      .min(256)
      .max(1 << 20),
    ramBytes: z.number().int().min(0).max(MAX_GUEST_RAM_BYTES),
    guestMemorySize: z.number().int().min(1).max(MAX_GUEST_RAM_BYTES).optional(),
    dmaTimeoutMs: z.number().min(1).max(5000).optional(),
    serverSpinUs: z.number().min(0).max(10_000).optional(),
    /** A liveness page comes last among the fds: a 4096-byte memfd whose word 0 a thread of the VM holds as a robust futex (r0/peer-life.ts). */
    life: z.literal(true).optional(),
  })
  .strict();
export type Hello = z.infer<typeof helloSchema>;

/** The admin CLI's first frame. */
export const adminHelloSchema = z.object({ t: z.literal('admin'), v: z.number().int() }).strict();

/** An admin request. */
export const adminRequestSchema = z
  .object({
    t: z.literal('request'),
    id: u32,
    op: z.enum(['status', 'end', 'attach', 'detach']),
    session: u32.optional(),
    bdf: z.string().max(64).optional(),
  })
  .strict();
export type AdminRequest = z.infer<typeof adminRequestSchema>;

/** A VM's later frames. */
export const vmFrameSchema = z.object({ t: z.literal('bye') }).strict();

/** Frames ring 0 sends (ring 3 validates them too: a confused ring 0 must not crash a VM). */
export const serverFrameSchema = z.discriminatedUnion('t', [
  z.object({ t: z.literal('welcome'), session: u32, host: z.enum(['sim', 'vfio']) }),
  z.object({ t: z.literal('error'), rc: z.number().int(), msg: z.string() }),
  z.object({
    t: z.literal('map'),
    mapId: u32,
    handle: u32,
    region: u32,
    kind: z.enum(['shm', 'device']),
    offset: z.number().int().min(0),
    size: z.number().int().min(1),
  }),
  z.object({ t: z.literal('unmap'), mapId: u32 }),
  z.object({ t: z.literal('closed'), cleanupMs: z.number() }),
  z.object({ t: z.literal('reply'), id: u32, rc: z.number().int(), msg: z.string().optional(), data: z.unknown().optional() }),
]);
export type ServerFrame = z.infer<typeof serverFrameSchema>;

const packr = new Packr({ useRecords: false });

/** Encodes one frame: the length prefix and the msgpack body. Throws RangeError past MAX_FRAME_BYTES. */
export function encodeFrame(body: Record<string, unknown>): Uint8Array {
  const b = packr.pack(body);
  if (b.length > MAX_FRAME_BYTES) throw new RangeError(`a control frame of ${b.length} bytes exceeds MAX_FRAME_BYTES (${MAX_FRAME_BYTES})`);
  const out = new Uint8Array(4 + b.length);
  new DataView(out.buffer).setUint32(0, b.length, true);
  out.set(b, 4);
  return out;
}

/**
 * Reassembles frames from a byte stream. `push` bytes as they arrive; `next` returns the next
 * whole frame's decoded body, undefined when none is complete yet. Throws FrameError for a
 * length past MAX_FRAME_BYTES or a body that is not msgpack (the connection must end).
 */
export class FrameReader {
  #buf = new Uint8Array(0);
  readonly #unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

  push(bytes: Uint8Array): void {
    if (!bytes.length) return;
    const b = new Uint8Array(this.#buf.length + bytes.length);
    b.set(this.#buf);
    b.set(bytes, this.#buf.length);
    this.#buf = b;
  }

  /** Bytes buffered and not yet decoded. */
  get pending(): number {
    return this.#buf.length;
  }

  next(): unknown {
    if (this.#buf.length < 4) return undefined;
    const len = new DataView(this.#buf.buffer, this.#buf.byteOffset).getUint32(0, true);
    if (len > MAX_FRAME_BYTES) throw new FrameError(`a frame announced ${len} bytes, more than MAX_FRAME_BYTES (${MAX_FRAME_BYTES})`);
    if (len === 0) throw new FrameError('an empty frame');
    if (this.#buf.length < 4 + len) return undefined;
    const body = this.#buf.slice(4, 4 + len);
    this.#buf = this.#buf.slice(4 + len);
    try {
      return this.#unpackr.unpack(body);
    } catch (e) {
      throw new FrameError(`a frame body is not msgpack: ${(e as Error).message}`);
    }
  }
}

/** A frame that cannot be decoded: the connection ends. */
export class FrameError extends Error {
  override name = 'FrameError';
}

/** The first zod issue of a failed parse as one line (`path: message`). */
export function zodIssue(e: z.ZodError): string {
  const i = e.issues[0];
  if (!i) return 'invalid';
  return `${i.path.length ? `${i.path.join('.')}: ` : ''}${i.message}`;
}

/** The default socket path: /run/rawpci/rawpci.sock for root, $XDG_RUNTIME_DIR/rawpci.sock (else /tmp/rawpci-UID/rawpci.sock) otherwise. */
export function defaultSocketPath(uid = process.getuid?.() ?? 0, env: NodeJS.ProcessEnv = process.env): string {
  if (uid === 0) return '/run/rawpci/rawpci.sock';
  if (env.XDG_RUNTIME_DIR) return `${env.XDG_RUNTIME_DIR}/rawpci.sock`;
  return `/tmp/rawpci-${uid}/rawpci.sock`;
}
