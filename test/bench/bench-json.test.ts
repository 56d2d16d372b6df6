// Smoke test of the benchmark: a tiny run produces the JSON report the issue specifies (shape only, never timed assertions).
import test from 'ava';
import { type BenchOptions, runBench } from '../../src/bench/run.js';

const TINY: BenchOptions = { timeMs: 20, warmupMs: 10, throughputMs: 50, idleMs: 100 };

test('a tiny bench run reports every required measurement with numeric p50, p99 and ops/s', async (t) => {
  const report = JSON.parse(JSON.stringify(await runBench(TINY))) as Record<string, unknown>;
  const results = report.results as Record<string, unknown>[];
  t.true(Array.isArray(results));
  for (const name of ['channel-sync-pio', 'channel-sync-mmio', 'cross-process-sync-pio', 'pool-run-pio', 'in-thread-pio', 'raw-sab-pingpong']) {
    t.truthy(
      results.find((r) => r.name === name),
      `missing ${name}`,
    );
  }
  for (const r of results) {
    t.deepEqual(Object.keys(r).sort(), ['name', 'ops_per_s', 'p50_us', 'p99_us']);
    for (const k of ['p50_us', 'p99_us', 'ops_per_s']) {
      t.is(typeof r[k], 'number', `${r.name as string}.${k}`);
      t.true(Number.isFinite(r[k] as number) && (r[k] as number) >= 0, `${r.name as string}.${k} = ${r[k]}`);
    }
  }
  t.is(typeof report.idle_worker_cpu_pct, 'number');
  t.like(report.machine as object, { node: process.version });
  const ratios = report.ratios as Record<string, number>;
  t.is(typeof ratios.pool_run_over_channel_p50_pio, 'number');
  t.is(typeof ratios.channel_over_raw_pingpong_p50_pio, 'number');
  t.is(typeof ratios.cross_process_over_channel_p50_pio, 'number');
});
