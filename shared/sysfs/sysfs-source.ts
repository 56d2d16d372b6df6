// The sysfs PciSource: reads /sys/bus/pci/devices (or the same layout under another root), read-only.

import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Bdf } from '../bdf.js';
import { type PciDeviceRecord, type PciResource, type PciSource, sortRecords } from './source.js';

/** The default sysfs root (the directory that `--sysfs-root` replaces). */
export const SYSFS_ROOT_DEFAULT = '/sys';

/**
 * Reads PCI functions from `root`/bus/pci/devices, the files lspci's linux-sysfs method reads
 * (pciutils lib/sysfs.c): vendor, device, class, revision, subsystem_vendor, subsystem_device,
 * irq, resource, config, and the driver and iommu_group links. Never writes.
 */
export class SysfsPciSource implements PciSource {
  readonly kind = 'sysfs' as const;
  readonly root: string;

  /** `root` stands for /sys (devices under root/bus/pci/devices). */
  constructor(root: string = SYSFS_ROOT_DEFAULT) {
    this.root = root;
  }

  get description(): string {
    return `sysfs at ${this.root}`;
  }

  /** root/bus/pci (what lspci calls sysfs.path). */
  get busPciDir(): string {
    return join(this.root, 'bus', 'pci');
  }

  /** root/bus/pci/devices. */
  get devicesDir(): string {
    return join(this.busPciDir, 'devices');
  }

  /** Directory of one function (a symlink on a real system). */
  deviceDir(bdf: Bdf): string {
    return join(this.devicesDir, bdf.toString());
  }

  /** BDFs of every entry under devices/ (entries starting with '.' skipped, as lspci does). */
  listBdfs(): Bdf[] {
    const dir = this.devicesDir;
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch (e) {
      throw new Error(
        `cannot read ${dir} (${(e as NodeJS.ErrnoException).code ?? e}): is sysfs mounted, or does --sysfs-root point at a directory that stands for /sys?`,
      );
    }
    const out: Bdf[] = [];
    for (const n of names) {
      if (n.startsWith('.')) continue;
      const b = Bdf.tryParse(n);
      if (!b) throw new Error(`${join(dir, n)} is not named like a PCI address (DDDD:BB:DD.F): remove it from the tree`);
      out.push(b);
    }
    return out;
  }

  async list(): Promise<PciDeviceRecord[]> {
    return sortRecords(this.listBdfs().map((b) => this.read(b)));
  }

  async get(bdf: Bdf): Promise<PciDeviceRecord | undefined> {
    return existsSync(this.deviceDir(bdf)) ? this.read(bdf) : undefined;
  }

  /** {@link read}, or undefined when there is no function at `bdf` or its directory is unreadable. */
  tryRead(bdf: Bdf): PciDeviceRecord | undefined {
    try {
      return existsSync(this.deviceDir(bdf)) ? this.read(bdf) : undefined;
    } catch {
      return undefined;
    }
  }

  /** Whether driver `name` is loaded (root/bus/pci/drivers/NAME exists). */
  hasDriver(name: string): boolean {
    return existsSync(join(this.busPciDir, 'drivers', name));
  }

  /** Reads one function; throws Error naming the file when a mandatory one is missing. */
  read(bdf: Bdf): PciDeviceRecord {
    const dir = this.deviceDir(bdf);
    const rec: PciDeviceRecord = {
      bdf,
      vendor: mandatoryValue(dir, 'vendor'),
      device: mandatoryValue(dir, 'device'),
      classCode: mandatoryValue(dir, 'class'),
      irq: mandatoryValue(dir, 'irq'),
      config: readConfig(dir),
    };
    const rev = optionalValue(dir, 'revision');
    if (rev !== undefined) rec.revision = rev;
    const sv = optionalValue(dir, 'subsystem_vendor');
    if (sv !== undefined) {
      rec.subsystemVendor = sv;
      const sd = optionalValue(dir, 'subsystem_device');
      if (sd !== undefined) rec.subsystemDevice = sd;
    }
    const res = readResources(dir);
    if (res) rec.resources = res;
    const driver = linkBase(join(dir, 'driver'));
    if (driver) rec.driver = driver;
    const group = linkBase(join(dir, 'iommu_group'));
    if (group) rec.iommuGroup = group;
    const ov = optionalString(dir, 'driver_override')?.trim();
    if (ov && ov !== '(null)') rec.driverOverride = ov;
    const numa = optionalValue(dir, 'numa_node');
    if (numa !== undefined) rec.numaNode = numa;
    const label = optionalString(dir, 'label');
    if (label !== undefined) rec.label = label;
    const modalias = optionalString(dir, 'modalias');
    if (modalias !== undefined) rec.modalias = modalias.trim();
    const slot = this.physSlot(bdf);
    if (slot) rec.physSlot = slot;
    return rec;
  }

