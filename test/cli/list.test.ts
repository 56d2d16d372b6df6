// rawpci list agrees line by line with lspci -nn -D -k on fake sysfs trees and on this machine (read-only).

import { execFileSync } from 'node:child_process';
import test from 'ava';
import { buildFakeSysfs, compareLines, ensureLspci, lspciOnTree, runCli, standardDevices, writeFixtureIds } from '../helpers/fake-sysfs.js';

const fake = buildFakeSysfs(standardDevices());
const ids = writeFixtureIds();
test.after.always(() => fake.remove());

test('list prints what lspci -nn -D -k prints for the standard fake tree', async (t) => {
  const r = await runCli(['list', '--sysfs-root', fake.root, '--pci-ids', ids]);
  t.is(r.code, 0, r.stderr);
  compareLines(t, r.stdout, lspciOnTree(fake.root, ids, ['-nn', '-D', '-k']));
});

test('list -n -D -k prints what lspci -n -D -k prints', async (t) => {
  const r = await runCli(['list', '-n', '-D', '-k', '--sysfs-root', fake.root, '--pci-ids', ids]);
  t.is(r.code, 0, r.stderr);
  compareLines(t, r.stdout, lspciOnTree(fake.root, ids, ['-n', '-D', '-k']));
});

for (const [flag, expr] of [
  ['-s', '1b.1'],
  ['-s', '01:'],
  ['-s', '0000:00:03'],
  ['-s', '.1'],
  ['-d', '8086:'],
  ['-d', ':10f8'],
  ['-d', '::0403'],
  ['-d', '::06xx'],
  ['-d', '10de::0302:00'],
] as const) {
  test(`list ${flag} ${expr} selects what lspci ${flag} ${expr} selects`, async (t) => {
    const r = await runCli(['list', flag, expr, '--sysfs-root', fake.root, '--pci-ids', ids]);
    t.is(r.code, 0, r.stderr);
    compareLines(t, r.stdout, lspciOnTree(fake.root, ids, ['-nn', '-D', '-k', flag, expr]));
  });
}

test('list with a bad -s filter is a usage error (exit 2) naming the syntax', async (t) => {
  const r = await runCli(['list', '-s', '1:2:3:4', '--sysfs-root', fake.root, '--pci-ids', ids]);
  t.is(r.code, 2);
  t.regex(r.stderr, /Too many fields.*\[\[\[domain\]:\]bus\]/);
});

test('list with an empty pci.ids shows numbers exactly as lspci does with the same file', async (t) => {
  const { writeFileSync } = await import('node:fs');
  const empty = writeFixtureIds();
  writeFileSync(empty, '# empty\n');
  const e = await runCli(['list', '--sysfs-root', fake.root, '--pci-ids', empty]);
  t.is(e.code, 0, e.stderr);
  compareLines(t, e.stdout, lspciOnTree(fake.root, empty, ['-nn', '-D', '-k']));
});

test('list with a --pci-ids file that does not exist fails (exit 1) naming the file and the option', async (t) => {
  const none = await runCli(['list', '--sysfs-root', fake.root, '--pci-ids', '/nonexistent/pci.ids']);
  t.is(none.code, 1);
  t.regex(none.stderr, /\/nonexistent\/pci\.ids does not exist.*--pci-ids/);
});

test('list --json gives scripts ids, names, driver, IOMMU group and attachment state', async (t) => {
  const r = await runCli(['list', '--json', '--sysfs-root', fake.root, '--pci-ids', ids, '--state', '/nonexistent-dir/state.json']);
  t.is(r.code, 0, r.stderr);
  const devs = JSON.parse(r.stdout) as Record<string, unknown>[];
  t.is(devs.length, fake.devices.length);
  const nic = devs.find((d) => d.bdf === '0000:00:03.0')!;
  t.like(nic, {
    class: '0200',
    vendor: '8086',
    device: '10d3',
    deviceName: '82574L Gigabit Network Connection',
    driver: 'e1000e',
    iommuGroup: '3',
    bridge: false,
    attachment: null,
  });
  t.like(devs.find((d) => d.bdf === '0000:00:01.0')!, { bridge: true });
});

test("list --iommu adds each device's IOMMU group after its lspci lines", async (t) => {
  const r = await runCli(['list', '--iommu', '-s', '01:', '--sysfs-root', fake.root, '--pci-ids', ids]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout.match(/\tIOMMU group: 4\n/g)?.length, 2);
});

test('list on this machine prints what lspci -nn -D -k prints (read-only)', async (t) => {
  const lspci = ensureLspci();
  const theirs = execFileSync(lspci, ['-nn', '-D', '-k'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const r = await runCli(['list']);
  t.is(r.code, 0, r.stderr);
  compareLines(t, r.stdout, theirs);
});
