// The project's logger: pino writing synchronously to stderr (safe in worker threads), level from RAWPCI_LOG.

import { type Logger, pino } from 'pino';

let root: Logger | undefined;

/**
 * The shared logger. Level comes from the RAWPCI_LOG environment variable (`trace`, `debug`,
 * `info`, `warn` (default), `error`, `silent`). Output goes synchronously to fd 2, so lines from
 * ring-0 workers are never lost when a worker ends.
 */
export function logger(): Logger {
  root ??= pino({ name: 'rawpci', level: process.env.RAWPCI_LOG ?? 'warn', base: { pid: process.pid } }, pino.destination({ dest: 2, sync: true }));
  return root;
}

/** A child logger bound to `bindings` (e.g. `{ ring: 0, session: 3 }`). */
export function childLogger(bindings: Record<string, unknown>): Logger {
  return logger().child(bindings);
}
