// The simulated host's firmware: gives every BAR and ROM of the inventory's devices a host address, like a BIOS, and programs those addresses into the models' config space.
//
// `assignHostResources` plays the BIOS (SeaBIOS/OVMF on q35 place BARs the same way: naturally
// aligned in fixed windows, devices in BDF order); `programBars` writes the addresses into a
// model's config space through `writeConfig`, as firmware does (again after a reset, as Linux
// restores config space after an FLR). PCI Local Bus spec 3.0, 6.2.5 (BARs and the ROM BAR).

import { Bdf } from '../../shared/bdf.js';
import { readLe, writeLe } from '../../shared/le.js';
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
  writeLe(data, 0, width, value);
  model.writeConfig(offset, data);
}

function readCfg(model: SimDeviceModel, offset: number, width: 1 | 2 | 4): number {
  const data = new Uint8Array(width);
  return model.readConfig(offset, data) ? readLe(data) : 0;
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
