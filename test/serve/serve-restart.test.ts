// Ring 0 restarts safely: rawpci serve killed (SIGKILL) with a VM connected, the VM's call gets a status within its deadline (no hang), and the next instance on the socket finds the device the dead one left detached (its state file, and its workers' write-ahead detach logs) and rebinds it.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { DetachLog, takeDetachLogs } from '../../r0/detach-log.js';
import { RawPciClient } from '../../r3/client.js';
import { adminRequest } from '../../src/cli/serve.js';
import { serveDir, spawnVm, startServe } from '../helpers/serve-child.js';

test('SIGKILL of rawpci serve: the VM call answers VERR_INVALID_STATE long before its deadline, and the next instance reclaims the detached device', async (t) => {
  const d = serveDir();
  t.teardown(d.cleanup);
  const first = await startServe(d.dir);
  const vm = spawnVm({ socket: first.socket, mode: 'call-forever', timeoutMs: 3000 });
  await vm.waitFor('calling');
  // The detached device is in the state file (written within 50 ms of a change).
  const stateFile = `${first.socket}.state.json`;
  for (let i = 0; i < 100 && !readFileSync(stateFile, 'utf8').includes('0000:00:04.0'); i++) await new Promise((r) => setTimeout(r, 10));
  t.regex(readFileSync(stateFile, 'utf8'), /"bdf": "0000:00:04.0"/);
  first.proc.kill('SIGKILL');
  const failed = (await vm.waitFor('call-failed', 10_000)) as { code: string; ms: number };
  t.is(failed.code, 'VERR_INVALID_STATE');
  t.log(`the VM's call after ring 0 died: ${failed.code} in ${failed.ms.toFixed(1)} ms (deadline 3000 ms)`);
  t.true(failed.ms < 3000);
  await vm.exited;
  // A new instance on the same socket: the stale socket is replaced, the device rebound.
  const second = await startServe(d.dir);
  t.teardown(() => second.stop());
  const s = (await adminRequest(second.socket, 'status')).data as { reclaimed: string[] };
  t.deepEqual(s.reclaimed, ['0000:00:04.0']);
  t.regex(second.log(), /left 0000:00:04\.0 detached; rebound them/);
  t.notRegex(readFileSync(stateFile, 'utf8'), /0000:00:04\.0/);
  const next = await RawPciClient.connect(`unix:${second.socket}`, { guestRamBytes: 1 << 20 });
  t.true(next.openDevice('0000:00:04.0', { detachHostDriver: true }) > 0);
  await next.close();
});

test('a VM waiting in a parked GET_IRQ when ring 0 dies gets VERR_INVALID_STATE before its deadline, and its next call at once', async (t) => {
  const d = serveDir();
  t.teardown(d.cleanup);
  const serve = await startServe(d.dir);
  const vm = await RawPciClient.connect(`unix:${serve.socket}`, { guestRamBytes: 1 << 20, timeoutMs: 2000 });
  const h = vm.openDevice('0000:00:04.0', { detachHostDriver: true });
  const t0 = performance.now();
  // A parked GET_IRQ of 1.5 s (nothing raises it): ring 0 dies while this thread waits.
  setTimeout(() => serve.proc.kill('SIGKILL'), 100).unref();
  const parked = vm.getIrqAsync(1500, h);
  await t.throwsAsync(parked, { message: /VERR_INVALID_STATE/ });
  t.true(performance.now() - t0 < 1500);
  t.throws(() => vm.cfgRead(h, 0, 4), { message: /VERR_INVALID_STATE/ });
  await vm.close();
});

test('a detach the state file missed (rawpci serve killed within its 50 ms write interval) is reclaimed from the worker write-ahead log', async (t) => {
  const d = serveDir();
  t.teardown(d.cleanup);
  const first = await startServe(d.dir);
  const vm = spawnVm({ socket: first.socket, mode: 'open', stay: true });
  await vm.waitFor('opened');
  first.proc.kill('SIGKILL');
  vm.proc.kill('SIGKILL');
  await vm.exited.catch(() => {});
  await new Promise<void>((r) => (first.proc.exitCode !== null || first.proc.signalCode !== null ? r() : first.proc.once('exit', () => r())));
  // The window: the main state file says nothing was detached (as it does for 50 ms after a detach).
  const stateFile = `${first.socket}.state.json`;
  writeFileSync(stateFile, `${JSON.stringify({ version: 1, pid: 1, host: 'sim', devices: [] })}\n`);
  const logs = readdirSync(`${stateFile}.d`);
  t.true(logs.length > 0, 'the worker wrote its detach ahead');
  t.regex(readFileSync(join(`${stateFile}.d`, logs[0]!), 'utf8'), /"bdf": "0000:00:04.0"/);
  const second = await startServe(d.dir);
  t.teardown(() => second.stop());
  const s = (await adminRequest(second.socket, 'status')).data as { reclaimed: string[] };
  t.deepEqual(s.reclaimed, ['0000:00:04.0']);
  t.deepEqual(readdirSync(`${stateFile}.d`), [], 'the logs were taken');
});

test('takeDetachLogs merges the workers files, names a malformed one, and removes them all', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rawpci-detach-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const log = new DetachLog(dir, 'worker-1');
  log.willDetach(0x20, 'uio_pci_generic');
  log.willDetach(0x28, null);
  log.rebound(0x28);
  writeFileSync(join(dir, 'worker-2.json'), '{"version":1,"devices":[{"pciAddress":32,"driver":"uio_pci_generic"},{"pciAddress":40,"driver":null}]}');
  writeFileSync(join(dir, 'worker-3.json'), 'not json');
  const got = takeDetachLogs(dir);
  t.deepEqual(
    got.devices.map((x) => [x.bdf, x.driver]),
    [
      ['0000:00:04.0', 'uio_pci_generic'],
      ['0000:00:05.0', null],
    ],
  );
  t.is(got.problems.length, 1);
  t.regex(got.problems[0]!, /worker-3\.json/);
  t.deepEqual(readdirSync(dir), []);
});
