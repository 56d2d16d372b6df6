// list -t / -tv draws the bus tree lspci -t / -tv draws: bridges with their bus ranges, sysfs parents, domains, and -s/-d keeping the paths to matches.

import { mkdirSync, renameSync, rmSync, symlinkSync, unlinkSync } from 'node:fs';
import { join, relative } from 'node:path';
import test from 'ava';
import { buildFakeSysfs, compareLines, type FakeDevice, lspciOnTree, runCli, standardDevices, writeFixtureIds } from '../helpers/fake-sysfs.js';

const ids = writeFixtureIds();
const flat = buildFakeSysfs(standardDevices());

/**
 * The standard devices plus a function in domain 0001 and one on bus 02 whose sysfs parent is
 * the NIC (a function that is no bridge, as a VF's PF), with the GPU functions moved below their
 * bridge's directory as Linux nests them.
 */
function nestedDevices(): FakeDevice[] {
  return [
    ...standardDevices(),
    { bdf: '0000:02:00.0', vendor: 0x8086, device: 0x10d3, classCode: 0x020000, iommuGroup: 7 },
    { bdf: '0001:00:00.0', vendor: 0x1af4, device: 0x1041, classCode: 0x020000, revision: 1, iommuGroup: 8 },
  ];
}
const nested = buildFakeSysfs(nestedDevices());
const moveUnder = (child: string, parent: string) => {
  const top = join(nested.root, 'devices/pci0000:00');
  const to = join(top, parent, child);
  renameSync(join(top, child), to);
  unlinkSync(join(nested.root, 'bus/pci/devices', child));
  symlinkSync(relative(join(nested.root, 'bus/pci/devices'), to), join(nested.root, 'bus/pci/devices', child));
};
moveUnder('0000:01:00.0', '0000:00:01.0');
moveUnder('0000:01:00.1', '0000:00:01.0');
moveUnder('0000:02:00.0', '0000:00:03.0');
mkdirSync(join(nested.root, 'devices/pci0000:00/0000:00:03.0/0000:02:00.0/sub'), { recursive: true });

test.after.always(() => {
  flat.remove();
  rmSync(nested.root, { recursive: true, force: true });
});

for (const flags of [['-t'], ['-tv'], ['-tvnn'], ['-tvn'], ['-t', '-s', '01:00.1'], ['-tv', '-d', '8086:'], ['-t', '-s', '05:'], ['-tv', '-d', '::0403']]) {
  test(`list ${flags.join(' ')} draws what lspci ${flags.join(' ')} draws for the standard tree`, async (t) => {
    const r = await runCli(['list', ...flags, '--sysfs-root', flat.root, '--pci-ids', ids]);
    t.is(r.code, 0, r.stderr);
    compareLines(t, r.stdout, lspciOnTree(flat.root, ids, flags));
  });
  test(`list ${flags.join(' ')} draws what lspci ${flags.join(' ')} draws with sysfs parents, a non-bridge parent and a second domain`, async (t) => {
    const r = await runCli(['list', ...flags, '--sysfs-root', nested.root, '--pci-ids', ids]);
    t.is(r.code, 0, r.stderr);
    compareLines(t, r.stdout, lspciOnTree(nested.root, ids, flags));
  });
}

test('list -t with an option the tree does not show is a usage error naming it', async (t) => {
  for (const [flags, re] of [
    [['-t', '-k'], /-t prints the bus tree only: -k cannot be combined/],
    [['-tmm'], /-m cannot be combined/],
    [['-t', '--iommu'], /--iommu cannot be combined/],
    [['-tn'], /-n changes names, and -t prints names only with -v/],
  ] as const) {
    const r = await runCli(['list', ...flags, '--sysfs-root', flat.root, '--pci-ids', ids]);
    t.is(r.code, 2, flags.join(' '));
    t.regex(r.stderr, re);
  }
});
