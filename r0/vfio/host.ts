// The VFIO host of ring 0: real PCI devices through /dev/vfio (container, group, device; type1 IOMMU), served to the dispatcher through the host seam.
//
// After cloud-hypervisor's vfio.rs and QEMU's hw/vfio/pci.c: config space, BARs and the ROM are
// VFIO regions accessed with pread/pwrite at the region offsets (the kernel performs each access
// at its own width); INTx and MSI arrive on eventfds that ring 0's serve loop polls (it blocks in
// Atomics.wait, so libuv cannot watch them); the MSI capability is virtualised by vfio-pci, so a
// config write that sets or clears its enable bit becomes VFIO_DEVICE_SET_IRQS, as QEMU does;
// DMA goes through the real IOMMU: each VM domain is mirrored with VFIO_IOMMU_MAP_DMA of the
// VM's guest RAM. Discovery and driver binding go through shared/sysfs, the layer the admin CLI uses.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Bdf } from '../../shared/bdf.js';
import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_SPACE_IO,
  PCI_CAP_ID_MSI,
  PCI_CAPABILITY_LIST,
  PCI_MSI_ADDRESS_HI,
  PCI_MSI_ADDRESS_LO,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_64BIT,
  PCI_MSI_FLAGS_ENABLE,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
} from '../../shared/linux/pci-regs.js';
import {
  EACCES,
  EBUSY,
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  EINVAL,
  ENOENT,
  ENOMEM,
  ENOSPC,
  EPERM,
  O_CLOEXEC,
  O_NONBLOCK,
  O_RDONLY,
  O_RDWR,
  SEEK_END,
  VFIO_CHECK_EXTENSION,
  VFIO_DEVICE_GET_INFO,
  VFIO_DEVICE_GET_IRQ_INFO,
  VFIO_DEVICE_GET_REGION_INFO,
  VFIO_DEVICE_INFO,
  VFIO_DEVICE_RESET,
  VFIO_DEVICE_SET_IRQS,
  VFIO_GET_API_VERSION,
  VFIO_GROUP_GET_DEVICE_FD,
  VFIO_GROUP_GET_STATUS,
  VFIO_GROUP_SET_CONTAINER,
  VFIO_GROUP_STATUS,
  VFIO_GROUP_UNSET_CONTAINER,
  VFIO_IOMMU_MAP_DMA,
  VFIO_IOMMU_TYPE1_DMA_MAP,
  VFIO_IOMMU_TYPE1_DMA_UNMAP,
  VFIO_IOMMU_UNMAP_DMA,
  VFIO_IRQ_INFO,
  VFIO_IRQ_SET,
  VFIO_PCI_CONFIG_REGION_INDEX,
  VFIO_PCI_INTX_IRQ_INDEX,
  VFIO_PCI_MSI_IRQ_INDEX,
  VFIO_PCI_ROM_REGION_INDEX,
  VFIO_REGION_INFO,
  VFIO_SET_IOMMU,
  VFIO_TYPE1v2_IOMMU,
} from '../../shared/linux/vfio-abi.js';
import {
  VFIO_API_VERSION,
  VFIO_DEVICE_FLAGS_RESET,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_GROUP_FLAGS_VIABLE,
  VFIO_IRQ_SET_ACTION_TRIGGER,
  VFIO_IRQ_SET_ACTION_UNMASK,
  VFIO_IRQ_SET_DATA_EVENTFD,
  VFIO_IRQ_SET_DATA_NONE,
  VFIO_REGION_INFO_FLAG_MMAP,
  VFIO_TYPE1_IOMMU,
} from '../../shared/linux/vfio-consts.js';
import { msiLayout } from '../../shared/msi-layout.js';
import { VBoxStatus, VERR_ACCESS_DENIED, VERR_DEV_IO_ERROR, VERR_NOT_SUPPORTED, VERR_PERMISSION_DENIED, VERR_RESOURCE_BUSY } from '../../shared/status.js';

const { VERR_NO_MEMORY } = VBoxStatus;

import {
  bindToDriver,
  describeBlockers,
  type GroupBlocker,
  PCI_BASE_CLASS_BRIDGE,
  restoreDriver,
  sysfsGroupBlockers,
  VFIO_PCI_DRIVER,
} from '../../shared/sysfs/binding.js';
import { readResources, SysfsPciSource } from '../../shared/sysfs/sysfs-source.js';
import { RealSysfsWriter } from '../../shared/sysfs/writer.js';
import type { BackendConfig } from '../backends.js';
import type {
  HostDevice,
  HostDeviceEvents,
  HostDeviceInfo,
  HostDmaHooks,
  HostDmaMapping,
  HostFailure,
  HostFdMapping,
  HostRegion,
  PciHostBackend,
} from '../host.js';
import type { HostTable } from '../host-table.js';
import * as libc from './libc.js';

