// The VFIO host of ring 0: real PCI devices through /dev/vfio (container, group, device; type1 IOMMU), served to the dispatcher through the host seam.
//
// Split by concern as rust-vmm's vfio-ioctls is: container.ts (the container, its IOMMU groups
// and the DMA mirror of the VMs' domains), device.ts (one open device: regions, config, BAR
// mmap, reset), irq.ts (INTx and MSI eventfds), faults.ts (the kernel's IOMMU fault reports).
// This file is the backend ring 0 sees: discovery, assignability, driver binding (through
// shared/sysfs, the layer the admin CLI uses) and opening devices.

import { existsSync } from 'node:fs';
import type { Bdf } from '../../shared/bdf.js';
import { EBUSY, VFIO_GROUP_GET_DEVICE_FD } from '../../shared/linux/vfio-abi.js';
import { VERR_ACCESS_DENIED, VERR_DEV_IO_ERROR, VERR_NOT_SUPPORTED, VERR_RESOURCE_BUSY } from '../../shared/status.js';
import {
  bindToDriver,
  describeBlockers,
  type GroupBlocker,
  PCI_BASE_CLASS_BRIDGE,
  restoreDriver,
  sysfsGroupBlockers,
  VFIO_PCI_DRIVER,
} from '../../shared/sysfs/binding.js';
import { SysfsPciSource } from '../../shared/sysfs/sysfs-source.js';
import { RealSysfsWriter } from '../../shared/sysfs/writer.js';
import type { BackendConfig } from '../backends.js';
import type { HostDevice, HostDeviceEvents, HostDeviceInfo, HostDmaHooks, HostFailure, PciHostBackend } from '../host.js';
import type { HostTable } from '../host-table.js';
import { VfioContainer } from './container.js';
import { VfioDevice } from './device.js';
import * as libc from './libc.js';

/** Options of {@link VfioHost}; the defaults are the machine's own paths. */
export interface VfioHostOptions {
  /** Stands for /sys (default /sys). */
  sysfsRoot?: string;
  /** Directory of the VFIO nodes (default /dev/vfio). */
  devVfio?: string;
}

/**
 * The VFIO host. One container per ring-0 worker (a worker serves one VM at a time); each open
 * device's IOMMU group joins it; VM domains are mirrored into it with MAP_DMA. Methods return
 * {@link HostFailure}s naming the cause and the fix; nothing throws on ring-3 input.
 */
export class VfioHost implements PciHostBackend {
  readonly kind = 'vfio' as const;
  readonly source: SysfsPciSource;
  readonly #writer = new RealSysfsWriter();
  readonly devVfio: string;
  readonly dma: HostDmaHooks;
  readonly #container: VfioContainer | undefined;
  readonly #open = new Set<VfioDevice>();

  /**
   * A host over sysfs `options.sysfsRoot`; `container` is the worker's VFIO container
   * ({@link create} opens one). Without one the host only discovers devices and binds drivers
   * (ring 0's reaper rebinding a dead worker's devices); open then fails.
   */
  constructor(options: VfioHostOptions = {}, container?: VfioContainer) {
    this.source = new SysfsPciSource(options.sysfsRoot ?? '/sys');
    this.devVfio = options.devVfio ?? '/dev/vfio';
    this.#container = container;
    this.dma = { sync: (domain, ram, maps) => container?.syncDomain(domain, ram, maps) };
  }

  /**
   * Builds the host for a ring-0 worker. Throws Error naming the cause and the fix when VFIO is
   * unusable here: no /dev/vfio/vfio (load vfio-pci), no permission, wrong API version.
   */
  static create(_config: BackendConfig, _table: HostTable, options: VfioHostOptions = {}): VfioHost {
    return new VfioHost(options, VfioContainer.open(options.devVfio ?? '/dev/vfio'));
  }

