// The attachment state file: which host device rawpci attached, its original driver and guest address.

import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

/** Environment variable naming the state file (overridden by `--state`). */
export const STATE_ENV = 'RAWPCI_STATE';

/** One attachment, as `rawpci attach` records it. */
export interface AttachmentRecord {
  /** Host function, `DDDD:BB:DD.F`. */
  bdf: string;
  /** Which host: `sysfs` (Linux, vfio-pci) or `sim` (the simulated host, rawpci's ring 0). */
  host: 'sysfs' | 'sim';
  /** For `sysfs`: the root that stood for /sys (so fake trees and the real one never mix). */
  sysfsRoot?: string;
  /** Guest PCI address `BB:DD.F` when given (VBoxManage --pciattach host@guest). */
  guest?: string;
  /** Driver bound before attaching; null when the device was unbound. */
  originalDriver: string | null;
  /** Driver rawpci bound it to (`vfio-pci`, or `rawpci` on the sim host). */
  driver: string;
  /** IOMMU group at attach time, or null. */
  iommuGroup: string | null;
  /** ISO 8601 time of the attach. */
  attachedAt: string;
}

/** The file's content (version 1). */
export interface StateFile {
  version: 1;
  attachments: AttachmentRecord[];
}

/**
 * The state file path: `explicit` (--state), else $RAWPCI_STATE, else
 * $XDG_STATE_HOME/rawpci/attachments.json, else ~/.local/state/rawpci/attachments.json
 * (XDG Base Directory spec 0.8).
 */
export function defaultStatePath(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit) return explicit;
  if (env[STATE_ENV]) return env[STATE_ENV]!;
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(base, 'rawpci', 'attachments.json');
}

/** Reads the state; a missing file is an empty state. Throws Error naming the file when it is not a rawpci state file. */
export function loadState(path: string): StateFile {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, attachments: [] };
    throw new Error(`cannot read state file ${path} (${(e as NodeJS.ErrnoException).code}): fix its permissions or choose another with --state`);
  }
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (e) {
    throw new Error(`state file ${path} is not valid JSON (${(e as Error).message}): repair it, or move it away if no device is attached`);
  }
  const d = data as Partial<StateFile>;
  if (d === null || typeof d !== 'object' || d.version !== 1 || !Array.isArray(d.attachments))
    throw new Error(`state file ${path} is not a rawpci version 1 state file: move it away or point --state elsewhere`);
  return d as StateFile;
}

/**
 * Writes the state atomically: a temporary file in the same directory, fsync, then rename over
 * the old one (rename(2) is atomic within a file system), so a reader sees the old or the new
 * state, never half of one. Creates the directory when missing.
 */
export function saveState(path: string, state: StateFile): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, `${JSON.stringify(state, null, 2)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {}
    throw e;
  }
}

/** Key that identifies an attachment: host, root and BDF. */
export function sameAttachment(a: Pick<AttachmentRecord, 'bdf' | 'host' | 'sysfsRoot'>, b: Pick<AttachmentRecord, 'bdf' | 'host' | 'sysfsRoot'>): boolean {
  return a.bdf === b.bdf && a.host === b.host && (a.sysfsRoot ?? '') === (b.sysfsRoot ?? '');
}
