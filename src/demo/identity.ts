// Which devices `rawpci demo` drives and at which addresses, and the read-only check of their vendor and device IDs (sysfs or the sim inventory) before ring 0 opens any of them.

import { TESTDEV_DEVICE_ID, TESTDEV_VENDOR_ID } from '../../r0/sim/models/testdev.js';
import { Bdf } from '../../shared/bdf.js';
import { EDU_DEVICE_ID, EDU_VENDOR_ID } from '../../shared/devices/edu.js';
import type { PciSource } from '../../shared/sysfs/source.js';
import { SYSFS_ROOT_DEFAULT, SysfsPciSource } from '../../shared/sysfs/sysfs-source.js';
import { createSimSource } from '../sysfs/sim-source.js';

/** A device the demo knows how to drive: its name, its IDs, and the command-line option that gives its address. */
export interface DemoDeviceKind {
  readonly name: string;
  /** PCI vendor and device IDs (config offsets 0x00 and 0x02; sysfs `vendor` and `device`). */
  readonly vendor: number;
  readonly device: number;
  readonly option: '--device' | '--testdev';
}

/**
 * The only devices the demo drives: QEMU's edu (docs/edu.md, Identification) and rawpci's
 * testdev (docs/testdev.md, Identity). Anything else is refused before it is opened.
 */
export const DEMO_DEVICES = {
  edu: { name: 'edu', vendor: EDU_VENDOR_ID, device: EDU_DEVICE_ID, option: '--device' },
  testdev: { name: 'rawpci-testdev', vendor: TESTDEV_VENDOR_ID, device: TESTDEV_DEVICE_ID, option: '--testdev' },
} as const satisfies Record<string, DemoDeviceKind>;

/** Which of {@link DEMO_DEVICES} a target is. */
export type DemoRole = keyof typeof DEMO_DEVICES;

/** Where the simulated host's default inventory (r0/sim/default-inventory.json) puts them. */
export const DEMO_SIM_DEFAULT_BDF: Readonly<Record<DemoRole, string>> = { edu: '0000:00:04.0', testdev: '0000:00:05.0' };

/** One device the demo will open: its role and address, and whether the user named it (else the sim default). */
export interface DemoTarget {
  role: DemoRole;
  bdf: Bdf;
  given: boolean;
}

/** What {@link demoTargets}, {@link demoSource} and {@link checkDemoTargets} read of the demo's options. */
export interface DemoTargetOptions {
  /** `sim` (default) or `vfio`. */
  host?: string;
  /** edu's BDF (`--device`): required on vfio. */
  device?: string;
  /** The testdev's BDF (`--testdev`): on vfio the testdev is driven only when given. */
  testdev?: string;
  /** The guest part drives both devices: on vfio it needs `--testdev`. */
  guest?: boolean;
  /** vfio: the directory that stands for /sys (default /sys). */
  sysfsRoot?: string;
  /** sim: inventory JSON file (default: the embedded inventory). */
  inventory?: string;
}

/** Options the user must fix (the CLI maps it to exit code 2, usage); its message says how. */
export class DemoUsageError extends Error {
  override readonly name = 'DemoUsageError';
}

/**
 * A device to drive is not one the demo drives, or is not there, or cannot be read; nothing was
 * started or opened. `code`: NOT_FOUND (no function at the address), NOT_DRIVEN (other vendor or
 * device IDs), UNREADABLE (the sysfs entry or the inventory cannot be read). The message names
 * the address, the IDs found, the devices the demo drives, and how to find the right one.
 */
export class DemoDeviceError extends Error {
  override readonly name = 'DemoDeviceError';
  readonly code: 'NOT_FOUND' | 'NOT_DRIVEN' | 'UNREADABLE';
  /** The address refused (canonical form), undefined when the source itself could not be read. */
  readonly bdf: string | undefined;

  constructor(code: DemoDeviceError['code'], bdf: string | undefined, message: string) {
    super(message);
    this.code = code;
    this.bdf = bdf;
  }
}

const hex4 = (v: number) => v.toString(16).padStart(4, '0');
/** `vvvv:dddd`, as lspci -nn and `rawpci list -d` write IDs. */
const ids = (vendor: number, device: number) => `${hex4(vendor)}:${hex4(device)}`;
const kindText = (k: DemoDeviceKind) => `${k.name} ${ids(k.vendor, k.device)}`;
/** "the demo drives only edu 1234:11e8 (--device) and rawpci-testdev 1234:5250 (--testdev)". */
const DRIVES = `the demo drives only ${Object.values(DEMO_DEVICES)
  .map((k) => `${kindText(k)} (${k.option})`)
  .join(' and ')}`;

/** The `rawpci list` command that finds `kind` on the host the options name. */
function findCommand(kind: DemoDeviceKind, opts: DemoTargetOptions): string {
  if (opts.host === 'vfio')
    return `rawpci list${opts.sysfsRoot && opts.sysfsRoot !== SYSFS_ROOT_DEFAULT ? ` --sysfs-root ${opts.sysfsRoot}` : ''} -d ${ids(kind.vendor, kind.device)}`;
  return `rawpci list --host sim${opts.inventory ? ` --inventory ${opts.inventory}` : ''} -d ${ids(kind.vendor, kind.device)}`;
}

