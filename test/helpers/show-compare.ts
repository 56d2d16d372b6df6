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
  const rec = await new SysfsPciSource(fake.root).get(Bdf.parse(bdf));
  t.truthy(rec, `${bdf} is in the fake tree`);
  const ours = formatListing([rec!], PciIds.load(ids), { mode: 'mixed', domains: true, verbose: 3, kernel: true, hex: 0 });
  compareLines(t, ours, lspciOnTree(fake.root, ids, ['-vvv', '-nn', '-D', '-k', '-s', bdf]));
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
