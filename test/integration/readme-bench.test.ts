// The README's benchmark table is the benchmark's own output: `npm run bench -- --markdown` printed it, machine line included, and the command runs as shown.
//
// The test runs the built bench (`node dist/src/bench/main.js`, what `npm run bench` runs after
// its build step) with `--markdown --quick`: a full run takes minutes and measures the same rows
// but v86-guest-mmio. No figure is compared (they are measurements, not claims).

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import test from 'ava';
import { DESCRIPTIONS } from '../../src/bench/run.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');
const BEGIN = '<!-- bench:begin -->';
const END = '<!-- bench:end -->';
const MACHINE =
  /^rawpci bench \((full|quick) run\): node v\d+\.\d+\.\d+, \d+ x .+, load \d+\.\d\d, other processes' CPU during the run (\d+%|n\/a) \(\d{4}-\d\d-\d\dT/;

/** The measurement names of a Markdown bench table, in order. */
function rowNames(md: string): string[] {
  return [...md.matchAll(/^\| `([a-z0-9-]+)` +\|/gm)].map((m) => m[1]!);
}

test("the README's benchmark section is a full run of `npm run bench -- --markdown`, with every measurement and the machine it ran on", (t) => {
  const at = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  t.true(at > 0 && end > at, 'the README has the bench:begin / bench:end block');
  const block = readme.slice(at + BEGIN.length, end).trim();
  t.regex(block.split('\n')[0]!, MACHINE);
  t.true(block.startsWith('rawpci bench (full run)'), 'a full run, not --quick');
  t.deepEqual(rowNames(block).sort(), Object.keys(DESCRIPTIONS).sort(), 'one row per measurement the bench makes, no other');
  t.regex(block, /hot-path targets \(ratios in this run\):/);
  t.regex(block, /^Idle CPU \(a VM connected, sending nothing\): \d+\.\d\d% of one core\.$/m);
});

test('`npm run bench -- --markdown` prints that format: the machine line, the same columns, the targets', async (t) => {
  const main = fileURLToPath(new URL('../../src/bench/main.js', import.meta.url));
  const { stdout } = await promisify(execFile)(process.execPath, [main, '--markdown', '--quick'], { timeout: 110_000, maxBuffer: 1 << 20 });
  const lines = stdout.trim().split('\n');
  t.regex(lines[0]!, MACHINE);
  t.true(lines[0]!.startsWith('rawpci bench (quick run)'));
  const head = /^\| measurement +\| p50 µs \| p99 µs \| +ops\/s \| +GB\/s \|$/m;
  t.regex(stdout, head);
  const readmeBlock = readme.slice(readme.indexOf(BEGIN), readme.indexOf(END));
  t.regex(readmeBlock, head, "the README's table has the command's columns");
  // Every row but the v86 guest's (full runs only), in the README's order.
  t.true(rowNames(stdout).length >= Object.keys(DESCRIPTIONS).length - 1, 'the command printed a row per measurement');
  t.deepEqual(
    rowNames(stdout),
    rowNames(readmeBlock).filter((n) => n !== 'v86-guest-mmio'),
  );
  t.regex(stdout, /channel-sync-pio p50 <= 2\.5x raw-sab-pingpong: +[\d.]+x in interleaved rounds +(MET|MISSED)/);
});
