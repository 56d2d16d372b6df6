// attach / detach / status on fake sysfs trees whose writable files behave as the kernel's (never the real /sys).

import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { buildFakeSysfs, FakeKernel, runCli, standardDevices } from '../helpers/fake-sysfs.js';

function setup() {
  const fake = buildFakeSysfs(standardDevices());
  const kernel = new FakeKernel(fake);
  const dir = mkdtempSync(join(tmpdir(), 'rawpci-state-'));
  const state = join(dir, 'attachments.json');
  const run = (...args: string[]) => runCli([...args, '--sysfs-root', fake.root, '--state', state], { makeWriter: () => kernel });
  return { fake, kernel, state, dir, run };
}

test('attach --dry-run prints the unbind, driver_override and drivers_probe writes and changes nothing', async (t) => {
  const { fake, kernel, state, run } = setup();
  const r = await run('attach', '0000:00:03.0', '--dry-run');
  t.is(r.code, 0, r.stderr);
  const dev = fake.dev('0000:00:03.0');
  t.true(r.stdout.includes(`echo '0000:00:03.0' > ${dev}/driver/unbind\n`));
  t.true(r.stdout.includes(`echo 'vfio-pci' > ${dev}/driver_override\n`));
  t.true(r.stdout.includes(`echo '0000:00:03.0' > ${fake.root}/bus/pci/drivers_probe\n`));
  t.is(kernel.log.length, 0);
  t.is(kernel.driverOf('0000:00:03.0'), 'e1000e');
  t.false(existsSync(state));
  fake.remove();
});

test('attach binds the device to vfio-pci through driver_override and records the original driver and guest address', async (t) => {
  const { fake, kernel, state, run } = setup();
  const r = await run('attach', '00:03.0@01:05.0');
  t.is(r.code, 0, r.stderr);
  t.is(kernel.driverOf('0000:00:03.0'), 'vfio-pci');
  t.is(kernel.override('0000:00:03.0'), 'vfio-pci');
  t.deepEqual(
    kernel.log.map((w) => w.path.slice(fake.root.length)),
    ['/bus/pci/devices/0000:00:03.0/driver/unbind', '/bus/pci/devices/0000:00:03.0/driver_override', '/bus/pci/drivers_probe'],
  );
  const s = JSON.parse(readFileSync(state, 'utf8'));
  t.like(s.attachments[0], {
    bdf: '0000:00:03.0',
    host: 'sysfs',
    sysfsRoot: fake.root,
    guest: '01:05.0',
    originalDriver: 'e1000e',
    driver: 'vfio-pci',
    iommuGroup: '3',
  });
  fake.remove();
});

test('attaching an already attached device is a no-op that says so', async (t) => {
  const { fake, kernel, run } = setup();
  t.is((await run('attach', '00:03.0')).code, 0);
  const before = kernel.log.length;
  const r = await run('attach', '00:03.0');
  t.is(r.code, 0, r.stderr);
  t.regex(r.stdout, /already attached/);
  t.is(kernel.log.length, before);
  fake.remove();
});

test('detach unbinds vfio-pci, clears driver_override, rebinds the recorded driver and forgets the attachment', async (t) => {
  const { fake, kernel, state, run } = setup();
  t.is((await run('attach', '00:03.0')).code, 0);
  const r = await run('detach', '00:03.0');
  t.is(r.code, 0, r.stderr);
  t.is(kernel.driverOf('0000:00:03.0'), 'e1000e');
  t.is(kernel.override('0000:00:03.0'), undefined);
  t.deepEqual(JSON.parse(readFileSync(state, 'utf8')).attachments, []);
  t.regex(r.stdout, /detached 0000:00:03\.0: now bound to e1000e/);
  fake.remove();
});

test('detach --dry-run prints the writes and leaves device and record alone', async (t) => {
  const { fake, kernel, state, run } = setup();
  t.is((await run('attach', '00:03.0')).code, 0);
  const before = kernel.log.length;
  const r = await run('detach', '00:03.0', '--dry-run');
  t.is(r.code, 0, r.stderr);
  t.true(r.stdout.includes(`echo '' > ${fake.dev('0000:00:03.0')}/driver_override\n`));
  t.true(r.stdout.includes(`echo '0000:00:03.0' > ${fake.root}/bus/pci/drivers/e1000e/bind\n`));
  t.is(kernel.log.length, before);
  t.is(kernel.driverOf('0000:00:03.0'), 'vfio-pci');
  t.is(JSON.parse(readFileSync(state, 'utf8')).attachments.length, 1);
  fake.remove();
});

test('attach refuses a device whose IOMMU group has a member still on a host driver, naming it and the fix', async (t) => {
  const { fake, kernel, run } = setup();
  const r = await run('attach', '01:00.0');
  t.is(r.code, 1);
  t.regex(
    r.stderr,
    /0000:01:00\.0 is in IOMMU group 4 with 0000:01:00\.1 \(bound to snd_hda_intel\).*attach them together \(rawpci attach --group 0000:01:00\.0, or rawpci attach 0000:01:00\.0 0000:01:00\.1\)/,
  );
  t.is(kernel.log.length, 0);
  t.is(kernel.driverOf('0000:01:00.0'), 'nouveau');
  fake.remove();
});

