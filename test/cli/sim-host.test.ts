// --host sim: the simulated host's inventory is listed, shown and attached the same way as a sysfs host.

import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import test from 'ava';
import { SimPciSource } from '../../src/sysfs/sim-source.js';
import { lspciOnTree, runCli, writeFixtureIds } from '../helpers/fake-sysfs.js';

const ids = writeFixtureIds();

/** Dumps the sim host's records into a sysfs-shaped tree so lspci can read the very same bytes. */
async function dumpSimTree(): Promise<string> {
  const root = mkdtempSync(join(tmpdir(), 'rawpci-simtree-'));
  mkdirSync(join(root, 'bus/pci/devices'), { recursive: true });
  for (const r of await new SimPciSource().list()) {
    const dir = join(root, 'devices/pci0000:00', r.bdf.toString());
    mkdirSync(dir, { recursive: true });
    const h = (v: number, w: number) => `0x${v.toString(16).padStart(w, '0')}\n`;
    writeFileSync(join(dir, 'vendor'), h(r.vendor, 4));
    writeFileSync(join(dir, 'device'), h(r.device, 4));
    writeFileSync(join(dir, 'class'), h(r.classCode, 6));
    writeFileSync(join(dir, 'irq'), `${r.irq}\n`);
    writeFileSync(join(dir, 'config'), r.config);
    const hx = (v: bigint) => `0x${v.toString(16).padStart(16, '0')}`;
    writeFileSync(join(dir, 'resource'), r.resources!.map((x) => `${hx(x.start)} ${hx(x.end)} ${hx(x.flags)}\n`).join(''));
    symlinkSync(relative(join(root, 'bus/pci/devices'), dir), join(root, 'bus/pci/devices', r.bdf.toString()));
    if (r.driver) {
      mkdirSync(join(root, 'bus/pci/drivers', r.driver), { recursive: true });
      symlinkSync(relative(dir, join(root, 'bus/pci/drivers', r.driver)), join(dir, 'driver'));
    }
    const g = join(root, 'kernel/iommu_groups', r.iommuGroup!);
    mkdirSync(g, { recursive: true });
    symlinkSync(relative(dir, g), join(dir, 'iommu_group'));
  }
  return root;
}

test('list --host sim prints what lspci prints for the same devices laid out as sysfs', async (t) => {
  const root = await dumpSimTree();
  const r = await runCli(['list', '--host', 'sim', '--pci-ids', ids]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, lspciOnTree(root, ids, ['-nn', '-D', '-k']));
  t.regex(r.stdout, /^0000:00:04\.0 .*\[1234:11e8\]/m);
  rmSync(root, { recursive: true, force: true });
});

test('show --host sim decodes the edu device as lspci -vv does', async (t) => {
  const root = await dumpSimTree();
  const r = await runCli(['show', '--host', 'sim', '00:04.0', '--pci-ids', ids]);
  t.is(r.code, 0, r.stderr);
  t.is(r.stdout, lspciOnTree(root, ids, ['-vv', '-nn', '-D', '-k', '-s', '00:04.0']));
  rmSync(root, { recursive: true, force: true });
});

test("attach --host sim records the device for rawpci's ring 0 with its guest address; status and detach follow the record", async (t) => {
  const state = join(mkdtempSync(join(tmpdir(), 'rawpci-state-')), 'a.json');
  const a = await runCli(['attach', '--host', 'sim', '00:04.0@00:06.0', '--state', state]);
  t.is(a.code, 0, a.stderr);
  t.like(JSON.parse(readFileSync(state, 'utf8')).attachments[0], {
    bdf: '0000:00:04.0',
    host: 'sim',
    guest: '00:06.0',
    originalDriver: 'edu',
    driver: 'rawpci',
  });
  const s = await runCli(['status', '--json', '--state', state]);
  t.is(s.code, 0);
  t.like(JSON.parse(s.stdout).attachments[0], {
    host: 'sim',
    asRecorded: true,
  });
  const d = await runCli(['detach', '--host', 'sim', '00:04.0', '--state', state]);
  t.is(d.code, 0, d.stderr);
  t.deepEqual(JSON.parse(readFileSync(state, 'utf8')).attachments, []);
});

test('attach --host sim refuses the simulated host bridge', async (t) => {
  const state = join(mkdtempSync(join(tmpdir(), 'rawpci-state-')), 'a.json');
  const r = await runCli(['attach', '--host', 'sim', '00:00.0', '--state', state]);
  t.is(r.code, 1);
  t.regex(r.stderr, /is a bridge/);
});

test('--host sim with an inventory that does not exist fails naming the file', async (t) => {
  const r = await runCli(['list', '--host', 'sim', '--inventory', '/nonexistent/inv.json']);
  t.is(r.code, 1);
  t.regex(r.stderr, /\/nonexistent\/inv\.json/);
});
