// The simulated host backend: fake PCI hardware from the inventory, served to ring 0's dispatcher through the host seam.

import type { Bdf } from '../../shared/bdf.js';
import { readLe } from '../../shared/le.js';
import { PCI_CLASS_REVISION, PCI_DEVICE_ID, PCI_VENDOR_ID } from '../../shared/linux/pci-regs.js';
import { VERR_ACCESS_DENIED, VERR_DEV_IO_ERROR } from '../../shared/status.js';
import type { HostDevice, HostDeviceEvents, HostDeviceInfo, HostFailure, HostRegion, PciHostBackend } from '../host.js';
import type { HostTable } from '../host-table.js';
import type { SimDeviceHost, SimDeviceModel } from './device.js';
import { type HostResources, programBars } from './firmware.js';
import { createInventoryDevices, DEFAULT_INVENTORY, parseInventory, type SimHostDevice } from './inventory.js';
import { createSimModel } from './models/index.js';

/** PCI base class of bridges (PCI Local Bus spec 3.0, appendix D): never assignable. */
const PCI_BASE_CLASS_BRIDGE = 0x06;

/**
 * The simulated host: every device of the inventory, with host addresses assigned as firmware
 * would. Host-driver bindings and ownership live in the process-wide {@link HostTable}, so all
 * ring-0 workers agree on them. Each open gets a fresh model instance (power-on state).
 */
export class SimHost implements PciHostBackend {
  readonly kind = 'sim' as const;
  readonly #devices: SimHostDevice[];
  readonly #ids: { vendor: number; device: number; classCode: number }[];
  readonly #table: HostTable;

  constructor(devices: SimHostDevice[], table: HostTable) {
    this.#devices = devices;
    this.#table = table;
    this.#ids = devices.map((d) => identity(d.model));
  }

  /**
   * Builds the host from an inventory document (undefined: the embedded default). Throws
   * SimInventoryError naming the bad field, or Error for an unknown model.
   */
  static fromInventory(json: unknown, table: HostTable): SimHost {
    const inv = json === undefined ? DEFAULT_INVENTORY : parseInventory(json);
    return new SimHost(createInventoryDevices(inv), table);
  }

  devices(): HostDeviceInfo[] {
    return this.#devices.map((_, i) => this.#info(i));
  }

  find(bdf: Bdf): HostDeviceInfo | undefined {
    const i = this.#devices.findIndex((d) => d.bdf.equals(bdf));
    return i < 0 ? undefined : this.#info(i);
  }

  assignable(info: HostDeviceInfo): HostFailure | undefined {
    if (info.classCode >>> 16 === PCI_BASE_CLASS_BRIDGE) {
      return {
        rc: VERR_ACCESS_DENIED,
        msg: `${info.bdf} is a bridge (class 0x${info.classCode.toString(16).padStart(6, '0')}): bridges belong to the host and cannot be passed through`,
      };
    }
    return undefined;
  }

  detachDriver(info: HostDeviceInfo): string | null {
    this.#table.setDetached(info.bdf.pciAddress, true);
    return this.#entry(info.bdf)?.entry.driver ?? null;
  }

  rebindDriver(info: HostDeviceInfo, _driver: string | null): void {
    this.#table.setDetached(info.bdf.pciAddress, false);
  }

  open(info: HostDeviceInfo, events: HostDeviceEvents): HostDevice | HostFailure {
    const d = this.#entry(info.bdf);
    if (!d) return { rc: VERR_DEV_IO_ERROR, msg: `${info.bdf} vanished from the simulated host` };
    let model: SimDeviceModel;
    try {
      model = createSimModel(d.entry.model, d.entry.options);
      programBars(model, d.resources);
      model.open(simServices(events));
    } catch (e) {
      return { rc: VERR_DEV_IO_ERROR, msg: `model '${d.entry.model}' of ${info.bdf} failed to start: ${(e as Error).message}` };
    }
    return new SimOpenDevice(info, model, d.resources);
  }

