// The CLI's shared pieces: its I/O seam and exit codes, the host and display options of list and show, and the helpers every command uses.

import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import type { Bdf } from '../../shared/bdf.js';
import { isBridge } from '../../shared/sysfs/binding.js';
import type { PciDeviceRecord, PciSource } from '../../shared/sysfs/source.js';
import { SYSFS_ROOT_DEFAULT, SysfsPciSource } from '../../shared/sysfs/sysfs-source.js';
import type { SysfsWriter } from '../../shared/sysfs/writer.js';
import { parseDeviceName } from '../sysfs/attach.js';
import { ConfigView } from '../sysfs/config-view.js';
import { readDump } from '../sysfs/dump.js';
import { type LspciOptions, modulesOf, revisionOf, subsystemOf } from '../sysfs/lspci-format.js';
import { defaultModulesDir, KernelModules } from '../sysfs/modules.js';
import { type IdMode, PCI_IDS_MISSING_HINT, PciIds } from '../sysfs/pci-ids.js';
import { type AttachmentRecord, type StatePaths, sameAttachment, statePaths } from '../sysfs/state.js';
import { slotPaths, sysfsParents } from '../sysfs/tree.js';

/** Exit codes: 0 ok, 1 failure, 2 usage (bad options or arguments). */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/**
 * Where the CLI writes and what it knows about its terminal; tests pass their own to capture
 * output. `isTTY` turns colour on (never when output is a pipe or file).
 */
export interface CliIo {
  stdout(text: string): void;
  stderr(text: string): void;
  isTTY: boolean;
  env: NodeJS.ProcessEnv;
  /** Makes the writer used by attach/detach when not --dry-run (tests inject a fake kernel). */
  makeWriter?: () => SysfsWriter;
  /** Effective uid deciding the default state file (default process.geteuid(); tests pass their own). */
  uid?: number;
  /** The system-wide state file root uses (default /var/lib/rawpci/attachments.json; tests pass a temp file). */
  systemStatePath?: string;
}

export const STATE_OPTION_HELP =
  'attachment state file (default: $RAWPCI_STATE; for root /var/lib/rawpci/attachments.json; else $XDG_STATE_HOME/rawpci/attachments.json)';

/** The state files for this run (see statePaths in src/sysfs/state.ts). */
export function statePathsOf(io: CliIo, explicit: string | undefined): StatePaths {
  return statePaths({ explicit, env: io.env, uid: io.uid, systemPath: io.systemStatePath });
}

/** A usage error (exit code 2): a bad argument the user can fix by reading --help. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export function defaultIo(): CliIo {
  return {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    isTTY: !!process.stdout.isTTY,
    env: process.env,
  };
}

export function packageVersion(): string {
  try {
    const url = new URL('../../../package.json', import.meta.url);
    return (JSON.parse(readFileSync(url, 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export interface SourceOptions {
  host: string;
  sysfsRoot?: string;
  inventory?: string;
  pciIds?: string;
  state?: string;
}

export function addSourceOptions(cmd: Command, opts: { ids?: boolean; state?: boolean } = {}): Command {
  cmd
    .addOption(new Option('--host <host>', 'which host: linux (sysfs) or sim (the simulated host)').choices(['linux', 'sysfs', 'sim']).default('linux'))
    .option('--sysfs-root <dir>', 'read another sysfs tree: DIR stands for /sys (devices under DIR/bus/pci/devices)')
    .option('--inventory <file>', 'simulated host inventory (JSON) for --host sim');
  if (opts.ids)
    cmd.option('-i, --pci-ids <file>', 'PCI ID database, as lspci -i (default: $RAWPCI_PCI_IDS, /usr/share/misc/pci.ids, /usr/share/hwdata/pci.ids)');
  if (opts.state) cmd.option('--state <file>', STATE_OPTION_HELP);
  return cmd;
}

export async function makeSource(o: SourceOptions): Promise<PciSource> {
  if (o.inventory !== undefined && o.host !== 'sim')
    throw new UsageError("--inventory is the simulated host's inventory and applies only with --host sim: add --host sim or drop --inventory");
  if (o.host === 'sim') {
    if (o.sysfsRoot) throw new UsageError('--sysfs-root reads a Linux sysfs tree and cannot be combined with --host sim: drop one of them');
    const { createSimSource } = await import('../sysfs/sim-source.js');
    return createSimSource(o.inventory);
  }
  return new SysfsPciSource(o.sysfsRoot ?? SYSFS_ROOT_DEFAULT);
}

/** lspci's display options as list and show take them (counts for -n, -v, -m, -x). */
export interface DisplayFlags {
  numeric: number;
  verbose: number;
  kernel?: boolean;
  domains?: boolean;
  machine: number;
  hex: number;
  tree?: number;
  /** -P count: 1 bridge path, 2 with bus numbers. */
  path: number;
  dump?: string;
  modulesDir?: string;
}

