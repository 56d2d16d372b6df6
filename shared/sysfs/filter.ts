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

/** parse_hex_field of one filter field: `set` gets its value (and `x` mask) unless the field is empty or `*`; `fail(msg)` on a bad one. */
function hexField(
  str: string | undefined,
  max: number,
  msg: string,
  fail: (m: string) => never,
  set: (value: number, mask: number) => void,
  withMask = false,
): void {
  const r = parseHex(str, max, withMask);
  if (r === undefined) fail(msg);
  else if (r) set(r.value, r.mask);
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
    hexField(fields[0], 0x7fffffff, 'Invalid domain number', fail, (v) => (f.domain = v));
    i++;
  }
  if (fields.length >= i + 2) {
    hexField(fields[i], 0xff, 'Invalid bus number', fail, (v) => (f.bus = v));
    i++;
  }
  const fdev = fields[i];
  if (defined(fdev)) {
    const s = fdev.split('.');
    if (s.length > 2) fail('Invalid slot/function number');
    hexField(s[0], 0x1f, 'Invalid slot number', fail, (v) => (f.slot = v));
    hexField(s[1], 7, 'Invalid function number', fail, (v) => (f.func = v));
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
  hexField(fields[0], 0xffff, 'Invalid vendor ID', fail, (v) => (f.vendor = v));
  hexField(fields[1], 0xffff, 'Invalid device ID', fail, (v) => (f.device = v));
  hexField(
    fields[2],
    0xffff,
    'Invalid class code',
    fail,
    (v, mask) => {
      f.deviceClass = v;
      f.deviceClassMask = mask;
    },
    true,
  );
  hexField(fields[3], 0xff, 'Invalid programming interface code', fail, (v) => (f.progIf = v));
  return f;
}

/** pci_filter_match: whether a function (its address, IDs and 24-bit class code) passes the filter. */
export function matchFilter(f: PciFilter, r: Pick<PciDeviceRecord, 'bdf' | 'vendor' | 'device' | 'classCode'>): boolean {
  const b = r.bdf;
  if ((f.domain >= 0 && f.domain !== b.domain) || (f.bus >= 0 && f.bus !== b.bus) || (f.slot >= 0 && f.slot !== b.device) || (f.func >= 0 && f.func !== b.fn))
    return false;
  if ((f.device >= 0 && f.device !== r.device) || (f.vendor >= 0 && f.vendor !== r.vendor)) return false;
  if (f.deviceClass >= 0 && ((f.deviceClass ^ (r.classCode >> 8)) & f.deviceClassMask) !== 0) return false;
  if (f.progIf >= 0 && f.progIf !== (r.classCode & 0xff)) return false;
  return true;
}