  #entry(bdf: Bdf): SimHostDevice | undefined {
    return this.#devices.find((d) => d.bdf.equals(bdf));
  }

  #info(i: number): HostDeviceInfo {
    const d = this.#devices[i]!;
    const ids = this.#ids[i]!;
    const detached = this.#table.isDetached(d.bdf.pciAddress);
    return {
      bdf: d.bdf,
      driver: detached ? null : d.entry.driver,
      iommuGroup: d.entry.iommuGroup,
      vendor: ids.vendor,
      device: ids.device,
      classCode: ids.classCode,
      irq: d.entry.irq,
      description: d.entry.model,
    };
  }
}

/** An open simulated device: the host seam over one model instance. */
class SimOpenDevice implements HostDevice {
  readonly info: HostDeviceInfo;
  readonly #model: SimDeviceModel;
  readonly #resources: HostResources;
  readonly #regions: HostRegion[];

  constructor(info: HostDeviceInfo, model: SimDeviceModel, resources: HostResources) {
    this.info = info;
    this.#model = model;
    this.#resources = resources;
    const backing = new Map(model.regions().map((r) => [r.index, r.backing]));
    this.#regions = resources.regions.map((a) => ({
      index: a.index,
      kind: a.kind,
      start: a.hostPhys,
      size: BigInt(a.size),
      prefetchable: a.prefetchable,
      mappable: backing.get(a.index) !== undefined,
    }));
  }

  get configSize(): number {
    return this.#model.configSize;
  }

  regions(): readonly HostRegion[] {
    return this.#regions;
  }

  readConfig(offset: number, data: Uint8Array): boolean {
    return this.#model.readConfig(offset, data);
  }

  writeConfig(offset: number, data: Uint8Array): boolean {
    const ok = this.#model.writeConfig(offset, data);
    // A config write can reset the function (PCIe Initiate FLR): its BARs read 0 then. Restore
    // them as Linux restores config space after an FLR, so host regions stay where they are.
    if (ok && this.#barsLost()) programBars(this.#model, this.#resources);
    return ok;
  }

  #barsLost(): boolean {
    const first = this.#resources.regions.find((r) => r.kind !== 'rom');
    if (!first) return false;
    const b = new Uint8Array(4);
    this.#model.readConfig(0x10 + 4 * first.index, b);
    const low = (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
    const mask = first.kind === 'io' ? 0xffff_fffc : 0xffff_fff0;
    return (low & mask) >>> 0 !== Number(first.hostPhys & 0xffff_fff0n) >>> 0;
  }

  readIo(region: number, offset: number, data: Uint8Array): boolean {
    return this.#model.readIo(region, offset, data);
  }

  writeIo(region: number, offset: number, data: Uint8Array): boolean {
    return this.#model.writeIo(region, offset, data);
  }

  readMem(region: number, offset: number, data: Uint8Array): boolean {
    return this.#model.readMem(region, offset, data);
  }

  writeMem(region: number, offset: number, data: Uint8Array): boolean {
    return this.#model.writeMem(region, offset, data);
  }

  mapRegion(region: number): SharedArrayBuffer | undefined {
    return this.#model.regions().find((r) => r.index === region)?.backing;
  }

  ackIntx(): void {
    this.#model.ackIrq?.();
  }

  reset(): boolean {
    this.#model.reset();
    programBars(this.#model, this.#resources);
    return true;
  }

  close(): void {
    this.#model.close();
  }
}

/** The Palacios host services a model sees, routed through ring 0's policy. */
function simServices(events: HostDeviceEvents): SimDeviceHost {
  return {
    raiseIrq: () => events.intx(true),
    lowerIrq: () => events.intx(false),
    sendMsi: (m) => events.msi(m.kind, m.vector, m.address, m.data),
    dmaRead: (iova, dest) => events.dmaRead(iova, dest),
    dmaWrite: (iova, src) => events.dmaWrite(iova, src),
    schedule: (ms, cb) => events.schedule(ms, cb),
    log: (msg) => events.log(msg),
  };
}

function identity(model: SimDeviceModel): { vendor: number; device: number; classCode: number } {
  const b = new Uint8Array(12);
  model.readConfig(0, b);
  return { vendor: readLe(b, PCI_VENDOR_ID, 2), device: readLe(b, PCI_DEVICE_ID, 2), classCode: readLe(b, PCI_CLASS_REVISION, 4) >>> 8 };
}
