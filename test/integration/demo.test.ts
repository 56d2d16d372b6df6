// `rawpci demo` (the README's first command) passes every step on the simulated host and reports counts and latencies.

import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';

const bin = fileURLToPath(new URL('../../../bin/rawpci.js', import.meta.url));
const run = promisify(execFile);

test('rawpci demo --json passes every step and counts every operation it used', async (t) => {
  const { stdout } = await run(process.execPath, [bin, 'demo', '--json'], { timeout: 60_000 });
  const report = JSON.parse(stdout) as {
    ok: boolean;
    steps: { name: string; ok: boolean; detail: string }[];
    opCounts: Record<string, number>;
    latencyUs: Record<string, { p50: number; p99: number }>;
  };
  t.true(
    report.ok,
    report.steps
      .filter((s) => !s.ok)
      .map((s) => `${s.name}: ${s.detail}`)
      .join('\n'),
  );
  t.true(report.steps.length >= 18);
  for (const op of [
    'OPEN_DEVICE',
    'GET_REGION_INFO',
    'MMIO_READ',
    'MMIO_WRITE',
    'PIO_READ',
    'PCICFG_WRITE',
    'POWER_STATE_CHANGE',
    'MAP_REGION',
    'GET_IRQ',
    'ACK_IRQ',
    'CONTIG_MEM_INFO',
    'CLOSE_DEVICE',
  ]) {
    t.true((report.opCounts[op] ?? 0) > 0, op);
  }
  t.true(report.latencyUs.MMIO_READ!.p99 >= report.latencyUs.MMIO_READ!.p50);
});

test('rawpci demo with an inventory lacking edu is refused (exit 1) before ring 0 starts, naming the missing address', async (t) => {
  const { writeFileSync, mkdtempSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { tmpdir } = await import('node:os');
  const dir = mkdtempSync(join(tmpdir(), 'rawpci-demo-'));
  const inv = join(dir, 'inv.json');
  writeFileSync(inv, JSON.stringify({ devices: [{ bdf: '0000:00:05.0', model: 'rawpci-testdev', driver: null, iommuGroup: 1, irq: 10 }] }));
  const err = await t.throwsAsync(run(process.execPath, [bin, 'demo', '--inventory', inv], { timeout: 60_000 }));
  t.is((err as { code?: number }).code, 1);
  t.regex((err as { stderr?: string }).stderr ?? '', /no PCI device at 0000:00:04\.0 \(the default for --device\) in the simulated host \(.*inv\.json\)/);
  t.regex((err as { stderr?: string }).stderr ?? '', /the demo drives only edu 1234:11e8/);
  t.notRegex((err as { stdout?: string }).stdout ?? '', /start ring 0/, 'ring 0 was not started');
});
