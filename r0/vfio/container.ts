// The VFIO container of a ring-0 worker: the /dev/vfio/vfio descriptor, the IOMMU groups joined to it, and the mirror of the VMs' IOMMU domains (VFIO_IOMMU_MAP_DMA).
//
// After rust-vmm's vfio-ioctls VfioContainer and Linux Documentation/driver-api/vfio.rst: open
// the container, check the API version and the type1 extension; each group is opened, checked
// viable and joined (VFIO_GROUP_SET_CONTAINER); the first group sets the IOMMU type
// (VFIO_SET_IOMMU, type1v2 then type1). Ring 0's domains are the wanted state; the container's
// mappings are made equal to them whenever either changes.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { Bdf } from '../../shared/bdf.js';
import {
  EACCES,
  EBUSY,
  EINVAL,
  ENOENT,
  ENOMEM,
  ENOSPC,
  EPERM,
  O_CLOEXEC,
  O_RDWR,
  VFIO_CHECK_EXTENSION,
  VFIO_GET_API_VERSION,
  VFIO_GROUP_GET_STATUS,
  VFIO_GROUP_SET_CONTAINER,
  VFIO_GROUP_STATUS,
  VFIO_GROUP_UNSET_CONTAINER,
  VFIO_IOMMU_MAP_DMA,
  VFIO_IOMMU_TYPE1_DMA_MAP,
  VFIO_IOMMU_TYPE1_DMA_UNMAP,
  VFIO_IOMMU_UNMAP_DMA,
  VFIO_SET_IOMMU,
  VFIO_TYPE1v2_IOMMU,
} from '../../shared/linux/vfio-abi.js';
import {
  VFIO_API_VERSION,
  VFIO_DMA_MAP_FLAG_READ,
  VFIO_DMA_MAP_FLAG_WRITE,
  VFIO_GROUP_FLAGS_VIABLE,
  VFIO_TYPE1_IOMMU,
} from '../../shared/linux/vfio-consts.js';
import { VBoxStatus, VERR_DEV_IO_ERROR, VERR_NOT_SUPPORTED, VERR_PERMISSION_DENIED, VERR_RESOURCE_BUSY } from '../../shared/status.js';

const { VERR_NO_MEMORY } = VBoxStatus;

import type { HostDmaMapping, HostFailure } from '../host.js';
import * as libc from './libc.js';

const PAGE = 4096n;

/** One container (one per ring-0 worker). Methods return {@link HostFailure}s; nothing throws after {@link open}. */
export class VfioContainer {
  readonly #fd: number;
  readonly #devVfio: string;
  #iommuSet = false;
  /** Open groups by number, with how many devices use each. */
  readonly #groups = new Map<number, { fd: number; users: number }>();
  /** Desired mappings per domain (what ring 0 asked for), and what the container has now. */
  readonly #wanted = new Map<number, { ram: Uint8Array; maps: HostDmaMapping[] }>();
  #live: { vaddr: bigint; iova: bigint; size: bigint; domain: number }[] = [];

  private constructor(fd: number, devVfio: string) {
    this.#fd = fd;
    this.#devVfio = devVfio;
  }

  /**
   * Opens `devVfio`/vfio. Throws Error naming the cause and the fix when VFIO is unusable: no
   * node (load vfio-pci), no permission, another API version, no type1 IOMMU.
   */
  static open(devVfio: string): VfioContainer {
    const path = join(devVfio, 'vfio');
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
    return new VfioContainer(fd, devVfio);
  }

  /**
   * Opens IOMMU group `group` (for device `bdf`) and joins it to the container, or counts one
   * more user of a group already open. The first group sets the type1 IOMMU and applies the
   * wanted DMA mappings. A group the kernel says is not viable is refused with `notViable()`'s
   * message. Failures: VERR_DEV_IO_ERROR (no node: not on vfio-pci), VERR_RESOURCE_BUSY (held
   * elsewhere, not viable), VERR_PERMISSION_DENIED, VERR_NOT_SUPPORTED (no type1 IOMMU).
   */
  openGroup(group: number, bdf: Bdf, notViable: () => string): { fd: number } | HostFailure {
    const have = this.#groups.get(group);
    if (have) {
      have.users++;
      return have;
    }
    const path = join(this.#devVfio, String(group));
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
    const { bytes: st, dv } = libc.vfioArg(VFIO_GROUP_STATUS.SIZE);
    try {
      libc.ioctl(fd, VFIO_GROUP_GET_STATUS, st, 'VFIO_GROUP_GET_STATUS');
      if (!(dv.getUint32(VFIO_GROUP_STATUS.flags, true) & VFIO_GROUP_FLAGS_VIABLE)) {
        libc.close(fd);
        return { rc: VERR_RESOURCE_BUSY, msg: notViable() };
      }
      const c = new Uint8Array(4);
      new DataView(c.buffer).setInt32(0, this.#fd, true);
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
          libc.ioctlInt(this.#fd, VFIO_SET_IOMMU, VFIO_TYPE1v2_IOMMU, 'VFIO_SET_IOMMU type1v2');
        } catch {
          libc.ioctlInt(this.#fd, VFIO_SET_IOMMU, VFIO_TYPE1_IOMMU, 'VFIO_SET_IOMMU type1');
        }
      } catch (e) {
        this.closeGroup(group);
        return {
          rc: VERR_NOT_SUPPORTED,
          msg: `the container refused a type1 IOMMU for group ${group}: ${(e as Error).message}; is the IOMMU on (intel_iommu=on / amd_iommu=on)?`,
        };
      }
      this.#iommuSet = true;
      const failed = this.#apply();
      if (failed) {
        this.closeGroup(group);
        return failed;
      }
    }
    return entry;
  }

  /** One user fewer of `group`; the last one leaves the container (the kernel then drops the IOMMU and its mappings). */
  closeGroup(group: number): void {
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

  // ---- DMA: VM domains mirrored into the container ----

  /**
   * Makes VM domain `domain`'s mappings `maps` (IOVA ranges of guest RAM `ram`) the container's,
   * beside the other domains'. On failure the domain's previous mappings are restored and the
   * failure returned (VERR_NO_MEMORY: RLIMIT_MEMLOCK or dma_entry_limit, VERR_RESOURCE_BUSY:
   * overlapping IOVAs, VERR_NOT_SUPPORTED: unaligned RAM or outside the aperture).
   */
  syncDomain(domain: number, ram: Uint8Array, maps: readonly HostDmaMapping[]): HostFailure | undefined {
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
    const { bytes: b, dv } = libc.vfioArg(L.SIZE);
    dv.setUint32(L.flags, VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE, true);
    dv.setBigUint64(L.vaddr, vaddr, true);
    dv.setBigUint64(L.iova, iova, true);
    dv.setBigUint64(L.size, size, true);
    try {
      libc.ioctl(this.#fd, VFIO_IOMMU_MAP_DMA, b, 'VFIO_IOMMU_MAP_DMA');
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
    const { bytes: b, dv } = libc.vfioArg(L.SIZE);
    dv.setBigUint64(L.iova, iova, true);
    dv.setBigUint64(L.size, size, true);
    try {
      libc.ioctl(this.#fd, VFIO_IOMMU_UNMAP_DMA, b, 'VFIO_IOMMU_UNMAP_DMA');
    } catch {
      // Already gone (the container dropped its IOMMU).
    }
  }
}
