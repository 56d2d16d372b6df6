// Releasing what a ring-0 worker held after its thread is gone: VFIO mappings and fds (the kernel then quiesces and resets the device) and host drivers to rebind.
//
// A normal close does this in the worker, in the fixed order of OpenDevice.shutdown. A worker
// that was given up (stuck in a device model past requestLimitMs, or terminated) cannot; the
// service calls this with the journal of the dead thread (r0/serve-control.ts), after the thread
// has exited, so no descriptor it lists can still be in use or have been reused.
//
// On the vfio host the work runs in a thread of its own: unbinding a device from vfio-pci waits
// in the kernel until every user of the device is gone, and ring 3's own MAP_REGION views are
// such users until the VM's client withdraws them (it does when its control port closes), on
// the very thread the service may share with the VM. The service must never wait on ring 3.

import { parentPort, Worker, workerData } from 'node:worker_threads';
import { Bdf } from '../shared/bdf.js';
import type { BackendConfig } from './backends.js';
import type { HostTable } from './host-table.js';
import type { JournalEntry } from './serve-control.js';

/**
 * Releases `entries` (a dead worker's journal): unmaps its mappings, closes its descriptors,
 * then rebinds the host driver of every device ring 0 had detached (the simulated host: marks
 * the driver bound again in the shared table). Never throws; returns what could not be done.
 */
export async function releaseWorkerResources(entries: readonly JournalEntry[], config: BackendConfig, table: HostTable): Promise<string[]> {
  if (config.host === 'sim') {
    for (const d of entries) if (d.kind === 'device') table.setDetached(d.pciAddress, false);
    return [];
  }
  if (!entries.length) return [];
  const worker = new Worker(new URL(import.meta.url), {
    workerData: { rawpciReaper: true, entries, config: { host: config.host, sysfsRoot: config.sysfsRoot } },
  });
  return new Promise<string[]>((resolve) => {
    let problems: string[] | undefined;
    worker.once('message', (p: string[]) => (problems = p));
    worker.once('error', (e) => (problems = [`the reaper thread failed: ${e.message}`]));
    worker.once('exit', () => resolve(problems ?? ['the reaper thread exited without a report']));
  });
}

/** The reaper thread's work (vfio host): unmap, close, rebind. */
async function releaseVfio(entries: readonly JournalEntry[], config: BackendConfig): Promise<string[]> {
  const problems: string[] = [];
  const maps = entries.filter((e) => e.kind === 'map');
  const fds = entries.filter((e) => e.kind === 'fd');
  const devices = entries.filter((e) => e.kind === 'device');
  if (maps.length || fds.length) {
    try {
      const libc = await import('./vfio/libc.js');
      for (const m of maps) libc.munmapAt(m.address, m.len);
      for (const f of fds) libc.close(f.fd);
    } catch (e) {
      problems.push(`releasing ${fds.length} fds and ${maps.length} mappings failed: ${(e as Error).message}`);
    }
  }
  if (!devices.length) return problems;
  try {
    const { VfioHost } = await import('./vfio/host.js');
    const host = new VfioHost(config.sysfsRoot === undefined ? {} : { sysfsRoot: config.sysfsRoot });
    for (const d of devices) {
      const bdf = Bdf.fromPciAddress(d.pciAddress);
      const info = host.find(bdf);
      if (!info) {
        problems.push(`${bdf} vanished: its host driver ${d.driver ?? '(none)'} was not rebound`);
        continue;
      }
      try {
        host.rebindDriver(info, d.driver);
      } catch (e) {
        problems.push(`rebinding ${bdf} to ${d.driver ?? '(none)'} failed: ${(e as Error).message}`);
      }
    }
  } catch (e) {
    problems.push(`rebinding ${devices.length} devices failed: ${(e as Error).message}`);
  }
  return problems;
}

const reaperData = workerData as { rawpciReaper?: true; entries: JournalEntry[]; config: BackendConfig } | null;
if (reaperData?.rawpciReaper) parentPort!.postMessage(await releaseVfio(reaperData.entries, reaperData.config));
