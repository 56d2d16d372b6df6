// lspci's display flags mean what they mean in lspci: list with -n, -nn, -k, -D, -v... prints what lspci prints with the same flags.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { buildFakeSysfs, compareLines, ensureLspci, lspciOnTree, runCli, standardDevices, writeFixtureIds } from '../helpers/fake-sysfs.js';

const fake = buildFakeSysfs(standardDevices());
const ids = writeFixtureIds();
test.after.always(() => fake.remove());

/** Flag sets given to both; the claim is that each prints the same bytes. */
const FLAG_SETS: string[][] = [
  ['-n'],
  ['-nn'],
  ['-nnn'],
  ['-k'],
  ['-D'],
  ['-nnk'],
  ['-n', '-k', '-D'],
  ['-v'],
  ['-vv'],
  ['-vvv'],
  ['-vnn'],
  ['-vvn', '-D'],
  ['-k', '-x'],
  ['-nn', '-xxx'],
  ['-n', '-s', '01:'],
  ['-k', '-d', '10de:'],
];

for (const flags of FLAG_SETS) {
  test(`list ${flags.join(' ')} prints what lspci ${flags.join(' ')} prints on the fake tree`, async (t) => {
    const r = await runCli(['list', ...flags, '--sysfs-root', fake.root, '--pci-ids', ids]);
    t.is(r.code, 0, r.stderr);
    compareLines(t, r.stdout, lspciOnTree(fake.root, ids, flags));
  });
}

test('list with no display flag prints what lspci -nn -D -k prints, -x and filters added to that', async (t) => {
  for (const extra of [[], ['-x'], ['-s', '00:1b']]) {
    const r = await runCli(['list', ...extra, '--sysfs-root', fake.root, '--pci-ids', ids]);
    t.is(r.code, 0, r.stderr);
    compareLines(t, r.stdout, lspciOnTree(fake.root, ids, ['-nn', '-D', '-k', ...extra]));
  }
});

test('show with display flags prints what lspci prints with the same flags for that slot', async (t) => {
  for (const flags of [['-v'], ['-vv'], ['-vvv', '-nn'], ['-n'], ['-k', '-D'], ['-vmm'], ['-mm', '-n'], ['-vv', '-xxx']]) {
    const r = await runCli(['show', ...flags, '00:03.0', '--sysfs-root', fake.root, '--pci-ids', ids]);
    t.is(r.code, 0, r.stderr);
    compareLines(t, r.stdout, lspciOnTree(fake.root, ids, [...flags, '-s', '00:03.0']));
  }
});

test('list with each display flag prints what lspci prints with it on this machine (read-only)', async (t) => {
  const lspci = ensureLspci();
  let same = 0;
  const sets = [
    ['-n'],
    ['-nn'],
    ['-k'],
    ['-D'],
    ['-nnk'],
    ['-v'],
    ['-vv'],
    ['-vvv'],
    ['-t'],
    ['-tv'],
    ['-tvnn'],
    ['-mm'],
    ['-vmm'],
    ['-vmmk'],
    ['-vmmnn'],
    ['-mmn'],
  ];
  for (const flags of sets) {
    const theirs = execFileSync(lspci, flags, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    const r = await runCli(['list', ...flags]);
    t.is(r.code, 0, r.stderr);
    t.is(r.stdout, theirs, `list ${flags.join(' ')}`);
    if (r.stdout === theirs) same++;
  }
  t.log(`${same}/${sets.length} flag sets identical to lspci on /sys`);
});

for (const flags of [['-P'], ['-PP'], ['-PP', '-nn', '-D'], ['-P', '-vmm'], ['-PP', '-mm'], ['-P', '-vv', '-s', '01:'], ['-PP', '-k', '-d', '10de:']]) {
  test(`list ${flags.join(' ')} names each slot by its bridge path as lspci ${flags.join(' ')} does`, async (t) => {
    const r = await runCli(['list', ...flags, '--sysfs-root', fake.root, '--pci-ids', ids]);
    t.is(r.code, 0, r.stderr);
    const theirs = lspciOnTree(fake.root, ids, flags);
    t.regex(theirs, /\/(01:)?00\.[01]\s/, 'the tree has devices behind a bridge');
    compareLines(t, r.stdout, theirs);
  });
}

test('-i FILE names the ID database, as in lspci', async (t) => {
  const own = join(fake.root, 'own.ids');
  writeFileSync(own, '10de  Rawpci Test Vendor\n\t1eb8  Rawpci Test Device\n');
  const r = await runCli(['list', '-nn', '-s', '01:00.0', '-i', own, '--sysfs-root', fake.root]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /Rawpci Test Vendor Rawpci Test Device \[10de:1eb8\]/);
  compareLines(t, r.stdout, lspciOnTree(fake.root, own, ['-nn', '-s', '01:00.0']));
});
