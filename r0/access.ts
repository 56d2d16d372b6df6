// Ring 0's device accesses: PIO, MMIO and config reads and writes (rawpci.h PCIRAWR0_DO_*_READ/_WRITE), checked against the handle's own regions.
//
// Every width, offset, port, address and value from ring 3 is checked before the host device
// sees it; values travel as little-endian bytes to HostDevice.readIo/readMem/readConfig and
// their write twins, which perform the access at its own width.

import { onesOf, readLe, readLe64, writeLe } from '../shared/le.js';
import { PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_5, PCI_ROM_ADDRESS } from '../shared/linux/pci-regs.js';
import { PCIRAW_REGION, type PciRawMemLoc } from '../shared/protocol.js';
import { show } from '../shared/show.js';
import { VERR_ACCESS_DENIED, VERR_DEV_IO_ERROR, VERR_INVALID_PARAMETER, VERR_INVALID_STATE, VERR_OUT_OF_RANGE, VINF_SUCCESS } from '../shared/status.js';
import { fail, isInt, type Out, ok } from './answer.js';
import type { OpenDevice } from './open-device.js';

/** 2^64 - 1 and 2^53, for range checks that allocate no bigint per request. */
const U64_MAX = (1n << 64n) - 1n;
const TWO_53 = 1n << 53n;

/** VERR_INVALID_STATE when `dev` is suspended or off (no access reaches a sleeping device), naming the operation `what`; else undefined. */
export function accessBlocked(dev: OpenDevice, what: string): Out | undefined {
  if (dev.power === 'suspended') return fail(VERR_INVALID_STATE, `${what}: ${dev.info.bdf} is suspended (RESUME it first)`);
  if (dev.power === 'off') return fail(VERR_INVALID_STATE, `${what}: ${dev.info.bdf} is powered off (POWER_STATE_CHANGE ON first)`);
  return undefined;
}

/**
 * PIO_READ / PIO_WRITE: `p.port` (0..0xffff) and `p.cb` (1, 2 or 4 bytes) inside one of the
 * device's I/O BARs; a write's `p.value` must fit the width. Errors: VERR_INVALID_PARAMETER,
 * VERR_OUT_OF_RANGE (outside the I/O BARs), VERR_INVALID_STATE, VERR_DEV_IO_ERROR (the host failed).
 */
export function pioAccess(dev: OpenDevice, p: Record<string, unknown>, write: boolean): Out {
  const { port, cb } = p;
  if (!isInt(port) || port < 0 || port > 0xffff) return fail(VERR_INVALID_PARAMETER, `port ${show(port)} must be an integer 0..0xffff`);
  if (cb !== 1 && cb !== 2 && cb !== 4) return fail(VERR_INVALID_PARAMETER, `PIO width ${show(cb)} must be 1, 2 or 4 bytes`);
  let value = 0;
  if (write) {
    const v = p.value;
    if (!isInt(v) || v < 0 || v > onesOf(cb)) return fail(VERR_INVALID_PARAMETER, `PIO value ${show(v)} does not fit ${cb} byte(s)`);
    value = v;
  }
  const r = dev.ioRegionAt(port, cb);
  if (!r) {
    const io = dev.regions().filter((x) => x.kind === 'io');
    const where = io.length ? io.map((x) => `0x${x.start.toString(16)}-0x${(x.start + x.size - 1n).toString(16)}`).join(', ') : 'none: it has no I/O BARs';
    return fail(VERR_OUT_OF_RANGE, `port 0x${port.toString(16)}+${cb} is outside the I/O BARs of ${dev.info.bdf} (${where})`);
  }
  const blocked = accessBlocked(dev, write ? 'PIO_WRITE' : 'PIO_READ');
  if (blocked) return blocked;
  const data = new Uint8Array(cb);
  const off = port - Number(r.start);
  dev.accesses++;
  if (write) {
    writeLe(data, 0, cb, value);
    return dev.hostDevice.writeIo(r.index, off, data) ? ok() : fail(VERR_DEV_IO_ERROR, `the host failed the port write at 0x${port.toString(16)}`);
  }
  if (!dev.hostDevice.readIo(r.index, off, data)) return fail(VERR_DEV_IO_ERROR, `the host failed the port read at 0x${port.toString(16)}`);
  const read = readLe(data);
  return { rc: VINF_SUCCESS, out: { value: read } as never, cacheKey: read * 16 };
}