/** The VFIO container node. */
export const VFIO_CONTAINER_PATH = '/dev/vfio/vfio';
/** How often ring 0 polls eventfds while a device has interrupts armed, in ms. */
export const VFIO_IRQ_POLL_MS = 1;

const PAGE = 4096n;

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
  #container = -1;
  #iommuSet = false;
  /** Open groups by number, with how many devices use each. */
  readonly #groups = new Map<number, { fd: number; users: number }>();
  readonly #open = new Set<VfioDevice>();
  /** Desired mappings per domain (what ring 0 asked for), and what the container has now. */
  readonly #wanted = new Map<number, { ram: Uint8Array; maps: HostDmaMapping[] }>();
  #live: { vaddr: bigint; iova: bigint; size: bigint; domain: number }[] = [];

  constructor(options: VfioHostOptions = {}) {
    this.source = new SysfsPciSource(options.sysfsRoot ?? '/sys');
    this.devVfio = options.devVfio ?? '/dev/vfio';
    this.dma = { sync: (domain, ram, maps) => this.#syncDomain(domain, ram, maps) };
  }

  /**
   * Builds the host for a ring-0 worker. Throws Error naming the cause and the fix when VFIO is
   * unusable here: no /dev/vfio/vfio (load vfio-pci), no permission, wrong API version.
   */
  static create(_config: BackendConfig, _table: HostTable, options: VfioHostOptions = {}): VfioHost {
    const host = new VfioHost(options);
    const path = join(host.devVfio, 'vfio');
    if (!existsSync(path)) {
      throw new Error(
        `${path} is missing: VFIO is not loaded; load it with 'modprobe vfio-pci' (and boot with intel_iommu=on or amd_iommu=on so devices get IOMMU groups)`,
      );
    }
    let fd: number;
    try {
      fd = libc.open(path, O_RDWR | O_CLOEXEC);
    } catch (e) {
      const errno = (e as libc.LibcError).errno;
      throw new Error(
        `cannot open ${path} (${libc.errnoName(errno)}): ${errno === EACCES || errno === EPERM ? 'run as root, or give your user the VFIO nodes (see docs/vfio.md)' : 'check the vfio module loaded'}`,
      );
    }
    try {
      const v = libc.ioctlInt(fd, VFIO_GET_API_VERSION, 0, 'VFIO_GET_API_VERSION');
      if (v !== VFIO_API_VERSION) throw new Error(`${path} speaks VFIO API ${v}, rawpci speaks ${VFIO_API_VERSION}: use a kernel with the standard VFIO API`);
      const type1 = libc.ioctlInt(fd, VFIO_CHECK_EXTENSION, VFIO_TYPE1_IOMMU, 'VFIO_CHECK_EXTENSION');
      if (!type1) throw new Error(`the kernel's VFIO has no type1 IOMMU: load vfio_iommu_type1 ('modprobe vfio_iommu_type1') on a machine with an IOMMU`);
    } catch (e) {
      libc.close(fd);
      throw e;
    }
    host.#container = fd;
    return host;
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
    const g = this.#openGroup(group, bdf);
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
      this.#closeGroup(group);
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
    this.#closeGroup(dev.group);
    if (dev.boundByUs) {
      try {
        this.rebindDriver(dev.info, null);
      } catch {
        // Best effort: the device stays on vfio-pci, which is safe.
      }
    }
  }

  // ---- groups and the container ----

  #openGroup(group: number, bdf: Bdf): { fd: number } | HostFailure {
    const have = this.#groups.get(group);
    if (have) {
      have.users++;
      return have;
    }
    const path = join(this.devVfio, String(group));
    let fd: number;
    try {
      fd = libc.open(path, O_RDWR | O_CLOEXEC);
    } catch (e) {
      const errno = (e as libc.LibcError).errno;
      if (errno === ENOENT)
        return { rc: VERR_DEV_IO_ERROR, msg: `${path} is missing: ${bdf} (IOMMU group ${group}) is not bound to vfio-pci; 'rawpci attach ${bdf}' binds it` };
      if (errno === EBUSY)
        return {
          rc: VERR_RESOURCE_BUSY,
          msg: `IOMMU group ${group} (${path}) is busy: another process (a VM, or another rawpci) holds it; close it there first`,
        };
      if (errno === EACCES || errno === EPERM)
        return { rc: VERR_PERMISSION_DENIED, msg: `no permission on ${path}: run as root or 'chown $USER ${path}' (see docs/vfio.md)` };
      return { rc: VERR_DEV_IO_ERROR, msg: `opening ${path}: ${(e as Error).message}` };
    }
    const st = new Uint8Array(VFIO_GROUP_STATUS.SIZE);
    const dv = new DataView(st.buffer);
    dv.setUint32(VFIO_GROUP_STATUS.argsz, VFIO_GROUP_STATUS.SIZE, true);
    try {
      libc.ioctl(fd, VFIO_GROUP_GET_STATUS, st, 'VFIO_GROUP_GET_STATUS');
      if (!(dv.getUint32(VFIO_GROUP_STATUS.flags, true) & VFIO_GROUP_FLAGS_VIABLE)) {
        libc.close(fd);
        return { rc: VERR_RESOURCE_BUSY, msg: this.#notViable(group, bdf) };
      }
      const c = new Uint8Array(4);
      new DataView(c.buffer).setInt32(0, this.#container, true);
      libc.ioctl(fd, VFIO_GROUP_SET_CONTAINER, c, 'VFIO_GROUP_SET_CONTAINER');
    } catch (e) {
      libc.close(fd);
      return { rc: VERR_DEV_IO_ERROR, msg: `IOMMU group ${group}: ${(e as Error).message}` };
    }
    const entry = { fd, users: 1 };
    this.#groups.set(group, entry);
    if (!this.#iommuSet) {
      try {
        try {
          libc.ioctlInt(this.#container, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU, 'VFIO_SET_IOMMU type1v2');
        } catch {
          libc.ioctlInt(this.#container, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU, 'VFIO_SET_IOMMU type1');
        }
      } catch (e) {
        this.#closeGroup(group);
        return {
          rc: VERR_NOT_SUPPORTED,
          msg: `the container refused a type1 IOMMU for group ${group}: ${(e as Error).message}; is the IOMMU on (intel_iommu=on / amd_iommu=on)?`,
        };
      }
      this.#iommuSet = true;
      const failed = this.#apply();
      if (failed) {
        this.#closeGroup(group);
        return failed;
      }
    }
    return entry;
  }

  #closeGroup(group: number): void {
    const g = this.#groups.get(group);
    if (!g || --g.users > 0) return;
    this.#groups.delete(group);
    try {
      libc.ioctl(g.fd, VFIO_GROUP_UNSET_CONTAINER, null, 'VFIO_GROUP_UNSET_CONTAINER');
    } catch {
      // Closing the group fd unsets it too.
    }
    libc.close(g.fd);
    if (this.#groups.size === 0) {
      // The last group left: the kernel dropped the IOMMU and its mappings with it.
      this.#iommuSet = false;
      this.#live = [];
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

  // ---- DMA: VM domains mirrored into the container ----

  #syncDomain(domain: number, ram: Uint8Array, maps: readonly HostDmaMapping[]): HostFailure | undefined {
    const before = this.#wanted.get(domain);
    if (maps.length === 0) this.#wanted.delete(domain);
    else this.#wanted.set(domain, { ram, maps: maps.map((m) => ({ ...m })) });
    const failed = this.#apply();
    if (failed) {
      if (before) this.#wanted.set(domain, before);
      else this.#wanted.delete(domain);
      this.#apply();
    }
    return failed;
  }

  /** Makes the container's mappings equal the wanted ones (when an IOMMU is set). */
  #apply(): HostFailure | undefined {
    if (!this.#iommuSet) return undefined;
    const want: { vaddr: bigint; iova: bigint; size: bigint; domain: number }[] = [];
    for (const [domain, w] of this.#wanted) {
      const base = libc.addressOf(w.ram);
      for (const m of w.maps) want.push({ vaddr: base + m.ramOffset, iova: m.iova, size: m.size, domain });
    }
    const same = (a: (typeof want)[0], b: (typeof want)[0]) => a.vaddr === b.vaddr && a.iova === b.iova && a.size === b.size;
    for (const l of [...this.#live]) {
      if (want.some((w) => same(w, l))) continue;
      this.#unmapDma(l.iova, l.size);
      this.#live = this.#live.filter((x) => x !== l);
    }
    for (const w of want) {
      if (this.#live.some((l) => same(w, l))) continue;
      const clash = this.#live.find((l) => w.iova < l.iova + l.size && l.iova < w.iova + w.size);
      if (clash) {
        return {
          rc: VERR_RESOURCE_BUSY,
          msg: `IOVA 0x${w.iova.toString(16)}+0x${w.size.toString(16)} is already mapped for VM domain ${clash.domain} in this ring-0 worker's VFIO container: use disjoint IOVAs`,
        };
      }
      if (w.vaddr % PAGE !== 0n) {
        return {
          rc: VERR_NOT_SUPPORTED,
          msg: `guest RAM at 0x${w.vaddr.toString(16)} is not page aligned, so the IOMMU cannot map it: allocate guest RAM with allocGuestRam() (page-aligned shared memory; Ring0Service does so for the vfio host)`,
        };
      }
      const f = this.#mapDma(w.vaddr, w.iova, w.size);
      if (f) return f;
      this.#live.push(w);
    }
    return undefined;
  }

  #mapDma(vaddr: bigint, iova: bigint, size: bigint): HostFailure | undefined {
    const L = VFIO_IOMMU_TYPE1_DMA_MAP;
    const b = new Uint8Array(L.SIZE);
    const dv = new DataView(b.buffer);
    dv.setUint32(L.argsz, L.SIZE, true);
    dv.setUint32(L.flags, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, true);
    dv.setBigUint64(L.vaddr, vaddr, true);
    dv.setBigUint64(L.iova, iova, true);
    dv.setBigUint64(L.size, size, true);
    try {
      libc.ioctl(this.#container, VFIO_IOMMU_MAP_DMA, b, 'VFIO_IOMMU_MAP_DMA');
      return undefined;
    } catch (e) {
      const errno = (e as libc.LibcError).errno;
      const what = `VFIO_IOMMU_MAP_DMA of ${size} bytes at IOVA 0x${iova.toString(16)}`;
      if (errno === ENOMEM) {
        return {
          rc: VERR_NO_MEMORY,
          msg: `${what} failed (ENOMEM): the locked-memory limit (RLIMIT_MEMLOCK) is too small for the guest RAM; raise it ('ulimit -l unlimited', or memlock in /etc/security/limits.conf; see docs/vfio.md)`,
        };
      }
      if (errno === ENOSPC)
        return { rc: VERR_NO_MEMORY, msg: `${what} failed (ENOSPC): too many DMA mappings (vfio_iommu_type1 dma_entry_limit); map fewer, larger ranges` };
      if (errno === EINVAL)
        return { rc: VERR_NOT_SUPPORTED, msg: `${what} failed (EINVAL): the IOVA is outside the IOMMU's aperture or overlaps a reserved range` };
      return { rc: VERR_DEV_IO_ERROR, msg: `${what} failed: ${(e as Error).message}` };
    }
  }

  #unmapDma(iova: bigint, size: bigint): void {
    const L = VFIO_IOMMU_TYPE1_DMA_UNMAP;
    const b = new Uint8Array(L.SIZE);
    const dv = new DataView(b.buffer);
    dv.setUint32(L.argsz, L.SIZE, true);
    dv.setBigUint64(L.iova, iova, true);
    dv.setBigUint64(L.size, size, true);
    try {
      libc.ioctl(this.#container, VFIO_IOMMU_UNMAP_DMA, b, 'VFIO_IOMMU_UNMAP_DMA');
    } catch {
      // Already gone (the container dropped its IOMMU).
    }
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

/** Region layout of an open device: VFIO offset and size per index. */
interface VfioRegion {
  index: number;
  flags: number;
  size: bigint;
  offset: bigint;
}

/**
 * One device open through VFIO. Config, port and memory accesses are pread/pwrite on the device
 * fd at the region's offset; INTx and MSI are eventfds polled by {@link VfioDevice.poll}.
 */
export class VfioDevice implements HostDevice {
  readonly info: HostDeviceInfo;
  readonly group: number;
  readonly boundByUs: boolean;
  readonly configSize: number;
  readonly resetWorks: boolean;
  readonly #host: VfioHost;
  readonly #fd: number;
  readonly #events: HostDeviceEvents;
  readonly #vfioRegions = new Map<number, VfioRegion>();
  /** BARs mapped with mmap: naturally aligned accesses go through these at their own width. */
  readonly #mapped = new Map<number, { map: libc.Mapping; u8: Uint8Array; u16: Uint16Array; u32: Uint32Array; u64: BigUint64Array }>();
  readonly #regions: HostRegion[] = [];
  readonly #msiCap: number;
  #intxFd = -1;
  #msiFd = -1;
  #kmsgFd = -1;
  #msi: { address: bigint; data: number } | undefined;
  #closed = false;
  readonly #u64 = new Uint8Array(8);

  constructor(host: VfioHost, info: HostDeviceInfo, fd: number, events: HostDeviceEvents, group: number, boundByUs: boolean) {
    this.#host = host;
    this.info = info;
    this.#fd = fd;
    this.#events = events;
    this.group = group;
    this.boundByUs = boundByUs;
    const di = new Uint8Array(VFIO_DEVICE_INFO.SIZE);
    const dv = new DataView(di.buffer);
    dv.setUint32(VFIO_DEVICE_INFO.argsz, VFIO_DEVICE_INFO.SIZE, true);
    libc.ioctl(fd, VFIO_DEVICE_GET_INFO, di, 'VFIO_DEVICE_GET_INFO');
    this.resetWorks = (dv.getUint32(VFIO_DEVICE_INFO.flags, true) & VFIO_DEVICE_FLAGS_RESET) !== 0;
    const nRegions = dv.getUint32(VFIO_DEVICE_INFO.num_regions, true);
    for (let i = 0; i < Math.min(nRegions, VFIO_PCI_CONFIG_REGION_INDEX + 1); i++) {
      const r = this.#regionInfo(i);
      if (r) this.#vfioRegions.set(i, r);
    }
    const cfg = this.#vfioRegions.get(VFIO_PCI_CONFIG_REGION_INDEX);
    if (!cfg) throw new Error(`${info.bdf} has no VFIO config region (index ${VFIO_PCI_CONFIG_REGION_INDEX}): not a vfio-pci device`);
    this.configSize = cfg.size >= 4096n ? 4096 : 256;
    this.#buildRegions();
    this.#msiCap = this.#findCap(PCI_CAP_ID_MSI);
    this.#armIntx();
    this.#openKmsg();
  }

  regions(): readonly HostRegion[] {
    return this.#regions;
  }

  readConfig(offset: number, data: Uint8Array): boolean {
    return this.#rw(VFIO_PCI_CONFIG_REGION_INDEX, offset, data, false);
  }

  writeConfig(offset: number, data: Uint8Array): boolean {
    const ok = this.#rw(VFIO_PCI_CONFIG_REGION_INDEX, offset, data, true);
    // vfio-pci virtualises the MSI capability: the enable bit only reaches the device through
    // VFIO_DEVICE_SET_IRQS (as QEMU's vfio_msi_enable does), so follow the guest's writes.
    if (ok && this.#msiCap && offset < this.#msiCap + 24 && this.#msiCap < offset + data.length) this.#msiChanged(offset, data);
    return ok;
  }

  readIo(region: number, offset: number, data: Uint8Array): boolean {
    return this.#rw(region, offset, data, false);
  }

  writeIo(region: number, offset: number, data: Uint8Array): boolean {
    return this.#rw(region, offset, data, true);
  }

  readMem(region: number, offset: number, data: Uint8Array): boolean {
    return this.#rw(region, offset, data, false);
  }

  writeMem(region: number, offset: number, data: Uint8Array): boolean {
    return this.#rw(region, offset, data, true);
  }

  /**
   * For a memory BAR that VFIO allows to mmap (VFIO_REGION_INFO_FLAG_MMAP, and ring 0's own
   * mapping of it worked): the device fd and the region's range, which ring 3 mmaps itself (a
   * device mapping is no SharedArrayBuffer, but the threads of one process share descriptors).
   * The fd stays open until {@link close}, which ring 0 calls only after the mapping was
   * withdrawn. Other regions: undefined (trapped, MMIO_READ/MMIO_WRITE).
   */
  mapRegion(region: number): HostFdMapping | undefined {
    const r = this.#mapped.has(region) ? this.#vfioRegions.get(region) : undefined;
    if (!r || this.#closed) return undefined;
    return { fd: this.#fd, offset: r.offset, size: Number(r.size) };
  }

  ackIntx(): void {
    // The kernel masked INTx when it fired (VFIO_IRQ_INFO_AUTOMASKED); ring 3 handled it, so the
    // line is considered low until the kernel signals again after the unmask.
    this.#events.intx(false);
    this.#setIrqs(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 1, undefined);
  }

  reset(): boolean {
    if (!this.resetWorks) {
      this.#events.log(`VFIO reports no reset method for ${this.info.bdf} (no FLR, PM or bus reset): VFIO_DEVICE_RESET unavailable, device state kept`);
      if (this.#intxFd >= 0) this.ackIntx();
      return false;
    }
    try {
      libc.ioctl(this.#fd, VFIO_DEVICE_RESET, null, 'VFIO_DEVICE_RESET');
    } catch (e) {
      this.#events.log(`VFIO_DEVICE_RESET failed: ${(e as Error).message}`);
      return false;
    }
    if (this.#msiFd >= 0) this.#disableMsi();
    if (this.#intxFd >= 0) this.ackIntx();
    return true;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#disableMsi();
    this.#setIrqs(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, undefined);
    for (const fd of [this.#intxFd, this.#msiFd, this.#kmsgFd]) libc.close(fd);
    for (const m of this.#mapped.values()) m.map.unmap();
    this.#mapped.clear();
    this.#intxFd = this.#msiFd = this.#kmsgFd = -1;
    libc.close(this.#fd);
    this.#host.released(this);
  }

  /** Reads the eventfds and the kernel log; delivers what happened. Returns ms until the next poll. */
  poll(_now: number): number {
    if (this.#closed) return Number.POSITIVE_INFINITY;
    if (this.#intxFd >= 0 && libc.read(this.#intxFd, this.#u64) === 8) this.#events.intx(true);
    if (this.#msiFd >= 0 && libc.read(this.#msiFd, this.#u64) === 8) {
      const n = Number(new DataView(this.#u64.buffer).getBigUint64(0, true));
      const m = this.#msi ?? { address: 0n, data: 0 };
      for (let i = 0; i < n; i++) this.#events.msi('msi', 0, m.address, m.data);
    }
    if (this.#kmsgFd >= 0) this.#readKmsg();
    return this.#intxFd >= 0 || this.#msiFd >= 0 ? VFIO_IRQ_POLL_MS : Number.POSITIVE_INFINITY;
  }

  // ---- regions ----

  #regionInfo(index: number): VfioRegion | undefined {
    const L = VFIO_REGION_INFO;
    const b = new Uint8Array(L.SIZE);
    const dv = new DataView(b.buffer);
    dv.setUint32(L.argsz, L.SIZE, true);
    dv.setUint32(L.index, index, true);
    try {
      libc.ioctl(this.#fd, VFIO_DEVICE_GET_REGION_INFO, b, `VFIO_DEVICE_GET_REGION_INFO ${index}`);
    } catch {
      return undefined;
    }
    const size = dv.getBigUint64(L.size, true);
    if (size === 0n) return undefined;
    return { index, flags: dv.getUint32(L.flags, true), size, offset: dv.getBigUint64(L.offset, true) };
  }

  #buildRegions(): void {
    const resources = (readResources(this.#host.source.deviceDir(this.info.bdf)) ?? []).map((r) => r.start);
    const cfg = new Uint8Array(4);
    for (let i = 0; i <= VFIO_PCI_ROM_REGION_INDEX; i++) {
      const r = this.#vfioRegions.get(i);
      if (!r) continue;
      let kind: HostRegion['kind'] = 'rom';
      let prefetchable = false;
      if (i < VFIO_PCI_ROM_REGION_INDEX) {
        this.readConfig(PCI_BASE_ADDRESS_0 + 4 * i, cfg);
        const bar = new DataView(cfg.buffer).getUint32(0, true);
        if (bar & PCI_BASE_ADDRESS_SPACE_IO) kind = 'io';
        else {
          kind = bar & PCI_BASE_ADDRESS_MEM_TYPE_64 ? 'mem64' : 'mem32';
          prefetchable = (bar & PCI_BASE_ADDRESS_MEM_PREFETCH) !== 0;
        }
      }
      if (kind === 'mem32' || kind === 'mem64') this.#mmapBar(r);
      // MAP_REGION hands ring 3 exactly the BARs ring 0 could mmap itself.
      this.#regions.push({ index: i, kind, start: resources[i] ?? 0n, size: r.size, prefetchable, mappable: this.#mapped.has(i) });
    }
  }

  /**
   * Maps a memory BAR that VFIO allows to mmap. vfio-pci's pread/pwrite split an 8-byte access
   * into two 4-byte ones (Linux 6.1 vfio_pci_core_do_io_rw), which edu's 64-bit DMA registers
   * see as two accesses; a load or store through the mapping keeps its width.
   */
  #mmapBar(r: VfioRegion): void {
    if (!(r.flags & VFIO_REGION_INFO_FLAG_MMAP) || r.size % PAGE !== 0n || r.size > 1n << 30n) return;
    try {
      const map = libc.mmap(this.#fd, Number(r.size), r.offset, `mmap of region ${r.index}`);
      const b = map.buffer;
      this.#mapped.set(r.index, { map, u8: new Uint8Array(b), u16: new Uint16Array(b), u32: new Uint32Array(b), u64: new BigUint64Array(b) });
    } catch (e) {
      this.#events.log(`${(e as Error).message}: region ${r.index} stays on pread/pwrite`);
    }
  }

  /** One naturally aligned access through the BAR mapping; false when it cannot be done so. */
  #mappedRw(region: number, offset: number, data: Uint8Array, write: boolean): boolean {
    const m = this.#mapped.get(region);
    const n = data.length;
    if (!m || offset % n !== 0 || offset + n > m.u8.length) return false;
    const dv = new DataView(data.buffer, data.byteOffset, n);
    const i = offset / n;
    if (write) {
      if (n === 8) m.u64[i] = dv.getBigUint64(0, true);
      else if (n === 4) m.u32[i] = dv.getUint32(0, true);
      else if (n === 2) m.u16[i] = dv.getUint16(0, true);
      else m.u8[i] = data[0]!;
    } else if (n === 8) dv.setBigUint64(0, m.u64[i]!, true);
    else if (n === 4) dv.setUint32(0, m.u32[i]!, true);
    else if (n === 2) dv.setUint16(0, m.u16[i]!, true);
    else data[0] = m.u8[i]!;
    return true;
  }

  #rw(region: number, offset: number, data: Uint8Array, write: boolean): boolean {
    if (region !== VFIO_PCI_CONFIG_REGION_INDEX && this.#mappedRw(region, offset, data, write)) return true;
    const r = this.#vfioRegions.get(region);
    if (!r || offset < 0 || BigInt(offset + data.length) > r.size) return false;
    const at = r.offset + BigInt(offset);
    return write ? libc.pwrite(this.#fd, data, at) : libc.pread(this.#fd, data, at);
  }

  #findCap(id: number): number {
    const b = new Uint8Array(2);
    if (!this.readConfig(PCI_STATUS, b) || !((b[0]! | (b[1]! << 8)) & PCI_STATUS_CAP_LIST)) return 0;
    const one = new Uint8Array(1);
    this.readConfig(PCI_CAPABILITY_LIST, one);
    let ptr = one[0]! & 0xfc;
    for (let n = 0; ptr !== 0 && n < 48; n++) {
      this.readConfig(ptr, one);
      if (one[0] === id) return ptr;
      this.readConfig(ptr + 1, one);
      ptr = one[0]! & 0xfc;
    }
    return 0;
  }

  // ---- interrupts ----

  #irqCount(index: number): number {
    const L = VFIO_IRQ_INFO;
    const b = new Uint8Array(L.SIZE);
    const dv = new DataView(b.buffer);
    dv.setUint32(L.argsz, L.SIZE, true);
    dv.setUint32(L.index, index, true);
    try {
      libc.ioctl(this.#fd, VFIO_DEVICE_GET_IRQ_INFO, b, 'VFIO_DEVICE_GET_IRQ_INFO');
    } catch {
      return 0;
    }
    return dv.getUint32(L.count, true);
  }

  /** VFIO_DEVICE_SET_IRQS for vector 0 of `index`; `eventfd` when DATA_EVENTFD. False on failure (logged). */
  #setIrqs(index: number, flags: number, count: number, eventfd: number | undefined): boolean {
    const L = VFIO_IRQ_SET;
    const size = L.SIZE + (eventfd === undefined ? 0 : 4);
    const b = new Uint8Array(size);
    const dv = new DataView(b.buffer);
    dv.setUint32(L.argsz, size, true);
    dv.setUint32(L.flags, flags, true);
    dv.setUint32(L.index, index, true);
    dv.setUint32(L.start, 0, true);
    dv.setUint32(L.count, count, true);
    if (eventfd !== undefined) dv.setInt32(L.data, eventfd, true);
    try {
      libc.ioctl(this.#fd, VFIO_DEVICE_SET_IRQS, b, `VFIO_DEVICE_SET_IRQS index ${index}`);
      return true;
    } catch (e) {
      this.#events.log(`${(e as Error).message}`);
      return false;
    }
  }

  #armIntx(): void {
    if (this.#intxFd >= 0 || this.#irqCount(VFIO_PCI_INTX_IRQ_INDEX) === 0) return;
    const fd = libc.eventfd(EFD_NONBLOCK | EFD_CLOEXEC);
    if (this.#setIrqs(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 1, fd)) this.#intxFd = fd;
    else libc.close(fd);
  }

  #disarmIntx(): void {
    if (this.#intxFd < 0) return;
    this.#setIrqs(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, undefined);
    libc.close(this.#intxFd);
    this.#intxFd = -1;
    this.#events.intx(false);
  }

  /**
   * The guest wrote into the MSI capability: follow its enable bit and message. The enable bit is
   * taken from the written bytes: vfio-pci clears it in its virtual copy until MSI is enabled by
   * ioctl (vfio_msi_config_write), so reading it back would always say disabled.
   */
  #msiChanged(offset: number, written: Uint8Array): void {
    const c = this.#msiCap;
    const b = new Uint8Array(4);
    this.readConfig(c + PCI_MSI_FLAGS, b.subarray(0, 2));
    let flags = b[0]! | (b[1]! << 8);
    const at = c + PCI_MSI_FLAGS - offset;
    const wroteFlags = at >= 0 && at < written.length;
    if (wroteFlags) flags = (flags & ~PCI_MSI_FLAGS_ENABLE) | (written[at]! & PCI_MSI_FLAGS_ENABLE);
    const is64 = (flags & PCI_MSI_FLAGS_64BIT) !== 0;
    const u32 = (off: number) => {
      this.readConfig(off, b);
      return new DataView(b.buffer).getUint32(0, true);
    };
    const lo = u32(c + PCI_MSI_ADDRESS_LO);
    const hi = is64 ? u32(c + PCI_MSI_ADDRESS_HI) : 0;
    const data = u32(c + msiLayout(flags).data) & 0xffff;
    this.#msi = { address: (BigInt(hi) << 32n) | BigInt(lo), data };
    const enabled = (flags & PCI_MSI_FLAGS_ENABLE) !== 0;
    if (!wroteFlags) return;
    if (enabled && this.#msiFd < 0) {
      // One interrupt index at a time: INTx off, then MSI on (QEMU's vfio_msi_enable order).
      this.#disarmIntx();
      const fd = libc.eventfd(EFD_NONBLOCK | EFD_CLOEXEC);
      if (this.#setIrqs(VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 1, fd)) this.#msiFd = fd;
      else {
        libc.close(fd);
        this.#armIntx();
      }
    } else if (!enabled && this.#msiFd >= 0) this.#disableMsi();
  }

  #disableMsi(): void {
    if (this.#msiFd < 0) return;
    this.#setIrqs(VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, undefined);
    libc.close(this.#msiFd);
    this.#msiFd = -1;
    if (!this.#closed) this.#armIntx();
  }

  // ---- IOMMU faults: the kernel's DMAR/AMD-Vi fault records in /dev/kmsg ----

  #openKmsg(): void {
    try {
      this.#kmsgFd = libc.open('/dev/kmsg', O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      libc.lseek(this.#kmsgFd, 0, SEEK_END);
    } catch {
      this.#kmsgFd = -1; // not root, or no /dev/kmsg: faults are then not reported
    }
  }

  readonly #kbuf = new Uint8Array(8192);

  #readKmsg(): void {
    const me = `${hex2(this.info.bdf.bus)}:${hex2(this.info.bdf.device)}.${this.info.bdf.fn}`;
    for (let n = 0; n < 64; n++) {
      const len = libc.read(this.#kmsgFd, this.#kbuf);
      if (len <= 0) return; // -EAGAIN: nothing new; -EPIPE: overwritten records, next read resyncs
      const line = new TextDecoder().decode(this.#kbuf.subarray(0, len));
      const f = parseIommuFault(line);
      if (f && f.device === me) this.#events.iommuFault?.(f.iova, f.write, `the host IOMMU blocked it (${f.reason})`);
    }
  }
}

/** An IOMMU fault record as Linux prints it (Intel DMAR or AMD-Vi), for one device. */
export interface KernelIommuFault {
  /** `bb:dd.f` of the requester. */
  device: string;
  iova: bigint;
  write: boolean;
  reason: string;
}

/**
 * Parses one kernel log line into an IOMMU fault, or undefined. Understands Intel's
 * `DMAR: [DMA Write NO_PASID] Request device [00:04.0] fault addr 0x8000000 [fault reason 0x05]
 * PTE Write access is not set` (drivers/iommu/intel/dmar.c) and AMD's `AMD-Vi: Event logged
 * [IO_PAGE_FAULT domain=0x0000 address=0x8000000 flags=0x0030]` with `device=00:04.0`.
 */
export function parseIommuFault(line: string): KernelIommuFault | undefined {
  const intel =
    /\[DMA (Read|Write)[^\]]*\] Request device \[([0-9a-f]{2}:[0-9a-f]{2}\.[0-7])\] fault addr 0x([0-9a-f]+)(?: \[fault reason 0x[0-9a-f]+\] ?(.*))?/i.exec(
      line,
    );
  if (intel)
    return {
      device: intel[2]!.toLowerCase(),
      iova: BigInt(`0x${intel[3]}`),
      write: intel[1] === 'Write',
      reason: (intel[4] ?? 'DMAR fault').trim() || 'DMAR fault',
    };
  const amd = /IO_PAGE_FAULT device=(?:[0-9a-f]{4}:)?([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) domain=0x[0-9a-f]+ address=0x([0-9a-f]+) flags=0x([0-9a-f]+)/i.exec(line);
  if (amd)
    return { device: amd[1]!.toLowerCase(), iova: BigInt(`0x${amd[2]}`), write: (Number.parseInt(amd[3]!, 16) & 0x20) !== 0, reason: 'AMD-Vi IO_PAGE_FAULT' };
  return undefined;
}

function hex2(v: number): string {
  return v.toString(16).padStart(2, '0');
}
