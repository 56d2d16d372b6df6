// ConfigView: little-endian reads over the readable prefix of a function's config space.

import { PCI_HEADER_TYPE, PCI_HEADER_TYPE_MASK } from '../../shared/linux/pci-regs.js';
import type { ConfigRead } from '../../shared/pci/capabilities.js';

/**
 * Read access to config space bytes as lspci sees them: only the bytes that could be read exist
 * (`has`), reads are little-endian (PCI Local Bus spec 3.0, 6.1), 32-bit results are unsigned.
 * Reading outside the readable prefix returns all-ones, as an absent register does.
 */
export class ConfigView {
  readonly bytes: Uint8Array;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
  }

  /** Number of readable bytes (0, 64, 256 or 4096 in practice). */
  get size(): number {
    return this.bytes.length;
  }

  /** True when `len` bytes at `offset` are readable. */
  has(offset: number, len = 1): boolean {
    return offset >= 0 && offset + len <= this.bytes.length;
  }

  byte(offset: number): number {
    return this.has(offset) ? this.bytes[offset]! : 0xff;
  }

  word(offset: number): number {
    return this.byte(offset) | (this.byte(offset + 1) << 8);
  }

  long(offset: number): number {
    return (this.word(offset) | (this.word(offset + 2) << 16)) >>> 0;
  }

  /** The same reads as a {@link ConfigRead} (width 1, 2 or 4 bytes), for shared/pci's capability walkers. */
  readonly read: ConfigRead = (offset, width) => (width === 1 ? this.byte(offset) : width === 2 ? this.word(offset) : this.long(offset));
}

/** Header type without the multi-function bit (PCI Local Bus spec 3.0, 6.2.1). */
export function headerType(cfg: ConfigView): number {
  return cfg.byte(PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK;
}