/**
 * MMIO_READ / MMIO_WRITE: host physical `p.address` (a bigint, or a safe integer) and width (1, 2, 4 or 8 bytes;
 * `p.cb` for reads, the PCIRAWMEMLOC `p.value` for writes) inside one memory BAR or the ROM.
 * Errors: VERR_INVALID_PARAMETER, VERR_OUT_OF_RANGE, VERR_ACCESS_DENIED (ROM writes),
 * VERR_INVALID_STATE, VERR_DEV_IO_ERROR.
 */
export function mmioAccess(dev: OpenDevice, p: Record<string, unknown>, write: boolean): Out {
  // A bigint (msgpackr carries u64 as bigint), or a safe integer (the fixed layout's addresses below 2^53).
  const a = p.address;
  if (typeof a === 'number' ? !Number.isSafeInteger(a) || a < 0 : typeof a !== 'bigint' || a < 0n || a > U64_MAX) {
    return fail(VERR_INVALID_PARAMETER, 'MMIO address must be a host physical address: a bigint 0 .. 2^64-1, or a safe integer');
  }
  const address = a as number | bigint;
  let cb: number;
  let loc: PciRawMemLoc | undefined;
  if (write) {
    const v = checkMemLoc(p.value, [1, 2, 4, 8]);
    if (typeof v === 'string') return fail(VERR_INVALID_PARAMETER, v);
    loc = v;
    cb = v.cb;
  } else {
    const c = p.cb;
    if (c !== 1 && c !== 2 && c !== 4 && c !== 8) return fail(VERR_INVALID_PARAMETER, `MMIO width ${show(c)} must be 1, 2, 4 or 8 bytes`);
    cb = c;
  }
  const r = dev.memRegionAt(address, cb);
  if (!r) {
    const mem = dev.regions().filter((x) => x.kind !== 'io');
    const where = mem.length
      ? mem
          .map((x) => `${x.index === PCIRAW_REGION.ROM ? 'ROM' : `BAR${x.index}`} 0x${x.start.toString(16)}-0x${(x.start + x.size - 1n).toString(16)}`)
          .join(', ')
      : 'none: it has no memory BARs';
    return fail(VERR_OUT_OF_RANGE, `address 0x${address.toString(16)}+${cb} is outside the memory regions of ${dev.info.bdf} (${where})`);
  }
  if (write && r.kind === 'rom') return fail(VERR_ACCESS_DENIED, `the expansion ROM of ${dev.info.bdf} is read-only`);
  const blocked = accessBlocked(dev, write ? 'MMIO_WRITE' : 'MMIO_READ');
  if (blocked) return blocked;
  const data = new Uint8Array(cb);
  // Host physical addresses fit a double exactly below 2^53: no bigint subtraction needed.
  const off = typeof address === 'number' ? address - Number(r.start) : address < TWO_53 ? Number(address) - Number(r.start) : Number(address - r.start);
  dev.accesses++;
  if (write) {
    writeLe(data, 0, loc!.cb, loc!.u);
    return dev.hostDevice.writeMem(r.index, off, data) ? ok() : fail(VERR_DEV_IO_ERROR, `the host failed the memory write at 0x${address.toString(16)}`);
  }
  if (!dev.hostDevice.readMem(r.index, off, data)) return fail(VERR_DEV_IO_ERROR, `the host failed the memory read at 0x${address.toString(16)}`);
  return locAnswer(getLoc(data));
}

/**
 * PCICFG_READ / PCICFG_WRITE: `p.offset` into the device's config space (bytes, aligned to the
 * 1, 2 or 4-byte width). Writes to the BARs and the ROM BAR (0x10..0x27, 0x30) are refused: host
 * BARs belong to the host, PciFront virtualises them. Errors: VERR_INVALID_PARAMETER,
 * VERR_OUT_OF_RANGE, VERR_ACCESS_DENIED, VERR_INVALID_STATE (writes while suspended), VERR_DEV_IO_ERROR.
 */