export function addDisplayOptions(cmd: Command): Command {
  return cmd
    .option('-n, --numeric', '-n numbers only, -nn names and numbers (as lspci)', increase, 0)
    .option('-v, --verbose', 'verbose decode: -v, -vv, -vvv (as lspci)', increase, 0)
    .option('-k, --kernel', 'kernel driver in use and kernel modules (lspci -k)')
    .option('-D, --domains', 'always show PCI domain numbers (lspci -D)')
    .option('-P, --path', 'each slot name as the path of bridges above it: -P device numbers, -PP with bus numbers (as lspci)', increase, 0)
    .option('-m, --machine', 'machine-readable: -mm one quoted line a device, -vmm Tag:value records (as lspci)', increase, 0)
    .option('-x, --hex', 'hex dump: -x 64 bytes, -xxx 256 bytes, -xxxx 4096 bytes (as lspci)', increase, 0)
    .option('-F, --dump <file>', 'read the devices from an `lspci -x` (-xxx, -xxxx) dump instead of a host (lspci -F)')
    .option('--modules-dir <dir>', 'where `Kernel modules:` are looked up: DIR/modules.alias (default /lib/modules/$(uname -r), as libkmod)');
}

/** The display a command's flags ask for: the preset when none of lspci's display options is given, else exactly those. */
export function resolveDisplay(
  o: DisplayFlags,
  cmd: 'list' | 'show',
): { explicit: boolean; mode: IdMode; verbose: number; machine: number; opts: LspciOptions } {
  const explicit = !!(o.numeric || o.verbose || o.kernel || o.domains || o.machine || o.tree || o.path);
  const n = explicit ? o.numeric : 2;
  const verbose = explicit ? o.verbose : cmd === 'show' ? 2 : 0;
  const mode: IdMode = n >= 2 ? 'mixed' : n === 1 ? 'numeric' : 'names';
  const opts: LspciOptions = { mode, domains: explicit ? !!o.domains : true, verbose, kernel: explicit ? !!o.kernel : true, hex: o.hex };
  const kernelShown = !o.tree && (o.machine ? verbose > 0 && opts.kernel : opts.kernel || verbose > 0);
  if (o.machine && !verbose && o.kernel) throw new UsageError('-k adds Driver and Module fields to -vmm records only; -mm has none: write -vmm -k or drop -k');
  if (o.modulesDir !== undefined && !kernelShown)
    throw new UsageError('--modules-dir is where `Kernel modules:` come from, and these options print none: add -k (or -v), or drop --modules-dir');
  if (o.modulesDir !== undefined && o.dump !== undefined) throw new UsageError('--modules-dir does not apply to -F: a dump has no modaliases to look up');
  return { explicit, mode, verbose, machine: o.machine, opts };
}

/**
 * -P/-PP: the slot path of every device in `all` (the host's functions before filtering), over
 * the tree lspci grows (sysfs parents on a sysfs host, bus numbers otherwise); undefined without -P.
 */
export function pathsFor(o: DisplayFlags, all: PciDeviceRecord[], source: PciSource | undefined): Map<string, string> | undefined {
  if (!o.path) return undefined;
  return slotPaths(all, o.path, source instanceof SysfsPciSource ? sysfsParents(source, all) : new Map());
}

export function loadModules(o: DisplayFlags, d: { opts: LspciOptions; verbose: number; machine: number }): KernelModules | undefined {
  if (o.dump !== undefined || o.tree || !(d.opts.kernel || d.verbose)) return undefined;
  const mods = KernelModules.load(o.modulesDir ?? defaultModulesDir());
  if (!mods && o.modulesDir !== undefined)
    throw new Error(
      `cannot read ${o.modulesDir}/modules.alias: --modules-dir must name a kernel's modules directory (like /lib/modules/$(uname -r)) that depmod has filled`,
    );
  return mods;
}

