// attach and detach of whole IOMMU groups and of several functions at once, with the set's viability check and rollback, on fake sysfs trees.

import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import type { SysfsWriter } from '../../shared/sysfs/writer.js';
import { buildFakeSysfs, type FakeDevice, FakeKernel, runCli, standardDevices } from '../helpers/fake-sysfs.js';

function setup(devices: FakeDevice[] = standardDevices()) {
  const fake = buildFakeSysfs(devices);
  const kernel = new FakeKernel(fake);
  const state = join(mkdtempSync(join(tmpdir(), 'rawpci-state-')), 'attachments.json');
  let writer: SysfsWriter = kernel;
  const run = (...args: string[]) => runCli([...args, '--sysfs-root', fake.root, '--state', state], { makeWriter: () => writer });
  const records = (): { bdf: string; originalDriver: string | null; persistent: boolean }[] =>
    existsSync(state) ? JSON.parse(readFileSync(state, 'utf8')).attachments : [];
  return { fake, kernel, state, run, records, useWriter: (w: SysfsWriter) => (writer = w) };
}

/** The standard host with the PCIe root port 00:01.0 in the GPU's group 4, as on boards without ACS. */
function bridgeInGpuGroup(): FakeDevice[] {
  return standardDevices().map((d) => (d.bdf === '0000:00:01.0' ? { ...d, iommuGroup: 4 } : d));
}

test('attach --group binds a GPU and its HDMI audio function to vfio-pci in one command and records both', async (t) => {
  const { fake, kernel, run, records } = setup();
  const r = await run('attach', '--group', '01:00.0');
  t.is(r.code, 0, r.stderr);
  t.is(kernel.driverOf('0000:01:00.0'), 'vfio-pci');
  t.is(kernel.driverOf('0000:01:00.1'), 'vfio-pci');
  t.regex(r.stdout, /attached 0000:01:00\.0 to vfio-pci \(was nouveau\)\nattached 0000:01:00\.1 to vfio-pci \(was snd_hda_intel\)/);
  t.deepEqual(
    records().map((a) => [a.bdf, a.originalDriver]),
    [
      ['0000:01:00.0', 'nouveau'],
      ['0000:01:00.1', 'snd_hda_intel'],
    ],
  );
  fake.remove();
});

test('attach of several devices checks viability for the set: the GPU and its audio function named together attach', async (t) => {
  const { fake, kernel, run, records } = setup();
  const r = await run('attach', '01:00.1', '0000:01:00.0');
  t.is(r.code, 0, r.stderr);
  t.is(kernel.driverOf('0000:01:00.0'), 'vfio-pci');
  t.is(kernel.driverOf('0000:01:00.1'), 'vfio-pci');
  t.is(records().length, 2);
  fake.remove();
});

test('attach --group leaves the bridges of the group on pcieport', async (t) => {
  const { fake, kernel, run, records } = setup(bridgeInGpuGroup());
  const r = await run('attach', '--group', '01:00.1');
  t.is(r.code, 0, r.stderr);
  t.is(kernel.driverOf('0000:00:01.0'), 'pcieport');
  t.deepEqual(
    records().map((a) => a.bdf),
    ['0000:01:00.0', '0000:01:00.1'],
  );
  fake.remove();
});

test('attach --group --dry-run prints the writes for every member and makes none', async (t) => {
  const { fake, kernel, state, run } = setup();
  const r = await run('attach', '--group', '01:00.0', '--dry-run');
  t.is(r.code, 0, r.stderr);
  t.true(r.stdout.includes(`echo 'vfio-pci' > ${fake.dev('0000:01:00.0')}/driver_override\n`));
  t.true(r.stdout.includes(`echo 'vfio-pci' > ${fake.dev('0000:01:00.1')}/driver_override\n`));
  t.is(kernel.log.length, 0);
  t.false(existsSync(state));
  fake.remove();
});

test('a probe that fails on one member rolls the set back: original drivers bound, no driver_override left, nothing recorded', async (t) => {
  const { fake, kernel, run, records } = setup();
  kernel.refuse('0000:01:00.1', 'vfio-pci');
  const r = await run('attach', '--group', '01:00.0');
  t.is(r.code, 1);
  t.regex(r.stderr, /binding 0000:01:00\.1 to vfio-pci failed: after probing, 0000:01:00\.1 is not bound to any driver instead of vfio-pci/);
  t.regex(r.stderr, /rolled back 0000:01:00\.1 \(snd_hda_intel\), 0000:01:00\.0 \(nouveau\); nothing was recorded/);
  t.is(kernel.driverOf('0000:01:00.0'), 'nouveau');
  t.is(kernel.driverOf('0000:01:00.1'), 'snd_hda_intel');
  t.is(kernel.override('0000:01:00.0'), undefined);
  t.is(kernel.override('0000:01:00.1'), undefined);
  t.deepEqual(records(), []);
  fake.remove();
});