  /** The slot under root/bus/pci/slots whose `address` names this device (lib/sysfs.c sysfs_fill_slots). */
  private physSlot(bdf: Bdf): string | undefined {
    const slotsDir = join(this.busPciDir, 'slots');
    let names: string[];
    try {
      names = readdirSync(slotsDir);
    } catch {
      return undefined;
    }
    for (const n of names) {
      if (n.startsWith('.')) continue;
      const addr = optionalString(join(slotsDir, n), 'address');
      const m = addr && /^([0-9a-f]+):([0-9a-f]+):([0-9a-f]+)/i.exec(addr);
      if (m && Number.parseInt(m[1]!, 16) === bdf.domain && Number.parseInt(m[2]!, 16) === bdf.bus && Number.parseInt(m[3]!, 16) === bdf.device) return n;
    }
    return undefined;
  }

  /** Every function whose iommu_group link resolves to `group` (the kernel's iommu_groups/N/devices), sorted by PCI address. */
  groupMembers(group: string): Bdf[] {
    const devs = join(this.root, 'kernel', 'iommu_groups', group, 'devices');
    const bdfs = existsSync(devs)
      ? readdirSync(devs).flatMap((n) => Bdf.tryParse(n) ?? [])
      : this.listBdfs().filter((b) => linkBase(join(this.deviceDir(b), 'iommu_group')) === group);
    return bdfs.sort((a, b) => a.pciAddress - b.pciAddress);
  }

  /** Name of the driver `bdf` is bound to now (basename of its `driver` link), undefined when unbound. */
  driverOf(bdf: Bdf): string | undefined {
    return linkBase(join(this.deviceDir(bdf), 'driver'));
  }
}

function optionalString(dir: string, name: string): string | undefined {
  try {
    return readFileSync(join(dir, name), 'utf8');
  } catch {
    return undefined;
  }
}

/** strtol(buf, NULL, 0): `0x` hex, leading `0` octal, else decimal; undefined when unreadable. */
function optionalValue(dir: string, name: string): number | undefined {
  const s = optionalString(dir, name);
  if (s === undefined) return undefined;
  return parseCInt(s);
}

function mandatoryValue(dir: string, name: string): number {
  const v = optionalValue(dir, name);
  if (v === undefined)
    throw new Error(`cannot read ${join(dir, name)}: a PCI device directory needs it (lspci fails the same way); fix the tree or its permissions`);
  return v;
}

/** Parses an integer like C's strtol with base 0 (leading junk ignored, garbage gives 0). */
export function parseCInt(text: string): number {
  const m = /^\s*([+-]?)(0[xX][0-9a-fA-F]+|0[0-7]*|[1-9][0-9]*)/.exec(text);
  if (!m) return 0;
  const body = m[2]!;
  const v = /^0[xX]/.test(body)
    ? Number.parseInt(body.slice(2), 16)
    : body.length > 1 && body.startsWith('0')
      ? Number.parseInt(body, 8)
      : Number.parseInt(body, 10);
  return m[1] === '-' ? -v : v;
}

function readConfig(dir: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(join(dir, 'config')));
  } catch {
    return new Uint8Array(0);
  }
}

/** Parses sysfs `resource` (three hex fields a line); undefined when the file is absent. */
export function readResources(dir: string): PciResource[] | undefined {
  const text = optionalString(dir, 'resource');
  if (text === undefined) return undefined;
  return parseResources(text, join(dir, 'resource'));
}

/** Parses the text of a sysfs `resource` file. Throws on a syntax error, like libpci. */
export function parseResources(text: string, what = 'resource'): PciResource[] {
  const out: PciResource[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const f = line.trim().split(/\s+/);
    if (f.length < 3 || !f.slice(0, 3).every((x) => /^(0x)?[0-9a-f]+$/i.test(x)))
      throw new Error(`syntax error in ${what}: '${line}': each line must be 'start end flags' in hex`);
    out.push({ start: BigInt(withHex(f[0]!)), end: BigInt(withHex(f[1]!)), flags: BigInt(withHex(f[2]!)) });
  }
  return out;
}

function withHex(s: string): string {
  return /^0x/i.test(s) ? s : `0x${s}`;
}

/** basename of a symlink's target (what lspci prints for `driver`), undefined when it is not a link. */
function linkBase(path: string): string | undefined {
  try {
    return basename(readlinkSync(path));
  } catch {
    return undefined;
  }
}
