// Smoke test of the benchmark: a tiny run produces the JSON report the issue specifies (shape only, never timed assertions).
import test from 'ava';
import { type BenchOptions, runBench } from '../../src/bench/run.js';

const TINY: BenchOptions = { timeMs: 20, warmupMs: 10, throughputMs: 50, idleMs: 100 };

test('a tiny bench run reports every required measurement with numeric p50, p99 and ops/s', async (t) => {
  const report = JSON.parse(JSON.stringify(await runBench(TINY))) as Record<string, unknown>;
  const results = report.results as Record<string, unknown>[];
  t.true(Array.isArray(results));
  for (const name of [
    'channel-sync-pio',
    'channel-sync-mmio',
    'cross-process-sync-pio',
    'pool-run-pio',
    'in-thread-pio',
    'raw-sab-pingpong',
    'raw-sab-batch-32',
    'raw-sab-frame',
    'memcpy-64k',
    'channel-sync-varied',
    'irq-delivery',
    'irq-delivery-sleep',
    'map-region-read',
    'channel-batch-32',
    'trapped-mmio-varied',
  ]) {
    t.truthy(
      results.find((r) => r.name === name),
      `missing ${name}`,
    );
  }
  for (const r of results) {
    const keys = Object.keys(r).sort();
    t.deepEqual(keys, keys.includes('bytes_per_s') ? ['bytes_per_s', 'name', 'ops_per_s', 'p50_us', 'p99_us'] : ['name', 'ops_per_s', 'p50_us', 'p99_us']);
    for (const k of keys.filter((x) => x !== 'name')) {
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
  for (const k of ['varied_over_raw_pingpong_p50', 'irq_delivery_over_raw_pingpong_p50', 'dma_64k_over_memcpy_bytes_per_s'])
    t.true(Number.isFinite(ratios[k]), k);
  for (const n of ['dma-64k', 'memcpy-64k']) t.true((results.find((r) => r.name === n)?.bytes_per_s as number) > 0, `${n}.bytes_per_s`);
});
