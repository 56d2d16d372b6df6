// Test helper: a real `rawpci serve` child process on a socket in a fresh directory, and VM child processes (test/fixtures/vm-child.ts) that connect to it.

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The CLI entry (bin/rawpci.js) of this checkout. */
export const RAWPCI_BIN = fileURLToPath(new URL('../../../bin/rawpci.js', import.meta.url));
/** The compiled VM child. */
export const VM_CHILD = fileURLToPath(new URL('../fixtures/vm-child.js', import.meta.url));

/** A running `rawpci serve` child. */
export interface ServeChild {
  proc: ChildProcess;
  dir: string;
  socket: string;
  /** stderr so far (pino JSON lines). */
  log(): string;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** A fresh directory (mode 0755, so an unprivileged VM child can reach the socket), removed by `cleanup`. */
export function serveDir(): { dir: string; cleanup: () => void } {
  // RAWPCI_SERVE_TMP: where sockets can be made (the QEMU guest's /tmp is a 9p share: guest.sh points this at a tmpfs).
  const dir = mkdtempSync(join(process.env.RAWPCI_SERVE_TMP ?? tmpdir(), 'rawpci-serve-'));
  chmodSync(dir, 0o755);
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Starts `rawpci serve --socket DIR/rawpci.sock` with `args`; resolves once it listens. Rejects with its stderr when it exits first. */
export async function startServe(dir: string, args: string[] = [], socket = join(dir, 'rawpci.sock')): Promise<ServeChild> {
  const proc = spawn(process.execPath, [RAWPCI_BIN, 'serve', '--socket', socket, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RAWPCI_LOG: 'info' },
  });
  let err = '';
  let out = '';
  proc.stderr!.on('data', (d) => (err += d));
  proc.stdout!.on('data', (d) => (out += d));
  await new Promise<void>((resolve, reject) => {
    const onExit = (code: number | null) => reject(new Error(`rawpci serve exited (${code}) before listening: ${err}`));
    proc.once('exit', onExit);
    const check = () => {
      if (out.includes('listening on')) {
        proc.off('exit', onExit);
        resolve();
      } else setTimeout(check, 5);
    };
    check();
  });
  return {
    proc,
    dir,
    socket,
    log: () => err,
    stop: async () => {
      if (proc.exitCode !== null || proc.signalCode !== null) return proc.exitCode;
      proc.kill('SIGTERM');
      const [code] = (await once(proc, 'exit')) as [number | null];
      return code;
    },
  };
}

/** A VM child: its JSON lines as they come, and a way to wait for one. */
export interface VmChild {
  proc: ChildProcess;
  lines: Record<string, unknown>[];
  /** Resolves with the first line whose `event` is `event` (rejects after `timeoutMs` or when the child exits first). */
  waitFor(event: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited: Promise<number | null>;
  stderr(): string;
}

/** Spawns test/fixtures/vm-child.js with `task` (as uid/gid when given). */
export function spawnVm(task: Record<string, unknown>, ids: { uid?: number; gid?: number } = {}): VmChild {
  const proc = spawn(process.execPath, [VM_CHILD, JSON.stringify(task)], {
    stdio: ['ignore', 'pipe', 'pipe'],
    ...ids,
    env: { ...process.env, RAWPCI_LOG: 'silent' },
  });
  const lines: Record<string, unknown>[] = [];
  let buf = '';
  let err = '';
  proc.stderr!.on('data', (d) => (err += d));
  proc.stdout!.on('data', (d) => {
    buf += d;
    for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try {
        lines.push(JSON.parse(line));
      } catch {}
    }
  });
  const exited = once(proc, 'exit').then(([c]) => c as number | null);
  return {
    proc,
    lines,
    exited,
    stderr: () => err,
    waitFor: async (event, timeoutMs = 15_000) => {
      const deadline = performance.now() + timeoutMs;
      for (;;) {
        const l = lines.find((x) => x.event === event);
        if (l) return l;
        if (proc.exitCode !== null || proc.signalCode !== null)
          throw new Error(`the VM child exited (${proc.exitCode ?? proc.signalCode}) before '${event}': ${err} ${JSON.stringify(lines)}`);
        if (performance.now() > deadline) throw new Error(`no '${event}' from the VM child within ${timeoutMs} ms: ${err} ${JSON.stringify(lines)}`);
        await new Promise((r) => setTimeout(r, 5));
      }
    },
  };
}

/** The `rawpci` CLI as a child: its exit code and output. */
export async function runRawpci(args: string[], ids: { uid?: number; gid?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const proc = spawn(process.execPath, [RAWPCI_BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'], ...ids, env: { ...process.env, RAWPCI_LOG: 'silent' } });
  let stdout = '';
  let stderr = '';
  proc.stdout!.on('data', (d) => (stdout += d));
  proc.stderr!.on('data', (d) => (stderr += d));
  const [code] = (await once(proc, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/**
 * One `rawpci serve` child for a whole test file: started in ava's `before` in a fresh directory,
 * stopped (after `beforeStop`, which may throw to fail the file) and its directory removed in
 * `after.always`. Returns a getter for the running child.
 */
export function serveForFile(
  t: { before(fn: () => Promise<void>): void; after: { always(fn: () => Promise<void>): void } },
  beforeStop?: (serve: ServeChild) => void,
): () => ServeChild {
  let serve: ServeChild | undefined;
  let cleanup: (() => void) | undefined;
  t.before(async () => {
    const d = serveDir();
    cleanup = d.cleanup;
    serve = await startServe(d.dir);
  });
  t.after.always(async () => {
    try {
      if (serve) beforeStop?.(serve);
    } finally {
      await serve?.stop();
      cleanup?.();
    }
  });
  return () => {
    if (!serve) throw new Error('rawpci serve has not started (serveForFile registers it in test.before)');
    return serve;
  };
}
