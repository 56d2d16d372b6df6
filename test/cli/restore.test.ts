// Persistence: attachments are saved by default (--nosave opts out), `rawpci restore` re-applies them after a reboot, and the shipped systemd unit runs it at boot.

import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { buildFakeSysfs, FakeKernel, type FakeSysfs, runCli, standardDevices } from '../helpers/fake-sysfs.js';

const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function setup() {
  const fake = buildFakeSysfs(standardDevices());
  const kernel = new FakeKernel(fake);
  const state = join(mkdtempSync(join(tmpdir(), 'rawpci-state-')), 'attachments.json');
  const run = (...args: string[]) => runCli([...args, '--sysfs-root', fake.root, '--state', state], { makeWriter: () => kernel });
  const records = (): { bdf: string; persistent: boolean; id: string }[] => (existsSync(state) ? JSON.parse(readFileSync(state, 'utf8')).attachments : []);
  return { fake, kernel, state, run, records };
}

/** What a reboot does to a fake tree: no driver_override survives and every device is probed to its own driver again. */
function reboot(fake: FakeSysfs, kernel: FakeKernel): void {
  for (const d of fake.devices) {
    if (kernel.driverOf(d.bdf)) kernel.write(join(fake.dev(d.bdf), 'driver', 'unbind'), d.bdf);
    kernel.write(join(fake.dev(d.bdf), 'driver_override'), '\n');
    kernel.write(join(fake.root, 'bus/pci/drivers_probe'), d.bdf);
  }
}

test('attachments are saved for boot by default and --nosave records one that is not', async (t) => {
  const { fake, run, records, state } = setup();
  t.is((await run('attach', '00:03.0')).code, 0);
  const r = await run('attach', '00:1f.3', '--nosave');
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /not restored at boot: --nosave/);
  t.deepEqual(
    records().map((a) => [a.bdf, a.persistent, a.id]),
    [
      ['0000:00:03.0', true, '8086:10d3'],
      ['0000:00:1f.3', false, '1b36:11e8'],
    ],
  );
  const st = await runCli(['status', '--state', state]);
  t.regex(st.stdout, /0000:00:03\.0.*restored/);
  t.regex(st.stdout, /0000:00:1f\.3.*no \(--nosave\)/);
  fake.remove();
});

test('restore after a reboot binds the saved devices again, a whole IOMMU group together, and forgets the --nosave ones', async (t) => {
  const { fake, kernel, run, records } = setup();
  t.is((await run('attach', '--group', '01:00.0')).code, 0);
  t.is((await run('attach', '00:1f.3', '--nosave')).code, 0);
  reboot(fake, kernel);
  t.is(kernel.driverOf('0000:01:00.0'), 'nouveau');
  t.is(kernel.driverOf('0000:01:00.1'), 'snd_hda_intel');
  const r = await run('restore');
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /forgot 0000:00:1f\.3 \(attached with --nosave; that attachment has ended\)\nrestored 0000:01:00\.0\nrestored 0000:01:00\.1\n/);
  t.is(kernel.driverOf('0000:01:00.0'), 'vfio-pci');
  t.is(kernel.driverOf('0000:01:00.1'), 'vfio-pci');
  t.is(kernel.driverOf('0000:00:1f.3'), 'edu');
  t.deepEqual(
    records().map((a) => a.bdf),
    ['0000:01:00.0', '0000:01:00.1'],
  );
  // The original drivers stay recorded, so detach still gives the GPU back to nouveau.
  t.is((await run('detach', '--group', '01:00.0')).code, 0);
  t.is(kernel.driverOf('0000:01:00.0'), 'nouveau');
  fake.remove();
});

test('restore with nothing to do makes no write and says the devices are already attached', async (t) => {
  const { fake, kernel, run } = setup();
  t.is((await run('attach', '00:03.0')).code, 0);
  const before = kernel.log.length;
  const r = await run('restore');
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /already attached 0000:00:03\.0/);
  t.is(kernel.log.length, before);
  fake.remove();
});

test('restore refuses a BDF that now holds another device, leaves it alone and exits 1', async (t) => {
  const { fake, kernel, run, state } = setup();
  t.is((await run('attach', '00:03.0')).code, 0);
  reboot(fake, kernel);
  const s = JSON.parse(readFileSync(state, 'utf8'));
  s.attachments[0].id = '10de:1eb8';
  writeFileSync(state, JSON.stringify(s));
  const before = kernel.log.length;
  const r = await run('restore');
  t.is(r.code, 1);
  t.regex(r.stdout, /failed 0000:00:03\.0: 0000:00:03\.0 is now 8086:10d3, recorded as 10de:1eb8: the hardware changed/);
  t.is(kernel.log.length, before);
  t.is(kernel.driverOf('0000:00:03.0'), 'e1000e');
  fake.remove();
});

test('restore of a group whose bind fails rolls that group back and still restores the others', async (t) => {
  const { fake, kernel, run, records } = setup();
  t.is((await run('attach', '--group', '01:00.0')).code, 0);
  t.is((await run('attach', '00:03.0')).code, 0);
  reboot(fake, kernel);
  kernel.refuse('0000:01:00.1', 'vfio-pci');
  const r = await run('restore');
  t.is(r.code, 1);
  t.regex(r.stdout, /restored 0000:00:03\.0/);
  t.regex(r.stdout, /failed 0000:01:00\.0: binding 0000:01:00\.1 to vfio-pci failed/);
  t.is(kernel.driverOf('0000:00:03.0'), 'vfio-pci');
  t.is(kernel.driverOf('0000:01:00.0'), 'nouveau');
  t.is(kernel.driverOf('0000:01:00.1'), 'snd_hda_intel');
  // Failed records stay, to be tried again at the next boot.
  t.is(records().length, 3);
  fake.remove();
});

test('the shipped systemd unit runs `rawpci restore` once at boot, after vfio-pci is loaded and before libvirt starts', (t) => {
  const unit = readFileSync(join(REPO, 'contrib', 'rawpci-restore.service'), 'utf8');
  t.regex(unit, /^Type=oneshot$/m);
  t.regex(unit, /^ExecStartPre=-\/sbin\/modprobe vfio-pci$/m);
  t.regex(unit, /^ExecStart=.*rawpci restore$/m);
  t.regex(unit, /^Before=.*libvirtd\.service/m);
  t.regex(unit, /^WantedBy=multi-user\.target$/m);
});
