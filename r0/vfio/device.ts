// One PCI device open through VFIO: its regions (config space, BARs, ROM) accessed with pread/pwrite at the region offsets or through mmap of the BARs, reset, and close; interrupts and fault reports are delegated.
//
// After QEMU 7.2's hw/vfio/pci.c and cloud-hypervisor's vfio.rs: the kernel performs each
// pread/pwrite at its own width (an 8-byte one as two dwords, Linux 6.1
// vfio_pci_core_do_io_rw), so naturally aligned accesses to an mmap-able BAR go through the
// mapping instead and keep their width.

import { onesOf, readLe } from '../../shared/le.js';
import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_MEM_PREFETCH,
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_SPACE_IO,
  PCI_CAP_ID_MSI,
} from '../../shared/linux/pci-regs.js';
import {
  VFIO_DEVICE_GET_INFO,
  VFIO_DEVICE_GET_REGION_INFO,
  VFIO_DEVICE_INFO,
  VFIO_DEVICE_RESET,
  VFIO_PCI_CONFIG_REGION_INDEX,
  VFIO_PCI_ROM_REGION_INDEX,
  VFIO_REGION_INFO,
} from '../../shared/linux/vfio-abi.js';
import { VFIO_DEVICE_FLAGS_RESET, VFIO_REGION_INFO_FLAG_MMAP } from '../../shared/linux/vfio-consts.js';
import { splitAccess } from '../../shared/pci/access-split.js';
import { findCapability } from '../../shared/pci/capabilities.js';
import { readResources, type SysfsPciSource } from '../../shared/sysfs/sysfs-source.js';
import type { HostDevice, HostDeviceEvents, HostDeviceInfo, HostFdMapping, HostRegion } from '../host.js';
import { KmsgFaultReader } from './faults.js';
import { VFIO_IRQ_POLL_MS, VfioIrqs } from './irq.js';
import * as libc from './libc.js';

const PAGE = 4096n;

/** What a device needs from the host that opened it. */
export interface VfioDeviceOwner {
  /** The sysfs tree (for the BARs' bus addresses in `resource`). */
  readonly source: SysfsPciSource;
  /** Called once by {@link VfioDevice.close}: leave the group, unbind what open bound. */
  released(dev: VfioDevice): void;
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
  readonly #owner: VfioDeviceOwner;
  readonly #fd: number;
  readonly #events: HostDeviceEvents;
  readonly #vfioRegions = new Map<number, VfioRegion>();
  /** BARs mapped with mmap: naturally aligned accesses go through these at their own width. */
  readonly #mapped = new Map<number, { map: libc.Mapping; u8: Uint8Array; u16: Uint16Array; u32: Uint32Array; u64: BigUint64Array }>();
  readonly #regions: HostRegion[] = [];
  readonly #irqs: VfioIrqs;
  readonly #faults: KmsgFaultReader;
  #closed = false;

  /**
   * Takes over device fd `fd` (from VFIO_GROUP_GET_DEVICE_FD) of `info`, in IOMMU group `group`;
   * `boundByUs` when open bound it to vfio-pci (close then unbinds it). Reads the regions, maps
   * the mmap-able BARs, arms INTx and starts reading fault reports. Throws Error when the fd is
   * no vfio-pci device.
   */
  constructor(owner: VfioDeviceOwner, info: HostDeviceInfo, fd: number, events: HostDeviceEvents, group: number, boundByUs: boolean) {
    this.#owner = owner;
    this.info = info;
    this.#fd = fd;
    this.#events = events;
    this.group = group;
    this.boundByUs = boundByUs;
    const { bytes: di, dv } = libc.vfioArg(VFIO_DEVICE_INFO.SIZE);
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
    const msiCap = findCapability((offset, width) => {
      const b = new Uint8Array(width);
      return this.readConfig(offset, b) ? readLe(b) : onesOf(width);
    }, PCI_CAP_ID_MSI);
    this.#irqs = new VfioIrqs(fd, events, (offset, data) => this.readConfig(offset, data), msiCap ?? 0);
    this.#faults = new KmsgFaultReader(info.bdf, (iova, write, reason) => events.iommuFault?.(iova, write, reason));
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
    if (ok) this.#irqs.configWritten(offset, data);
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
    this.#irqs.ackIntx();
  }

  reset(): boolean {
    if (!this.resetWorks) {
      this.#events.log(`VFIO reports no reset method for ${this.info.bdf} (no FLR, PM or bus reset): VFIO_DEVICE_RESET unavailable, device state kept`);
      if (this.#irqs.intxArmed) this.ackIntx();
      return false;
    }
    try {
      libc.ioctl(this.#fd, VFIO_DEVICE_RESET, null, 'VFIO_DEVICE_RESET');
    } catch (e) {
      this.#events.log(`VFIO_DEVICE_RESET failed: ${(e as Error).message}`);
      return false;
    }
    this.#irqs.afterReset();
    return true;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#irqs.close();
    this.#faults.close();
    for (const m of this.#mapped.values()) m.map.unmap();
    this.#mapped.clear();
    libc.close(this.#fd);
    this.#owner.released(this);
  }

  /** Reads the eventfds and the kernel log; delivers what happened. Returns ms until the next poll. */
  poll(_now: number): number {
    if (this.#closed) return Number.POSITIVE_INFINITY;
    this.#irqs.poll();
    this.#faults.poll();
    return this.#irqs.armed ? VFIO_IRQ_POLL_MS : Number.POSITIVE_INFINITY;
  }

  // ---- regions ----

  #regionInfo(index: number): VfioRegion | undefined {
    const L = VFIO_REGION_INFO;
    const { bytes: b, dv } = libc.vfioArg(L.SIZE);
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
    const resources = (readResources(this.#owner.source.deviceDir(this.info.bdf)) ?? []).map((r) => r.start);
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
    if (data.length <= 4) {
      const at = r.offset + BigInt(offset);
      return write ? libc.pwrite(this.#fd, data, at) : libc.pread(this.#fd, data, at);
    }
    // Wider than a dword (8-byte MMIO): naturally aligned dwords, lower first, as vfio-pci does
    // itself on Linux 6.1 (vfio_pci_core_do_io_rw), so every kernel sees the same accesses.
    for (const p of splitAccess(offset, data.length)) {
      const part = data.subarray(p.shift, p.shift + p.width);
      const at = r.offset + BigInt(p.offset);
      if (!(write ? libc.pwrite(this.#fd, part, at) : libc.pread(this.#fd, part, at))) return false;
    }
    return true;
  }
}
