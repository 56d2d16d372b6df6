// Ring 0 is the privileged side: rawpci serve authenticates each VM by SO_PEERCRED and checks OPEN_DEVICE against its policy; an unprivileged VM (uid nobody) drives the device it was granted and is refused the rest with VERR_ACCESS_DENIED naming the rule to add.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { adminRequest } from '../../src/cli/serve.js';
import { runRawpci, serveDir, spawnVm, startServe } from '../helpers/serve-child.js';

const NOBODY = { uid: 65534, gid: 65534 };

test('a VM running as nobody opens the device a rule grants it, and is refused another with the rule to add', async (t) => {
  const d = serveDir();
  t.teardown(d.cleanup);
  const policy = join(d.dir, 'policy.json');
  writeFileSync(policy, JSON.stringify({ version: 1, rules: [{ users: ['nobody'], slot: '00:04.0', comment: 'edu for unprivileged VMs' }] }));
  const serve = await startServe(d.dir, ['--policy', policy]);
  t.teardown(() => serve.stop());
  const granted = spawnVm({ socket: serve.socket, mode: 'open' }, NOBODY);
  t.is((await granted.waitFor('connected')).uid, 65534);
  await granted.waitFor('opened');
  await granted.waitFor('closed');
  const refused = spawnVm({ socket: serve.socket, mode: 'open', bdf: '0000:00:05.0' }, NOBODY);
  const r = (await refused.waitFor('open-failed')) as { code: string; message: string };
  t.is(r.code, 'VERR_ACCESS_DENIED');
  t.regex(r.message, /user nobody \(uid 65534\), pid \d+, may not open 0000:00:05\.0/);
  t.regex(r.message, /add \{"users":\["nobody"\],"slot":"0000:00:05\.0"\}/);
  t.regex(r.message, new RegExp(policy.replace(/[.]/g, '\\.')));
  await refused.exited;
});

test('without a policy only root may open devices; the admin CLI is refused to other users', async (t) => {
  const d = serveDir();
  t.teardown(d.cleanup);
  const serve = await startServe(d.dir);
  t.teardown(() => serve.stop());
  const vm = spawnVm({ socket: serve.socket, mode: 'open' }, NOBODY);
  const r = (await vm.waitFor('open-failed')) as { code: string; message: string };
  t.is(r.code, 'VERR_ACCESS_DENIED');
  t.regex(r.message, /root only/);
  const root = spawnVm({ socket: serve.socket, mode: 'open' });
  await root.waitFor('closed');
  const admin = await runRawpci(['status', '--socket', serve.socket], NOBODY);
  t.is(admin.code, 1);
  t.regex(admin.stderr, /uid 65534 may not administer rawpci serve/);
});

test('maxSessionsPerUser: a second session of nobody is refused at connect with VERR_RESOURCE_BUSY naming the limit; root is not counted; a slot freed by a death is usable at once', async (t) => {
  const d = serveDir();
  t.teardown(d.cleanup);
  const policy = join(d.dir, 'policy.json');
  writeFileSync(policy, JSON.stringify({ version: 1, maxSessionsPerUser: 1, rules: [{ users: ['nobody'], slot: '00:04.0' }] }));
  const serve = await startServe(d.dir, ['--policy', policy]);
  t.teardown(() => serve.stop());
  const first = spawnVm({ socket: serve.socket, mode: 'open', stay: true }, NOBODY);
  await first.waitFor('opened');
  const second = spawnVm({ socket: serve.socket, mode: 'open', bdf: '0000:00:05.0' }, NOBODY);
  const r = (await second.waitFor('connect-failed')) as { code: string; message: string };
  t.is(r.code, 'VERR_RESOURCE_BUSY');
  t.regex(r.message, /uid 65534 already holds 1 sessions .*raise "maxSessionsPerUser" in the policy file/);
  const root = spawnVm({ socket: serve.socket, mode: 'open', bdf: '0000:00:05.0' });
  await root.waitFor('closed');
  first.proc.kill('SIGKILL');
  await first.exited;
  // Its session ends as it dies (its liveness futex): wait until rawpci status shows none.
  for (let i = 0; i < 500 && ((await adminRequest(serve.socket, 'status')).data as { sessions: unknown[] }).sessions.length; i++)
    await new Promise((r) => setTimeout(r, 10));
  const third = spawnVm({ socket: serve.socket, mode: 'open' }, NOBODY);
  await third.waitFor('opened');
  await third.waitFor('closed');
});
