// `rawpci demo --os`: an unmodified Linux in the v86 emulator finds edu on its PCI bus and drives it, on one command (the guest fetched by the project's script on first use).

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Bdf } from '../../shared/bdf.js';
import { FETCH_GUEST_COMMAND, guestCacheDir, guestCacheFiles, packageRoot, runV86Vm, VmUsageError } from '../vm/v86-vm.js';

/** Options of {@link runOsDemo}. */
export interface OsDemoOptions {
  /** Host BDF of edu (default 0000:00:04.0, the simulated host's). */
  device?: string;
  /** Host BDF of the testdev to put beside it (default 0000:00:05.0). */
  testdev?: string;
  inventory?: string;
  /** Seconds before the guest is stopped (default 300: boot is 15 s idle, up to a minute loaded). */
  timeoutSec?: number;
}

/**
 * The guest's kernel and initramfs, fetched and built by scripts/guest-os/fetch.mjs when the
 * guest cache has none (Debian's i386 kernel, busybox and pciutils: about 60 MB of packages once).
 * Throws VmUsageError when the fetch fails, with what it printed.
 */
export function ensureGuestFiles(log: (line: string) => void): { kernel: string; initrd: string } {
  const have = () => {
    const f = guestCacheFiles();
    return f.kernel && f.initrd && existsSync(f.kernel) && existsSync(f.initrd) ? { kernel: f.kernel, initrd: f.initrd } : undefined;
  };
  const ready = have();
  if (ready) return ready;
  const script = join(packageRoot(), 'scripts', 'guest-os', 'fetch.mjs');
  log(`rawpci demo --os: no guest in ${guestCacheDir()} yet: fetching Debian's i386 kernel, busybox and pciutils (${FETCH_GUEST_COMMAND}, once)`);
  const r = spawnSync(process.execPath, [script], { stdio: ['ignore', 'ignore', 'inherit'] });
  const got = have();
  if (r.status !== 0 || !got) throw new VmUsageError(`fetching the guest failed (exit ${r.status}): run '${FETCH_GUEST_COMMAND}' to see why`);
  return got;
}

/**
 * Boots Linux with edu (and the testdev) on its bus; the guest runs scripts/guest-os/demo.sh
 * (lspci, identification, liveness, 10!) and its status is returned: 0 when every guest check
 * passed. Throws VmUsageError as {@link runV86Vm} does.
 */
export async function runOsDemo(o: OsDemoOptions = {}): Promise<number> {
  const log = (l: string) => process.stderr.write(`${l}\n`);
  const files = ensureGuestFiles(log);
  const devices = [o.device ?? '0000:00:04.0', o.testdev ?? '0000:00:05.0'].map((b) => ({ bdf: Bdf.parse(b) }));
  log('rawpci demo --os: booting Linux in v86 with edu and the testdev on its PCI bus (15 s to a minute)');
  return runV86Vm({
    devices,
    host: 'sim',
    ...(o.inventory ? { inventory: o.inventory } : {}),
    kernel: files.kernel,
    initrd: files.initrd,
    append: 'rawpci.demo quiet loglevel=3',
    timeoutSec: o.timeoutSec ?? 300,
    interactive: false,
  });
}
