// Which state file rawpci uses: one system-wide file for root, per-user ones otherwise, --state and $RAWPCI_STATE over both.

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { STATE_ENV, SYSTEM_STATE_PATH, statePaths } from '../../src/sysfs/state.js';
import { buildFakeSysfs, FakeKernel, runCli, standardDevices } from '../helpers/fake-sysfs.js';

const cases: [string, Parameters<typeof statePaths>[0], { write: string; read: string[] }][] = [
  ['--state wins over everything', { explicit: '/x.json', env: { [STATE_ENV]: '/y.json' }, uid: 0 }, { write: '/x.json', read: ['/x.json'] }],
  ['$RAWPCI_STATE wins over the defaults', { env: { [STATE_ENV]: '/y.json', HOME: '/home/u' }, uid: 1000 }, { write: '/y.json', read: ['/y.json'] }],
  [
    'root uses the system-wide file, whatever $XDG_STATE_HOME says',
    { env: { XDG_STATE_HOME: '/root/s' }, uid: 0 },
    { write: SYSTEM_STATE_PATH, read: [SYSTEM_STATE_PATH] },
  ],
  [
    'a user writes under $XDG_STATE_HOME and reads the system file first',
    { env: { XDG_STATE_HOME: '/home/u/s' }, uid: 1000 },
    { write: '/home/u/s/rawpci/attachments.json', read: [SYSTEM_STATE_PATH, '/home/u/s/rawpci/attachments.json'] },
  ],
  [
    'without $XDG_STATE_HOME a user falls back to ~/.local/state',
    { env: { HOME: '/home/u' }, uid: 1000 },
    { write: '/home/u/.local/state/rawpci/attachments.json', read: [SYSTEM_STATE_PATH, '/home/u/.local/state/rawpci/attachments.json'] },
  ],
];
for (const [name, input, expected] of cases) test(`state path: ${name}`, (t) => t.deepEqual(statePaths(input), expected));

test("`sudo rawpci attach` and a user's `rawpci status` agree: both see the system-wide record", async (t) => {
  const fake = buildFakeSysfs(standardDevices());
  const kernel = new FakeKernel(fake);
  const dir = mkdtempSync(join(tmpdir(), 'rawpci-state-'));
  const systemStatePath = join(dir, 'var-lib-rawpci', 'attachments.json');
  // sudo resets the environment: no RAWPCI_STATE, HOME is root's.
  const a = await runCli(['attach', '00:03.0', '--sysfs-root', fake.root], {
    env: { PATH: '', HOME: join(dir, 'root') },
    uid: 0,
    systemStatePath,
    makeWriter: () => kernel,
  });
  t.is(a.code, 0, a.stderr);
  const s = await runCli(['status', '--json'], { env: { PATH: '', HOME: join(dir, 'user') }, uid: 1000, systemStatePath });
  t.is(s.code, 0, s.stderr);
  const out = JSON.parse(s.stdout);
  t.like(out.attachments[0], { bdf: '0000:00:03.0', stateFile: systemStatePath, boundTo: 'vfio-pci', asRecorded: true });
  const root = await runCli(['status', '--json'], { env: { PATH: '' }, uid: 0, systemStatePath });
  t.deepEqual(JSON.parse(root.stdout).attachments, out.attachments);
  fake.remove();
});

test("a user's `rawpci list --attachments` and `show --json` see what `sudo rawpci attach` recorded system-wide", async (t) => {
  const fake = buildFakeSysfs(standardDevices());
  const kernel = new FakeKernel(fake);
  const dir = mkdtempSync(join(tmpdir(), 'rawpci-state-'));
  const systemStatePath = join(dir, 'var-lib-rawpci', 'attachments.json');
  const a = await runCli(['attach', '00:03.0', '--sysfs-root', fake.root], {
    env: { PATH: '', HOME: join(dir, 'root') },
    uid: 0,
    systemStatePath,
    makeWriter: () => kernel,
  });
  t.is(a.code, 0, a.stderr);
  const user = { env: { PATH: '', HOME: join(dir, 'user') }, uid: 1000, systemStatePath };
  const l = await runCli(['list', '--attachments', '--sysfs-root', fake.root], user);
  t.is(l.code, 0, l.stderr);
  const line = l.stdout.split('\n').findIndex((x) => x.startsWith('0000:00:03.0 '));
  t.true(line >= 0, l.stdout);
  t.regex(
    l.stdout
      .split('\n')
      .slice(line + 1)
      .join('\n'),
    /^\s+rawpci: attached/m,
  );
  const s = await runCli(['show', '00:03.0', '--json', '--sysfs-root', fake.root], user);
  t.is(s.code, 0, s.stderr);
  t.like(JSON.parse(s.stdout).attachment, { driver: 'vfio-pci', originalDriver: 'e1000e' });
  fake.remove();
});