  devices(): HostDeviceInfo[] {
    return this.source
      .listBdfs()
      .map((b) => this.#info(b))
      .filter((i): i is HostDeviceInfo => i !== undefined);
  }

  find(bdf: Bdf): HostDeviceInfo | undefined {
    return existsSync(this.source.deviceDir(bdf)) ? this.#info(bdf) : undefined;
  }

  assignable(info: HostDeviceInfo): HostFailure | undefined {
    if (info.classCode >>> 16 === PCI_BASE_CLASS_BRIDGE) {
      return {
        rc: VERR_ACCESS_DENIED,
        msg: `${info.bdf} is a bridge (class 0x${info.classCode.toString(16).padStart(6, '0')}): bridges belong to the host and cannot be passed through`,
      };
    }
    if (info.iommuGroup === null) {
      return {
        rc: VERR_NOT_SUPPORTED,
        msg: `${info.bdf} has no IOMMU group: there is no IOMMU (or it is off); enable VT-d/AMD-Vi in firmware and boot with intel_iommu=on or amd_iommu=on`,
      };
    }
    return undefined;
  }

  detachDriver(info: HostDeviceInfo): string | null | HostFailure {
    const original = info.driver;
    try {
      bindToDriver(this.source, this.#writer, info.bdf, original, VFIO_PCI_DRIVER);
    } catch (e) {
      return { rc: VERR_RESOURCE_BUSY, msg: `detaching ${info.bdf} from ${original ?? 'no driver'}: ${(e as Error).message}` };
    }
    const now = this.source.driverOf(info.bdf);
    if (now !== VFIO_PCI_DRIVER) {
      return {
        rc: VERR_RESOURCE_BUSY,
        msg: `${info.bdf} is ${now ? `bound to ${now}` : 'unbound'} after driver_override=vfio-pci and drivers_probe: load vfio-pci ('modprobe vfio-pci') and check dmesg`,
      };
    }
    return original;
  }

  rebindDriver(info: HostDeviceInfo, driver: string | null): void {
    restoreDriver(this.source, this.#writer, info.bdf, this.source.driverOf(info.bdf) !== undefined, driver);
  }

  open(info: HostDeviceInfo, events: HostDeviceEvents): HostDevice | HostFailure {
    const bdf = info.bdf;
    const container = this.#container;
    if (!container) return { rc: VERR_NOT_SUPPORTED, msg: `this VFIO host has no container: build it with VfioHost.create to open ${bdf}` };
    let driver = this.source.driverOf(bdf);
    let boundByUs = false;
    if (driver === undefined) {
      // An unbound function needs no detaching: hand it to vfio-pci for the time it is open.
      const d = this.detachDriver({ ...info, driver: null });
      if (typeof d === 'object' && d !== null) return d;
      boundByUs = true;
      driver = VFIO_PCI_DRIVER;
    }
    if (driver !== VFIO_PCI_DRIVER) {
      return {
        rc: VERR_RESOURCE_BUSY,
        msg: `${bdf} is bound to ${driver}, not vfio-pci: hand it over with 'rawpci attach ${bdf}' (or open with DETACH_HOST_DRIVER)`,
      };
    }
    const group = info.iommuGroup!;
    const g = container.openGroup(group, bdf, () => this.#notViable(group, bdf));
    if ('rc' in g) {
      if (boundByUs) this.rebindDriver(info, null);
      return g;
    }
    let fd = -1;
    try {
      const name = new TextEncoder().encode(`${bdf}\0`);
      fd = libc.ioctlFd(g.fd, VFIO_GROUP_GET_DEVICE_FD, name, `VFIO_GROUP_GET_DEVICE_FD ${bdf}`);
      const dev = new VfioDevice(this, info, fd, events, group, boundByUs);
      this.#open.add(dev);
      return dev;
    } catch (e) {
      if (fd >= 0) libc.close(fd);
      container.closeGroup(group);
      if (boundByUs) this.rebindDriver(info, null);
      const errno = (e as libc.LibcError).errno;
      if (errno === EBUSY)
        return { rc: VERR_RESOURCE_BUSY, msg: `${bdf} is busy: another process (a VM, or another rawpci) has it open through VFIO; close it there first` };
      return { rc: VERR_DEV_IO_ERROR, msg: `opening ${bdf} through VFIO failed: ${(e as Error).message}` };
    }
  }

  poll(now: number): number {
    let next = Number.POSITIVE_INFINITY;
    for (const d of this.#open) next = Math.min(next, d.poll(now));
    return next;
  }

  /** Called by a device's close: leaves the group, unbinds what open bound. */
  released(dev: VfioDevice): void {
    this.#open.delete(dev);
    this.#container?.closeGroup(dev.group);
    if (dev.boundByUs) {
      try {
        this.rebindDriver(dev.info, null);
      } catch {
        // Best effort: the device stays on vfio-pci, which is safe.
      }
    }
  }

  #notViable(group: number, bdf: Bdf): string {
    let blockers: GroupBlocker[] = [];
    try {
      blockers = sysfsGroupBlockers(this.source, bdf, String(group));
    } catch {
      // Fall back to the generic message.
    }
    const who = blockers.length
      ? `: ${describeBlockers(blockers)}; detach ${blockers.length > 1 ? 'them' : 'it'} too (rawpci attach)`
      : ': every member must be bound to vfio-pci or unbound';
    return `IOMMU group ${group} of ${bdf} is not viable${who}`;
  }

  #info(bdf: Bdf): HostDeviceInfo | undefined {
    let rec: ReturnType<SysfsPciSource['read']>;
    try {
      rec = this.source.read(bdf);
    } catch {
      return undefined;
    }
    const group = rec.iommuGroup === undefined ? null : Number(rec.iommuGroup);
    return {
      bdf,
      driver: rec.driver ?? null,
      iommuGroup: group !== null && Number.isInteger(group) ? group : null,
      vendor: rec.vendor,
      device: rec.device,
      classCode: rec.classCode,
      irq: rec.irq,
      description: rec.driver ?? 'no driver',
    };
  }
}
