// Hostile ring 3 on the socket: malformed frames, lying hellos, unsealed or wrong-sized memfds, silence, and a VM scribbling its channel each get a status or a clean disconnect; rawpci serve never crashes or hangs and keeps serving other VMs.
import { openSync } from 'node:fs';
import test from 'ava';
import { RawPciClient } from '../../r3/client.js';
import { channelBytes } from '../../shared/channel-layout.js';
import { PCIRAW_POWER } from '../../shared/protocol.js';
import { encodeFrame, FrameReader, HELLO_TIMEOUT_MS, SERVE_PROTOCOL_VERSION } from '../../shared/serve-protocol.js';
import { VERR_INVALID_PARAMETER, VERR_VERSION_MISMATCH } from '../../shared/status.js';
import { POLL, xproc } from '../../shared/xproc.js';
import { adminRequest } from '../../src/cli/serve.js';
import { serveForFile } from '../helpers/serve-child.js';

const x = xproc();
const serveChild = serveForFile(test, () => assertServeAlive());

function assertServeAlive(): void {
  if (serveChild().proc.exitCode !== null || serveChild().proc.signalCode !== null) throw new Error(`rawpci serve died: ${serveChild().log()}`);
}

/** Sends `bytes` (and fds) on a new connection; returns what ring 0 answered (frames) and whether it hung up, within `ms`. */
async function exchange(bytes: Uint8Array, fds: number[] = [], ms = 3000): Promise<{ frames: Record<string, unknown>[]; hungUp: boolean }> {
  const fd = x.connectUnix(serveChild().socket);
  try {
    if (bytes.length) x.sendFds(fd, bytes, fds);
    const reader = new FrameReader();
    const frames: Record<string, unknown>[] = [];
    const deadline = performance.now() + ms;
    while (performance.now() < deadline) {
      const got = x.recvFds(fd, 70_000);
      if (got) {
        if (got.bytes.length === 0) return { frames, hungUp: true };
        reader.push(got.bytes);
        for (let f = reader.next(); f !== undefined; f = reader.next()) frames.push(f as Record<string, unknown>);
        continue;
      }
      if (x.pollFd(fd, POLL.IN, 0) & POLL.HUP) return { frames, hungUp: true };
      await new Promise((r) => setTimeout(r, 2));
    }
    return { frames, hungUp: false };
  } finally {
    x.closeFd(fd);
  }
}

const hello = (over: Record<string, unknown> = {}) => ({
  t: 'hello',
  v: SERVE_PROTOCOL_VERSION,
  slotCount: 4,
  slotBytes: 4096,
  ramBytes: 0,
  guestMemorySize: 4096,
  ...over,
});
const lenPrefix = (n: number, body: number[] = []) => {
  const b = new Uint8Array(4 + body.length);
  new DataView(b.buffer).setUint32(0, n >>> 0, true);
  b.set(body, 4);
  return b;
};

const bad: [string, () => { bytes: Uint8Array; fds?: number[] }, number | undefined, RegExp][] = [
  ['a length prefix past MAX_FRAME_BYTES', () => ({ bytes: lenPrefix(0xffff_ffff) }), VERR_INVALID_PARAMETER, /MAX_FRAME_BYTES/],
  ['a body that is not msgpack', () => ({ bytes: lenPrefix(3, [0xc1, 0xc1, 0xc1]) }), VERR_INVALID_PARAMETER, /not msgpack/],
  ['an unknown first frame', () => ({ bytes: encodeFrame({ t: 'gimme', v: 1 }) }), VERR_INVALID_PARAMETER, /bad hello/],
  ['a hello with slotCount 0', () => ({ bytes: encodeFrame(hello({ slotCount: 0 })) }), VERR_INVALID_PARAMETER, /slotCount/],
  [
    'a hello of another protocol version',
    () => ({ bytes: encodeFrame(hello({ v: 99 })), fds: [x.memfdCreate('c', channelBytes(4, 4096), true)] }),
    VERR_VERSION_MISMATCH,
    /protocol 99/,
  ],
  ['a hello without fds', () => ({ bytes: encodeFrame(hello()) }), VERR_INVALID_PARAMETER, /carried 0 fds/],
  ['an unsealed memfd', () => ({ bytes: encodeFrame(hello()), fds: [x.memfdCreate('c', channelBytes(4, 4096), false)] }), VERR_INVALID_PARAMETER, /not sealed/],
  ['a memfd of the wrong size', () => ({ bytes: encodeFrame(hello()), fds: [x.memfdCreate('c', 4096, true)] }), VERR_INVALID_PARAMETER, /has 4096 bytes/],
  ['an fd that is not a memfd', () => ({ bytes: encodeFrame(hello()), fds: [openSync('/dev/null', 'r')] }), VERR_INVALID_PARAMETER, /not a memfd/],
  [
    'guest RAM that is not page-sized',
    () => ({
      bytes: encodeFrame(hello({ ramBytes: 5000, guestMemorySize: undefined })),
      fds: [x.memfdCreate('c', channelBytes(4, 4096), true), x.memfdCreate('r', 5000, true)],
    }),
    VERR_INVALID_PARAMETER,
    /multiple of 4096/,
  ],
  ['an admin hello of another version', () => ({ bytes: encodeFrame({ t: 'admin', v: 7 }) }), VERR_VERSION_MISMATCH, /admin hello/],
];

