// Test helper: builds fake sysfs trees (real config-space bytes), a fake kernel for bind/unbind, a fixture pci.ids, and runs lspci and the CLI.

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { Bdf } from '../../shared/bdf.js';
import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_SPACE_IO,
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_PM,
  PCI_CAP_ID_VNDR,
  PCI_CAPABILITY_LIST,
  PCI_CB_SUBSYSTEM_ID,
  PCI_CB_SUBSYSTEM_VENDOR_ID,
  PCI_CLASS_REVISION,
  PCI_COMMAND,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_DEVICE_ID,
  PCI_HEADER_TYPE,
  PCI_INTERRUPT_LINE,
  PCI_INTERRUPT_PIN,
  PCI_IO_BASE,
  PCI_IO_LIMIT,
  PCI_MEMORY_BASE,
  PCI_MEMORY_LIMIT,
  PCI_PREF_BASE_UPPER32,
  PCI_PREF_LIMIT_UPPER32,
  PCI_PREF_MEMORY_BASE,
  PCI_PREF_MEMORY_LIMIT,
  PCI_PRIMARY_BUS,
  PCI_ROM_ADDRESS,
  PCI_ROM_ADDRESS1,
  PCI_SECONDARY_BUS,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_SUBORDINATE_BUS,
  PCI_SUBSYSTEM_ID,
  PCI_SUBSYSTEM_VENDOR_ID,
  PCI_VENDOR_ID,
} from '../../shared/linux/pci-regs.js';
import type { PciDeviceRecord } from '../../shared/sysfs/source.js';
import type { SysfsWrite, SysfsWriter } from '../../shared/sysfs/writer.js';
import { type CliIo, main } from '../../src/cli/main.js';

/** One BAR of a fake device: address (size-aligned) and size in bytes. */
export interface FakeBar {
  kind: 'io' | 'mem32' | 'mem64';
  address: bigint;
  size: bigint;
  prefetchable?: boolean;
}

/** Capabilities the builder can lay out in config space (PCI 3.0 6.7, PM 1.2, 6.8.1, 6.8.2, PCIe 7.5.3). */
export type FakeCap =
  | { id: 'pm'; pmc?: number; pmcsr?: number }
  | { id: 'msi'; is64?: boolean; maskable?: boolean; log2Capable?: number; enabled?: boolean; address?: bigint; data?: number }
  | { id: 'msix'; tableSize: number; tableBar: number; tableOffset: number; pbaBar: number; pbaOffset: number; enabled?: boolean }
  | { id: 'exp'; type: number; devcap?: number; devctl?: number; lnkcap?: number; lnkctl?: number; lnksta?: number }
  | { id: 'vendor'; length: number }
  /** Any capability as raw registers: ID, the flags word at +2 and the dwords from +4 on. */
  | { id: 'raw'; capId: number; flags: number; body: number[] };

/** A PCI Express extended capability: ID, version and body dwords after the header. */
export interface FakeExtCap {
  id: number;
  version: number;
  body?: number[];
}

/** Everything a fake PCI function has: the identity fields as a sysfs record has them, then the registers and links. */
export interface FakeDevice extends Pick<PciDeviceRecord, 'vendor' | 'device' | 'classCode' | 'revision' | 'subsystemVendor' | 'subsystemDevice'> {
  bdf: string;
  /** 0 (default), 1 (PCI-to-PCI bridge) or 2 (CardBus bridge: BAR 0 and the subsystem IDs at 0x40 are built, other registers through `config`). */
  headerType?: 0 | 1 | 2;
  /** Config space as these bytes (any length, e.g. 64 as a non-root reader gets) instead of the ones built from the fields. */
  config?: Uint8Array;
  /** The `resource` file as these lines (start, end, flags) instead of the ones built from the BARs, ROM and bridge windows. */
  resourceLines?: [bigint, bigint, bigint][];
  /** False: no subsystem_vendor / subsystem_device files (lspci then reads the IDs from config space). */
  subsystemFiles?: boolean;
  multifunction?: boolean;
  /** Command register; default: I/O, memory and bus master on. */
  command?: number;
  bars?: (FakeBar | undefined)[];
  rom?: { address: bigint; size: bigint; enabled?: boolean };
  irq?: number;
  interruptPin?: number;
  caps?: FakeCap[];
  extCaps?: FakeExtCap[];
  /** 256 (default) or 4096 bytes. */
  configSize?: 256 | 4096;
  bridge?: { primary: number; secondary: number; subordinate: number; io?: [number, number]; mem?: [number, number]; pref?: [bigint, bigint] };
  /** Driver bound now. */
  driver?: string;
  /** Driver the fake kernel binds on drivers_probe with no override (the ID-table match). */
  defaultDriver?: string;
  iommuGroup?: number;
}

