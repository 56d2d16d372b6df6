// The simulated host's inventory (which model sits at which BDF, bound to which host driver, in which IOMMU group) and its "firmware" BAR assignment.
//
// The inventory is a JSON document (docs and the embedded default: r0/sim/default-inventory.json):
//   { "devices": [ { "bdf": "0000:00:04.0", "model": "edu", "driver": "edu", "iommuGroup": 3,
//                    "irq": 11, "options": {} }, ... ] }
// `parseInventory` validates it (zod) with messages that name the field and the fix;
// `assignHostResources` plays the BIOS: it gives every BAR and ROM a host address, and
// `programBars` writes those addresses into a model's config space through `writeConfig`
// (again after a reset, as Linux restores config space after an FLR).

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { Bdf } from '../../shared/bdf.js';
import {
  PCI_BASE_ADDRESS_0,
  PCI_COMMAND,
  PCI_COMMAND_IO,
  PCI_COMMAND_MEMORY,
  PCI_INTERRUPT_LINE,
  PCI_INTERRUPT_PIN,
  PCI_ROM_ADDRESS,
} from '../../shared/linux/pci-regs.js';
import type { SimDeviceModel, SimRegion } from './device.js';
import { createSimModel, hasSimModel, listSimModels } from './models/index.js';

/** One device of the simulated host. */
export interface SimInventoryEntry {
  /** PCI address in canonical `DDDD:BB:DD.F` form (normalized by {@link parseInventory}). */
  bdf: string;
  /** Model name registered in r0/sim/models/index.ts (`edu`, `rawpci-testdev`, `host-bridge`, ...). */
  model: string;
  /** Host driver the device is bound to (as sysfs `driver` would name it); null = unbound. */
  driver: string | null;
  /** IOMMU group number; devices sharing a number share a group. */
  iommuGroup: number;
  /** Host IRQ (the INTx line number, written to PCI_INTERRUPT_LINE); 0..255. */
  irq: number;
  /** Model-specific options passed to the model's factory; `{}` when absent. */
  options: Record<string, unknown>;
}

/** The simulated host's inventory. */
export interface SimInventory {
  devices: SimInventoryEntry[];
}

/**
 * The embedded default inventory: q35's host bridge at 00:00.0, QEMU's edu at 00:04.0 and the
 * rawpci-testdev at 00:05.0 (the same document as r0/sim/default-inventory.json). Frozen.
 */
export const DEFAULT_INVENTORY: Readonly<SimInventory> = deepFreeze({
  devices: [
    { bdf: '0000:00:00.0', model: 'host-bridge', driver: null, iommuGroup: 0, irq: 0, options: {} },
    { bdf: '0000:00:04.0', model: 'edu', driver: 'edu', iommuGroup: 3, irq: 11, options: {} },
    { bdf: '0000:00:05.0', model: 'rawpci-testdev', driver: 'rawpci_testdev', iommuGroup: 4, irq: 10, options: {} },
  ],
});

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * An inventory that failed validation. `issues` holds one message per problem, each naming the
 * field (`devices[1].bdf`) and the fix. Stable `name` and `code` (`ERR_RAWPCI_INVENTORY`).
 */
export class SimInventoryError extends Error {
  override readonly name = 'SimInventoryError';
  readonly code = 'ERR_RAWPCI_INVENTORY';
  readonly issues: readonly string[];

  constructor(source: string, issues: readonly string[]) {
    super(`${source} is not a valid simulated-host inventory:\n${issues.map((i) => `  - ${i}`).join('\n')}`);
    this.issues = issues;
  }
}

const ENTRY_FIELDS = ['bdf', 'model', 'driver', 'iommuGroup', 'irq', 'options'];

/** What each field must be: appended to type errors so the message says the fix. */
const FIELD_HINTS: Record<string, string> = {
  devices: 'give "devices": [ { "bdf": "0000:00:04.0", "model": "edu", "iommuGroup": 3 }, ... ]',
  bdf: 'write it as "DDDD:BB:DD.F", e.g. "0000:00:04.0"',
  model: 'give a registered model name',
  driver: 'give the host driver name as a string, e.g. "vfio-pci", or null when unbound',
  iommuGroup: 'give a non-negative integer; devices in the same group share the number',
  irq: 'give an integer 0..255 (the host INTx line)',
  options: 'give an object of model options, e.g. {}',
};

