// rawpci list and show against lspci on a real kernel's sysfs tree: 37 functions of a QEMU 7.2 q35 guest with drivers bound (generic and ioh3420 root ports, a switch, PCIe-to-PCI, DMI-to-PCI and PCI-to-PCI bridges, NVMe with two SR-IOV VFs, virtio with ATS and AER, e1000e, rtl8139, xHCI, HD audio, a PCIe expander bridge, CXL root ports, switch and type-3 devices, ICH9), captured by `npm run capture:rich`.
//
// Two kinds of comparison: lspci run here on the copied tree (names from the fixture pci.ids),
// and the text the guest's own lspci printed on the live tree, with the `Kernel modules:` its
// libkmod found in the guest kernel's depmod indexes (modules/ holds the alias tables those came
// from, cut to the aliases that can match these functions).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import test from 'ava';
import { compareLines, lspciOnTree, runCli, writeFixtureIds } from '../helpers/fake-sysfs.js';

const fixture = join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'qemu-rich');
const root = join(fixture, 'tree');
const ids = writeFixtureIds();
const bdfs = lspciOnTree(root, ids, ['-D', '-n'])
  .split('\n')
  .filter(Boolean)
  .map((l) => l.split(' ')[0]!);

test('the captured tree holds the 37 functions of the rich QEMU 7.2 guest', (t) => {
  t.is(bdfs.length, 37);
});

test('rawpci list on a real kernel tree is byte-identical to lspci -nn -D -k', async (t) => {
  const r = await runCli(['list', '--sysfs-root', root, '--pci-ids', ids]);
  t.is(r.code, 0, r.stderr);
  compareLines(t, r.stdout, lspciOnTree(root, ids, ['-nn', '-D', '-k']));
});

/** lspci's output for every function at once, cut into its per-function blocks (each ends in a blank line), keyed by BDF. */
function lspciBlocks(args: string[]): Map<string, string> {
  const blocks = lspciOnTree(root, ids, args).split(/(?<=\n\n)/);
  return new Map(blocks.map((b) => [b.split(' ')[0]!, b]));
}

for (const level of ['-v', '-vv', '-vvv']) {
  test(`rawpci show ${level} -nn -D -k is byte-identical to lspci's for each of the 37 functions`, async (t) => {
    const theirs = lspciBlocks([level, '-nn', '-D', '-k']);
    t.is(theirs.size, bdfs.length);
    const same: string[] = [];
    for (const bdf of bdfs) {
      const r = await runCli(['show', bdf, level, '-nn', '-D', '-k', '--sysfs-root', root, '--pci-ids', ids]);
      t.is(r.code, 0, `${bdf}: ${r.stderr}`);
      if (r.stdout === theirs.get(bdf)) same.push(bdf);
      else compareLines(t, r.stdout, theirs.get(bdf) ?? '');
    }
    t.log(`show ${level}: ${same.length} of ${bdfs.length} functions identical to lspci`);
    t.is(same.length, bdfs.length);
  });
}

for (const flags of [['-t'], ['-tv'], ['-tvnn'], ['-vmm'], ['-mm', '-nn'], ['-n'], ['-k', '-D'], ['-P'], ['-PP', '-D'], ['-PP', '-vmm']]) {
  test(`rawpci list ${flags.join(' ')} on a real kernel tree is byte-identical to lspci's`, async (t) => {
    const r = await runCli(['list', ...flags, '--sysfs-root', root, '--pci-ids', ids]);
    t.is(r.code, 0, r.stderr);
    compareLines(t, r.stdout, lspciOnTree(root, ids, flags));
  });
}

test('rawpci show -xxxx dumps each function as lspci -xxxx does', async (t) => {
  const theirs = lspciBlocks(['-xxxx', '-D']);
  for (const bdf of bdfs) {
    const r = await runCli(['show', bdf, '-xxxx', '-D', '--sysfs-root', root, '--pci-ids', ids]);
    t.is(r.code, 0, `${bdf}: ${r.stderr}`);
    t.is(r.stdout, theirs.get(bdf) ?? '', bdf);
  }
});

for (const level of ['', '-v', '-vv', '-vvv']) {
  test(`rawpci list ${level} -n -D -k prints the Kernel modules lines the guest's own lspci printed on the live tree`, async (t) => {
    const live = readFileSync(join(fixture, `lspci${level}-n-D-k.txt`), 'utf8');
    t.true(live.includes('\tKernel modules: nvme\n') && live.includes('\tKernel modules: 8139cp, 8139too\n'), 'the capture has modules to compare');
    const r = await runCli(['list', ...(level ? [level] : []), '-n', '-D', '-k', '--sysfs-root', root, '--modules-dir', join(fixture, 'modules')]);
    t.is(r.code, 0, r.stderr);
    compareLines(t, r.stdout, live);
  });
}