/** Builds the config space bytes of `d`. */
export function buildConfig(d: FakeDevice): Uint8Array {
  if (d.config) return d.config;
  const size = d.configSize ?? 256;
  const buf = new Uint8Array(size);
  const v = new DataView(buf.buffer);
  v.setUint16(PCI_VENDOR_ID, d.vendor, true);
  v.setUint16(PCI_DEVICE_ID, d.device, true);
  v.setUint16(PCI_COMMAND, d.command ?? PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, true);
  v.setUint32(PCI_CLASS_REVISION, ((d.classCode << 8) | (d.revision ?? 0)) >>> 0, true);
  const ht = d.headerType ?? 0;
  buf[PCI_HEADER_TYPE] = ht | (d.multifunction ? 0x80 : 0);
  const barCount = ht === 0 ? 6 : ht === 1 ? 2 : 1;
  (d.bars ?? []).forEach((b, i) => {
    if (!b || i >= barCount) return;
    const off = PCI_BASE_ADDRESS_0 + 4 * i;
    if (b.kind === 'io') v.setUint32(off, Number(b.address) | PCI_BASE_ADDRESS_SPACE_IO, true);
    else {
      const flags = (b.kind === 'mem64' ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) | (b.prefetchable ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
      v.setUint32(off, (Number(b.address & 0xffff_fff0n) | flags) >>> 0, true);
      if (b.kind === 'mem64') v.setUint32(off + 4, Number(b.address >> 32n), true);
    }
  });
  if (d.rom && ht !== 2) v.setUint32(ht === 1 ? PCI_ROM_ADDRESS1 : PCI_ROM_ADDRESS, (Number(d.rom.address) | (d.rom.enabled ? 1 : 0)) >>> 0, true);
  if (ht !== 1) {
    v.setUint16(ht === 0 ? PCI_SUBSYSTEM_VENDOR_ID : PCI_CB_SUBSYSTEM_VENDOR_ID, d.subsystemVendor ?? 0, true);
    v.setUint16(ht === 0 ? PCI_SUBSYSTEM_ID : PCI_CB_SUBSYSTEM_ID, d.subsystemDevice ?? 0, true);
  }
  buf[PCI_INTERRUPT_LINE] = d.irq ?? 0;
  buf[PCI_INTERRUPT_PIN] = d.interruptPin ?? 0;
  if (d.bridge) {
    const br = d.bridge;
    buf[PCI_PRIMARY_BUS] = br.primary;
    buf[PCI_SECONDARY_BUS] = br.secondary;
    buf[PCI_SUBORDINATE_BUS] = br.subordinate;
    if (br.io) {
      buf[PCI_IO_BASE] = (br.io[0] >> 8) & 0xf0;
      buf[PCI_IO_LIMIT] = (br.io[1] >> 8) & 0xf0;
    } else {
      buf[PCI_IO_BASE] = 0xf0;
      buf[PCI_IO_LIMIT] = 0x00;
    }
    if (br.mem) {
      v.setUint16(PCI_MEMORY_BASE, (br.mem[0] >>> 16) & 0xfff0, true);
      v.setUint16(PCI_MEMORY_LIMIT, (br.mem[1] >>> 16) & 0xfff0, true);
    } else {
      v.setUint16(PCI_MEMORY_BASE, 0xfff0, true);
    }
    if (br.pref) {
      v.setUint16(PCI_PREF_MEMORY_BASE, (Number((br.pref[0] >> 16n) & 0xfff0n) | 1) >>> 0, true);
      v.setUint16(PCI_PREF_MEMORY_LIMIT, (Number((br.pref[1] >> 16n) & 0xfff0n) | 1) >>> 0, true);
      v.setUint32(PCI_PREF_BASE_UPPER32, Number(br.pref[0] >> 32n), true);
      v.setUint32(PCI_PREF_LIMIT_UPPER32, Number(br.pref[1] >> 32n), true);
    } else {
      v.setUint16(PCI_PREF_MEMORY_BASE, 0xfff1, true);
      v.setUint16(PCI_PREF_MEMORY_LIMIT, 0x0001, true);
    }
  }
  const caps = d.caps ?? [];
  if (caps.length) {
    v.setUint16(PCI_STATUS, PCI_STATUS_CAP_LIST, true);
    let where = 0x40;
    buf[PCI_CAPABILITY_LIST] = where;
    caps.forEach((c, k) => {
      const len = capLength(c);
      const next = k + 1 < caps.length ? (where + len + 3) & ~3 : 0;
      buf[where + 1] = next;
      switch (c.id) {
        case 'pm':
          buf[where] = PCI_CAP_ID_PM;
          v.setUint16(where + 2, c.pmc ?? 0x0003, true);
          v.setUint16(where + 4, c.pmcsr ?? 0x0008, true);
          break;
        case 'msi': {
          buf[where] = PCI_CAP_ID_MSI;
          const flags = (c.enabled ? 1 : 0) | ((c.log2Capable ?? 0) << 1) | (c.is64 ? 0x80 : 0) | (c.maskable ? 0x100 : 0);
          v.setUint16(where + 2, flags, true);
          const addr = c.address ?? 0xfee0_0000n;
          v.setUint32(where + 4, Number(addr & 0xffff_ffffn), true);
          if (c.is64) {
            v.setUint32(where + 8, Number(addr >> 32n), true);
            v.setUint16(where + 12, c.data ?? 0x4021, true);
          } else v.setUint16(where + 8, c.data ?? 0x4021, true);
          break;
        }
        case 'msix':
          buf[where] = PCI_CAP_ID_MSIX;
          v.setUint16(where + 2, ((c.tableSize - 1) | (c.enabled ? 0x8000 : 0)) >>> 0, true);
          v.setUint32(where + 4, (c.tableOffset | c.tableBar) >>> 0, true);
          v.setUint32(where + 8, (c.pbaOffset | c.pbaBar) >>> 0, true);
          break;
        case 'exp':
          buf[where] = PCI_CAP_ID_EXP;
          v.setUint16(where + 2, 1 | (c.type << 4), true);
          v.setUint32(where + 4, c.devcap ?? 0x10008fc2, true);
          v.setUint16(where + 8, c.devctl ?? 0x2810, true);
          v.setUint32(where + 12, c.lnkcap ?? 0x00437c11, true);
          v.setUint16(where + 16, c.lnkctl ?? 0x0040, true);
          v.setUint16(where + 18, c.lnksta ?? 0x1011, true);
          break;
        case 'vendor':
          buf[where] = PCI_CAP_ID_VNDR;
          buf[where + 2] = c.length;
          break;
        case 'raw':
          buf[where] = c.capId;
          v.setUint16(where + 2, c.flags, true);
          c.body.forEach((w, i) => {
            v.setUint32(where + 4 + 4 * i, w >>> 0, true);
          });
          break;
      }
      where = next;
    });
  }
  let ext = 0x100;
  const extCaps = d.extCaps ?? [];
  extCaps.forEach((e, k) => {
    if (size < 0x1000) throw new Error('extended capabilities need configSize 4096');
    const len = 4 + 4 * (e.body?.length ?? 0);
    const next = k + 1 < extCaps.length ? (ext + len + 3) & ~3 : 0;
    v.setUint32(ext, (e.id | (e.version << 16) | (next << 20)) >>> 0, true);
    (e.body ?? []).forEach((w, i) => {
      v.setUint32(ext + 4 + 4 * i, w >>> 0, true);
    });
    ext = next;
  });
  return buf;
}

function capLength(c: FakeCap): number {
  switch (c.id) {
    case 'pm':
      return 8;
    case 'msi':
      return c.is64 ? (c.maskable ? 24 : 14) : c.maskable ? 20 : 10;
    case 'msix':
      return 12;
    case 'exp':
      return 0x14;
    case 'vendor':
      return c.length;
    case 'raw':
      return 4 + 4 * c.body.length;
  }
}

const hex16 = (v: bigint) => `0x${v.toString(16).padStart(16, '0')}`;

/** The `resource` file of `d`: BARs, ROM (7 lines), plus 4 bridge windows for a bridge; flags as Linux sets them. */
export function buildResource(d: FakeDevice): string {
  if (d.resourceLines) return d.resourceLines.map(([s, e, f]) => `${hex16(s)} ${hex16(e)} ${hex16(f)}\n`).join('');
  const lines: [bigint, bigint, bigint][] = [];
  const bars = d.bars ?? [];
  for (let i = 0; i < 6; i++) {
    const b = bars[i];
    if (!b) {
      lines.push([0n, 0n, 0n]);
      continue;
    }
    let flags: bigint;
    if (b.kind === 'io') flags = 0x40101n;
    else {
      flags = 0x40200n | (b.kind === 'mem64' ? 0x100004n : 0n) | (b.prefetchable ? 0x2008n : 0n);
    }
    lines.push([b.address, b.address + b.size - 1n, flags]);
    if (b.kind === 'mem64') {
      lines.push([0n, 0n, 0n]);
      i++;
    }
  }
  lines.push(d.rom ? [d.rom.address, d.rom.address + d.rom.size - 1n, 0x46200n | (d.rom.enabled ? 1n : 0n)] : [0n, 0n, 0n]);
  if (d.headerType === 1 && d.bridge) {
    const br = d.bridge;
    lines.push(br.io ? [BigInt(br.io[0]), BigInt(br.io[1]), 0x101n] : [0n, 0n, 0n]);
    lines.push(br.mem ? [BigInt(br.mem[0]), BigInt(br.mem[1]), 0x200n] : [0n, 0n, 0n]);
    lines.push(br.pref ? [br.pref[0], br.pref[1], 0x102201n] : [0n, 0n, 0n]);
    lines.push([0n, 0n, 0n]);
  }
  return lines.map(([s, e, f]) => `${hex16(s)} ${hex16(e)} ${hex16(f)}\n`).join('');
}

/** A fake tree on disk. `root` stands for /sys. */
export interface FakeSysfs {
  root: string;
  devices: FakeDevice[];
  /** Path of a device's directory (through bus/pci/devices). */
  dev(bdf: string): string;
  /** Removes the tree. */
  remove(): void;
}

/**
 * Writes a fake sysfs tree under a new temp dir: devices/pci0000:00/BDF/ with vendor, device,
 * class, subsystem_*, revision, irq, resource, config, driver_override, the driver and
 * iommu_group links; bus/pci/devices/BDF links; bus/pci/drivers/NAME dirs (for every driver
 * named, plus `extraDrivers`); kernel/iommu_groups/N/devices/BDF links.
 */
export function buildFakeSysfs(devices: FakeDevice[], extraDrivers: string[] = ['vfio-pci']): FakeSysfs {
  const root = mkdtempSync(join(tmpdir(), 'rawpci-sysfs-'));
  const h = (v: number, w: number) => `0x${v.toString(16).padStart(w, '0')}`;
  mkdirSync(join(root, 'bus/pci/devices'), { recursive: true });
  const drivers = new Set(extraDrivers);
  for (const d of devices) {
    const bdf = Bdf.parse(d.bdf).toString();
    const dir = join(root, 'devices', `pci${bdf.slice(0, 4)}:00`, bdf);
    mkdirSync(dir, { recursive: true });
    const w = (name: string, text: string | Uint8Array) => writeFileSync(join(dir, name), text);
    w('vendor', `${h(d.vendor, 4)}\n`);
    w('device', `${h(d.device, 4)}\n`);
    w('class', `${h(d.classCode, 6)}\n`);
    w('revision', `${h(d.revision ?? 0, 2)}\n`);
    if (d.subsystemFiles !== false) {
      w('subsystem_vendor', `${h(d.subsystemVendor ?? 0, 4)}\n`);
      w('subsystem_device', `${h(d.subsystemDevice ?? 0, 4)}\n`);
    }
    w('irq', `${d.irq ?? 0}\n`);
    w('resource', buildResource(d));
    w('config', buildConfig(d));
    w('driver_override', '(null)\n');
    w('numa_node', '-1\n');
    symlinkSync(relative(join(root, 'bus/pci/devices'), dir), join(root, 'bus/pci/devices', bdf));
    if (d.driver) {
      drivers.add(d.driver);
      symlinkSync(relative(dir, join(root, 'bus/pci/drivers', d.driver)), join(dir, 'driver'));
    }
    if (d.defaultDriver) drivers.add(d.defaultDriver);
    if (d.iommuGroup !== undefined) {
      const g = join(root, 'kernel/iommu_groups', String(d.iommuGroup));
      mkdirSync(join(g, 'devices'), { recursive: true });
      symlinkSync(relative(dir, g), join(dir, 'iommu_group'));
      symlinkSync(relative(join(g, 'devices'), dir), join(g, 'devices', bdf));
    }
  }
  for (const drv of drivers) mkdirSync(join(root, 'bus/pci/drivers', drv), { recursive: true });
  return {
    root,
    devices,
    dev: (bdf) => join(root, 'bus/pci/devices', Bdf.parse(bdf).toString()),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** The {@link FakeSysfs} of a tree another process built with {@link buildFakeSysfs} from `devices`. */
export function openFakeSysfs(root: string, devices: FakeDevice[]): FakeSysfs {
  return {
    root,
    devices,
    dev: (bdf) => join(root, 'bus/pci/devices', Bdf.parse(bdf).toString()),
    remove: () => rmSync(root, { recursive: true, force: true }),
  };
}

/**
 * A fake kernel behind the SysfsWriter seam: reacts to writes on a fake tree the way Linux
 * does. driver/unbind and drivers/NAME/unbind drop the driver link; driver_override stores the
 * name (a blank write clears it to `(null)`); drivers_probe binds an unbound device to its
 * override, else to its default driver; drivers/NAME/bind binds when the override allows.
 * Any other path is an error (so a test sees a write the real kernel would not expect).
 */
export class FakeKernel implements SysfsWriter {
  readonly dryRun = false;
  readonly log: SysfsWrite[] = [];
  readonly fake: FakeSysfs;
  /** BDF -> driver whose probe fails on it (the device stays unbound, as when vfio-pci's probe returns an error). */
  readonly refusals = new Map<string, string>();

  constructor(fake: FakeSysfs) {
    this.fake = fake;
  }

  /** Makes `driver`'s probe of `bdf` fail from now on: drivers_probe and drivers/NAME/bind leave it unbound. */
  refuse(bdf: string, driver: string): void {
    this.refusals.set(Bdf.parse(bdf).toString(), driver);
  }

  write(path: string, value: string): void {
    const rel = relative(this.fake.root, path).split('/');
    const bdfArg = value.trim();
    this.log.push({ path, value });
    const err = (code: string, msg: string): never => {
      const e = new Error(`${code}: ${msg}`) as NodeJS.ErrnoException;
      e.code = code;
      throw e;
    };
    if (rel[0] !== 'bus' || rel[1] !== 'pci') err('EACCES', `fake kernel: write outside bus/pci: ${path}`);
    if (rel[2] === 'devices' && rel.length === 6 && rel[4] === 'driver' && rel[5] === 'unbind') {
      if (!this.driverOf(rel[3]!)) err('ENOENT', `${path} does not exist (device not bound)`);
      this.unbind(bdfArg);
      return;
    }
    if (rel[2] === 'devices' && rel.length === 5 && rel[4] === 'driver_override') {
      writeFileSync(join(this.fake.dev(rel[3]!), 'driver_override'), bdfArg === '' ? '(null)\n' : `${bdfArg}\n`);
      return;
    }
    if (rel[2] === 'drivers_probe' && rel.length === 3) {
      this.probe(bdfArg);
      return;
    }
    if (rel[2] === 'drivers' && rel.length === 5 && rel[4] === 'unbind') {
      if (this.driverOf(bdfArg) !== rel[3]) err('ENODEV', `${bdfArg} is not bound to ${rel[3]}`);
      this.unbind(bdfArg);
      return;
    }
    if (rel[2] === 'drivers' && rel.length === 5 && rel[4] === 'bind') {
      if (this.driverOf(bdfArg)) err('EBUSY', `${bdfArg} is already bound`);
      const ov = this.override(bdfArg);
      if (ov && ov !== rel[3]) err('ENODEV', `${bdfArg} has driver_override ${ov}`);
      this.bind(bdfArg, rel[3]!);
      return;
    }
    err('EACCES', `fake kernel: unexpected write to ${path}`);
  }

  /** Current driver of `bdf`, or undefined. */
  driverOf(bdf: string): string | undefined {
    try {
      return readlinkSync(join(this.fake.dev(bdf), 'driver'))
        .split('/')
        .at(-1);
    } catch {
      return undefined;
    }
  }

  /** Current driver_override of `bdf`, or undefined for `(null)`. */
  override(bdf: string): string | undefined {
    const s = readFileSync(join(this.fake.dev(bdf), 'driver_override'), 'utf8').trim();
    return s === '(null)' ? undefined : s;
  }

  private unbind(bdf: string): void {
    unlinkSync(join(this.fake.dev(bdf), 'driver'));
  }

  private bind(bdf: string, driver: string): void {
    if (this.refusals.get(Bdf.parse(bdf).toString()) === driver) return;
    if (!existsSync(join(this.fake.root, 'bus/pci/drivers', driver))) throw new Error(`ENODEV: no driver ${driver}`);
    const dir = join(this.fake.root, 'devices', `pci${Bdf.parse(bdf).toString().slice(0, 4)}:00`, Bdf.parse(bdf).toString());
    symlinkSync(relative(dir, join(this.fake.root, 'bus/pci/drivers', driver)), join(dir, 'driver'));
  }

  private probe(bdf: string): void {
    if (this.driverOf(bdf)) return;
    const ov = this.override(bdf);
    const spec = this.fake.devices.find((d) => Bdf.parse(d.bdf).toString() === Bdf.parse(bdf).toString());
    const drv = ov ?? spec?.defaultDriver;
    if (drv && existsSync(join(this.fake.root, 'bus/pci/drivers', drv))) this.bind(bdf, drv);
  }
}

/** A small pci.ids for the fixture trees: names, a subsystem, a generic class, and gaps that force numeric fallbacks. */
export const FIXTURE_PCI_IDS = `# rawpci test fixture: a few real entries from pci.ids
8086  Intel Corporation
\t10d3  82574L Gigabit Network Connection
\t\t8086 a01f  Gigabit CT Desktop Adapter
\t244e  82801 PCI Bridge
\t2930  82801I (ICH9 Family) SMBus Controller
\t293e  82801I (ICH9 Family) HD Audio Controller
\t29c0  82G33/G31/P35/P31 Express DRAM Controller
10de  NVIDIA Corporation
\t1eb8  TU104GL [Tesla T4]
\t\t10de 12a2  Tesla T4
\t10f8  TU104 HD Audio Controller
1af4  Red Hat, Inc.
\t1041  Virtio 1.0 network device
1b36  Red Hat, Inc.
\t11e8  QEMU PCI Test Device
C 00  Unclassified device
\t00  Non-VGA unclassified device
C 02  Network controller
\t00  Ethernet controller
C 03  Display controller
\t00  VGA compatible controller
\t\t00  VGA controller
\t02  3D controller
C 04  Multimedia controller
\t03  Audio device
C 06  Bridge
\t00  Host bridge
\t04  PCI bridge
\t\t00  Normal decode
C 0c  Serial bus controller
\t05  SMBus
C ff  Unassigned class
`;

/** Writes {@link FIXTURE_PCI_IDS} to a temp file and returns its path. */
export function writeFixtureIds(dir = mkdtempSync(join(tmpdir(), 'rawpci-ids-'))): string {
  const p = join(dir, 'fixture.ids');
  writeFileSync(p, FIXTURE_PCI_IDS);
  return p;
}

/**
 * Makes sure command `cmd` (from Debian's `packages`) is installed: when missing and running as
 * root, installs the packages with apt-get (after an `apt-get update` if the first try fails).
 * Throws, naming `why`, when it stays missing, so comparison tests fail loudly and never skip.
 */
export function ensureDebianTool(cmd: string, packages: string[], why: string): string {
  const has = () => spawnSync(cmd, ['--version'], { encoding: 'utf8' }).status === 0;
  if (has()) return cmd;
  if (process.getuid?.() === 0) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const install = () => spawnSync('apt-get', ['install', '-y', '--no-install-recommends', ...packages], { encoding: 'utf8', env });
    let r = install();
    if (r.status !== 0) {
      spawnSync('apt-get', ['update'], { encoding: 'utf8', env });
      r = install();
    }
    if (has()) return cmd;
    throw new Error(`${cmd} is missing and installing ${packages.join(' ')} failed (apt-get exit ${r.status}): ${r.stderr?.slice(-500)}`);
  }
  throw new Error(`${cmd} is missing and this test is not root: install ${packages.join(' ')} (apt-get install -y ${packages.join(' ')}) ${why}`);
}

/** {@link ensureDebianTool} for lspci (pciutils, pci.ids). */
export function ensureLspci(): string {
  return ensureDebianTool('lspci', ['pciutils', 'pci.ids'], 'so rawpci can be compared with it');
}

/** Runs lspci on a fake tree with the fixture ids: `lspci -A linux-sysfs -O sysfs.path=ROOT/bus/pci -O hwdb.disable=1 -i IDS ARGS`. */
export function lspciOnTree(root: string, ids: string, args: string[]): string {
  return execFileSync(ensureLspci(), ['-A', 'linux-sysfs', '-O', `sysfs.path=${join(root, 'bus/pci')}`, '-O', 'hwdb.disable=1', '-i', ids, ...args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
}

/** Output of one in-process CLI run. */
export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `rawpci ARGS` in-process with captured output, no TTY, the given env and writer factory. */
export async function runCli(
  args: string[],
  opts: { env?: NodeJS.ProcessEnv; makeWriter?: () => SysfsWriter; uid?: number; systemStatePath?: string } = {},
): Promise<CliRun> {
  let stdout = '';
  let stderr = '';
  const io: CliIo = {
    stdout: (t) => {
      stdout += t;
    },
    stderr: (t) => {
      stderr += t;
    },
    isTTY: false,
    env: opts.env ?? { PATH: process.env.PATH ?? '' },
    ...(opts.makeWriter ? { makeWriter: opts.makeWriter } : {}),
    ...(opts.uid !== undefined ? { uid: opts.uid } : {}),
    ...(opts.systemStatePath ? { systemStatePath: opts.systemStatePath } : {}),
  };
  const code = await main(['node', 'rawpci', ...args], io);
  return { code, stdout, stderr };
}

/**
 * The standard fixture host: a host bridge, a PCI bridge with a secondary bus 01, a
 * multifunction device (00:1b.0 + 00:1b.1) sharing IOMMU group 2, a NIC with I/O, 32-bit BARs,
 * a disabled ROM, PM, MSI, PCIe and MSI-X and extended capabilities, a GPU behind the bridge
 * with a 64-bit prefetchable BAR and an enabled ROM whose audio function is still bound to
 * snd_hda_intel (group 4), an unbound device, an unknown vendor and an unknown class.
 */
export function standardDevices(): FakeDevice[] {
  return [
    {
      bdf: '0000:00:00.0',
      vendor: 0x8086,
      device: 0x29c0,
      classCode: 0x060000,
      revision: 0x02,
      subsystemVendor: 0x1af4,
      subsystemDevice: 0x1100,
      command: 0,
      iommuGroup: 0,
    },
    {
      bdf: '0000:00:01.0',
      vendor: 0x8086,
      device: 0x244e,
      classCode: 0x060400,
      revision: 0x92,
      headerType: 1,
      bridge: { primary: 0, secondary: 1, subordinate: 1, io: [0x1000, 0x1fff], mem: [0xfd000000, 0xfe0fffff], pref: [0x800000000n, 0x81fffffffn] },
      caps: [{ id: 'pm' }, { id: 'exp', type: 7 }],
      driver: 'pcieport',
      defaultDriver: 'pcieport',
      iommuGroup: 1,
      irq: 24,
      interruptPin: 1,
    },
    {
      bdf: '0000:00:03.0',
      vendor: 0x8086,
      device: 0x10d3,
      classCode: 0x020000,
      subsystemVendor: 0x8086,
      subsystemDevice: 0xa01f,
      bars: [
        { kind: 'mem32', address: 0xfebc0000n, size: 0x20000n },
        undefined,
        { kind: 'io', address: 0xc000n, size: 32n },
        { kind: 'mem32', address: 0xfebe0000n, size: 0x4000n },
      ],
      rom: { address: 0xfeb80000n, size: 0x40000n, enabled: false },
      irq: 11,
      interruptPin: 1,
      caps: [
        { id: 'pm', pmc: 0xc823, pmcsr: 0x0008 },
        { id: 'msi', is64: true, maskable: false, log2Capable: 0 },
        { id: 'exp', type: 0 },
        { id: 'msix', tableSize: 5, tableBar: 3, tableOffset: 0, pbaBar: 3, pbaOffset: 0x2000, enabled: true },
      ],
      configSize: 4096,
      extCaps: [
        { id: 3, version: 1, body: [0x12345678, 0x9abcdef0] },
        { id: 4, version: 1, body: [0, 0, 0] },
      ],
      driver: 'e1000e',
      defaultDriver: 'e1000e',
      iommuGroup: 3,
    },
    {
      bdf: '0000:00:1b.0',
      vendor: 0x8086,
      device: 0x293e,
      classCode: 0x040300,
      revision: 0x03,
      multifunction: true,
      subsystemVendor: 0x1af4,
      subsystemDevice: 0x1100,
      bars: [{ kind: 'mem32', address: 0xfebf0000n, size: 0x4000n }],
      irq: 16,
      interruptPin: 1,
      caps: [{ id: 'msi', is64: true, maskable: true, log2Capable: 2, enabled: true, address: 0xfee0100cn, data: 0x41 }],
      driver: 'snd_hda_intel',
      defaultDriver: 'snd_hda_intel',
      iommuGroup: 2,
    },
    {
      bdf: '0000:00:1b.1',
      vendor: 0x8086,
      device: 0x2930,
      classCode: 0x0c0500,
      revision: 0x03,
      subsystemVendor: 0x1af4,
      subsystemDevice: 0x1100,
      bars: [undefined, undefined, undefined, undefined, { kind: 'io', address: 0x0700n, size: 64n }],
      irq: 10,
      interruptPin: 1,
      iommuGroup: 2,
    },
    {
      bdf: '0000:00:1f.0',
      vendor: 0xabcd,
      device: 0x0001,
      classCode: 0xff0000,
      revision: 0x01,
      bars: [{ kind: 'mem32', address: 0xfea00000n, size: 0x1000n }],
      iommuGroup: 5,
    },
    {
      bdf: '0000:00:1f.3',
      vendor: 0x1b36,
      device: 0x11e8,
      classCode: 0x120000,
      revision: 0x10,
      subsystemVendor: 0x1af4,
      subsystemDevice: 0x1100,
      bars: [{ kind: 'mem32', address: 0xfe900000n, size: 0x100000n }],
      caps: [
        { id: 'msi', is64: false, log2Capable: 0 },
        { id: 'vendor', length: 8 },
      ],
      driver: 'edu',
      defaultDriver: 'edu',
      iommuGroup: 6,
      irq: 11,
      interruptPin: 1,
    },
    {
      bdf: '0000:01:00.0',
      vendor: 0x10de,
      device: 0x1eb8,
      classCode: 0x030200,
      revision: 0xa1,
      multifunction: true,
      subsystemVendor: 0x10de,
      subsystemDevice: 0x12a2,
      bars: [
        { kind: 'mem32', address: 0xfd000000n, size: 0x1000000n },
        { kind: 'mem64', address: 0x800000000n, size: 0x10000000n, prefetchable: true },
        undefined,
        { kind: 'mem64', address: 0x810000000n, size: 0x2000000n, prefetchable: true },
        undefined,
        { kind: 'io', address: 0x1000n, size: 128n },
      ],
      rom: { address: 0xfe000000n, size: 0x80000n, enabled: true },
      irq: 32,
      interruptPin: 1,
      caps: [{ id: 'pm' }, { id: 'msi', is64: true }, { id: 'exp', type: 0 }],
      driver: 'nouveau',
      defaultDriver: 'nouveau',
      iommuGroup: 4,
    },
    {
      bdf: '0000:01:00.1',
      vendor: 0x10de,
      device: 0x10f8,
      classCode: 0x040300,
      revision: 0xa1,
      subsystemVendor: 0x10de,
      subsystemDevice: 0x12a2,
      bars: [{ kind: 'mem32', address: 0xfe080000n, size: 0x4000n }],
      irq: 33,
      interruptPin: 2,
      driver: 'snd_hda_intel',
      defaultDriver: 'snd_hda_intel',
      iommuGroup: 4,
    },
  ];
}

/**
 * Asserts that `ours` equals `theirs` (lspci's output) line by line, naming the first line that
 * differs, and that lspci printed something at all; logs how many lines were compared.
 */
export function compareLines(t: import('ava').ExecutionContext, ours: string, theirs: string): void {
  const a = ours.split('\n');
  const b = theirs.split('\n');
  t.true(b.length > 1, 'lspci printed something to compare with');
  for (let i = 0; i < Math.max(a.length, b.length); i++) t.is(a[i], b[i], `line ${i + 1}`);
  t.log(`${b.length - 1} lines compared with lspci`);
}

/** `n` NICs (8086:10d3 on e1000e) at 0000:02:00.0, 0000:02:01.0, ..., each alone in IOMMU group 10 + i: independent attach targets. */
export function nicFleet(n: number): FakeDevice[] {
  return Array.from({ length: n }, (_, i) => ({
    bdf: `0000:02:${i.toString(16).padStart(2, '0')}.0`,
    vendor: 0x8086,
    device: 0x10d3,
    classCode: 0x020000,
    bars: [{ kind: 'mem32' as const, address: 0xf000_0000n + BigInt(i) * 0x2_0000n, size: 0x2_0000n }],
    driver: 'e1000e',
    defaultDriver: 'e1000e',
    iommuGroup: 10 + i,
  }));
}
