// rawpci list and show against lspci on a real kernel's sysfs tree: 19 functions of a QEMU 7.2 q35 guest (root ports, a switch, a PCIe-to-PCI bridge, NVMe, virtio with ATS, e1000e, xHCI, HD audio, ICH9), captured by `npm run capture:rich`.

import { join } from 'node:path';
import test from 'ava';
import { compareLines, lspciOnTree, runCli, writeFixtureIds } from '../helpers/fake-sysfs.js';

const root = join(import.meta.dirname, '..', '..', '..', 'test', 'fixtures', 'qemu-rich', 'tree');
const ids = writeFixtureIds();
const bdfs = lspciOnTree(root, ids, ['-D', '-n'])
  .split('\n')
  .filter(Boolean)
  .map((l) => l.split(' ')[0]!);

test('the captured tree holds the 19 functions of the rich QEMU 7.2 guest', (t) => {
  t.is(bdfs.length, 19);
});

test('rawpci list on a real kernel tree is byte-identical to lspci -nn -D -k', async (t) => {
  const r = await runCli(['list', '--sysfs-root', root, '--pci-ids', ids]);
  t.is(r.code, 0, r.stderr);
  compareLines(t, r.stdout, lspciOnTree(root, ids, ['-nn', '-D', '-k']));
});

for (const level of ['-v', '-vv', '-vvv']) {
  test(`rawpci show ${level} -nn -D -k is byte-identical to lspci's for each of the 19 functions`, async (t) => {
    const same: string[] = [];
    for (const bdf of bdfs) {
      const args = [level, '-nn', '-D', '-k', '-s', bdf];
      const r = await runCli(['show', bdf, level, '-nn', '-D', '-k', '--sysfs-root', root, '--pci-ids', ids]);
      t.is(r.code, 0, `${bdf}: ${r.stderr}`);
      const theirs = lspciOnTree(root, ids, args);
      if (r.stdout === theirs) same.push(bdf);
      else compareLines(t, r.stdout, theirs);
    }
    t.log(`show ${level}: ${same.length} of ${bdfs.length} functions identical to lspci`);
    t.is(same.length, bdfs.length);
  });
}

for (const flags of [['-t'], ['-tv'], ['-tvnn'], ['-vmm'], ['-mm', '-nn'], ['-n'], ['-k', '-D']]) {
  test(`rawpci list ${flags.join(' ')} on a real kernel tree is byte-identical to lspci's`, async (t) => {
    const r = await runCli(['list', ...flags, '--sysfs-root', root, '--pci-ids', ids]);
    t.is(r.code, 0, r.stderr);
    compareLines(t, r.stdout, lspciOnTree(root, ids, flags));
  });
}

test('rawpci show -xxxx dumps each function as lspci -xxxx does', async (t) => {
  for (const bdf of bdfs) {
    const r = await runCli(['show', bdf, '-xxxx', '-D', '--sysfs-root', root, '--pci-ids', ids]);
    t.is(r.code, 0, `${bdf}: ${r.stderr}`);
    t.is(r.stdout, lspciOnTree(root, ids, ['-xxxx', '-D', '-s', bdf]), bdf);
  }
});
