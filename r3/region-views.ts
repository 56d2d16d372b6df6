// Ring 3's MAP_REGION views: the SharedArrayBuffers and device fd ranges ring 0 posts on the VM's control port, and the client's own mmaps of device memory.

import { closeSync } from 'node:fs';
import { type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { PCIRAWR0_DO, type PciRawDevHandle } from '../shared/protocol.js';
import { VERR_INTERNAL_ERROR, VERR_NOT_SUPPORTED } from '../shared/status.js';
import type { MappedRegion, RegionInfo } from './client.js';
import { type DeviceMapping, mapDevice } from './device-mmap.js';
import { RawPciError } from './errors.js';

/**
 * The MAP_REGION views of one client. Ring 0 posts each view on the VM's control port before it
 * answers MAP_REGION: a SharedArrayBuffer (simulated host) or a device fd range (vfio host) that
 * this class mmaps (r3/device-mmap.ts). A client attached from another thread has no port and
 * cannot map (VERR_NOT_SUPPORTED).
 */
export class RegionViews {
  /** Views ring 0 posted on the control port, not yet taken by a mapping. */
  readonly #maps = new Map<number, SharedArrayBuffer | DeviceRange>();
  /** Device regions mmapped here (vfio host), by mapId, until unmapped. */
  readonly #deviceMaps = new Map<number, { handle: PciRawDevHandle; mapping: DeviceMapping }>();
  readonly #source: ViewSource | undefined;
  readonly #withdraw: (handle: PciRawDevHandle, info: RegionInfo, mapId: number) => void;

  /**
   * `source`: where ring 0's views arrive (the VM's control port in-process, its socket to
   * `rawpci serve`; undefined for a client attached from another thread);
   * `withdraw`: sends UNMAP_REGION for a mapping ring 0 made but this side could not mmap.
   */
  constructor(source: ViewSource | undefined, withdraw: (handle: PciRawDevHandle, info: RegionInfo, mapId: number) => void) {
    this.#source = source;
    this.#withdraw = withdraw;
  }

  /**
   * The view of MAP_REGION's `mapId` for region `info` of `handle`. Errors (RawPciError, op
   * MAP_REGION): VERR_NOT_SUPPORTED without a control port; VERR_INTERNAL_ERROR when the view
   * never arrived or the device range could not be mmapped (the mapping is withdrawn in ring 0).
   */
  mapped(handle: PciRawDevHandle, info: RegionInfo, mapId: number): MappedRegion {
    const got = this.#take(mapId);
    let sab: ArrayBuffer | SharedArrayBuffer;
    if (got instanceof SharedArrayBuffer) sab = got;
    else {
      // The vfio host: mmap the device fd range ring 0 keeps open for this mapping.
      let mapping: DeviceMapping;
      try {
        mapping = mapDevice(got.fd, got.offset, got.size);
      } catch (e) {
        closeOwned(got);
        // Ring 0 counts the mapping: withdraw it there too, then report.
        this.#withdraw(handle, info, mapId);
        this.#maps.delete(mapId);
        throw new RawPciError(VERR_INTERNAL_ERROR, PCIRAWR0_DO.MAP_REGION, `mapping region ${info.region} into ring 3: ${(e as Error).message}`);
      }
      // The mapping holds the device file; an fd that came over the socket is this process's copy, no longer needed.
      closeOwned(got);
      this.#maps.delete(mapId);
      this.#deviceMaps.set(mapId, { handle, mapping });
      sab = mapping.buffer;
    }
    return {
      mapId,
      handle,
      region: info.region,
      start: info.regionStart,
      size: info.regionSize,
      sab,
      view: new DataView(sab),
      bytes: new Uint8Array(sab),
    };
  }

  /** Collects the views ring 0 posted on the control port, then returns the one for `mapId`. */
  #take(mapId: number): SharedArrayBuffer | DeviceRange {
    const source = this.#source;
    if (!source)
      throw new RawPciError(VERR_NOT_SUPPORTED, PCIRAWR0_DO.MAP_REGION, "this client was attached from another thread: map regions on the VM's primary client");
    // Ring 0 posts the view before it answers, so it is queued by now; drain the port.
    for (let i = 0; i < 1000 && !this.#maps.has(mapId); i++) {
      const m = source.receive();
      if (m === undefined) {
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
        continue;
      }
      const msg = m as { type: string; mapId: number; sab?: SharedArrayBuffer; fd?: number; offset?: bigint; size?: number; owned?: boolean };
      if (msg.type === 'map' && msg.sab) this.#maps.set(msg.mapId, msg.sab);
      else if (msg.type === 'map' && typeof msg.fd === 'number' && typeof msg.offset === 'bigint' && typeof msg.size === 'number')
        this.#maps.set(msg.mapId, { fd: msg.fd, offset: msg.offset, size: msg.size, ...(msg.owned === true ? { owned: true } : {}) });
      else if (msg.type === 'unmap') this.drop(msg.mapId);
    }
    const view = this.#maps.get(mapId);
    if (!view) throw new RawPciError(VERR_INTERNAL_ERROR, PCIRAWR0_DO.MAP_REGION, `ring 0 mapped region ${mapId} but its view never arrived`);
    return view;
  }

  /** Forgets the view of `mapId` (UNMAP_REGION done, or ring 0 withdrew it); a device mapping of it is withdrawn from ring 3. */
  drop(mapId: number): void {
    const pending = this.#maps.get(mapId);
    if (pending && !(pending instanceof SharedArrayBuffer)) closeOwned(pending);
    this.#maps.delete(mapId);
    const d = this.#deviceMaps.get(mapId);
    if (!d) return;
    this.#deviceMaps.delete(mapId);
    d.mapping.release();
  }

  /** Withdraws the device mappings of `handle` (all, and every view not yet taken, when undefined) before ring 0 closes devices. */
  releaseDeviceMaps(handle?: PciRawDevHandle): void {
    for (const [mapId, d] of this.#deviceMaps) if (handle === undefined || d.handle === handle) this.drop(mapId);
    if (handle === undefined) for (const mapId of [...this.#maps.keys()]) this.drop(mapId);
  }
}

/** Where ring 0's MAP_REGION views arrive: `receive` returns the next message without blocking, undefined when none is there. */
export interface ViewSource {
  receive(): unknown;
}

/** The views ring 0 posts on an in-process control port (receiveMessageOnPort: no await needed). */
export function portViews(port: MessagePort): ViewSource {
  return { receive: () => receiveMessageOnPort(port)?.message };
}

/**
 * A device fd range ring 0 posted for MAP_REGION (vfio host), mmapped by {@link RegionViews}.
 * `owned`: the fd is this process's copy (it came over `rawpci serve`'s socket), closed once
 * mmapped or dropped; otherwise it is ring 0's own (in-process) and ring 0 closes it.
 */
export interface DeviceRange {
  fd: number;
  offset: bigint;
  size: number;
  owned?: boolean;
}

/** Closes a range's fd when it is this process's copy (once: the fd is marked closed). */
function closeOwned(r: DeviceRange): void {
  if (!r.owned || r.fd < 0) return;
  try {
    closeSync(r.fd);
  } catch {}
  r.fd = -1;
}
