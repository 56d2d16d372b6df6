// Splitting one register access into accesses a target accepts: naturally aligned pieces of allowed widths (PciFront's host config accesses; the VFIO host's 8-byte accesses as two dwords).
//
// Why: a config or BAR access must be naturally aligned for most targets (PCI Local Bus spec
// 3.0, 3.2.2.3.2 and 6.1: config accesses are byte, word or dword within one dword; Linux's
// vfio-pci config and BAR regions take 1, 2, 4 and, for BARs only, 8 bytes). An access that
// does not fit is cut into the largest allowed aligned pieces, lowest address first, and the
// values are joined little-endian.

/** One piece of a split access: `width` bytes at byte `offset`, which are bytes `shift`.. of the whole value. */
export interface AccessPiece {
  offset: number;
  width: number;
  /** Byte position of this piece inside the whole access's value. */
  shift: number;
}

/** Reads one piece: `width` bytes at byte `offset`, unsigned (it may throw; the split read lets the error through). */
export type PieceRead = (offset: number, width: number) => number;

/** Writes one piece: the unsigned `value` of `width` bytes at byte `offset` (it may throw; the split write stops there). */
export type PieceWrite = (offset: number, width: number, value: number) => void;

/** Widths a config access may use (bytes). */
export const CONFIG_ACCESS_WIDTHS: readonly number[] = [1, 2, 4];

/**
 * Cuts the access of `width` bytes at byte `offset` into pieces: at each step the widest width
 * of `allowed` (bytes, default 1, 2, 4) that is naturally aligned at the current offset and fits
 * in what is left. An allowed, aligned access is one piece. Throws RangeError when `allowed` has
 * no 1 and the access cannot be covered.
 */
export function splitAccess(offset: number, width: number, allowed: readonly number[] = CONFIG_ACCESS_WIDTHS): AccessPiece[] {
  const widths = [...allowed].sort((a, b) => b - a);
  const out: AccessPiece[] = [];
  let done = 0;
  while (done < width) {
    const at = offset + done;
    const w = widths.find((c) => c <= width - done && at % c === 0);
    if (w === undefined)
      throw new RangeError(`access of ${width} bytes at 0x${offset.toString(16)} cannot be split into aligned ${allowed.join('/')}-byte accesses`);
    out.push({ offset: at, width: w, shift: done });
    done += w;
  }
  return out;
}

/**
 * Reads `width` (1..8) bytes at `offset` through `read` in pieces of `allowed` widths (each at
 * most 4 bytes, e.g. an 8-byte access as two dwords), joined little-endian into a bigint.
 */
export function readSplit64(read: PieceRead, offset: number, width: number, allowed = CONFIG_ACCESS_WIDTHS): bigint {
  let v = 0n;
  for (const p of splitAccess(offset, width, allowed)) v |= BigInt(read(p.offset, p.width) >>> 0) << BigInt(8 * p.shift);
  return v;
}

/** Reads `width` (1..4) bytes at `offset` through `read` in pieces ({@link splitAccess}), joined little-endian, unsigned. Throws RangeError for a width over 4. */
export function readSplit(read: PieceRead, offset: number, width: number, allowed = CONFIG_ACCESS_WIDTHS): number {
  if (width > 4) throw new RangeError(`readSplit: width ${width} is over 4 bytes: use readSplit64`);
  return Number(readSplit64(read, offset, width, allowed));
}

/**
 * Writes the low `width` (1..8) bytes of `value` at `offset` through `write` in pieces of
 * `allowed` widths ({@link splitAccess}; each at most 4 bytes, so every piece's value is an
 * unsigned number), lowest address first.
 */
export function writeSplit(write: PieceWrite, offset: number, width: number, value: number | bigint, allowed = CONFIG_ACCESS_WIDTHS): void {
  const big = BigInt.asUintN(64, BigInt(typeof value === 'number' ? value >>> 0 : value));
  for (const p of splitAccess(offset, width, allowed)) {
    const part = (big >> BigInt(8 * p.shift)) & ((1n << BigInt(8 * p.width)) - 1n);
    write(p.offset, p.width, Number(part));
  }
}
