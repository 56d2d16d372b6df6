// lspci's -s and -d device filters (pciutils lib/filter.c), with its syntax and error messages.

import type { PciDeviceRecord } from './source.js';

/** A parsed filter; -1 means "any". Class matching uses a mask for `x` digits. */
export interface PciFilter {
  domain: number;
  bus: number;
  slot: number;
  func: number;
  vendor: number;
  device: number;
  deviceClass: number;
  deviceClassMask: number;
  progIf: number;
}

/** A filter that matches everything. */
export function emptyFilter(): PciFilter {
  return { domain: -1, bus: -1, slot: -1, func: -1, vendor: -1, device: -1, deviceClass: -1, deviceClassMask: 0xffffffff, progIf: -1 };
}

const defined = (f: string | undefined): f is string => f !== undefined && f !== '' && f !== '*';

/** parse_hex_field: hex digits, `x` wildcards only where a mask is accepted; returns undefined on error. */
function parseHex(str: string | undefined, max: number, withMask: boolean): { value: number; mask: number } | null | undefined {
  if (!defined(str)) return null;
  let out = 0;
  let mask = 0xffffffff;
  let bound = 0;
  for (const c of str) {
    if ((c === 'x' || c === 'X') && withMask) {
      out = (out << 4) >>> 0;
      bound = ((bound << 4) | 1) >>> 0;
      mask = (mask << 4) >>> 0;
    } else {
      if (!/[0-9a-fA-F]/.test(c)) return undefined;
      const d = Number.parseInt(c, 16);
      out = ((out << 4) | d) >>> 0;
      bound = ((bound << 4) | d) >>> 0;
      mask = ((mask << 4) | 0xf) >>> 0;
    }
    if (bound > max) return undefined;
  }
  return { value: out, mask };
}

/**
 * Adds lspci's `-s [[[[domain]:]bus]:][slot][.[func]]` to `f`. Throws TypeError with libpci's
 * message (`Invalid bus number`, ...) prefixed by the option.
 */
export function parseSlotFilter(f: PciFilter, str: string): PciFilter {
  const fail = (m: string): never => {
    throw new TypeError(`-s ${str}: ${m}: write [[[domain]:]bus]:][slot][.[func]] in hex (e.g. 00:04.0)`);
  };
  if (str.length >= 64) fail('Expression too long');
  const fields = str.split(':');
  if (fields.length > 3) fail('Too many fields');
  let i = 0;
  if (fields.length === 3) {
    const d = parseHex(fields[0], 0x7fffffff, false);
    if (d === undefined) fail('Invalid domain number');
    if (d) f.domain = d.value;
    i++;
  }
  if (fields.length >= i + 2) {
    const b = parseHex(fields[i], 0xff, false);
    if (b === undefined) fail('Invalid bus number');
    if (b) f.bus = b.value;
    i++;
  }
  const fdev = fields[i];
  if (defined(fdev)) {
    const s = fdev.split('.');
    if (s.length > 2) fail('Invalid slot/function number');
    const sl = parseHex(s[0], 0x1f, false);
    if (sl === undefined) fail('Invalid slot number');
    if (sl) f.slot = sl.value;
    const fn = parseHex(s[1], 7, false);
    if (fn === undefined) fail('Invalid function number');
    if (fn) f.func = fn.value;
  }
  return f;
}

/** Adds lspci's `-d [vendor]:[device][:class[:progif]]` to `f`. Throws TypeError with libpci's message. */
export function parseIdFilter(f: PciFilter, str: string): PciFilter {
  const fail = (m: string): never => {
    throw new TypeError(`-d ${str}: ${m}: write [vendor]:[device][:class[:prog-if]] in hex (e.g. 8086: or 1af4:1041 or ::0200)`);
  };
  if (str.length >= 64) fail('Expression too long');
  const fields = str.split(':');
  if (fields.length > 4) fail('Too many fields');
  if (fields.length < 2) fail('At least two fields must be given');
  const v = parseHex(fields[0], 0xffff, false);
  if (v === undefined) fail('Invalid vendor ID');
  if (v) f.vendor = v.value;
  const d = parseHex(fields[1], 0xffff, false);
  if (d === undefined) fail('Invalid device ID');
  if (d) f.device = d.value;
  const c = parseHex(fields[2], 0xffff, true);
  if (c === undefined) fail('Invalid class code');
  if (c) {
    f.deviceClass = c.value;
    f.deviceClassMask = c.mask;
  }
  const p = parseHex(fields[3], 0xff, false);
  if (p === undefined) fail('Invalid programming interface code');
  if (p) f.progIf = p.value;
  return f;
}

/** pci_filter_match. */
export function matchFilter(f: PciFilter, r: PciDeviceRecord): boolean {
  const b = r.bdf;
  if ((f.domain >= 0 && f.domain !== b.domain) || (f.bus >= 0 && f.bus !== b.bus) || (f.slot >= 0 && f.slot !== b.device) || (f.func >= 0 && f.func !== b.fn))
    return false;
  if ((f.device >= 0 && f.device !== r.device) || (f.vendor >= 0 && f.vendor !== r.vendor)) return false;
  if (f.deviceClass >= 0 && ((f.deviceClass ^ (r.classCode >> 8)) & f.deviceClassMask) !== 0) return false;
  if (f.progIf >= 0 && f.progIf !== (r.classCode & 0xff)) return false;
  return true;
}
