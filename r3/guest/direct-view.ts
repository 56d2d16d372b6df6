// Accesses to a BAR mapped straight into ring 3 (MAP_REGION): aligned accesses as one load or store of their width, so the device sees the guest's access width.

import type { MmioWidth } from './guest-bus.js';

/**
 * Typed arrays over a mapped BAR, so an aligned access is one load or store of its width: a
 * DataView may access byte by byte, which a real device behind a VFIO mapping sees as 1-byte
 * accesses (QEMU 7.2's memory core answers those to edu with 0). Typed arrays use the host's byte order, little
 * endian on the hosts VFIO runs on (x86-64, arm64).
 */
const widthArrays = new WeakMap<DataView, { u16: Uint16Array; u32: Uint32Array; u64: BigUint64Array } | null>();

function arraysOf(view: DataView): { u16: Uint16Array; u32: Uint32Array; u64: BigUint64Array } | null {
  let a = widthArrays.get(view);
  if (a === undefined) {
    const { buffer, byteOffset, byteLength } = view;
    a =
      byteOffset % 8 === 0 && byteLength % 8 === 0
        ? {
            u16: new Uint16Array(buffer, byteOffset, byteLength / 2),
            u32: new Uint32Array(buffer, byteOffset, byteLength / 4),
            u64: new BigUint64Array(buffer, byteOffset, byteLength / 8),
          }
        : null;
    widthArrays.set(view, a);
  }
  return a;
}

/** Reads `cb` bytes at byte `off` of the view (little-endian): one load of the width when aligned; a number, a bigint for 8 bytes. */
export function viewRead(view: DataView, off: number, cb: MmioWidth): number | bigint {
  const a = cb > 1 && off % cb === 0 ? arraysOf(view) : null;
  switch (cb) {
    case 1:
      return view.getUint8(off);
    case 2:
      return a ? a.u16[off / 2]! : view.getUint16(off, true);
    case 4:
      return a ? a.u32[off / 4]! : view.getUint32(off, true);
    case 8:
      return a ? a.u64[off / 8]! : view.getBigUint64(off, true);
  }
}

/** Writes `cb` bytes of `value` at byte `off` of the view (little-endian): one store of the width when aligned. */
export function viewWrite(view: DataView, off: number, cb: MmioWidth, value: number | bigint): void {
  const a = cb > 1 && off % cb === 0 ? arraysOf(view) : null;
  switch (cb) {
    case 1:
      view.setUint8(off, Number(value) & 0xff);
      return;
    case 2:
      if (a) a.u16[off / 2] = Number(value) & 0xffff;
      else view.setUint16(off, Number(value) & 0xffff, true);
      return;
    case 4:
      if (a) a.u32[off / 4] = Number(BigInt(value) & 0xffff_ffffn);
      else view.setUint32(off, Number(BigInt(value) & 0xffff_ffffn), true);
      return;
    case 8:
      if (a) a.u64[off / 8] = BigInt.asUintN(64, BigInt(value));
      else view.setBigUint64(off, BigInt(value), true);
      return;
  }
}
