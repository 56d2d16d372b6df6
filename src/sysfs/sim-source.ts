// The simulated host as a PciSource (placeholder until r0/sim/inventory.ts exists).

import type { PciSource } from './source.js';

/** Creates the sim PciSource; throws until the simulated host's inventory is built. */
export async function createSimSource(inventory?: string): Promise<PciSource> {
  void inventory;
  throw new Error('--host sim needs the simulated host (r0/sim/inventory.ts), which is not built yet: use the Linux host (default) or --sysfs-root');
}
