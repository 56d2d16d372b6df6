// list -m/-mm and -vm/-vmm print the machine-readable records lspci prints: quoted fields, Tag:\tvalue records, -k, -D and -n in them.

import test from 'ava';
import { buildFakeSysfs, compareLines, lspciOnTree, runCli, standardDevices, writeFixtureIds } from '../helpers/fake-sysfs.js';

const fake = buildFakeSysfs([
  ...standardDevices(),
  { bdf: '0001:00:02.0', vendor: 0x1af4, device: 0x1041, classCode: 0x020000, revision: 1, subsystemVendor: 0xffff, subsystemDevice: 0 },
]);
const ids = writeFixtureIds();
test.after.always(() => fake.remove());

for (const flags of [
  ['-m'],
  ['-mm'],
  ['-mmn'],
  ['-mmnn'],
  ['-mm', '-D'],
  ['-vm'],
  ['-vmm'],
  ['-vvmm'],
  ['-vmm', '-k'],
  ['-vmmnn', '-D'],
  ['-vmmn'],
  ['-mm', '-x'],
  ['-vmm', '-s', '01:'],
]) {
  test(`list ${flags.join(' ')} prints the records lspci ${flags.join(' ')} prints`, async (t) => {
    const r = await runCli(['list', ...flags, '--sysfs-root', fake.root, '--pci-ids', ids]);
    t.is(r.code, 0, r.stderr);
    compareLines(t, r.stdout, lspciOnTree(fake.root, ids, flags));
  });
}

test('list -mm -k is a usage error: -mm lines have no driver field (-vmm -k has)', async (t) => {
  const r = await runCli(['list', '-mm', '-k', '--sysfs-root', fake.root, '--pci-ids', ids]);
  t.is(r.code, 2);
  t.regex(r.stderr, /-k adds Driver and Module fields to -vmm records only/);
});