/** The devices list/show work on: a host's (sysfs or sim) or, with -F, a dump's. */
export async function loadRecords(o: SourceOptions & DisplayFlags): Promise<{ records: PciDeviceRecord[]; source?: PciSource; description: string }> {
  if (o.dump !== undefined) {
    const given = [o.host !== 'linux' ? '--host' : '', o.sysfsRoot !== undefined ? '--sysfs-root' : '', o.inventory !== undefined ? '--inventory' : ''].filter(
      Boolean,
    );
    if (given.length) throw new UsageError(`-F reads the devices from a dump, not a host: ${given.join(', ')} cannot be combined with it`);
    return { records: readDump(o.dump), description: `the dump ${o.dump}` };
  }
  const source = await makeSource(o);
  return { records: await source.list(), source, description: source.description };
}

/** Colour on a terminal, never in a pipe; NO_COLOR (non-empty) turns it off, FORCE_COLOR on (FORCE_COLOR=0 off). */
export function useColor(io: Pick<CliIo, 'isTTY' | 'env'>): boolean {
  if (io.env.NO_COLOR) return false;
  const force = io.env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  return io.isTTY && io.env.TERM !== 'dumb';
}

/**
 * The ID database a display needs. -n prints numbers, so none is read and no hint given, except
 * that -v still names prog-ifs from it (libpci looks them up with PCI_LOOKUP_NO_NUMBERS).
 */
export function idsFor(io: CliIo, o: SourceOptions & { json?: boolean }, d: { mode: IdMode; verbose: number }): PciIds {
  if (d.mode !== 'numeric' || o.json) return loadIds(io, o.pciIds);
  return d.verbose ? PciIds.find(o.pciIds, io.env).ids : PciIds.empty();
}

export function loadIds(io: CliIo, explicit?: string): PciIds {
  const { ids, found } = PciIds.find(explicit, io.env);
  if (!found) io.stderr(`${PCI_IDS_MISSING_HINT}\n`);
  return ids;
}

export function parseBdfArg(text: string): Bdf {
  const b = parseDeviceName(text);
  if (!b)
    throw new UsageError(
      `'${text}' is not a PCI address: write DDDD:BB:DD.F, BB:DD.F or libvirt's pci_DDDD_BB_DD_F (e.g. 0000:00:04.0); \`rawpci list\` shows them`,
    );
  return b;
}

export function increase(_v: string, prev: number): number {
  return prev + 1;
}

/** JSON form of one device for `list --json` and `show --json`. */
export function deviceJson(rec: PciDeviceRecord, ids: PciIds, attachment?: AttachmentRecord, modules?: KernelModules): Record<string, unknown> {
  const cfg = new ConfigView(rec.config);
  const cls = rec.classCode >> 8;
  const ss = subsystemOf(rec, cfg);
  const h4 = (v: number) => v.toString(16).padStart(4, '0');
  return {
    bdf: rec.bdf.toString(),
    class: h4(cls),
    progIf: (rec.classCode & 0xff).toString(16).padStart(2, '0'),
    className: ids.formatClass(cls, 'names'),
    vendor: h4(rec.vendor),
    device: h4(rec.device),
    vendorName: ids.vendorName(rec.vendor) ?? null,
    deviceName: ids.deviceName(rec.vendor, rec.device) ?? null,
    revision: revisionOf(rec, cfg).toString(16).padStart(2, '0'),
    subsystem:
      ss?.vendor && ss.vendor !== 0xffff
        ? { vendor: h4(ss.vendor), device: h4(ss.device), name: ids.formatSubsystem(rec.vendor, rec.device, ss.vendor, ss.device, 'names') }
        : null,
    driver: rec.driver ?? null,
    kernelModules: modulesOf(rec, modules),
    driverOverride: rec.driverOverride ?? null,
    iommuGroup: rec.iommuGroup ?? null,
    irq: rec.irq,
    bridge: isBridge(rec),
    attachment: attachment
      ? { guest: attachment.guest ?? null, originalDriver: attachment.originalDriver, driver: attachment.driver, attachedAt: attachment.attachedAt }
      : null,
  };
}

export function recordsFor(source: PciSource, state: { attachments: AttachmentRecord[] }, rec: PciDeviceRecord): AttachmentRecord | undefined {
  const key = { bdf: rec.bdf.toString(), host: source.kind, ...(source instanceof SysfsPciSource ? { sysfsRoot: source.root } : {}) };
  return state.attachments.find((a) => sameAttachment(a, key));
}

export function json(io: CliIo, value: unknown): void {
  io.stdout(`${JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? v.toString() : v), 2)}\n`);
}