function parseTarget(role: DemoRole, text: string | undefined): DemoTarget {
  const kind = DEMO_DEVICES[role];
  if (text === undefined) return { role, bdf: Bdf.parse(DEMO_SIM_DEFAULT_BDF[role]), given: false };
  const bdf = Bdf.tryParse(text);
  if (!bdf) throw new DemoUsageError(`${kind.option} '${text}' is not a PCI address: write DDDD:BB:DD.F or BB:DD.F (e.g. 0000:00:04.0)`);
  return { role, bdf, given: true };
}

/**
 * The devices the demo will open, edu first: on sim, edu and the testdev (at the inventory's
 * default addresses unless given); on vfio, edu at `device` and the testdev only at `testdev`.
 * Throws {@link DemoUsageError} when vfio has no `device` (the demo would otherwise pick an
 * address blindly on a real machine), when vfio's `guest` has no `testdev`, when a BDF does not
 * parse, or when `sysfsRoot` is combined with the sim host. Reads nothing.
 */
export function demoTargets(opts: DemoTargetOptions): DemoTarget[] {
  const host = opts.host ?? 'sim';
  if (host === 'sim' && opts.sysfsRoot !== undefined)
    throw new DemoUsageError('--sysfs-root reads a Linux sysfs tree and cannot be combined with --host sim: drop one of them');
  if (host === 'vfio' && opts.device === undefined)
    throw new DemoUsageError(
      `on the vfio host the demo opens a real device, detaches its host driver and writes edu registers into it, so it never guesses which: name the edu function to use with --device BDF (\`${findCommand(DEMO_DEVICES.edu, opts)}\` finds it)`,
    );
  if (host === 'vfio' && opts.guest && opts.testdev === undefined)
    throw new DemoUsageError(
      `--guest drives the testdev (${kindText(DEMO_DEVICES.testdev)}) as well as edu: on the vfio host name it with --testdev BDF, or drop --guest`,
    );
  const targets = [parseTarget('edu', opts.device)];
  if (host === 'sim' || opts.testdev !== undefined) targets.push(parseTarget('testdev', opts.testdev));
  return targets;
}

/**
 * The read-only view of the host ring 0 would drive: on vfio a {@link SysfsPciSource} at
 * `sysfsRoot` (default /sys), on sim the same inventory ring 0 loads (`inventory` or the
 * embedded one). Throws {@link DemoDeviceError} UNREADABLE when the inventory cannot be loaded.
 */
export async function demoSource(opts: DemoTargetOptions): Promise<PciSource> {
  if (opts.host === 'vfio') return new SysfsPciSource(opts.sysfsRoot ?? SYSFS_ROOT_DEFAULT);
  try {
    return await createSimSource(opts.inventory);
  } catch (e) {
    throw new DemoDeviceError('UNREADABLE', undefined, `${(e as Error).message}; the demo opened nothing`);
  }
}

/**
 * Reads the vendor and device IDs of every target from `source` (sysfs `vendor`/`device`, or the
 * model's config space; nothing is written) and checks each is the device its role drives.
 * Returns a one-line account for the report ("edu 0000:00:04.0 is 1234:11e8, ..."). Throws
 * {@link DemoDeviceError} on the first target that is absent (NOT_FOUND), unreadable
 * (UNREADABLE) or another device (NOT_DRIVEN), before anything has been opened.
 */
export async function checkDemoTargets(targets: DemoTarget[], source: PciSource, opts: DemoTargetOptions = {}): Promise<string> {
  const seen: string[] = [];
  for (const t of targets) {
    const kind = DEMO_DEVICES[t.role];
    const bdf = t.bdf.toString();
    const where = `${bdf} (${t.given ? kind.option : `the default for ${kind.option}`})`;
    const tail = `: ${DRIVES}, and it opened nothing; \`${findCommand(kind, opts)}\` finds ${kind.name}, name it with ${kind.option} BDF`;
    let rec: Awaited<ReturnType<PciSource['get']>>;
    try {
      rec = await source.get(t.bdf);
    } catch (e) {
      throw new DemoDeviceError('UNREADABLE', bdf, `cannot read the IDs of ${where} in ${source.description} (${(e as Error).message})${tail}`);
    }
    if (!rec) throw new DemoDeviceError('NOT_FOUND', bdf, `no PCI device at ${where} in ${source.description}${tail}`);
    if (rec.vendor !== kind.vendor || rec.device !== kind.device) {
      const other = Object.values(DEMO_DEVICES).find((k) => k.vendor === rec.vendor && k.device === rec.device);
      throw new DemoDeviceError(
        'NOT_DRIVEN',
        bdf,
        `${where} is ${ids(rec.vendor, rec.device)}${other ? ` (${other.name})` : ''}, not ${kindText(kind)}${tail}`,
      );
    }
    seen.push(`${kind.name} ${bdf} is ${ids(rec.vendor, rec.device)}`);
  }
  return `${seen.join(', ')} (read-only, from ${source.description})`;
}
