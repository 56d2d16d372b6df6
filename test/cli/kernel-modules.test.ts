// `Kernel modules:` lines come from modules.alias as libkmod finds them: list -k, -v and -vmm -k print what lspci prints with the same modules directory.

import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import test from 'ava';
import { fnmatch, KernelModules } from '../../src/sysfs/modules.js';
import { addModaliases, buildFakeModules, lspciWithModules } from '../helpers/fake-modules.js';
import { buildFakeSysfs, compareLines, runCli, standardDevices, writeFixtureIds } from '../helpers/fake-sysfs.js';

const fake = buildFakeSysfs(standardDevices());
addModaliases(fake);
const ids = writeFixtureIds();
const mods = buildFakeModules(
  [
    { name: 'e1000e', aliases: ['pci:v00008086d000010D3sv*sd*bc*sc*i*'] },
    { name: 'snd_hda_intel', aliases: ['pci:v00008086d0000293Esv*sd*bc*sc*i*', 'pci:v000010DEd*sv*sd*bc04sc03i00*', 'pci:v*d*sv*sd*bc04sc03i*'] },
    { name: 'nouveau', aliases: ['pci:v000010DEd*sv*sd*bc03sc*i*', 'pci:v000010DEd*sv*sd*bc03sc02i*'] },
    { name: 'nvidiafb', aliases: ['pci:v000010DEd00001EB?sv*sd*bc*sc*i*'] },
    { name: 'edu', aliases: ['pci:v00001B36d000011E[0-9]sv*sd*bc*sc*i*'] },
    { name: 'virtio_pci', aliases: ['pci:v00001AF4d*sv*sd*bc*sc*i*', 'virtio:d00000001v*'] },
  ],
  [
    { name: 'pcieport', aliases: ['pci:v*d*sv*sd*bc06sc04i00*'] },
    { name: 'i2c_i801', aliases: ['pci:v00008086d00002930sv*sd*bc*sc*i*'] },
    { name: 'e1000e', aliases: ['pci:v00008086d000010D3sv*sd*bc*sc*i*'] },
  ],
);
const lspciArgs = (flags: string[]) => ['-A', 'linux-sysfs', '-O', `sysfs.path=${fake.root}/bus/pci`, '-O', 'hwdb.disable=1', '-i', ids, ...flags];
test.after.always(() => {
  fake.remove();
  rmSync(mods.base, { recursive: true, force: true });
});

for (const flags of [[], ['-k'], ['-nnk'], ['-v'], ['-vv', '-s', '01:'], ['-vmm', '-k'], ['-vmmnn', '-k', '-D']]) {
  test(`list ${flags.join(' ') || '(no flags)'} prints the Kernel modules lspci ${flags.join(' ') || '-nn -D -k'} prints from the same modules.alias`, async (t) => {
    const r = await runCli(['list', ...flags, '--modules-dir', mods.dir, '--sysfs-root', fake.root, '--pci-ids', ids]);
    t.is(r.code, 0, r.stderr);
    const theirs = lspciWithModules(mods, lspciArgs(flags.length ? flags : ['-nn', '-D', '-k']));
    t.regex(theirs, /Kernel modules: snd_hda_intel|Module:\tsnd_hda_intel/);
    compareLines(t, r.stdout, theirs);
  });
}

test('show prints the Kernel modules line lspci -vv prints: several modules in depmod order, each once', async (t) => {
  const r = await runCli(['show', '01:00.0', '--modules-dir', mods.dir, '--sysfs-root', fake.root, '--pci-ids', ids]);
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /\tKernel modules: nouveau, nvidiafb\n/);
  compareLines(t, r.stdout, lspciWithModules(mods, lspciArgs(['-vv', '-nn', '-D', '-k', '-s', '01:00.0'])));
});

test('list -k on this machine prints the Kernel modules lspci -k prints with the same modules directory (read-only)', async (t) => {
  for (const flags of [['-k'], ['-nn', '-D', '-k'], ['-v'], ['-vmm', '-k']]) {
    const r = await runCli(['list', ...flags, '--modules-dir', mods.dir]);
    t.is(r.code, 0, r.stderr);
    const theirs = lspciWithModules(mods, flags);
    t.is(r.stdout, theirs, flags.join(' '));
    t.log(`${flags.join(' ')}: ${theirs.match(/Kernel modules:|Module:/g)?.length ?? 0} module lines, identical`);
  }
});

test('built-in modules are listed only when no loadable module matches (libkmod lookup order)', (t) => {
  const km = KernelModules.load(mods.dir)!;
  t.deepEqual(km.lookup('pci:v00008086d00002930sv00001AF4sd00001100bc0Csc05i00'), ['i2c_i801']);
  t.deepEqual(km.lookup('pci:v00008086d000010D3sv00008086sdA01Fbc02sc00i00'), ['e1000e']);
  t.deepEqual(km.lookup('pci:v00008086d0000244Esv00000000sd00000000bc06sc04i00'), ['pcieport']);
  t.deepEqual(km.lookup('pci:v0000ABCDd00000001sv00000000sd00000000bcFFsc00i00'), []);
  t.true(readFileSync(`${mods.dir}/modules.alias`, 'utf8').startsWith('# Aliases extracted from modules themselves.'));
});

test('fnmatch matches alias patterns as fnmatch(3) with no flags does', (t) => {
  t.true(fnmatch('pci:v*d*', 'pci:v1/d2'));
  t.true(fnmatch('a?c', 'abc'));
  t.false(fnmatch('a?c', 'ac'));
  t.true(fnmatch('x[0-9]y', 'x5y'));
  t.false(fnmatch('x[!0-9]y', 'x5y'));
  t.true(fnmatch('x[^a]y', 'xby'));
  t.true(fnmatch('a\\*b', 'a*b'));
  t.false(fnmatch('a\\*b', 'axb'));
  t.true(fnmatch('[]]', ']'));
  t.true(fnmatch('a[', 'a['));
  t.true(fnmatch('**', ''));
});

test('--modules-dir where no Kernel modules line is printed, or naming a directory without modules.alias, is refused', async (t) => {
  const r = await runCli(['list', '-n', '--modules-dir', mods.dir, '--sysfs-root', fake.root, '--pci-ids', ids]);
  t.is(r.code, 2);
  t.regex(r.stderr, /--modules-dir is where `Kernel modules:` come from, and these options print none/);
  const none = await runCli(['list', '-k', '--modules-dir', '/nonexistent', '--sysfs-root', fake.root, '--pci-ids', ids]);
  t.is(none.code, 1);
  t.regex(none.stderr, /cannot read \/nonexistent\/modules\.alias/);
  t.truthy(execFileSync('uname', ['-r'], { encoding: 'utf8' }));
});
