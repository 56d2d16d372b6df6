// Ring 0's region operations: GET_REGION_INFO, MAP_REGION and UNMAP_REGION (rawpci.h PCIRAWR0_DO_*), checked against the handle's own device.
//
// Regions are PCIRAW_REGION indices: 0..5 the BARs, 6 the expansion ROM. A region is mapped
// whole or not at all, and only when the host says it has no side effects (RAM-like BARs); the
// view travels to ring 3 on the session's control port.

import { PCIRAW_ADDRESS_SPACE, PCIRAW_REGION } from '../shared/protocol.js';
import { shareableFd } from '../shared/shareable.js';
import { show } from '../shared/show.js';
import { VERR_INVALID_FLAGS, VERR_INVALID_PARAMETER, VERR_INVALID_STATE, VERR_NOT_FOUND, VERR_NOT_SUPPORTED, VERR_OUT_OF_RESOURCES } from '../shared/status.js';
import { fail, isInt, isU32, type Out, ok } from './answer.js';
import type { HostRegion } from './host.js';
import { DEVICE_MAX_MAPPINGS, type OpenDevice } from './open-device.js';

/** GET_REGION_INFO: where region `p.region` of `dev` is (bytes), its PCIRAW_ADDRESS_SPACE flags, or `present: false`. Errors: VERR_INVALID_PARAMETER. */
export function regionInfo(dev: OpenDevice, p: Record<string, unknown>): Out {
  const region = p.region;
  if (!isRegionIndex(region)) return badRegion(region);
  const r = dev.regions().find((x) => x.index === region);
  if (!r) return ok({ regionStart: 0n, regionSize: 0n, present: false, flags: 0 });
  return ok({ regionStart: r.start, regionSize: r.size, present: true, flags: regionFlags(r) });
}

/**
 * MAP_REGION: maps the whole of region `p.region` (`p.startAddress`, `p.regionSize` as
 * GET_REGION_INFO gave them, `p.flags` 0) into ring 3, posting the view on the control port;
 * `newMapId` names the mapping. Errors: VERR_INVALID_PARAMETER, VERR_INVALID_FLAGS,
 * VERR_NOT_FOUND, VERR_NOT_SUPPORTED (I/O BAR, side effects, no channel), VERR_INVALID_STATE
 * (suspended or off), VERR_OUT_OF_RESOURCES (DEVICE_MAX_MAPPINGS).
 */
export function mapRegion(dev: OpenDevice, p: Record<string, unknown>, newMapId: () => number): Out {
  const r = regionArg(dev, p.region);
  if ('rc' in r) return r;
  if (p.flags !== 0) return fail(VERR_INVALID_FLAGS, 'MAP_REGION flags must be 0');
  if (p.startAddress !== r.start || p.regionSize !== r.size) {
    return fail(
      VERR_INVALID_PARAMETER,
      `MAP_REGION must map the whole region ${r.index}: startAddress 0x${r.start.toString(16)}n, regionSize 0x${r.size.toString(16)}n as GET_REGION_INFO gives them`,
    );
  }
  if (r.kind === 'io') return fail(VERR_NOT_SUPPORTED, `region ${r.index} is an I/O BAR: ports cannot be mapped, use PIO_READ/PIO_WRITE`);
  if (!dev.session.postControl) return fail(VERR_NOT_SUPPORTED, 'MAP_REGION needs a channel connection (views travel on its control port)');
  if (dev.power === 'suspended' || dev.power === 'off') return fail(VERR_INVALID_STATE, `${dev.info.bdf} is ${dev.power}: power it on or resume it first`);
  if (dev.maps.size >= DEVICE_MAX_MAPPINGS) {
    return fail(VERR_OUT_OF_RESOURCES, `${dev.info.bdf} already has ${DEVICE_MAX_MAPPINGS} mappings (DEVICE_MAX_MAPPINGS): unmap one first`);
  }
  const view = r.mappable ? dev.hostDevice.mapRegion(r.index) : undefined;
  if (!view) {
    return fail(
      VERR_NOT_SUPPORTED,
      `region ${r.index} of ${dev.info.bdf} (${dev.info.description}) has side effects and must be trapped: use MMIO_READ/MMIO_WRITE`,
    );
  }
  const mapId = newMapId();
  dev.maps.set(mapId, { region: r.index, start: r.start, size: r.size });
  // A SharedArrayBuffer travels as is; a device fd range (VFIO) is mmapped by ring 3 itself.
  // Across processes (`rawpci serve`) the SharedArrayBuffer's memfd goes along for the socket.
  const how = view instanceof SharedArrayBuffer ? { sab: view, memfd: shareableFd(view) } : { fd: view.fd, offset: view.offset, size: view.size };
  dev.session.postControl({ type: 'map', mapId, handle: dev.handle, region: r.index, ...how });
  return ok({ mapId });
}

/** UNMAP_REGION: drops mapping `p.mapId`, repeating MAP_REGION's region and range. Errors: VERR_NOT_FOUND, VERR_INVALID_PARAMETER. */
export function unmapRegion(dev: OpenDevice, p: Record<string, unknown>): Out {
  const mapId = p.mapId;
  const m = isU32(mapId) ? dev.maps.get(mapId) : undefined;
  if (!m) return fail(VERR_NOT_FOUND, `mapping ${show(mapId)} is not a mapping of this device (MAP_REGION returns the id)`);
  if (p.region !== m.region || p.startAddress !== m.start || p.regionSize !== m.size) {
    return fail(VERR_INVALID_PARAMETER, `UNMAP_REGION must repeat MAP_REGION's region ${m.region}, startAddress and regionSize`);
  }
  dev.maps.delete(mapId as number);
  dev.session.postControl?.({ type: 'unmap', mapId: mapId as number });
  return ok();
}

function regionArg(dev: OpenDevice, region: unknown): HostRegion | Out {
  if (!isRegionIndex(region)) return badRegion(region);
  const r = dev.regions().find((x) => x.index === region);
  if (!r) return fail(VERR_NOT_FOUND, `${dev.info.bdf} has no region ${region}`);
  return r;
}

function isRegionIndex(v: unknown): v is number {
  return isInt(v) && v >= 0 && v < PCIRAW_REGION.COUNT;
}

function badRegion(v: unknown): Out {
  return fail(VERR_INVALID_PARAMETER, `region ${show(v)} is not a region index: 0..5 are BARs, 6 the expansion ROM`);
}

function regionFlags(r: HostRegion): number {
  if (r.kind === 'io') return PCIRAW_ADDRESS_SPACE.IO;
  let f = PCIRAW_ADDRESS_SPACE.MEM;
  if (r.kind === 'mem64') f |= PCIRAW_ADDRESS_SPACE.BAR64;
  if (r.prefetchable) f |= PCIRAW_ADDRESS_SPACE.MEM_PREFETCH;
  return f;
}
