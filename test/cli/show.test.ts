// rawpci show decodes a device as lspci -vv does (header, BARs, ROM, capabilities) and dumps config like -x/-xxx/-xxxx.

import test from 'ava';
import { buildFakeSysfs, compareLines, lspciOnTree, runCli, standardDevices, writeFixtureIds } from '../helpers/fake-sysfs.js';

const fake = buildFakeSysfs(standardDevices());
const ids = writeFixtureIds();
test.after.always(() => fake.remove());

for (const d of standardDevices()) {
  test(`show ${d.bdf} prints what lspci -vv -nn -D -k prints for it`, async (t) => {
    const r = await runCli(['show', d.bdf, '--sysfs-root', fake.root, '--pci-ids', ids]);
    t.is(r.code, 0, r.stderr);
    compareLines(t, r.stdout, lspciOnTree(fake.root, ids, ['-vv', '-nn', '-D', '-k', '-s', d.bdf]));
  });
}

for (const [flag, lspciFlag] of [
  ['-x', '-x'],
  ['-xxx', '-xxx'],
  ['-xxxx', '-xxxx'],
] as const) {
  test(`show ${flag} appends the hex dump lspci ${lspciFlag} prints`, async (t) => {
    const r = await runCli(['show', flag, '0000:00:03.0', '--sysfs-root', fake.root, '--pci-ids', ids]);
    t.is(r.code, 0, r.stderr);
    compareLines(t, r.stdout, lspciOnTree(fake.root, ids, ['-vv', lspciFlag, '-nn', '-D', '-k', '-s', '00:03.0']));
  });
}

test('show --json decodes BARs (I/O, 32-bit, 64-bit prefetchable), the ROM and MSI-X table location', async (t) => {
  const r = await runCli(['show', '--json', '01:00.0', '--sysfs-root', fake.root, '--pci-ids', ids, '--state', '/nonexistent-dir/s.json']);
  t.is(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  t.deepEqual(
    j.bars.map((b: { index: number; kind: string; prefetchable: boolean; address: string; size: string }) => [
      b.index,
      b.kind,
      b.prefetchable,
      b.address,
      b.size,
    ]),
    [
      [0, 'mem32', false, '0xfd000000', String(0x1000000)],
      [1, 'mem64', true, '0x800000000', String(0x10000000)],
      [3, 'mem64', true, '0x810000000', String(0x2000000)],
      [5, 'io', false, '0x1000', '128'],
    ],
  );
  t.like(j.rom, { address: '0xfe000000', enabled: true, size: String(0x80000) });
  const nic = JSON.parse(
    (await runCli(['show', '--json', '00:03.0', '--sysfs-root', fake.root, '--pci-ids', ids, '--state', '/nonexistent-dir/s.json'])).stdout,
  );
  const msix = nic.capabilities.find((c: { id: number }) => c.id === 0x11);
  t.like(msix.fields, { enabled: true, tableSize: 5, tableBar: 3, tableOffset: 0, pbaBar: 3, pbaOffset: 0x2000 });
  t.deepEqual(
    nic.capabilities.map((c: { offset: number; extended: boolean }) => [c.offset, c.extended]),
    [
      [0x40, false],
      [0x48, false],
      [0x58, false],
      [0x6c, false],
      [0x100, true],
      [0x10c, true],
    ],
  );
});

test('show of an address with no device fails (exit 1) and says how to find devices', async (t) => {
  const r = await runCli(['show', '0000:07:00.0', '--sysfs-root', fake.root, '--pci-ids', ids]);
  t.is(r.code, 1);
  t.regex(r.stderr, /no PCI device at 0000:07:00\.0.*rawpci list/);
});

test('show of something that is not a PCI address is a usage error (exit 2)', async (t) => {
  const r = await runCli(['show', 'eth0', '--sysfs-root', fake.root, '--pci-ids', ids]);
  t.is(r.code, 2);
  t.regex(r.stderr, /'eth0' is not a PCI address: write DDDD:BB:DD\.F/);
});

test('show on every device of this machine prints what lspci -vv -nn -D -k prints (read-only)', async (t) => {
  const { execFileSync } = await import('node:child_process');
  const { ensureLspci } = await import('../helpers/fake-sysfs.js');
  const lspci = ensureLspci();
  const slots = execFileSync(lspci, ['-D', '-n'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' ')[0]!);
  t.true(slots.length > 0);
  for (const s of slots) {
    const r = await runCli(['show', s]);
    t.is(r.code, 0, r.stderr);
    compareLines(t, r.stdout, execFileSync(lspci, ['-vv', '-nn', '-D', '-k', '-s', s], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
  }
  t.log(`${slots.length} devices compared`);
});
