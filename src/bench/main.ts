// `npm run bench`: runs src/bench/run.ts and prints a table (or, with --json, one JSON object) of the measured round trips.

import { parseArgs } from 'node:util';
import Table from 'cli-table3';
import { type BenchReport, DESCRIPTIONS, FULL_OPTIONS, fmt, QUICK_OPTIONS, runBench } from './run.js';

const USAGE = `usage: npm run bench [-- --json | --markdown] [-- --quick]
  --json      print one JSON object ({ results: [{ name, p50_us, p99_us, ops_per_s }], idle_worker_cpu_pct, ratios, machine, ... })
  --markdown  print the results as a Markdown table with the machine line and the targets (the README's benchmark section)
  --quick  short budgets (about 10 s instead of about 60 s; noisier figures; no v86 guest, so no v86-guest-mmio)`;

/** Prints the human-readable report. */
export function printTable(r: BenchReport): void {
  const ch = (n: string) => r.results.find((x) => x.name === n)?.p50_us;
  const base = ch('channel-sync-pio');
  const t = new Table({
    head: ['measurement', 'p50 µs', 'p99 µs', 'ops/s', 'p50 / channel p50', 'what'],
    colAligns: ['left', 'right', 'right', 'right', 'right', 'left'],
    colWidths: [26, 9, 9, 12, 10, 60],
    wordWrap: true,
    style: { head: [], border: [] },
  });
  for (const x of r.results) {
    const rel = base && !x.name.includes('2vcpu') && !x.name.includes('inflight') ? `${(x.p50_us / base).toPrecision(2)}x` : '';
    t.push([x.name, fmt(x.p50_us), fmt(x.p99_us), Math.round(x.ops_per_s).toLocaleString('en-US'), rel, DESCRIPTIONS[x.name] ?? '']);
  }
  const m = r.machine;
  console.log(machineLine(r));
  console.log(t.toString());
  const q = r.ratios;
  console.log(`idle CPU (VM connected, not sending), whole process: ${r.idle_worker_cpu_pct.toFixed(2)}% of one core`);
  const busy = r.idle_threads.filter((x) => x.cpu_pct > 0).map((x) => `${x.name}#${x.tid} ${x.cpu_pct.toFixed(1)}%`);
  if (busy.length) console.log(`  threads with CPU in the idle window: ${busy.join(', ')}`);
  const sl = Object.entries(r.ring0_sleeps_per_1k).map(([k, v]) => `${k} ${v.toFixed(1)}`);
  console.log(`ring-0 sleeps per 1000 channel requests (near 0 = both sides spinning on their own core): ${sl.join(', ')}`);
  if (m.other_processes_cpu_pct !== null && m.other_processes_cpu_pct > 10) {
    console.log(
      `WARNING: other processes used ${m.other_processes_cpu_pct.toFixed(0)}% of the machine's CPU during the run: spinning paths share cores with them, figures are pessimistic; rerun on a quiet machine`,
    );
  }
  console.log(
    `DMA per KiB (64 KiB reads, p50): shared guest RAM ${q.dma_shared_us_per_kib.toFixed(3)} us, through ring 3 (DMA lane) ${q.dma_ring3_us_per_kib.toFixed(3)} us (+${q.dma_ring3_extra_us_per_kib.toFixed(3)} us); edu DMAs driven by MMIO: ${q.edu_dma_shared_us_per_kib.toFixed(1)} vs ${q.edu_dma_ring3_us_per_kib.toFixed(1)} us`,
  );
  for (const line of targetLines(r)) console.log(line);
}

