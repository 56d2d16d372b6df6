// The simulated host as a PciSource: the inventory's models, their config space and firmware-assigned BARs, shown as sysfs would show them.

import { createInventoryDevices, loadInventory, type SimHostDevice } from '../../r0/sim/inventory.js';
import type { Bdf } from '../../shared/bdf.js';
import { PCI_CFG_SPACE_SIZE } from '../../shared/linux/pci-regs.js';
import { type PciDeviceRecord, type PciResource, type PciSource, sortRecords } from '../../shared/sysfs/source.js';

/** Kernel resource flags for a BAR or ROM (include/linux/ioport.h), as the fake trees and Linux write them. */
function resourceFlags(kind: string, prefetchable: boolean): bigint {
  if (kind === 'io') return 0x40101n;
  if (kind === 'rom') return 0x46200n;
  return 0x40200n | (kind === 'mem64' ? 0x100004n : 0n) | (prefetchable ? 0x2008n : 0n);
}

/** Reads a model's whole config space, 4 bytes at a time (all-ones where the model refuses). */
function readModelConfig(d: SimHostDevice): Uint8Array {
  const size = d.model.configSize || PCI_CFG_SPACE_SIZE;
  const out = new Uint8Array(size);
  const chunk = new Uint8Array(4);
  for (let off = 0; off < size; off += 4) {
    if (!d.model.readConfig(off, chunk)) chunk.fill(0xff);
    out.set(chunk, off);
  }
  return out;
}

/** Maps one simulated device to what sysfs would show for it (class, ids from config; `resource` from the assignment). */
function toRecord(d: SimHostDevice): PciDeviceRecord {
  const config = readModelConfig(d);
  const v = new DataView(config.buffer);
  const resources: PciResource[] = Array.from({ length: 7 }, () => ({ start: 0n, end: 0n, flags: 0n }));
  for (const a of d.resources.regions) {
    const idx = a.kind === 'rom' ? 6 : a.index;
    resources[idx] = { start: a.hostPhys, end: a.hostPhys + BigInt(a.size) - 1n, flags: resourceFlags(a.kind, a.prefetchable) };
  }
  const rec: PciDeviceRecord = {
    bdf: d.bdf,
    vendor: v.getUint16(0, true),
    device: v.getUint16(2, true),
    classCode: v.getUint32(8, true) >>> 8,
    revision: config[8] ?? 0,
    irq: d.entry.irq,
    resources,
    config,
    iommuGroup: String(d.entry.iommuGroup),
  };
  if (d.entry.driver) rec.driver = d.entry.driver;
  return rec;
}

/**
 * The simulated host (r0/sim): `inventory` is a JSON file, or the embedded default. Devices get
 * their host addresses from the inventory's BIOS-like assignment; decode stays off, as on a
 * real host before a driver enables it. Throws SimInventoryError naming the bad field.
 */
export class SimPciSource implements PciSource {
  readonly kind = 'sim' as const;
  readonly description: string;
  private readonly records: PciDeviceRecord[];

  constructor(inventoryPath?: string) {
    this.description = `the simulated host (${inventoryPath ?? 'default inventory'})`;
    this.records = sortRecords(createInventoryDevices(loadInventory(inventoryPath)).map(toRecord));
  }

  async list(): Promise<PciDeviceRecord[]> {
    return this.records;
  }

  async get(bdf: Bdf): Promise<PciDeviceRecord | undefined> {
    return this.records.find((r) => r.bdf.equals(bdf));
  }
}

/** Creates the sim PciSource from an inventory file (or the default). */
export async function createSimSource(inventory?: string): Promise<PciSource> {
  return new SimPciSource(inventory);
}
