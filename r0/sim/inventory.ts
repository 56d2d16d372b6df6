// The simulated host's inventory: which model sits at which BDF, bound to which host driver, in which IOMMU group.
//
// The inventory is a JSON document (docs and the embedded default: r0/sim/default-inventory.json):
//   { "devices": [ { "bdf": "0000:00:04.0", "model": "edu", "driver": "edu", "iommuGroup": 3,
//                    "irq": 11, "options": {} }, ... ] }
// `parseInventory` validates it (zod) with messages that name the field and the fix;
// `createInventoryDevices` instantiates the models and has the firmware (r0/sim/firmware.ts)
// give their BARs host addresses.

import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { Bdf } from '../../shared/bdf.js';
import type { SimDeviceModel } from './device.js';
import { assignHostResources, type HostResources, type HostResourceWindows, programBars } from './firmware.js';
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
