// Options that do not apply are usage errors (exit 2) naming the option, and colour follows NO_COLOR and FORCE_COLOR.

import test from 'ava';
import { useColor } from '../../src/cli/main.js';
import { buildFakeSysfs, runCli, standardDevices, writeFixtureIds } from '../helpers/fake-sysfs.js';

const fake = buildFakeSysfs(standardDevices());
const ids = writeFixtureIds();
test.after.always(() => fake.remove());

for (const [args, re] of [
  [['list', '--inventory', '/tmp/inv.json'], /--inventory .* applies only with --host sim/],
  [['show', '00:03.0', '--inventory', '/tmp/inv.json'], /--inventory .* applies only with --host sim/],
  [['list', '--json', '-n'], /--json prints every field .* drop -n/],
  [['show', '00:03.0', '--json', '-vv'], /--json prints every field/],
  [['list', '-v', '--iommu'], /--iommu and --attachments add lines to the terse listing/],
  [['list', '-F', '/tmp/x', '--host', 'sim'], /-F reads the devices from a dump, not a host: --host/],
  [['list', '-F', '/tmp/x', '--modules-dir', '/tmp'], /--modules-dir does not apply to -F/],
  [['list', '-t', '-P'], /-t prints the bus tree only: -P cannot be combined with it/],
  [['list', '--json', '-PP'], /--json prints every field .* -P/],
  [['show', '00:03.0', '--json', '-P'], /--json prints every field .* -P/],
] as const) {
  test(`${args.join(' ')} is a usage error naming what does not apply`, async (t) => {
    const host = (args as readonly string[]).includes('--host') ? [] : ['--sysfs-root', fake.root];
    const r = await runCli([...args, ...host, '--pci-ids', ids]);
    t.is(r.code, 2, r.stdout);
    t.regex(r.stderr, re);
  });
}

test('colour is on for a terminal and off in a pipe; NO_COLOR turns it off, FORCE_COLOR on, FORCE_COLOR=0 off', (t) => {
  t.true(useColor({ isTTY: true, env: {} }));
  t.false(useColor({ isTTY: false, env: {} }));
  t.false(useColor({ isTTY: true, env: { TERM: 'dumb' } }));
  t.false(useColor({ isTTY: true, env: { NO_COLOR: '1' } }));
  t.true(useColor({ isTTY: true, env: { NO_COLOR: '' } }));
  t.true(useColor({ isTTY: false, env: { FORCE_COLOR: '1' } }));
  t.false(useColor({ isTTY: false, env: { FORCE_COLOR: '0' } }));
  t.false(useColor({ isTTY: false, env: { FORCE_COLOR: '1', NO_COLOR: '1' } }));
});

test('list --attachments is coloured with FORCE_COLOR in a pipe and plain with NO_COLOR', async (t) => {
  const args = ['list', '--attachments', '-s', '00:03.0', '--sysfs-root', fake.root, '--pci-ids', ids, '--state', `${fake.root}/state.json`];
  const { writeFileSync } = await import('node:fs');
  writeFileSync(
    `${fake.root}/state.json`,
    JSON.stringify({
      version: 1,
      attachments: [
        {
          bdf: '0000:00:03.0',
          host: 'sysfs',
          sysfsRoot: fake.root,
          originalDriver: 'e1000e',
          driver: 'vfio-pci',
          iommuGroup: '3',
          attachedAt: '2026-01-01T00:00:00Z',
        },
      ],
    }),
  );
  const forced = await runCli(args, { env: { FORCE_COLOR: '1' } });
  t.is(forced.code, 0, forced.stderr);
  t.true(forced.stdout.includes('\u001b[32mrawpci: attached'));
  const plain = await runCli(args, { env: { FORCE_COLOR: '1', NO_COLOR: '1' } });
  t.regex(plain.stdout, /\trawpci: attached \(was e1000e\)/);
  t.false(plain.stdout.includes('\u001b['));
});
