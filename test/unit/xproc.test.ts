// The native addon (native/xproc.cc): sealed memfds, shared mappings as SharedArrayBuffers, futex wake-ups across processes, eventfd, SCM_RIGHTS and SO_PEERCRED. Fails when the addon is not built.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { F_SEAL, FUTEX, REQUIRED_SEALS, xproc } from '../../shared/xproc.js';

const x = xproc();

test('a sealed memfd has the size asked for and cannot shrink or grow', (t) => {
  const fd = x.memfdCreate('t', 8192, true);
  try {
    t.is(x.fdSize(fd), 8192);
    t.is(x.getSeals(fd) & REQUIRED_SEALS, REQUIRED_SEALS);
    t.is(x.getSeals(fd) & F_SEAL.WRITE, 0);
  } finally {
    x.closeFd(fd);
  }
  const open = x.memfdCreate('u', 4096, false);
  t.is(x.getSeals(open) & F_SEAL.SHRINK, 0);
  x.closeFd(open);
});

test('two mappings of one memfd are the same memory, and survive closing the fd', (t) => {
  const fd = x.memfdCreate('m', 4096, true);
  const a = x.mapShared(fd, 4096);
  const b = x.mapShared(fd, 4096);
  x.closeFd(fd);
  t.true(a instanceof SharedArrayBuffer);
  new Int32Array(a)[5] = 0x1234_5678;
  t.is(new Int32Array(b)[5], 0x1234_5678);
});

test('errors carry the errno name and name the call', (t) => {
  const e = t.throws(() => x.fdSize(987_654)) as NodeJS.ErrnoException;
  t.is(e.code, 'EBADF');
  t.regex(e.message, /fstat/);
  t.throws(() => x.mapShared(-1, 4096), { code: 'EBADF' } as never);
  t.throws(() => x.futexWait(new Int32Array(4), 9, 0, 1), { instanceOf: RangeError });
  t.throws(() => x.sendFds(0, 'no' as never), { instanceOf: TypeError });
});

test('futexWait returns not-equal at once, times out after its timeout, and is woken in-process', (t) => {
  const i32 = new Int32Array(x.mapShared(x.memfdCreate('f', 4096, true), 4096));
  t.is(x.futexWait(i32, 0, 1, 1000), FUTEX.NOT_EQUAL);
  const t0 = performance.now();
  t.is(x.futexWait(i32, 0, 0, 30), FUTEX.TIMED_OUT);
  t.true(performance.now() - t0 >= 25);
  t.is(x.futexWake(i32, 0), 0);
});

test('a futex wake in one process wakes a futexWait on the same memfd page in another', async (t) => {
  const fd = x.memfdCreate('xp', 4096, true);
  const i32 = new Int32Array(x.mapShared(fd, 4096));
  const mod = new URL('../../shared/xproc.js', import.meta.url).href;
  const script = `import { xproc } from '${mod}'; const x = xproc(); const i = new Int32Array(x.mapShared(3, 4096));
    Atomics.store(i, 1, 1); const t0 = performance.now(); const r = x.futexWait(i, 0, 0, 5000);
    console.log(JSON.stringify({ r, v: Atomics.load(i, 0), ms: performance.now() - t0 }));`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit', fd] });
  x.closeFd(fd);
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  while (Atomics.load(i32, 1) !== 1) await new Promise((r) => setTimeout(r, 5));
  await new Promise((r) => setTimeout(r, 50)); // let it reach the futex
  Atomics.store(i32, 0, 7);
  x.futexWake(i32, 0);
  await once(child, 'exit');
  const got = JSON.parse(out) as { r: number; v: number; ms: number };
  t.is(got.r, FUTEX.WOKEN);
  t.is(got.v, 7);
  t.true(got.ms < 4000);
});

test('an eventfd counts writes and reads back 0 as -1 when non-blocking', (t) => {
  const fd = x.eventfdCreate(0, true);
  t.is(x.eventfdRead(fd), -1);
  x.eventfdWrite(fd, 3);
  x.eventfdWrite(fd, 4);
  t.is(x.eventfdRead(fd), 7);
  x.closeFd(fd);
});

test('fds sent over a unix socket arrive as new fds of the same file, with the sender credentials', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'xproc-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 's.sock');
  const server = createServer({ pauseOnConnect: true });
  server.listen(path);
  await once(server, 'listening');
  const accepted = once(server, 'connection') as Promise<[Socket]>;
  const sock = x.connectUnix(path);
  const [conn] = await accepted;
  const serverFd = (conn as unknown as { _handle: { fd: number } })._handle.fd;
  const memfd = x.memfdCreate('sent', 4096, true);
  new Int32Array(x.mapShared(memfd, 4096))[0] = 42;
  t.is(x.sendFds(sock, new Uint8Array([1, 2, 3]), [memfd]), 3);
  let got = x.recvFds(serverFd, 64);
  for (let i = 0; !got && i < 100; i++) {
    await new Promise((r) => setTimeout(r, 5));
    got = x.recvFds(serverFd, 64);
  }
  t.deepEqual([...got!.bytes], [1, 2, 3]);
  t.is(got!.fds.length, 1);
  t.not(got!.fds[0], memfd);
  t.is(new Int32Array(x.mapShared(got!.fds[0]!, 4096))[0], 42);
  t.deepEqual(x.peerCred(serverFd), { pid: process.pid, uid: process.getuid!(), gid: process.getgid!() });
  t.is(x.recvFds(serverFd, 64), null);
  x.closeFd(sock);
  for (let i = 0; i < 100 && !(x.pollFd(serverFd, 1, 10) & 1); i++);
  t.is(x.recvFds(serverFd, 64)!.bytes.length, 0, 'end of stream');
  x.closeFd(got!.fds[0]!);
  x.closeFd(memfd);
  conn.destroy();
  server.close();
});
