// Write-ahead records of the devices ring 0 detached from their host drivers (rawpci serve): one file per worker thread, written before each detach and after each rebind, read by the next instance when this one died.
//
// `rawpci serve`'s main thread also keeps a state file, rewritten from the workers' journals
// every 50 ms; a detach made in the last 50 ms before the process is killed is missing there.
// These files close that window: the worker that detaches writes its file (atomically,
// write-file-atomic, synchronously) before the sysfs writes that unbind the host driver, and
// again after the rebind. A device listed that was never detached (killed between the two) is
// rebound to the driver it still has: harmless. The directory is the state file's path plus
// '.d'; a worker writes only its own file, so no lock is needed.

import { mkdirSync, readdirSync, readFileSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { Bdf } from '../shared/bdf.js';

/** One detached device as the files record it. */
export interface DetachedRecord {
  pciAddress: number;
  bdf: string;
  /** Its host driver before ring 0 detached it (null: it had none). */
  driver: string | null;
}

/** A worker's detach log: its devices detached now, persisted on every change. Methods throw the file system's Error. */
export class DetachLog {
  readonly path: string;
  readonly #devices = new Map<number, string | null>();

  /** `dir`: the log directory (created, mode 0700); `name`: this worker's file name (e.g. its thread id). */
  constructor(dir: string, name: string) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    this.path = join(dir, `${name}.json`);
  }

  /** Call before detaching `pciAddress` from `driver`: recorded on disk when this returns. */
  willDetach(pciAddress: number, driver: string | null): void {
    this.#devices.set(pciAddress, driver);
    this.#write();
  }

  /** Call after `pciAddress` was rebound (or its detach failed): dropped on disk. */
  rebound(pciAddress: number): void {
    if (this.#devices.delete(pciAddress)) this.#write();
  }

  #write(): void {
    const devices: DetachedRecord[] = [...this.#devices].map(([pciAddress, driver]) => ({
      pciAddress,
      bdf: Bdf.fromPciAddress(pciAddress).toString(),
      driver,
    }));
    writeFileAtomic.sync(this.path, `${JSON.stringify({ version: 1, pid: process.pid, devices }, null, 2)}\n`, { mode: 0o600 });
  }
}

/**
 * Reads and removes every worker file in `dir` (a previous instance's): the devices they list,
 * each once, and the problems met (unreadable or malformed files, named). A missing directory
 * is no devices.
 */
export function takeDetachLogs(dir: string): { devices: DetachedRecord[]; problems: string[] } {
  let names: string[];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith('.json'));
  } catch {
    return { devices: [], problems: [] };
  }
  const byAddress = new Map<number, DetachedRecord>();
  const problems: string[] = [];
  for (const n of names) {
    const path = join(dir, n);
    try {
      const doc = JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown; devices?: unknown };
      if (doc.version !== 1 || !Array.isArray(doc.devices)) throw new Error('not a version 1 detach log');
      for (const d of doc.devices as Partial<DetachedRecord>[]) {
        if (!Number.isInteger(d.pciAddress) || !(d.driver === null || typeof d.driver === 'string')) continue;
        const pciAddress = (d.pciAddress as number) >>> 0;
        byAddress.set(pciAddress, { pciAddress, bdf: Bdf.fromPciAddress(pciAddress).toString(), driver: d.driver });
      }
    } catch (e) {
      problems.push(`${path}: ${(e as Error).message}`);
    }
    try {
      unlinkSync(path);
    } catch {}
  }
  return { devices: [...byAddress.values()], problems };
}
