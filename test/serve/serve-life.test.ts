// The VM's liveness futex (r0/peer-life.ts): a VM process's death reaches ring 0 through its robust futex before its socket closes; a clean close and a lying or scribbled liveness page end nothing but the VM's own session, and never stop ring 0.
import test from 'ava';
import { LIFE_MAX_MISMATCHES, lifeVerdict, PeerLife } from '../../r0/peer-life.js';
import { RawPciClient } from '../../r3/client.js';
import { channelBytes } from '../../shared/channel-layout.js';
import { PCIRAW_POWER } from '../../shared/protocol.js';
import { encodeFrame, FrameReader, LIFE_PAGE_BYTES, SERVE_PROTOCOL_VERSION } from '../../shared/serve-protocol.js';
import { VERR_INVALID_PARAMETER } from '../../shared/status.js';
import { FUTEX_ROBUST, xproc } from '../../shared/xproc.js';
import { adminRequest } from '../../src/cli/serve.js';
import { serveForFile, spawnVm } from '../helpers/serve-child.js';

const x = xproc();
const serveChild = serveForFile(test);

interface Status {
  sessions: { session: number; pid: number }[];
  cleanups: { session: number; why: string; ms: number; noticedAt: number }[];
}
const status = async () => (await adminRequest(serveChild().socket, 'status')).data as Status;
const cleanupOf = async (session: number, ms = 5000) => {
  const end = performance.now() + ms;
  for (;;) {
    const c = (await status()).cleanups.find((r) => r.session === session);
    if (c || performance.now() > end) return c;
    await new Promise((r) => setTimeout(r, 5));
  }
};

