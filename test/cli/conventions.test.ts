// CLI conventions: --help everywhere, --version, exit codes 0/1/2, the bin entry point.

import { spawnSync } from 'node:child_process';
import test from 'ava';
import { runCli } from '../helpers/fake-sysfs.js';

for (const cmd of ['list', 'show', 'attach', 'detach', 'status', 'demo']) {
  test(`${cmd} --help prints its usage and exits 0`, async (t) => {
    const r = await runCli([cmd, '--help']);
    t.is(r.code, 0);
    t.regex(r.stdout, new RegExp(`Usage: rawpci ${cmd}`));
  });
}

test('--version prints the package version and exits 0', async (t) => {
  const r = await runCli(['--version']);
  t.is(r.code, 0);
  t.regex(r.stdout, /^\d+\.\d+\.\d+\n$/);
});

test('an unknown command is a usage error (exit 2) with a pointer to --help', async (t) => {
  const r = await runCli(['lsit']);
  t.is(r.code, 2);
  t.regex(r.stderr, /unknown command 'lsit'/);
});

test('an unknown option is a usage error (exit 2)', async (t) => {
  const r = await runCli(['list', '--bogus']);
  t.is(r.code, 2);
  t.regex(r.stderr, /unknown option '--bogus'/);
});

test('no command prints the usage on stderr and exits 2', async (t) => {
  const r = await runCli([]);
  t.is(r.code, 2);
  t.regex(r.stderr, /Usage: rawpci/);
});

test('--host sim with --sysfs-root is refused as contradictory (exit 2)', async (t) => {
  const r = await runCli(['list', '--host', 'sim', '--sysfs-root', '/tmp']);
  t.is(r.code, 2);
  t.regex(r.stderr, /cannot be combined with --host sim/);
});

test('bin/rawpci.js runs the CLI and exits with its code, without colour when piped', (t) => {
  const ok = spawnSync(process.execPath, ['bin/rawpci.js', 'list', '-s', '00:00.0'], { encoding: 'utf8' });
  t.is(ok.status, 0, ok.stderr);
  t.regex(ok.stdout, /^0000:00:00\.0 /);
  t.false(ok.stdout.includes('\u001b['));
  const bad = spawnSync(process.execPath, ['bin/rawpci.js', 'show', 'nope'], { encoding: 'utf8' });
  t.is(bad.status, 2);
});
