// The admin CLI talks to the running ring 0: status --socket (table and --json) lists live sessions, attach/detach --host sim --socket change the running service's simulated bindings, and SIGTERM ends every session in the fixed order.
import test from 'ava';
import { RawPciClient } from '../../r3/client.js';
import type { RawPciError } from '../../r3/errors.js';
import { runRawpci, serveDir, spawnVm, startServe } from '../helpers/serve-child.js';

test('status --socket lists live sessions with pid, uid, devices, requests, interrupts and faults', async (t) => {
  const d = serveDir();
  t.teardown(d.cleanup);
  const serve = await startServe(d.dir);
  t.teardown(() => serve.stop());
  const vm = spawnVm({ socket: serve.socket, mode: 'open', stay: true });
  const { session } = (await vm.waitFor('connected')) as { session: number };
  await vm.waitFor('opened');
  const j = await runRawpci(['status', '--socket', serve.socket, '--json']);
  t.is(j.code, 0, j.stderr);
  const s = JSON.parse(j.stdout) as { pid: number; sessions: Record<string, unknown>[] };
  t.is(s.pid, serve.proc.pid!);
  const mine = s.sessions.find((x) => x.session === session)!;
  t.is(mine.pid, vm.proc.pid!);
  t.is(mine.uid, 0);
  t.deepEqual(mine.devices, ['0000:00:04.0']);
  t.true((mine.requests as number) >= 4);
  t.is(typeof mine.irqs, 'number');
  t.is(typeof mine.faults, 'number');
  const table = await runRawpci(['status', '--socket', serve.socket]);
  t.regex(table.stdout, /1 live session/);
  t.regex(table.stdout, /0000:00:04\.0/);
  vm.proc.kill('SIGKILL');
  await vm.exited;
});

test("attach and detach --host sim --socket change the running service's bindings", async (t) => {
  const d = serveDir();
  t.teardown(d.cleanup);
  const serve = await startServe(d.dir);
  t.teardown(() => serve.stop());
  const vm = await RawPciClient.connect(`unix:${serve.socket}`, { guestRamBytes: 1 << 20 });
  t.teardown(() => vm.close());
  // Bound to its host driver: opening without DETACH_HOST_DRIVER is refused.
  t.is((t.throws(() => vm.openDevice('0000:00:04.0')) as RawPciError).code, 'VERR_RESOURCE_BUSY');
  const a = await runRawpci(['attach', '0000:00:04.0', '--host', 'sim', '--socket', serve.socket]);
  t.is(a.code, 0, a.stderr);
  t.regex(a.stdout, /attached 0000:00:04\.0 in the running ring 0/);
  const h = vm.openDevice('0000:00:04.0');
  // In use: detach is refused, naming the session.
  const busy = await runRawpci(['detach', '0000:00:04.0', '--host', 'sim', '--socket', serve.socket]);
  t.is(busy.code, 1);
  t.regex(busy.stderr, new RegExp(`open in session ${vm.session}`));
  vm.closeDevice(h);
  const det = await runRawpci(['detach', '0000:00:04.0', '--host', 'sim', '--socket', serve.socket, '--json']);
  t.is(det.code, 0, det.stderr);
  t.is((t.throws(() => vm.openDevice('0000:00:04.0')) as RawPciError).code, 'VERR_RESOURCE_BUSY');
});

test('SIGTERM ends every connected session in the fixed order before rawpci serve exits 0', async (t) => {
  const d = serveDir();
  t.teardown(d.cleanup);
  const serve = await startServe(d.dir);
  const vms = [spawnVm({ socket: serve.socket, mode: 'open', stay: true }), spawnVm({ socket: serve.socket, mode: 'open', bdf: '0000:00:05.0', stay: true })];
  for (const vm of vms) await vm.waitFor('opened');
  t.is(await serve.stop(), 0);
  t.is((serve.log().match(/ended \(shutdown\): devices closed in the fixed order/g) ?? []).length, 2);
  for (const vm of vms) {
    vm.proc.kill('SIGKILL');
    await vm.exited;
  }
});