for (const [what, make, rc, msg] of bad) {
  test(`${what} is answered with an error frame and a disconnect`, async (t) => {
    const { bytes, fds = [] } = make();
    const r = await exchange(bytes, fds);
    for (const f of fds) x.closeFd(f);
    t.true(r.hungUp, 'ring 0 hung up');
    const err = r.frames.find((f) => f.t === 'error') as { rc: number; msg: string } | undefined;
    t.truthy(err, JSON.stringify(r.frames));
    if (rc !== undefined) t.is(err!.rc, rc);
    t.regex(err!.msg, msg);
    assertServeAlive();
  });
}

test(`a connection that sends nothing is dropped after HELLO_TIMEOUT_MS (${HELLO_TIMEOUT_MS} ms)`, async (t) => {
  const t0 = performance.now();
  const r = await exchange(new Uint8Array(0), [], HELLO_TIMEOUT_MS + 2000);
  t.true(r.hungUp);
  t.true(performance.now() - t0 >= HELLO_TIMEOUT_MS - 50);
  assertServeAlive();
});

test('a VM sending garbage after its welcome is disconnected and its session ended; a VM scribbling its channel cannot stop ring 0 serving another', async (t) => {
  const good = await RawPciClient.connect(`unix:${serveChild().socket}`, { guestRamBytes: 1 << 20 });
  const h = good.openDevice('0000:00:04.0', { detachHostDriver: true });
  good.powerStateChange(h, PCIRAW_POWER.ON);
  const bar0 = good.getRegionInfo(h, 0).regionStart;
  good.cfgWrite(h, 0x04, 2, 0x2);
  // The hostile one: scribbles every word of its channel (control block, slots, lane) while it makes calls.
  const evil = await RawPciClient.connect(`unix:${serveChild().socket}`, { guestRamBytes: 1 << 20, timeoutMs: 200 });
  const words = new Int32Array(evil.endpoint().channel);
  const end = performance.now() + 300;
  let n = 0;
  while (performance.now() < end) {
    for (let i = 0; i < 256; i++) words[(Math.random() * words.length) | 0] = (Math.random() * 2 ** 32) | 0;
    evil.rawSync(0xff, (Math.random() * 2 ** 32) >>> 0, { junk: n }, 20);
    if ((n++ & 15) === 0) t.is(good.mmioRead(h, bar0, 4), 0x010000ed);
  }
  const st = (await adminRequest(serveChild().socket, 'status')).data as { sessions: { session: number }[] };
  t.true(st.sessions.some((s) => s.session === evil.session));
  // Garbage on its socket: a frame that is not bye. Ring 0 disconnects it and ends the session.
  x.sendFds(evil.endpoint().peerSocket!, encodeFrame({ t: 'hack', v: 1 }));
  for (let i = 0; i < 200; i++) {
    const s = (await adminRequest(serveChild().socket, 'status')).data as { sessions: { session: number }[] };
    if (!s.sessions.some((v) => v.session === evil.session)) break;
    await new Promise((r) => setTimeout(r, 10));
  }
  const after = (await adminRequest(serveChild().socket, 'status')).data as { sessions: { session: number }[] };
  t.false(after.sessions.some((s) => s.session === evil.session));
  t.is(good.mmioRead(h, bar0, 4), 0x010000ed);
  await evil.close();
  await good.close();
  assertServeAlive();
});