/** A raw VM connection offering a lane-only channel and the liveness page `life` (this process's own words); returns the fd and the first frame. */
async function rawConnect(life: number | undefined): Promise<{ fd: number; first: Record<string, unknown> }> {
  const ch = x.memfdCreate('c', channelBytes(4, 4096), true);
  const fds = [ch, ...(life === undefined ? [] : [life])];
  const fd = x.connectUnix(serveChild().socket);
  const hello = { t: 'hello', v: SERVE_PROTOCOL_VERSION, slotCount: 4, slotBytes: 4096, ramBytes: 0, guestMemorySize: 4096, life: true };
  x.sendFds(fd, encodeFrame(hello), fds);
  x.closeFd(ch);
  const reader = new FrameReader();
  const end = performance.now() + 10_000;
  while (performance.now() < end) {
    const got = x.recvFds(fd, 70_000);
    if (got?.bytes.length) reader.push(got.bytes);
    const f = reader.next();
    if (f !== undefined) return { fd, first: f as Record<string, unknown> };
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error('no answer to the hello');
}

test('lifeVerdict reads a robust futex word as the kernel writes it: owner died, released, alive', (t) => {
  t.is(lifeVerdict(1234), undefined);
  t.is(lifeVerdict(1234 | FUTEX_ROBUST.WAITERS), undefined);
  t.is(lifeVerdict(FUTEX_ROBUST.OWNER_DIED | FUTEX_ROBUST.WAITERS), 'owner-died');
  t.is(lifeVerdict(1234 | FUTEX_ROBUST.OWNER_DIED), 'owner-died');
  t.is(lifeVerdict(0), 'released');
  t.is(lifeVerdict(FUTEX_ROBUST.WAITERS), 'released');
});

test(`PeerLife sets FUTEX_WAITERS once, and stops sleeping on a word that changed under ${LIFE_MAX_MISMATCHES} sleeps in a row`, (t) => {
  const page = new SharedArrayBuffer(LIFE_PAGE_BYTES);
  const w = new Int32Array(page);
  w[0] = 4321;
  const life = new PeerLife(page);
  t.is(life.arm(), 4321 | FUTEX_ROBUST.WAITERS);
  t.is(w[0], 4321 | FUTEX_ROBUST.WAITERS);
  t.is(life.arm(), 4321 | FUTEX_ROBUST.WAITERS, 'already armed: no second write');
  for (let i = 0; i < LIFE_MAX_MISMATCHES - 1; i++) life.slept(true);
  life.slept(false);
  t.false(life.givenUp, 'a quiet sleep resets the count');
  for (let i = 0; i < LIFE_MAX_MISMATCHES; i++) life.slept(true);
  t.true(life.givenUp);
  t.is(life.arm(), undefined);
  t.false(life.gone());
  w[0] = FUTEX_ROBUST.OWNER_DIED;
  t.true(life.gone());
  t.is(life.verdict, 'owner-died');
  w[0] = 4321;
  t.true(life.gone(), 'sticky: a VM cannot come back to life');
});

test('lifeLockStart holds a robust futex in a thread of this process; lifeLockStop lets it go (the word reads released)', async (t) => {
  const fd = x.memfdCreate('life', LIFE_PAGE_BYTES, true);
  const page = new Int32Array(x.mapShared(fd, LIFE_PAGE_BYTES));
  const { tid, stopFd } = x.lifeLockStart(fd);
  t.not(tid, process.pid, 'its own thread, not the main one');
  t.is(page[0]! & FUTEX_ROBUST.TID_MASK, tid);
  t.is(lifeVerdict(page[0]!), undefined);
  x.lifeLockStop(stopFd);
  const end = performance.now() + 2000;
  while (lifeVerdict(Atomics.load(page, 0)) === undefined && performance.now() < end) await new Promise((r) => setTimeout(r, 1));
  t.is(lifeVerdict(Atomics.load(page, 0)), 'released');
  x.closeFd(fd);
});

test.serial('a VM that leaves with process.exit() without closing is ended as died (its liveness futex), not at the socket close', async (t) => {
  const vm = spawnVm({ socket: serveChild().socket, mode: 'open', exit: true });
  const { session } = (await vm.waitFor('connected')) as { session: number };
  await vm.exited;
  const c = await cleanupOf(session);
  t.is(c?.why, 'died');
  const next = await RawPciClient.connect(`unix:${serveChild().socket}`, { guestRamBytes: 1 << 20 });
  t.true(next.openDevice('0000:00:04.0', { detachHostDriver: true }) > 0, 'edu was released');
  await next.close();
});

test.serial('a clean close is a bye, not a death: the liveness thread lets go only after ring 0 ended the session', async (t) => {
  const vm = await RawPciClient.connect(`unix:${serveChild().socket}`, { guestRamBytes: 1 << 20 });
  const h = vm.openDevice('0000:00:04.0', { detachHostDriver: true });
  vm.powerStateChange(h, PCIRAW_POWER.ON);
  const session = vm.session;
  await vm.close();
  t.is((await cleanupOf(session))?.why, 'bye');
});

test('a hello announcing a liveness page without sending it, or one of the wrong size, is refused with VERR_INVALID_PARAMETER', async (t) => {
  const none = await rawConnect(undefined);
  t.is(none.first.rc, VERR_INVALID_PARAMETER);
  t.regex(String(none.first.msg), /carried 1 fds, 2 expected \(the channel, the liveness page\)/);
  x.closeFd(none.fd);
  const big = x.memfdCreate('life', 2 * LIFE_PAGE_BYTES, true);
  const wrong = await rawConnect(big);
  x.closeFd(big);
  t.is(wrong.first.rc, VERR_INVALID_PARAMETER);
  t.regex(String(wrong.first.msg), /liveness page's memfd has 8192 bytes/);
  x.closeFd(wrong.fd);
});

test('a liveness word naming no thread of the VM is not trusted: the VM is served, and its socket close ends it', async (t) => {
  const life = x.memfdCreate('life', LIFE_PAGE_BYTES, true);
  new Int32Array(x.mapShared(life, LIFE_PAGE_BYTES))[0] = 0x3ffffff0; // no such TID
  const c = await rawConnect(life);
  x.closeFd(life);
  t.is(c.first.t, 'welcome');
  const session = c.first.session as number;
  t.true((await status()).sessions.some((s) => s.session === session));
  x.closeFd(c.fd);
  t.is((await cleanupOf(session))?.why, 'disconnect');
  t.regex(serveChild().log(), /liveness word 0x3ffffff0 names no thread of it/);
});

test.serial('a VM scribbling its liveness word ends only its own session (as died), and ring 0 keeps serving another VM', async (t) => {
  const good = await RawPciClient.connect(`unix:${serveChild().socket}`, { guestRamBytes: 1 << 20 });
  const h = good.openDevice('0000:00:04.0', { detachHostDriver: true });
  good.powerStateChange(h, PCIRAW_POWER.ON);
  good.cfgWrite(h, 0x04, 2, 0x2);
  const bar0 = good.getRegionInfo(h, 0).regionStart;
  const life = x.memfdCreate('life', LIFE_PAGE_BYTES, true);
  const word = new Int32Array(x.mapShared(life, LIFE_PAGE_BYTES));
  word[0] = process.pid; // "held" by this process's main thread (it is no robust futex: the words are ours to write)
  const c = await rawConnect(life);
  x.closeFd(life);
  t.is(c.first.t, 'welcome');
  const session = c.first.session as number;
  // Flip the word between live values for a while: ring 0 must not end the session, hang or spin.
  const end = performance.now() + 300;
  while (performance.now() < end) {
    word[0] = (process.pid | (Math.random() < 0.5 ? FUTEX_ROBUST.WAITERS : 0)) >>> 0;
    t.is(good.mmioRead(h, bar0, 4), 0x010000ed);
    await new Promise((r) => setImmediate(r));
  }
  t.true(
    (await status()).sessions.some((s) => s.session === session),
    'live words end nothing',
  );
  // Now a word saying the owner died: that VM's session, and only it, ends.
  word[0] = FUTEX_ROBUST.OWNER_DIED;
  t.is((await cleanupOf(session))?.why, 'died');
  t.is(good.mmioRead(h, bar0, 4), 0x010000ed);
  t.true((await status()).sessions.some((s) => s.session === good.session));
  x.closeFd(c.fd);
  await good.close();
});