test('attaching every member of a group in turn works once the others are on vfio-pci or unbound', async (t) => {
  const { fake, kernel, run } = setup();
  // 00:1b.1 is unbound, so 00:1b.0 (same group 2) can go straight away.
  t.is((await run('attach', '00:1b.0')).code, 0);
  t.is(kernel.driverOf('0000:00:1b.0'), 'vfio-pci');
  t.is((await run('attach', '00:1b.1')).code, 0);
  t.is(kernel.driverOf('0000:00:1b.1'), 'vfio-pci');
  fake.remove();
});

for (const bdf of ['00:00.0', '00:01.0']) {
  test(`attach refuses the bridge ${bdf}`, async (t) => {
    const { fake, kernel, run } = setup();
    const r = await run('attach', bdf);
    t.is(r.code, 1);
    t.regex(r.stderr, /is a bridge.*attach the endpoint behind it instead/);
    t.is(kernel.log.length, 0);
    fake.remove();
  });
}

test('attach of a missing device fails naming where it looked', async (t) => {
  const { fake, run } = setup();
  const r = await run('attach', '00:09.0');
  t.is(r.code, 1);
  t.regex(r.stderr, /no PCI device at 0000:00:09\.0 in sysfs at .*rawpci list/);
  fake.remove();
});

test('attach with a malformed host@guest address is a usage error', async (t) => {
  const { fake, run } = setup();
  const r = await run('attach', '00:03.0@zz');
  t.is(r.code, 2);
  t.regex(r.stderr, /'zz' is not a guest PCI address/);
  fake.remove();
});

test('attach fails with the modprobe fix when vfio-pci is not loaded', async (t) => {
  const fake = buildFakeSysfs(standardDevices(), []);
  const kernel = new FakeKernel(fake);
  const state = join(mkdtempSync(join(tmpdir(), 'rawpci-state-')), 's.json');
  const r = await runCli(['attach', '00:03.0', '--sysfs-root', fake.root, '--state', state], { makeWriter: () => kernel });
  t.is(r.code, 1);
  t.regex(r.stderr, /driver vfio-pci is not loaded.*modprobe vfio-pci/);
  fake.remove();
});

test('detach of a device with no record fails and points at status', async (t) => {
  const { fake, run } = setup();
  const r = await run('detach', '00:03.0');
  t.is(r.code, 1);
  t.regex(r.stderr, /no attachment of 0000:00:03\.0 is recorded.*rawpci status/);
  fake.remove();
});

test('status shows each attachment and whether the device is still bound as recorded', async (t) => {
  const { fake, kernel, state, run } = setup();
  t.is((await run('attach', '00:03.0', '--guest', '01:05.0')).code, 0);
  const ok = await runCli(['status', '--json', '--state', state]);
  t.is(ok.code, 0, ok.stderr);
  t.like(JSON.parse(ok.stdout).attachments[0], { bdf: '0000:00:03.0', guest: '01:05.0', boundTo: 'vfio-pci', asRecorded: true });
  const table = await runCli(['status', '--state', state]);
  t.regex(table.stdout, /0000:00:03\.0.*01:05\.0.*e1000e.*vfio-pci.*yes/);
  // Someone rebinds it behind rawpci's back: status notices and exits 1.
  kernel.write(`${fake.dev('0000:00:03.0')}/driver/unbind`, '0000:00:03.0');
  const bad = await runCli(['status', '--json', '--state', state]);
  t.is(bad.code, 1);
  t.like(JSON.parse(bad.stdout).attachments[0], { boundTo: null, asRecorded: false });
  fake.remove();
});

test('the state file is replaced atomically: valid JSON after every change and no temporary file left behind', async (t) => {
  const { fake, state, dir, run } = setup();
  for (const args of [
    ['attach', '00:03.0'],
    ['attach', '00:1f.3'],
    ['detach', '00:03.0'],
  ]) {
    t.is((await run(...args)).code, 0);
    t.notThrows(() => JSON.parse(readFileSync(state, 'utf8')));
    t.deepEqual(readdirSync(dir), ['attachments.json']);
  }
  t.deepEqual(
    JSON.parse(readFileSync(state, 'utf8')).attachments.map((a: { bdf: string }) => a.bdf),
    ['0000:00:1f.3'],
  );
  fake.remove();
});

test('a corrupt state file stops attach with a message naming the file and the fix', async (t) => {
  const { fake, state, run } = setup();
  const { writeFileSync } = await import('node:fs');
  writeFileSync(state, '{not json');
  const r = await run('attach', '00:03.0');
  t.is(r.code, 1);
  t.regex(r.stderr, /state file .* is not valid JSON.*repair it/);
  fake.remove();
});
