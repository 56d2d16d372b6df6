// Concurrent attaches in separate processes share one state file and lose no record (the state lock).

import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import test from 'ava';
import { buildFakeSysfs, FakeKernel, nicFleet, runCli } from '../helpers/fake-sysfs.js';

const CHILD = join(dirname(fileURLToPath(import.meta.url)), '..', 'helpers', 'attach-child.js');
const N = 8;

function runChild(args: string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [CHILD, ...args], { env: { PATH: process.env.PATH ?? '', RAWPCI_LOG: 'silent' } });
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      out += d;
    });
    p.on('close', (code) => resolve({ code, out }));
  });
}

test(`${N} attaches run in parallel processes all succeed and the state file keeps all ${N} records`, async (t) => {
  const devices = nicFleet(N);
  const fake = buildFakeSysfs(devices);
  const dir = mkdtempSync(join(tmpdir(), 'rawpci-state-'));
  const state = join(dir, 'attachments.json');
  const runs = await Promise.all(devices.map((d) => runChild([fake.root, state, String(N), d.bdf])));
  for (const r of runs) t.is(r.code, 0, r.out);
  const records = JSON.parse(readFileSync(state, 'utf8')).attachments as { bdf: string }[];
  t.log(`${records.length} of ${N} records kept`);
  t.deepEqual(records.map((a) => a.bdf).sort(), devices.map((d) => d.bdf).sort());
  const kernel = new FakeKernel(fake);
  for (const d of devices) t.is(kernel.driverOf(d.bdf), 'vfio-pci');
  // No lock directory or temporary file is left behind.
  t.deepEqual(readdirSync(dir), ['attachments.json']);
  fake.remove();
});

test('a lock left behind by a crashed rawpci is taken over once stale, and the attach goes ahead', async (t) => {
  const fake = buildFakeSysfs(nicFleet(1));
  const kernel = new FakeKernel(fake);
  const dir = mkdtempSync(join(tmpdir(), 'rawpci-state-'));
  const state = join(dir, 'attachments.json');
  mkdirSync(`${state}.lock`);
  const old = new Date(Date.now() - 120_000);
  utimesSync(`${state}.lock`, old, old);
  const r = await runCli(['attach', '02:00.0', '--sysfs-root', fake.root, '--state', state], { makeWriter: () => kernel });
  t.is(r.code, 0, r.stderr);
  t.is(JSON.parse(readFileSync(state, 'utf8')).attachments.length, 1);
  t.deepEqual(readdirSync(dir), ['attachments.json']);
  fake.remove();
});
