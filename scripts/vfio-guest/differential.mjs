#!/usr/bin/env node
// Differential check of the VFIO tier: the edu sequence on the simulated edu (here) against what QEMU 7.2's edu did through VFIO in the guest.
// Usage: node scripts/vfio-guest/differential.mjs GUEST_OBSERVATIONS.json   (exit 1 on any difference not listed as known)

import { readFileSync } from 'node:fs';
import { compareEduObservations, EDU_KNOWN_DIFFERENCES, observeSimEdu } from '../../dist/src/drivers/edu-observe.js';

const file = process.argv[2];
if (!file) {
  console.error('usage: differential.mjs GUEST_OBSERVATIONS.json');
  process.exit(2);
}
let qemu;
try {
  qemu = JSON.parse(readFileSync(file, 'utf8'));
} catch (e) {
  console.error(`differential: cannot read the guest's observations ${file}: ${e.message} (did the VFIO tests run in the guest?)`);
  process.exit(1);
}
process.env.RAWPCI_LOG ??= 'error';
const sim = await observeSimEdu();
const diffs = compareEduObservations(sim, qemu);
for (const d of diffs) console.error(`differential: ${d.path}: simulated ${d.sim}, QEMU ${d.qemu}`);
console.error(
  `differential: ${diffs.length ? `${diffs.length} difference(s)` : 'simulated edu and QEMU edu agree'} (known differences skipped: ${EDU_KNOWN_DIFFERENCES.length ? EDU_KNOWN_DIFFERENCES.join(', ') : 'none'})`,
);
process.exit(diffs.length ? 1 : 0);
