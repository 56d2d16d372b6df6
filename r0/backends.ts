// Chooses and builds the host backend of a ring-0 worker: the simulated host, or VFIO (loaded only when asked for).

import type { PciHostBackend } from './host.js';
import type { HostTable } from './host-table.js';

/** Host configuration every worker receives. */
export interface BackendConfig {
  /** Which host. */
  host: 'sim' | 'vfio';
  /** Simulated host inventory document (undefined: the embedded default). */
  inventory?: unknown;
  /** Modules to import first (each may register user device models). */
  modelModules?: string[];
  /** vfio host: the directory that stands for /sys (undefined: /sys); see VfioHostOptions.sysfsRoot. */
  sysfsRoot?: string;
}

/**
 * Builds the backend. The simulated host needs nothing from the machine; the VFIO host is
 * imported only here, so neither the sim host nor the unit tests load its FFI. Throws Error
 * naming the cause and the fix (bad inventory, unknown model, VFIO unavailable).
 */
export async function createBackend(config: BackendConfig, table: HostTable): Promise<PciHostBackend> {
  for (const m of config.modelModules ?? []) {
    const url = m.startsWith('file:') ? m : new URL(`file://${m}`).href;
    await import(url);
  }
  if (config.host === 'sim') {
    const { SimHost } = await import('./sim/host.js');
    return SimHost.fromInventory(config.inventory, table);
  }
  if (config.host === 'vfio') {
    const { VfioHost } = await import('./vfio/host.js');
    return VfioHost.create(config, table, { sysfsRoot: config.sysfsRoot });
  }
  throw new RangeError(`unknown host '${String(config.host)}': use 'sim' or 'vfio'`);
}