export function configAccess(dev: OpenDevice, p: Record<string, unknown>, write: boolean): Out {
  const offset = p.offset;
  let cb: number;
  let loc: PciRawMemLoc | undefined;
  if (write) {
    const v = checkMemLoc(p.value, [1, 2, 4]);
    if (typeof v === 'string') return fail(VERR_INVALID_PARAMETER, v);
    loc = v;
    cb = v.cb;
  } else {
    const c = p.cb;
    if (c !== 1 && c !== 2 && c !== 4) return fail(VERR_INVALID_PARAMETER, `config access width ${show(c)} must be 1, 2 or 4 bytes`);
    cb = c;
  }
  const size = dev.hostDevice.configSize;
  if (!isInt(offset) || offset < 0 || offset + cb > size) {
    return fail(VERR_OUT_OF_RANGE, `config offset ${show(offset)}+${cb} is outside the ${size}-byte config space of ${dev.info.bdf}`);
  }
  if (offset % cb !== 0) return fail(VERR_INVALID_PARAMETER, `config offset 0x${offset.toString(16)} is not aligned to its width ${cb}`);
  if (write && dev.power === 'suspended') return fail(VERR_INVALID_STATE, `PCICFG_WRITE: ${dev.info.bdf} is suspended (RESUME it first)`);
  if (write && (overlaps(offset, cb, PCI_BASE_ADDRESS_0, PCI_BASE_ADDRESS_5 + 4) || overlaps(offset, cb, PCI_ROM_ADDRESS, PCI_ROM_ADDRESS + 4))) {
    return fail(
      VERR_ACCESS_DENIED,
      `config offset 0x${offset.toString(16)} is a BAR of ${dev.info.bdf}: host BARs belong to the host; virtualise them in ring 3 (PciFront)`,
    );
  }
  const data = new Uint8Array(cb);
  dev.accesses++;
  if (write) {
    writeLe(data, 0, loc!.cb, loc!.u);
    return dev.hostDevice.writeConfig(offset, data) ? ok() : fail(VERR_DEV_IO_ERROR, `the host failed the config write at 0x${offset.toString(16)}`);
  }
  if (!dev.hostDevice.readConfig(offset, data)) return fail(VERR_DEV_IO_ERROR, `the host failed the config read at 0x${offset.toString(16)}`);
  return locAnswer(getLoc(data));
}

/** The answer of an MMIO or config read; values up to 32 bits get a cache key (value, width). */
function locAnswer(value: PciRawMemLoc): Out {
  const a: Out = { rc: VINF_SUCCESS, out: { value } as never };
  if (value.cb !== 8) a.cacheKey = value.u * 16 + value.cb * 2 + 1;
  return a;
}

function overlaps(off: number, cb: number, lo: number, hi: number): boolean {
  return off < hi && lo < off + cb;
}

/** Checks a PCIRAWMEMLOC from ring 3. Returns it, or a message saying what is wrong. */
function checkMemLoc(v: unknown, widths: number[]): PciRawMemLoc | string {
  if (v === null || typeof v !== 'object') return 'value must be a PCIRAWMEMLOC { cb, u }';
  const { cb, u } = v as { cb: unknown; u: unknown };
  if (!widths.includes(cb as number)) return `value width ${show(cb)} must be ${widths.join(', ')} bytes`;
  if (cb === 8) {
    if (typeof u !== 'bigint' || u < 0n || u > U64_MAX) return '8-byte values must be bigints 0 .. 2^64-1';
    return { cb: 8, u };
  }
  if (!isInt(u) || u < 0 || u > onesOf(cb as number)) return `value ${show(u)} does not fit ${show(cb)} byte(s)`;
  return { cb: cb as 1 | 2 | 4, u };
}

/** The PCIRAWMEMLOC of the little-endian bytes a host read into `data` (1, 2, 4 or 8 bytes). */
function getLoc(data: Uint8Array): PciRawMemLoc {
  return data.length === 8 ? { cb: 8, u: readLe64(data) } : { cb: data.length as 1 | 2 | 4, u: readLe(data) };
}
