// Compares rawpci's decode of fake devices with lspci -vv (through the CLI) and -vvv (through formatListing) on the same fake sysfs tree.

import type { ExecutionContext } from 'ava';
import { Bdf } from '../../shared/bdf.js';
import { SysfsPciSource } from '../../shared/sysfs/sysfs-source.js';
import { formatListing } from '../../src/sysfs/lspci-format.js';
import { PciIds } from '../../src/sysfs/pci-ids.js';
import { compareLines, type FakeSysfs, lspciOnTree, runCli } from './fake-sysfs.js';

/** `rawpci show BDF` (lspci -vv -nn -D -k) compared line by line with lspci on `fake`. */
export async function compareShowVv(t: ExecutionContext, fake: FakeSysfs, ids: string, bdf: string): Promise<void> {
  const r = await runCli(['show', bdf, '--sysfs-root', fake.root, '--pci-ids', ids]);
  t.is(r.code, 0, r.stderr);
  compareLines(t, r.stdout, lspciOnTree(fake.root, ids, ['-vv', '-nn', '-D', '-k', '-s', bdf]));
}

/** rawpci's verbose-3 listing of BDF compared line by line with lspci -vvv -nn -D -k on `fake`. */
export async function compareShowVvv(t: ExecutionContext, fake: FakeSysfs, ids: string, bdf: string): Promise<void> {
  const { ours, theirs } = await bothListings(fake, ids, bdf, 3);
  compareLines(t, ours, theirs);
}

/**
 * rawpci's listing of BDF (formatListing) and lspci's on `fake`, both with `-v` `verbose` times,
 * `-x` `hexLevel` times, -nn -D -k. Throws when BDF is not in the tree.
 */
export async function bothListings(fake: FakeSysfs, ids: string, bdf: string, verbose: number, hexLevel = 0): Promise<{ ours: string; theirs: string }> {
  const rec = await new SysfsPciSource(fake.root).get(Bdf.parse(bdf));
  if (!rec) throw new Error(`${bdf} is not in the fake tree`);
  const ours = formatListing([rec], PciIds.load(ids), { mode: 'mixed', domains: true, verbose, kernel: true, hex: hexLevel });
  const flags = [...(verbose ? [`-${'v'.repeat(verbose)}`] : []), ...(hexLevel ? [`-${'x'.repeat(hexLevel)}`] : [])];
  return { ours, theirs: lspciOnTree(fake.root, ids, [...flags, '-nn', '-D', '-k', '-s', bdf]) };
}

/**
 * The differential check of the property tests: on `fake`, rawpci's listing of BDF equals lspci's
 * at each `[verbose, hexLevel]` in `levels`. Returns how many listings were compared.
 */
export async function sameAsLspci(t: ExecutionContext, fake: FakeSysfs, ids: string, bdf: string, levels: [number, number][]): Promise<number> {
  for (const [v, x] of levels) {
    const { ours, theirs } = await bothListings(fake, ids, bdf, v, x);
    t.true(theirs.length > 0, 'lspci printed something to compare with');
    t.is(ours, theirs, `-${'v'.repeat(v)}${x ? ` -${'x'.repeat(x)}` : ''}`);
  }
  return levels.length;
}

/** A small deterministic PRNG (xorshift32) so register values cover many bit patterns reproducibly. */
export function prng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x;
  };
}
