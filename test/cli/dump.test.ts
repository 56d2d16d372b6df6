// list/show -F FILE read the devices from an lspci -x/-xxx/-xxxx dump and print what lspci -F FILE prints from it.

import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { buildFakeSysfs, compareLines, ensureLspci, lspciOnTree, runCli, standardDevices, writeFixtureIds } from '../helpers/fake-sysfs.js';

const fake = buildFakeSysfs(standardDevices());
const ids = writeFixtureIds();
const dir = mkdtempSync(join(tmpdir(), 'rawpci-dump-'));
test.after.always(() => fake.remove());

/** Writes what lspci `flags` prints on the fake tree to a file and returns its path. */
function dumpOf(name: string, flags: string[]): string {
  const p = join(dir, name);
  writeFileSync(p, lspciOnTree(fake.root, ids, flags));
  return p;
}

/** lspci -F FILE with the fixture ids. */
function lspciF(file: string, flags: string[]): string {
  return execFileSync(ensureLspci(), ['-F', file, '-O', 'hwdb.disable=1', '-i', ids, ...flags], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
}

const dumps = {
  x: dumpOf('x.txt', ['-x']),
  xxx: dumpOf('xxx.txt', ['-xxx', '-D']),
  xxxx: dumpOf('xxxx.txt', ['-xxxx']),
  vvx: dumpOf('vvx.txt', ['-vv', '-xxx', '-nn']),
};

for (const [name, file] of Object.entries(dumps))
  for (const flags of [['-nn', '-D', '-k'], ['-n'], ['-vv'], ['-vvv', '-nn'], ['-t'], ['-tv'], ['-vmm'], ['-k', '-xxxx'], ['-mm']]) {
    test(`list -F (an lspci -${name} dump) ${flags.join(' ')} prints what lspci -F prints from it`, async (t) => {
      const r = await runCli(['list', '-F', file, ...flags, '--pci-ids', ids]);
      t.is(r.code, 0, r.stderr);
      compareLines(t, r.stdout, lspciF(file, flags));
    });
  }

test('show -F decodes one device of the dump as lspci -F -vv -nn -D -k -s does', async (t) => {
  const r = await runCli(['show', '-F', dumps.xxxx, '00:03.0', '--pci-ids', ids]);
  t.is(r.code, 0, r.stderr);
  compareLines(t, r.stdout, lspciF(dumps.xxxx, ['-vv', '-nn', '-D', '-k', '-s', '00:03.0']));
});

test('a malformed dump line fails (exit 1) with its line number, and -F with a host option is a usage error', async (t) => {
  const bad = join(dir, 'bad.txt');
  writeFileSync(bad, '00:00.0 Host bridge: x\n00: 86 80 zz\n');
  const r = await runCli(['list', '-F', bad, '--pci-ids', ids]);
  t.is(r.code, 1);
  t.regex(r.stderr, /Malformed line at .*bad\.txt, line 2/);
  const both = await runCli(['list', '-F', dumps.x, '--sysfs-root', fake.root, '--pci-ids', ids]);
  t.is(both.code, 2);
  t.regex(both.stderr, /-F reads the devices from a dump, not a host: --sysfs-root cannot be combined/);
});
