// `rawpci demo` cannot hurt a machine: it checks the IDs of every device it will drive, read-only, before ring 0 opens any.

import { execFile } from 'node:child_process';
import { lstatSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test, { type ExecutionContext } from 'ava';
import { buildFakeSysfs, type FakeDevice } from '../helpers/fake-sysfs.js';

const bin = fileURLToPath(new URL('../../../bin/rawpci.js', import.meta.url));

/** Exit code and output of one `rawpci` child process (never rejects). */
function rawpci(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { timeout: 60_000, env: { ...process.env, RAWPCI_LOG: 'silent' } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Every entry under `root`: file bytes (hex), symlink targets, directory names; what a write to the tree would change. */
function snapshot(root: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const p = join(dir, name);
      const rel = p.slice(root.length);
      const st = lstatSync(p);
      if (st.isSymbolicLink()) out[rel] = `-> ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[rel] = 'dir';
        walk(p);
      } else out[rel] = `${st.mode.toString(8)} ${readFileSync(p).toString('hex')}`;
    }
  };
  walk(root);
  return out;
}

/** A NIC (not edu) at the address the demo used to open blindly, bound to its host driver. */
const nicAt04: FakeDevice = {
  bdf: '0000:00:04.0',
  vendor: 0x8086,
  device: 0x10d3,
  classCode: 0x020000,
  bars: [{ kind: 'mem32', address: 0xfebc0000n, size: 0x20000n }],
  irq: 11,
  interruptPin: 1,
  driver: 'e1000e',
  defaultDriver: 'e1000e',
  iommuGroup: 3,
};

/**
 * Runs `rawpci demo --host vfio ...args --sysfs-root ROOT` over a fake sysfs tree holding
 * {@link nicAt04} (removed at the test's end). Returns the tree, its snapshot taken before the run
 * and the run's result.
 */
async function vfioDemoOnNic(t: ExecutionContext, args: string[]) {
  const fake = buildFakeSysfs([nicAt04]);
  t.teardown(() => fake.remove());
  const before = snapshot(fake.root);
  const r = await rawpci(['demo', '--host', 'vfio', ...args, '--sysfs-root', fake.root]);
  return { fake, before, r };
}

test('demo --host vfio refuses a non-edu function at --device (exit 1) naming its IDs and what it drives, and writes nothing to sysfs', async (t) => {
  const { fake, before, r } = await vfioDemoOnNic(t, ['--device', '0000:00:04.0']);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /0000:00:04\.0/);
  t.regex(r.stderr, /8086:10d3/);
  t.regex(r.stderr, /edu 1234:11e8/);
  t.regex(r.stderr, /rawpci-testdev 1234:5250/);
  t.notRegex(r.stdout, /start ring 0/, 'ring 0 was not started');
  t.deepEqual(snapshot(fake.root), before, 'the fake sysfs tree is byte-for-byte unchanged (no driver_override, unbind or drivers_probe)');
  t.is(readFileSync(join(fake.dev('0000:00:04.0'), 'driver_override'), 'utf8'), '(null)\n');
});

test('demo --host vfio refuses a --device address with no function there (exit 1) and writes nothing', async (t) => {
  const { fake, before, r } = await vfioDemoOnNic(t, ['--device', '0000:00:09.0']);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /no PCI device at 0000:00:09\.0/);
  t.regex(r.stderr, /edu 1234:11e8/);
  t.notRegex(r.stdout, /start ring 0/);
  t.deepEqual(snapshot(fake.root), before);
});

test('demo --host vfio without --device is a usage error (exit 2) that says how to find edu, and touches nothing', async (t) => {
  const { fake, before, r } = await vfioDemoOnNic(t, []);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /--device BDF/);
  t.regex(r.stderr, /rawpci list .*-d 1234:11e8/);
  t.notRegex(r.stdout, /start ring 0/);
  t.deepEqual(snapshot(fake.root), before);
});

test('demo --host vfio --guest without --testdev is a usage error (exit 2): the guest part drives the testdev too', async (t) => {
  const { fake, before, r } = await vfioDemoOnNic(t, ['--device', '0000:00:04.0', '--guest']);
  t.is(r.code, 2, r.stderr);
  t.regex(r.stderr, /--testdev BDF/);
  t.deepEqual(snapshot(fake.root), before);
});

test('demo on the sim host refuses the testdev given as --device (exit 1), naming its IDs and the devices it drives', async (t) => {
  const r = await rawpci(['demo', '--device', '0000:00:05.0']);
  t.is(r.code, 1, r.stderr);
  t.regex(r.stderr, /0000:00:05\.0/);
  t.regex(r.stderr, /is 1234:5250/);
  t.regex(r.stderr, /edu 1234:11e8/);
  t.regex(r.stderr, /rawpci-testdev 1234:5250/);
  t.notRegex(r.stdout, /start ring 0/, 'ring 0 was not started');
});

test('demo --json on the sim host checks both devices first and still passes every step', async (t) => {
  const r = await rawpci(['demo', '--json']);
  t.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout) as { ok: boolean; steps: { name: string; ok: boolean; detail: string }[] };
  t.true(report.ok);
  const first = report.steps[0]!;
  t.regex(first.name, /check the IDs/);
  t.true(first.ok);
  t.regex(first.detail, /edu 0000:00:04\.0 is 1234:11e8/);
  t.regex(first.detail, /rawpci-testdev 0000:00:05\.0 is 1234:5250/);
});

test('the ID check accepts edu in a sysfs tree, reading its vendor and device files without writing', async (t) => {
  const { checkDemoTargets, demoSource, demoTargets } = await import('../../src/demo/identity.js');
  const fake = buildFakeSysfs([{ bdf: '0000:00:07.0', vendor: 0x1234, device: 0x11e8, classCode: 0x00ff00, driver: 'uio_pci_generic', iommuGroup: 9 }]);
  t.teardown(() => fake.remove());
  const before = snapshot(fake.root);
  const opts = { host: 'vfio', device: '0000:00:07.0', sysfsRoot: fake.root };
  const detail = await checkDemoTargets(demoTargets(opts), await demoSource(opts), opts);
  t.is(detail, `edu 0000:00:07.0 is 1234:11e8 (read-only, from sysfs at ${fake.root})`);
  t.deepEqual(snapshot(fake.root), before);
});
