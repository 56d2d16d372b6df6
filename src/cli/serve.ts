// `rawpci serve` (ring 0 as a long-lived process) and the admin CLI's requests to a running one (`status`, `attach`, `detach`, `end` with --socket).

import { existsSync } from 'node:fs';
import Table from 'cli-table3';
import { type Command, Option } from 'commander';
import { logger } from '../../shared/log.js';
import {
  defaultSocketPath,
  encodeFrame,
  FrameReader,
  MAX_FRAME_BYTES,
  SERVE_PROTOCOL_VERSION,
  type ServerFrame,
  serverFrameSchema,
} from '../../shared/serve-protocol.js';
import { statusName } from '../../shared/status.js';
import { xproc } from '../../shared/xproc.js';
import { type CliIo, EXIT_FAILURE, json, UsageError, useColor } from './common.js';

/** Help text of --socket. */
export const SOCKET_OPTION_HELP = `the socket of a running rawpci serve (default ${defaultSocketPath()})`;

/**
 * Sends one admin request to the `rawpci serve` at `socket` and returns its reply. Throws Error
 * naming the socket and the fix when nothing serves it, ring 0 refused (not root or its uid),
 * or no reply came within `timeoutMs`.
 */
export async function adminRequest(
  socket: string,
  op: 'status' | 'end' | 'attach' | 'detach',
  args: { session?: number; bdf?: string } = {},
  timeoutMs = 10_000,
): Promise<{ rc: number; msg?: string | undefined; data?: unknown }> {
  const x = xproc();
  let fd: number;
  try {
    fd = x.connectUnix(socket);
  } catch (e) {
    throw new Error(
      `no rawpci serve answers on ${socket} (${(e as NodeJS.ErrnoException).code}): start one (rawpci serve --socket ${socket}) or give its --socket`,
    );
  }
  try {
    x.sendFds(fd, encodeFrame({ t: 'admin', v: SERVE_PROTOCOL_VERSION }));
    x.sendFds(fd, encodeFrame({ t: 'request', id: 1, op, ...args }));
    const reader = new FrameReader();
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const got = x.recvFds(fd, MAX_FRAME_BYTES + 4);
      if (got) {
        for (const f of got.fds) x.closeFd(f);
        if (got.bytes.length === 0) throw new Error(`rawpci serve at ${socket} closed the connection without a reply`);
        reader.push(got.bytes);
        for (let raw = reader.next(); raw !== undefined; raw = reader.next()) {
          const f = serverFrameSchema.safeParse(raw);
          if (!f.success) continue;
          const frame: ServerFrame = f.data;
          if (frame.t === 'error') throw new Error(`rawpci serve at ${socket} refused: ${frame.msg} (${statusName(frame.rc)})`);
          if (frame.t === 'reply') return frame;
        }
        continue;
      }
      if (performance.now() > deadline) throw new Error(`rawpci serve at ${socket} did not reply within ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    x.closeFd(fd);
  }
}

/** `rawpci status --socket`: the live sessions of a running ring 0. */
export async function socketStatus(io: CliIo, socket: string, asJson: boolean): Promise<void> {
  const r = await adminRequest(socket, 'status');
  const s = r.data as {
    pid: number;
    host: string;
    sessions: { session: number; pid: number; uid: number; devices: string[]; requests: number; irqs: number; faults: number; since: string }[];
    cleanups: { session: number; pid: number; why: string; ms: number }[];
    reclaimed: string[];
  };
  if (asJson) {
    json(io, s);
    return;
  }
  let out = `rawpci serve pid ${s.pid} (${s.host} host) on ${socket}: ${s.sessions.length} live session${s.sessions.length === 1 ? '' : 's'}\n`;
  if (s.sessions.length) {
    const color = useColor(io);
    const table = new Table({
      head: ['session', 'pid', 'uid', 'devices', 'requests', 'interrupts', 'faults', 'since'],
      style: { head: color ? ['cyan'] : [], border: color ? ['grey'] : [] },
    });
    for (const v of s.sessions) table.push([v.session, v.pid, v.uid, v.devices.join(' ') || '-', v.requests, v.irqs, v.faults, v.since]);
    out += `${table.toString()}\n`;
  }
  io.stdout(out);
}

/** `rawpci attach|detach --host sim --socket`: the running service's simulated host bindings. */
export async function socketBinding(io: CliIo, socket: string, op: 'attach' | 'detach', bdfs: string[], asJson: boolean): Promise<void> {
  const done: unknown[] = [];
  for (const bdf of bdfs) {
    const r = await adminRequest(socket, op, { bdf });
    if (r.rc < 0) throw new Error(`${op} ${bdf}: ${r.msg} (${statusName(r.rc)})`);
    done.push(r.data);
    if (!asJson) io.stdout(`${op === 'attach' ? 'attached' : 'detached'} ${bdf} in the running ring 0 (simulated host, ${socket})\n`);
  }
  if (asJson) json(io, { socket, devices: done });
}

/** Adds `serve` and `end` to the program. */
export function addServeCommands(program: Command, io: CliIo, result: { code: number }): void {
  program
    .command('serve')
    .description(
      'run ring 0 as a long-lived service: VM processes connect with RawPciClient.connect("unix:PATH"); SIGTERM ends every session in the fixed order and exits',
    )
    .option('--socket <path>', `the unix socket to listen on (default ${defaultSocketPath()})`)
    .addOption(new Option('--host <host>', 'which host').choices(['sim', 'vfio']).default('sim'))
    .option('--inventory <file>', 'simulated host inventory (JSON, like r0/sim/default-inventory.json)')
    .option('--policy <file>', 'who may open which devices (docs/policy.md); default /etc/rawpci/policy.json when it exists, else only root may')
    .option('--sysfs-root <dir>', 'vfio host: another sysfs tree (DIR stands for /sys)')
    .option('--max-vms <n>', 'VMs served at once', (v) => Number(v), 4)
    .option('--state-file <file>', 'where detached devices are recorded for the next instance (default SOCKET.state.json)')
    .action(
      async (o: { socket?: string; host: 'sim' | 'vfio'; inventory?: string; policy?: string; sysfsRoot?: string; maxVms: number; stateFile?: string }) => {
        if (!Number.isInteger(o.maxVms) || o.maxVms < 1) throw new UsageError(`--max-vms ${o.maxVms} must be a positive integer`);
        if (!process.env.RAWPCI_LOG) logger().level = 'info';
        const { RawPciServer } = await import('../../r0/server.js');
        const { DEFAULT_POLICY_PATH } = await import('../../r0/policy.js');
        const policyFile = o.policy ?? (existsSync(DEFAULT_POLICY_PATH) ? DEFAULT_POLICY_PATH : undefined);
        const server = await RawPciServer.start({
          socket: o.socket ?? defaultSocketPath(),
          host: o.host,
          maxVms: o.maxVms,
          ...(o.inventory ? { inventory: o.inventory } : {}),
          ...(policyFile ? { policyFile } : {}),
          ...(o.sysfsRoot ? { sysfsRoot: o.sysfsRoot } : {}),
          ...(o.stateFile ? { stateFile: o.stateFile } : {}),
        });
        // Test harnesses and supervisors wait for this line on stdout.
        io.stdout(`rawpci serve: listening on ${server.socketPath} (pid ${process.pid}, ${server.service.host} host)\n`);
        await new Promise<void>((resolve) => {
          const stop = (sig: string) => {
            logger().info(`rawpci serve: ${sig}: ending ${server.vms} sessions`);
            void server.close().then(resolve);
          };
          process.once('SIGTERM', () => stop('SIGTERM'));
          process.once('SIGINT', () => stop('SIGINT'));
        });
      },
    );

  program
    .command('end')
    .description('end a live session of a running rawpci serve, with the same cleanup as its VM dying (devices closed in the fixed order)')
    .argument('<session>', 'session id (rawpci status --socket PATH lists them)')
    .option('--socket <path>', SOCKET_OPTION_HELP)
    .option('--json', 'print JSON for scripts')
    .action(async (sessionText: string, o: { socket?: string; json?: boolean }) => {
      const session = Number(sessionText);
      if (!Number.isInteger(session) || session <= 0)
        throw new UsageError(`session '${sessionText}' must be a positive integer (rawpci status --socket lists them)`);
      const socket = o.socket ?? defaultSocketPath();
      const r = await adminRequest(socket, 'end', { session });
      if (r.rc < 0) {
        result.code = EXIT_FAILURE;
        io.stderr(`rawpci: ${r.msg}\n`);
        return;
      }
      const d = r.data as { session: number; cleanupMs: number };
      if (o.json) json(io, d);
      else io.stdout(`ended session ${d.session}: its devices were closed in the fixed order in ${d.cleanupMs.toFixed(1)} ms\n`);
    });
}