test('a sysfs write the kernel refuses rolls the set back as well', async (t) => {
  const { fake, kernel, run, records, useWriter } = setup();
  useWriter({
    dryRun: false,
    write(path, value) {
      if (path.endsWith('drivers_probe') && value === '0000:01:00.1') throw new Error(`writing '${value}' to ${path} failed (EIO): see dmesg`);
      kernel.write(path, value);
    },
  });
  const r = await run('attach', '01:00.0', '01:00.1');
  t.is(r.code, 1);
  t.regex(r.stderr, /binding 0000:01:00\.1 to vfio-pci failed: writing '0000:01:00\.1' to .*drivers_probe failed \(EIO\)/);
  t.is(kernel.driverOf('0000:01:00.0'), 'nouveau');
  t.is(kernel.driverOf('0000:01:00.1'), 'snd_hda_intel');
  t.is(kernel.override('0000:01:00.1'), undefined);
  t.deepEqual(records(), []);
  fake.remove();
});

test('rollback leaves a member that was unbound unbound (no probe hands it to a driver it never had)', async (t) => {
  const { fake, kernel, run, records } = setup();
  kernel.refuse('0000:00:1b.1', 'vfio-pci');
  const r = await run('attach', '--group', '00:1b.0');
  t.is(r.code, 1);
  t.is(kernel.driverOf('0000:00:1b.0'), 'snd_hda_intel');
  t.is(kernel.driverOf('0000:00:1b.1'), undefined);
  t.is(kernel.override('0000:00:1b.1'), undefined);
  // Its one drivers_probe is the bind's; the rollback bound nothing.
  t.is(kernel.log.filter((w) => w.path.endsWith('drivers_probe') && w.value === '0000:00:1b.1').length, 1);
  t.deepEqual(records(), []);
  fake.remove();
});

test('--guest with several devices is a usage error that says to write host@guest for each', async (t) => {
  const { fake, run } = setup();
  const r = await run('attach', '01:00.0', '01:00.1', '--guest', '01:05.0');
  t.is(r.code, 2);
  t.regex(r.stderr, /--guest names the guest address of one device.*host@guest for each/);
  fake.remove();
});

test('host@guest is recorded per device when several are attached', async (t) => {
  const { fake, run, state } = setup();
  t.is((await run('attach', '01:00.0@01:05.0', '01:00.1@01:05.1')).code, 0);
  const s = JSON.parse(readFileSync(state, 'utf8')).attachments as { bdf: string; guest: string }[];
  t.deepEqual(
    s.map((a) => [a.bdf, a.guest]),
    [
      ['0000:01:00.0', '01:05.0'],
      ['0000:01:00.1', '01:05.1'],
    ],
  );
  fake.remove();
});

test("libvirt's node device names (pci_0000_00_03_0) are accepted by attach, show and detach", async (t) => {
  const { fake, kernel, run } = setup();
  t.is((await run('attach', 'pci_0000_00_03_0@01:05.0')).code, 0);
  t.is(kernel.driverOf('0000:00:03.0'), 'vfio-pci');
  const shown = await runCli(['show', 'pci_0000_00_03_0', '-n', '-D', '--sysfs-root', fake.root]);
  t.is(shown.code, 0, shown.stderr);
  t.regex(shown.stdout, /^0000:00:03\.0 /);
  const d = await run('detach', 'PCI_0000_00_03_0');
  t.is(d.code, 0, d.stderr);
  t.is(kernel.driverOf('0000:00:03.0'), 'e1000e');
  fake.remove();
});

test('detach --group gives every recorded member of the group back to its driver', async (t) => {
  const { fake, kernel, run, records } = setup();
  t.is((await run('attach', '--group', '01:00.0')).code, 0);
  const r = await run('detach', '--group', '01:00.1');
  t.is(r.code, 0, r.stderr);
  t.is(kernel.driverOf('0000:01:00.0'), 'nouveau');
  t.is(kernel.driverOf('0000:01:00.1'), 'snd_hda_intel');
  t.deepEqual(records(), []);
  fake.remove();
});
