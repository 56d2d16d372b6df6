// Little-endian byte helpers and the all-ones value of an access width: the one copy used by the simulated devices, ring 3's guest bus and PciFront.
//
// PCI is little-endian (PCI Local Bus spec 3.0, 3.2.2 and 6.1); a read nobody claims (a master
// abort) returns all ones of its width (6.1, "Reads of reserved or unimplemented registers" and
// 3.3.3.1). Widths are in bytes. 1..4-byte values are unsigned numbers; 8-byte values bigint.

/** All ones of an access of `width` bytes as a number: 0xff, 0xffff, 0xffff_ffff (width 4 and wider), 0 for width 0. */
export function onesOf(width: number): number {
  return width >= 4 ? 0xffff_ffff : (1 << (8 * width)) - 1;
}

/** All ones of an access of `width` bytes in the access's value type: a bigint for 8 bytes, else {@link onesOf}. */
export function onesValue(width: number): number | bigint {
  return width === 8 ? 0xffff_ffff_ffff_ffffn : onesOf(width);
}

/** Fills `bytes` with 0xff (what an unclaimed read returns). */
export function fillOnes(bytes: Uint8Array): void {
  bytes.fill(0xff);
}

/**
 * Reads `width` bytes (1..4; default: the rest of `bytes`, at most 4) at byte `offset` of
 * `bytes` as an unsigned little-endian number. No bounds check: bytes past the end read NaN.
 */
export function readLe(bytes: Uint8Array, offset = 0, width = Math.min(4, bytes.length - offset)): number {
  let v = 0;
  for (let i = width - 1; i >= 0; i--) v = (v * 256 + bytes[offset + i]!) >>> 0;
  return v;
}

/** Reads `width` bytes (1..8; default: the rest of `bytes`, at most 8) at byte `offset` as an unsigned little-endian bigint. */
export function readLe64(bytes: Uint8Array, offset = 0, width = Math.min(8, bytes.length - offset)): bigint {
  let v = 0n;
  for (let i = width - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[offset + i]!);
  return v;
}

/**
 * Writes `value` little-endian into `width` bytes (1..8) of `bytes` at byte `offset`, truncated
 * to the width (a number is taken as unsigned 32-bit; a wider value needs a bigint).
 */
export function writeLe(bytes: Uint8Array, offset: number, width: number, value: number | bigint): void {
  if (typeof value === 'number' && width <= 4) {
    // The common case (a 1-, 2- or 4-byte register) without bigint arithmetic.
    for (let i = 0; i < width; i++) bytes[offset + i] = (value >>> (8 * i)) & 0xff;
    return;
  }
  let v = typeof value === 'bigint' ? value : BigInt(value >>> 0);
  for (let i = 0; i < width; i++) {
    bytes[offset + i] = Number(v & 0xffn);
    v >>= 8n;
  }
}

/** `old` (an unsigned dword) with its `width` bytes from byte `shift` replaced by the low bytes of `value`. */
export function replaceBytes(old: number, shift: number, width: number, value: number): number {
  let v = old >>> 0;
  for (let k = 0; k < width; k++) {
    const byteShift = 8 * (shift + k);
    v = ((v & ~(0xff << byteShift)) | (((value >>> (8 * k)) & 0xff) << byteShift)) >>> 0;
  }
  return v;
}