/** The targets, each with its figure from this run and MET or MISSED (one line each; headings unindented). */
export function targetLines(r: BenchReport): string[] {
  const yes = (b: boolean) => (b ? 'MET' : 'MISSED');
  const q = r.ratios;
  const gbs = (n: string) => ((r.results.find((x) => x.name === n)?.bytes_per_s ?? 0) / 1e9).toFixed(2);
  const batch = r.results.find((x) => x.name === 'channel-batch-32');
  return [
    'targets:',
    `  channel p50 >= 20x faster than pool.run(): PIO ${q.pool_run_over_channel_p50_pio.toFixed(1)}x, MMIO ${q.pool_run_over_channel_p50_mmio.toFixed(1)}x  ${yes(r.targets.channel_20x_faster_than_pool_run)}`,
    `  channel p50 <= 4x raw SAB ping-pong:        PIO ${q.channel_over_raw_pingpong_p50_pio.toFixed(1)}x, MMIO ${q.channel_over_raw_pingpong_p50_mmio.toFixed(1)}x  ${yes(r.targets.channel_at_most_4x_raw_pingpong)}`,
    `  idle workers < 5% of a core:               ${r.idle_worker_cpu_pct.toFixed(2)}%  ${yes(r.targets.idle_workers_under_5pct)}`,
    `  cross-process p50 <= 1.3x the in-process channel (PIO): ${q.cross_process_over_channel_p50_pio.toFixed(2)}x  ${yes(r.targets.cross_process_within_1_3x_channel)}`,
    'hot-path targets (ratios in this run):',
    `  channel-sync-pio p50 <= 2.5x raw-sab-pingpong:    ${q.channel_over_raw_pingpong_p50_pio_paired.toFixed(1)}x in interleaved rounds  ${yes(r.targets.channel_pio_at_most_2_5x_raw_pingpong)} (the rows: ${q.channel_over_raw_pingpong_p50_pio.toFixed(1)}x; ${q.channel_over_raw_frame_p50_pio.toFixed(1)}x raw-sab-frame, the framed floor)`,
    `  channel-sync-varied p50 <= 3x raw-sab-pingpong:   ${q.varied_over_raw_pingpong_p50_paired.toFixed(1)}x in interleaved rounds  ${yes(r.targets.channel_varied_at_most_3x_raw_pingpong)} (the rows: ${q.varied_over_raw_pingpong_p50.toFixed(1)}x)`,
    `  p99 <= 4x p50 (quiet machine): pio ${q.channel_p99_over_p50_pio.toFixed(1)}x, varied ${q.varied_p99_over_p50.toFixed(1)}x  ${yes(r.targets.channel_p99_at_most_4x_p50)}`,
    `  irq-delivery p50 <= 10x raw-sab-pingpong:         ${q.irq_delivery_over_raw_pingpong_p50.toFixed(1)}x  ${yes(r.targets.irq_delivery_at_most_10x_raw_pingpong)}`,
    `  dma-64k >= half of memcpy-64k:                    ${gbs('dma-64k')} vs ${gbs('memcpy-64k')} GB/s (${q.dma_64k_over_memcpy_bytes_per_s.toFixed(2)})  ${yes(r.targets.dma_64k_at_least_half_memcpy)}; out of shared memory ${gbs('memcpy-64k-shared')} GB/s (${q.dma_64k_over_shared_memcpy_bytes_per_s.toFixed(2)})`,
    `  idle workers < 1% of a core:                      ${r.idle_worker_cpu_pct.toFixed(2)}%  ${yes(r.targets.idle_workers_under_1pct)}`,
    `  channel-batch-32 >= 5 M accesses/s and >= 1/4 of raw-sab-batch-32: ${((batch?.ops_per_s ?? 0) / 1e6).toFixed(2)} M/s, ${q.batch_over_raw_batch_ops.toFixed(3)}  ${yes(r.targets.batch_at_least_5m_and_quarter_raw)}`,
  ];
}

/** The machine and load line both printouts start with. */
function machineLine(r: BenchReport): string {
  const m = r.machine;
  const other = m.other_processes_cpu_pct === null ? 'n/a' : `${m.other_processes_cpu_pct.toFixed(0)}%`;
  const kind = r.options.timeMs >= FULL_OPTIONS.timeMs ? 'full run' : 'quick run';
  return `rawpci bench (${kind}): node ${m.node}, ${m.cpus} x ${m.cpu_model}, load ${m.loadavg_1m.toFixed(2)}, other processes' CPU during the run ${other} (${r.date})`;
}

/**
 * Prints the report as Markdown (what the README's benchmark section is): the machine line, one
 * table row per result (microseconds, operations per second, GB/s where data moves), the idle
 * CPU and the targets.
 */
export function printMarkdown(r: BenchReport): void {
  const rows = r.results.map((x) => [
    `\`${x.name}\``,
    fmt(x.p50_us),
    fmt(x.p99_us),
    Math.round(x.ops_per_s).toLocaleString('en-US'),
    x.bytes_per_s === undefined ? '' : (x.bytes_per_s / 1e9).toFixed(2),
  ]);
  const table = markdownTable(['measurement', 'p50 µs', 'p99 µs', 'ops/s', 'GB/s'], ['left', 'right', 'right', 'right', 'right'], rows);
  const out = [machineLine(r), '', ...table, '', `Idle CPU (a VM connected, sending nothing): ${r.idle_worker_cpu_pct.toFixed(2)}% of one core.`];
  out.push('', '```text', ...targetLines(r), '```');
  console.log(out.join('\n'));
}

/** A Markdown table with its columns padded to their widths (as the project's formatter writes tables, so a pasted one stays byte for byte). */
function markdownTable(head: string[], align: ('left' | 'right')[], rows: string[][]): string[] {
  const width = head.map((h, i) => Math.max(3, h.length, ...rows.map((row) => row[i]!.length)));
  const pad = (cell: string, i: number) => (align[i] === 'right' ? cell.padStart(width[i]!) : cell.padEnd(width[i]!));
  const line = (cells: string[]) => `| ${cells.map(pad).join(' | ')} |`;
  const rule = `| ${width.map((w, i) => (align[i] === 'right' ? `${'-'.repeat(w - 1)}:` : '-'.repeat(w))).join(' | ')} |`;
  return [line(head), rule, ...rows.map(line)];
}

async function main(): Promise<number> {
  let args: { json?: boolean; markdown?: boolean; quick?: boolean; help?: boolean };
  try {
    args = parseArgs({
      options: { json: { type: 'boolean' }, markdown: { type: 'boolean' }, quick: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    }).values;
  } catch (e) {
    console.error(`${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    console.log(USAGE);
    return 0;
  }
  const options = args.quick ? QUICK_OPTIONS : FULL_OPTIONS;
  if (args.json && args.markdown) {
    console.error(`--json and --markdown each print the whole report: give one\n${USAGE}`);
    return 2;
  }
  const progress = args.json || args.markdown ? () => {} : (line: string) => console.error(`  ${line}`);
  const report = await runBench(options, progress);
  if (args.json) console.log(JSON.stringify(report, null, 2));
  else if (args.markdown) printMarkdown(report);
  else printTable(report);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (e) => {
    console.error(`bench failed: ${(e as Error).stack ?? e}`);
    process.exitCode = 1;
  },
);