const entrySchema = z.strictObject({
  bdf: z.string().refine((s) => Bdf.tryParse(s) !== undefined, { message: 'is not a PCI address' }),
  model: z.string().min(1),
  driver: z.string().min(1).nullable().default(null),
  iommuGroup: z.number().int().min(0),
  irq: z.number().int().min(0).max(255).default(0),
  options: z.record(z.string(), z.unknown()).default({}),
});

const inventorySchema = z.strictObject({ devices: z.array(entrySchema) });

function pathText(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`;
  return out === '' ? 'inventory' : out;
}

function describeIssue(issue: z.core.$ZodIssue, input: unknown): string {
  const where = pathText(issue.path);
  const field = [...issue.path].reverse().find((p) => typeof p === 'string') as string | undefined;
  const hint = field !== undefined ? FIELD_HINTS[field] : 'give an object like { "devices": [ ... ] }';
  if (issue.code === 'unrecognized_keys') {
    const allowed = issue.path.length === 0 ? 'devices' : ENTRY_FIELDS.join(', ');
    return `${where}: unknown field${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: allowed fields are ${allowed}`;
  }
  if (issue.code === 'invalid_type' && valueAt(input, issue.path) === undefined) {
    return `${where} is missing: ${hint ?? 'add it'}`;
  }
  const got = valueAt(input, issue.path);
  const shown = got === undefined ? '' : ` (got ${JSON.stringify(got)})`;
  return `${where}${shown} ${issue.message.replace(/^Invalid input: /, 'is invalid: ')}${hint ? `: ${hint}` : ''}`;
}

function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let v: unknown = input;
  for (const p of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Record<PropertyKey, unknown>)[p];
  }
  return v;
}

/**
 * Validates an inventory document (already parsed from JSON) and returns it normalized: BDFs
 * canonical (`0000:00:04.0`), `driver` null, `irq` 0 and `options` {} when absent. Checks:
 * field types, unknown fields, BDF syntax, duplicate BDFs, unknown model names (against the
 * registry at call time, so user models registered first are accepted) and each model's
 * options (by creating an instance). Throws {@link SimInventoryError} listing every problem;
 * `source` names the document in the message (e.g. a file path).
 */
export function parseInventory(json: unknown, source = 'inventory'): SimInventory {
  const parsed = inventorySchema.safeParse(json);
  if (!parsed.success)
    throw new SimInventoryError(
      source,
      parsed.error.issues.map((i) => describeIssue(i, json)),
    );
  const issues: string[] = [];
  const seen = new Map<string, number>();
  const devices: SimInventoryEntry[] = parsed.data.devices.map((d, i) => {
    const bdf = Bdf.parse(d.bdf).toString();
    const first = seen.get(bdf);
    if (first !== undefined) issues.push(`devices[${i}].bdf "${d.bdf}" duplicates devices[${first}].bdf: each PCI address may appear once`);
    else seen.set(bdf, i);
    if (!hasSimModel(d.model)) {
      issues.push(
        `devices[${i}].model "${d.model}" is not a known model: use one of ${listSimModels().join(', ')} (or register it with registerSimModel first)`,
      );
    } else {
      try {
        createSimModel(d.model, d.options);
      } catch (err) {
        issues.push(`devices[${i}].options: ${(err as Error).message}`);
      }
    }
    return { bdf, model: d.model, driver: d.driver, iommuGroup: d.iommuGroup, irq: d.irq, options: { ...d.options } };
  });
  if (issues.length > 0) throw new SimInventoryError(source, issues);
  return { devices };
}

/**
 * Reads and validates the inventory file at `path` (JSON), or returns a fresh copy of
 * {@link DEFAULT_INVENTORY} when `path` is undefined. Throws {@link SimInventoryError} when the
 * file cannot be read, is not JSON, or is not a valid inventory.
 */
export function loadInventory(path?: string): SimInventory {
  if (path === undefined) return parseInventory(DEFAULT_INVENTORY, 'the default inventory');
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new SimInventoryError(path, [`cannot read the file (${(err as NodeJS.ErrnoException).code ?? (err as Error).message}): check the path`]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new SimInventoryError(path, [`not valid JSON: ${(err as Error).message}`]);
  }
  return parseInventory(json, path);
}

// ---- firmware: host resource assignment ---------------------------------------------------

/** Address windows {@link assignHostResources} allocates from (host physical / port numbers). */
export interface HostResourceWindows {
  /** 32-bit memory BARs and ROMs: [mem32Base, mem32Limit). Default 0xfe00_0000..0xfec0_0000. */
  mem32Base: bigint;
  mem32Limit: bigint;
  /** 64-bit memory BARs: [mem64Base, mem64Limit). Default 0x80_0000_0000..0x100_0000_0000. */
  mem64Base: bigint;
  mem64Limit: bigint;
  /** I/O BARs: [ioBase, ioLimit). Default 0xc000..0x1_0000. */
  ioBase: bigint;
  ioLimit: bigint;
}

/** The default windows: like SeaBIOS/OVMF on q35 (32-bit below the IOAPIC, 64-bit at 512 GiB). */
export const DEFAULT_HOST_WINDOWS: Readonly<HostResourceWindows> = Object.freeze({
  mem32Base: 0xfe00_0000n,
  mem32Limit: 0xfec0_0000n,
  mem64Base: 0x80_0000_0000n,
  mem64Limit: 0x100_0000_0000n,
  ioBase: 0xc000n,
  ioLimit: 0x1_0000n,
});

/** The host address given to one region. */
export interface HostRegionAssignment {
  /** Region index: 0..5 BAR, 6 ROM. */
  index: number;
  kind: SimRegion['kind'];
  /** Bytes (ports for I/O). */
  size: number;
  prefetchable: boolean;
  /** Host physical address (memory, ROM) or first port (I/O); naturally aligned to `size`. */
  hostPhys: bigint;
}

/** The resources of one device: its regions' addresses and its host IRQ line. */
export interface HostResources {
  /** Canonical BDF. */
  bdf: string;
  /** Host IRQ for PCI_INTERRUPT_LINE, when known. */
  irq?: number;
  regions: HostRegionAssignment[];
}

/** A device handed to {@link assignHostResources}. */
export interface HostResourceRequest {
  bdf: string | Bdf;
  model: SimDeviceModel;
  irq?: number;
}

/**
 * Assigns a host address to every BAR and ROM of every device, deterministically, like a BIOS:
 * devices in BDF order, regions in index order (ROM last); each region naturally aligned (to its
 * size) in its window: I/O from 0xc000, 32-bit memory and ROMs from 0xfe00_0000, 64-bit memory
 * from 0x80_0000_0000 (see {@link DEFAULT_HOST_WINDOWS}; override with `windows`). Returns the
 * resources in the input order. Throws RangeError naming the device and region when a window
 * is full, TypeError for a bad BDF.
 */
export function assignHostResources(entries: readonly HostResourceRequest[], windows: Partial<HostResourceWindows> = {}): HostResources[] {
  const w = { ...DEFAULT_HOST_WINDOWS, ...windows };
  const cursors = { io: w.ioBase, mem32: w.mem32Base, mem64: w.mem64Base };
  const limits = { io: w.ioLimit, mem32: w.mem32Limit, mem64: w.mem64Limit };
  const withBdf = entries.map((e, i) => ({ e, i, bdf: typeof e.bdf === 'string' ? Bdf.parse(e.bdf) : e.bdf }));
  const order = [...withBdf].sort((a, b) => a.bdf.pciAddress - b.bdf.pciAddress || a.i - b.i);
  const out: HostResources[] = new Array(entries.length);
  for (const { e, i, bdf } of order) {
    const regions = [...e.model.regions()].sort((a, b) => a.index - b.index);
    const assigned: HostRegionAssignment[] = [];
    for (const r of regions) {
      const window = r.kind === 'rom' ? 'mem32' : r.kind;
      const size = BigInt(r.size);
      const base = (cursors[window] + size - 1n) & ~(size - 1n);
      if (base + size > limits[window]) {
        throw new RangeError(
          `${bdf}: region ${r.index} (${r.kind}, ${r.size} bytes) does not fit in the ${window} window ending at 0x${limits[window].toString(16)}: enlarge the window (${window}Limit)`,
        );
      }
      cursors[window] = base + size;
      assigned.push({ index: r.index, kind: r.kind, size: r.size, prefetchable: r.prefetchable ?? false, hostPhys: base });
    }
    const res: HostResources = { bdf: bdf.toString(), regions: assigned };
    if (e.irq !== undefined) res.irq = e.irq;
    out[i] = res;
  }
  return out;
}

/** Options of {@link programBars}. */
export interface ProgramBarsOptions {
  /** Also set PCI_COMMAND_IO / PCI_COMMAND_MEMORY for the kinds of regions present. Default false. */
  enableDecode?: boolean;
}

function writeCfg(model: SimDeviceModel, offset: number, width: 1 | 2 | 4, value: number): void {
  const data = new Uint8Array(width);
  for (let i = 0; i < width; i++) data[i] = (value >>> (8 * i)) & 0xff;
  model.writeConfig(offset, data);
}

function readCfg(model: SimDeviceModel, offset: number, width: 1 | 2 | 4): number {
  const data = new Uint8Array(width);
  if (!model.readConfig(offset, data)) return 0;
  let v = 0;
  for (let i = width - 1; i >= 0; i--) v = (v * 256 + data[i]!) >>> 0;
  return v;
}

/**
 * Writes `resources` into `model`'s config space through `writeConfig`, as firmware does: each
 * BAR's address (both halves of a 64-bit BAR), the ROM BAR's address with its enable bit clear,
 * PCI_INTERRUPT_LINE when `resources.irq` is set and the device has an interrupt pin, and, with
 * `enableDecode`, the command register's IO/MEMORY bits. Call it again after `reset()` (the
 * reset zeroes the BARs; Linux likewise restores config space after an FLR). Throws Error when
 * a region in `resources` does not match the model's regions (kind and size).
 */
export function programBars(model: SimDeviceModel, resources: HostResources, options: ProgramBarsOptions = {}): void {
  const regions = model.regions();
  let io = false;
  let mem = false;
  for (const a of resources.regions) {
    const r = regions.find((x) => x.index === a.index);
    if (!r || r.kind !== a.kind || r.size !== a.size) {
      throw new Error(
        `programBars: ${resources.bdf} region ${a.index} (${a.kind}, ${a.size} bytes) does not match model '${model.model}': assign resources for this model`,
      );
    }
    const low = Number(a.hostPhys & 0xffff_ffffn);
    if (a.kind === 'rom') {
      writeCfg(model, PCI_ROM_ADDRESS, 4, low);
      mem = true;
      continue;
    }
    const reg = PCI_BASE_ADDRESS_0 + 4 * a.index;
    writeCfg(model, reg, 4, low);
    if (a.kind === 'mem64') writeCfg(model, reg + 4, 4, Number(a.hostPhys >> 32n));
    if (a.kind === 'io') io = true;
    else mem = true;
  }
  if (resources.irq !== undefined && readCfg(model, PCI_INTERRUPT_PIN, 1) !== 0) {
    writeCfg(model, PCI_INTERRUPT_LINE, 1, resources.irq);
  }
  if (options.enableDecode) {
    const cmd = readCfg(model, PCI_COMMAND, 2);
    writeCfg(model, PCI_COMMAND, 2, cmd | (io ? PCI_COMMAND_IO : 0) | (mem ? PCI_COMMAND_MEMORY : 0));
  }
}

/** A device of the simulated host, instantiated from its inventory entry. */
export interface SimHostDevice {
  entry: SimInventoryEntry;
  bdf: Bdf;
  model: SimDeviceModel;
  resources: HostResources;
}

/**
 * Creates every model of `inventory`, assigns host resources ({@link assignHostResources}) and
 * programs them ({@link programBars}, decode left off). Returns the devices in inventory order.
 * Throws like {@link createSimModel} and {@link assignHostResources}.
 */
export function createInventoryDevices(inventory: SimInventory, windows: Partial<HostResourceWindows> = {}): SimHostDevice[] {
  const devices = inventory.devices.map((entry) => ({ entry, bdf: Bdf.parse(entry.bdf), model: createSimModel(entry.model, entry.options) }));
  const resources = assignHostResources(
    devices.map((d) => ({ bdf: d.bdf, model: d.model, irq: d.entry.irq })),
    windows,
  );
  return devices.map((d, i) => {
    programBars(d.model, resources[i]!);
    return { ...d, resources: resources[i]! };
  });
}
