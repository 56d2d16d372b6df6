// Formatting helpers the lspci decoders share: lspci's FLAG, BITS and TABLE macros (lspci.h), %x padding, %g, DEVSEL names, and PCIe latency/power tables (ls-caps.c).

import { PCI_STATUS_DEVSEL_FAST, PCI_STATUS_DEVSEL_MASK, PCI_STATUS_DEVSEL_MEDIUM, PCI_STATUS_DEVSEL_SLOW } from '../../shared/linux/pci-regs.js';
import type { CapabilityInfo, CapContext } from './caps.js';

/** lspci's FLAG(x, y): `+` when any bit of mask `y` is set in `x`, else `-`. */
export const FLAG = (x: number, y: number): string => ((x & y) !== 0 ? '+' : '-');

/** lspci's BITS(x, at, width): the `width`-bit field of `x` starting at bit `at` (width <= 31). */
export const BITS = (x: number, at: number, width: number): number => (x >>> at) & ((1 << width) - 1);

/** lspci's TABLE(tab, x, buf): `tab[x]`, or `??x` past the end of the table. */
export const TABLE = (tab: readonly string[], x: number): string => tab[x] ?? `??${x}`;

/** lspci's DEVSEL timing name of a status register (lspci.c show_verbose, show_htype1): slow, medium, fast or ??. */
export function devsel(status: number): string {
  const d = status & PCI_STATUS_DEVSEL_MASK;
  return d === PCI_STATUS_DEVSEL_SLOW ? 'slow' : d === PCI_STATUS_DEVSEL_MEDIUM ? 'medium' : d === PCI_STATUS_DEVSEL_FAST ? 'fast' : '??';
}

/** printf("%0*x", width, v) for a 32-bit value. */
export function hex(v: number, width: number): string {
  return (v >>> 0).toString(16).padStart(width, '0');
}

/** printf("%0*llx", width, v) for a 64-bit value. */
export function hexBig(v: bigint, width: number): string {
  return BigInt.asUintN(64, v).toString(16).padStart(width, '0');
}

/** ls-caps.c latency_l0s: L0s exit latency / acceptable latency encodings (PCIe base spec 7.5.3.3). */
export const latencyL0s = (v: number): string => ['<64ns', '<128ns', '<256ns', '<512ns', '<1us', '<2us', '<4us', 'unlimited'][v]!;

/** ls-caps.c latency_l1: L1 exit latency / acceptable latency encodings (PCIe base spec 7.5.3.3). */
export const latencyL1 = (v: number): string => ['<1us', '<2us', '<4us', '<8us', '<16us', '<32us', '<64us', 'unlimited'][v]!;

/** ls-caps.c show_power_limit: Slot Power Limit value and scale as lspci prints them (`25W`, `>600W`). */
export function showPowerLimit(value: number, scale: number): string {
  if (scale === 0 && value === 0xff) return '>600W';
  let v = value;
  if (scale === 0 && v >= 0xf0 && v <= 0xfe) v = 250 + 25 * (v - 0xf0);
  // printf("%gW", value * float scale): the product is computed in single precision.
  const scales = [1.0, 0.1, 0.01, 0.001];
  return `${formatG(Math.fround(v * Math.fround(scales[scale]!)))}W`;
}

/** C's %g (precision 6) for the small positive values lspci prints. */
export function formatG(x: number): string {
  if (x === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(x)));
  if (exp < -4 || exp >= 6)
    return x
      .toExponential(5)
      .replace(/\.?0+e/, 'e')
      .replace(/e([+-])(\d)$/, 'e$10$2');
  return Number(x.toPrecision(6)).toString();
}

/**
 * The preamble of most ls-ecaps.c decoders: names the capability `name` in `info`; true when its
 * `bytes` bytes at config offset `at` are to be decoded (lspci -vv and readable), false at -v,
 * and false when they cannot be read, with lspci's `<unreadable>` detail unless `quiet` (the
 * decoders that print nothing then).
 */
export function ecapBody(ctx: CapContext, info: CapabilityInfo, name: string, at: number, bytes: number, quiet = false): boolean {
  info.summary = name;
  if (ctx.verbose < 2) return false;
  if (!ctx.cfg.has(at, bytes)) {
    if (!quiet) info.details.push('<unreadable>');
    return false;
  }
  return true;
}
