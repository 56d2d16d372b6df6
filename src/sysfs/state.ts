// The attachment state file: which host device rawpci attached, its original driver and guest address, whether it is restored at boot; read and changed under one lock.

import { mkdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import lockfile from 'proper-lockfile';
import writeFileAtomic from 'write-file-atomic';

/** Environment variable naming the state file (overridden by `--state`). */
export const STATE_ENV = 'RAWPCI_STATE';

/**
 * The system-wide state file root uses (as driverctl keeps its overrides in /etc/driverctl.d):
 * `sudo rawpci attach` writes it, `rawpci status` of any user reads it, `rawpci restore` at boot
 * re-applies it.
 */
export const SYSTEM_STATE_PATH = '/var/lib/rawpci/attachments.json';

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
  /** `VVVV:DDDD` of the function when attached; `rawpci restore` refuses a BDF that now holds another device. */
  id?: string;
  /** `rawpci restore` re-applies it at boot (false: attached with --nosave). Absent (older files): true. */
  persistent?: boolean;
}

/** The file's content (version 1). */
export interface StateFile {
  version: 1;
  attachments: AttachmentRecord[];
}

/** Whether the record is re-applied by `rawpci restore` (absent counts as yes). */
export function isPersistent(a: AttachmentRecord): boolean {
  return a.persistent !== false;
}

/** Where state is read and written for one command. */
export interface StatePaths {
  /** The file attach/detach/restore change. */
  write: string;
  /** Files status and list read, in order (the system file first for a non-root user). */
  read: string[];
}

/** Inputs of {@link statePaths}; `uid` and `systemPath` are parameters for tests. */
export interface StatePathOptions {
  /** `--state`. */
  explicit?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Effective uid (default process.geteuid()). */
  uid?: number | undefined;
  /** The system-wide file (default {@link SYSTEM_STATE_PATH}). */
  systemPath?: string | undefined;
}

/**
 * The state files: `--state`, else $RAWPCI_STATE, alone; else for root the system-wide
 * {@link SYSTEM_STATE_PATH}; else (non-root) $XDG_STATE_HOME/rawpci/attachments.json or
 * ~/.local/state/rawpci/attachments.json (XDG Base Directory spec 0.8) for writing, read after
 * the system file so `rawpci status` shows what `sudo rawpci attach` recorded.
 */
export function statePaths(o: StatePathOptions = {}): StatePaths {
  const env = o.env ?? process.env;
  const chosen = o.explicit || env[STATE_ENV];
  if (chosen) return { write: chosen, read: [chosen] };
  const system = o.systemPath ?? SYSTEM_STATE_PATH;
  const uid = o.uid ?? process.geteuid?.() ?? 0;
  if (uid === 0) return { write: system, read: [system] };
  const base = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  const user = join(base, 'rawpci', 'attachments.json');
  return { write: user, read: [system, user] };
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

/** Every record of the files `paths` (read in order; a key seen twice keeps the first). Each record names the file it came from. */
export function loadStates(paths: readonly string[]): (AttachmentRecord & { stateFile: string })[] {
  const out: (AttachmentRecord & { stateFile: string })[] = [];
  for (const p of new Set(paths)) for (const a of loadState(p).attachments) if (!out.some((o) => sameAttachment(o, a))) out.push({ ...a, stateFile: p });
  return out;
}

/**
 * Writes the state atomically (write-file-atomic: a temporary file in the same directory,
 * fsync, rename over the old one), so a reader sees the old or the new state, never half of one.
 * Creates the directory when missing. Call it inside {@link withState} so no writer is lost.
 */
export function saveState(path: string, state: StateFile): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileAtomic.sync(path, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o644 });
}

/**
 * A lock whose holder has not refreshed it for this long (ms) is taken over: long enough for a
 * host driver's unbind (a GPU driver can take seconds, and the synchronous sysfs write keeps the
 * holder from refreshing meanwhile), short enough that a crashed rawpci does not block the boot.
 */
const LOCK_STALE_MS = 30_000;
/** How long a writer waits for the lock: retries with backoff, about 60 s in all (longer than a stale lock lives). */
const LOCK_RETRIES = { retries: 240, factor: 1.2, minTimeout: 20, maxTimeout: 250, randomize: true };

/**
 * Runs `fn` on the state of `path` under an exclusive lock (proper-lockfile: `PATH.lock`,
 * a directory made with mkdir(2), taken over after LOCK_STALE_MS without its holder refreshing
 * it; a holder whose lock was taken over gets a warning, not a crash mid-bind), and saves
 * what `fn` returns `save: true` for. The whole read-check-bind-write of an attach runs inside,
 * so two rawpci processes never both read the old state and lose each other's record. Throws
 * Error naming the lock when another process holds it for too long; rethrows `fn`'s errors
 * (the state is then not written).
 */
export async function withState<T>(path: string, fn: (state: StateFile) => Promise<{ value: T; save: boolean }>): Promise<T> {
  mkdirSync(dirname(path), { recursive: true });
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(path, {
      realpath: false,
      stale: LOCK_STALE_MS,
      retries: LOCK_RETRIES,
      onCompromised: (e) => process.emitWarning(`rawpci: the lock on ${path} was taken over by another process (${e.message}); check \`rawpci status\``),
    });
  } catch (e) {
    throw new Error(
      `cannot lock state file ${path} (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}): another rawpci is changing it; wait and retry, or remove ${path}.lock if no rawpci runs`,
    );
  }
  try {
    const state = loadState(path);
    const { value, save } = await fn(state);
    if (save) saveState(path, state);
    return value;
  } finally {
    // After a takeover (warned about in onCompromised) releasing fails: the lock is not ours.
    await release().catch(() => {});
  }
}

/** Key that identifies an attachment: host, root and BDF. */
export function sameAttachment(a: Pick<AttachmentRecord, 'bdf' | 'host' | 'sysfsRoot'>, b: Pick<AttachmentRecord, 'bdf' | 'host' | 'sysfsRoot'>): boolean {
  return a.bdf === b.bdf && a.host === b.host && (a.sysfsRoot ?? '') === (b.sysfsRoot ?? '');
}
