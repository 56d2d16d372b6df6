// RawPciError: how a failed ring-0 status reaches users of the ring-3 API.

import { opName } from '../shared/protocol.js';
import { statusName } from '../shared/status.js';

/**
 * A raw PCI operation that ring 0 answered with a failure status. `code` is the VBox status name
 * (`'VERR_INVALID_HANDLE'`), `rc` its number (-4), `op` the operation name (`'PIO_READ'`), and
 * the message says what went wrong and how to fix it, as ring 0 explained it.
 */
export class RawPciError extends Error {
  override readonly name = 'RawPciError';
  /** VBox status name, e.g. `'VERR_RESOURCE_BUSY'`. */
  readonly code: string;
  /** VBox status number (negative). */
  readonly rc: number;
  /** Operation name from PCIRAWR0_DO, e.g. `'OPEN_DEVICE'`. */
  readonly op: string;

  constructor(rc: number, op: number | string, detail?: string) {
    const opText = typeof op === 'number' ? (opName(op) ?? `operation ${op}`) : op;
    const code = statusName(rc);
    super(`${opText} failed with ${code} (${rc})${detail ? `: ${detail}` : ''}`);
    this.code = code;
    this.rc = rc;
    this.op = opText;
  }
}
