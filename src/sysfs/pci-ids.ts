// pci.ids: parse the PCI ID database and turn IDs into names exactly as libpci's pci_lookup_name does.

import { existsSync, readFileSync } from 'node:fs';

/**
 * Where pci.ids is looked for, in order, when no path is given: Debian's `pci.ids` package
 * (/usr/share/misc), then hwdata's (Fedora, Arch, Debian's hwdata).
 */
export const PCI_IDS_DEFAULT_PATHS = ['/usr/share/misc/pci.ids', '/usr/share/hwdata/pci.ids'] as const;

/** Environment variable that names a pci.ids file (overridden by `--pci-ids`). */
export const PCI_IDS_ENV = 'RAWPCI_PCI_IDS';

/** The hint printed once when no pci.ids is found (names then fall back to numbers). */
export const PCI_IDS_MISSING_HINT =
  'rawpci: no pci.ids found (looked in /usr/share/misc/pci.ids, /usr/share/hwdata/pci.ids): showing numbers only; install it with `apt-get install pci.ids` (or `pciutils`), or pass --pci-ids FILE';

/**
 * How a lookup prints (lspci's -n flags): `names` (no -n), `numeric` (-n), `mixed` (-nn: names
 * followed by `[numbers]`).
 */
export type IdMode = 'names' | 'numeric' | 'mixed';

/** An error in a pci.ids file, with its line number (libpci: "Parse error at FILE, line N"). */
export class PciIdsParseError extends Error {
  override readonly name = 'PciIdsParseError';
  readonly line: number;
  constructor(message: string, file: string, line: number) {
    super(`${message} at ${file}, line ${line}: fix or replace the file (e.g. \`update-pciids\`) or pass another with --pci-ids`);
    this.line = line;
  }
}

/** libpci's buffer sizes for the lines lspci prints (lspci.c show_terse: 128 and 256 bytes). */
export const LSPCI_NAME_BUF = 128;
export const LSPCI_SUBSYS_BUF = 256;

/**
 * The parsed database. Keys are lowercase hex joined by ':' (vendor `8086`, device
 * `8086:1234`, subsystem `8086:1234:1af4:0001`, generic subsystem `1af4:0001`, class `02`,
 * subclass `0200`, prog-if `020000`). First definition wins (libpci rejects duplicates).
 */
export class PciIds {
  readonly vendors = new Map<string, string>();
  readonly devices = new Map<string, string>();
  readonly subsystems = new Map<string, string>();
  readonly genericSubsystems = new Map<string, string>();
  readonly classes = new Map<string, string>();
  readonly subclasses = new Map<string, string>();
  readonly progIfs = new Map<string, string>();
  /** The file it came from, or undefined for an empty database (no pci.ids found). */
  readonly path: string | undefined;

  constructor(path?: string) {
    this.path = path;
  }

  /** An empty database: every lookup prints numbers (`Device [1234:5678]`). */
  static empty(): PciIds {
    return new PciIds();
  }

  /**
   * Parses pci.ids text (format: `vvvv  Vendor`, `\tdddd  Device`, `\t\tsvvv sddd  Subsystem`,
   * `C cc  Class`, `\tss  Subclass`, `\t\tpp  Prog-if`, `S vvvv` generic subsystem blocks), with
   * libpci's rules (lib/names-parse.c): trailing blank dropped, `#` comments, unknown
   * upper-case blocks skipped. Throws {@link PciIdsParseError} where libpci reports a parse error.
   */
  static parse(text: string, path = '<pci.ids>'): PciIds {
    const ids = new PciIds(path);
    const lines = text.split('\n');
    type Cat = 'vendor' | 'device' | 'subsystem' | 'gensub' | 'class' | 'subclass' | 'progif' | 'unknown' | 'none';
    let cat: Cat = 'none';
    let id1 = '';
    let id2 = '';
    for (let i = 0; i < lines.length; i++) {
      let line = lines[i]!;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line.endsWith(' ') || line.endsWith('\t')) line = line.slice(0, -1);
      const trimmed = line.replace(/^[ \t]+/, '');
      if (trimmed === '' || trimmed.startsWith('#')) continue;
      const fail = (msg = 'Parse error'): never => {
        throw new PciIdsParseError(msg, path, i + 1);
      };
      let nest = 0;
      while (line[nest] === '\t') nest++;
      const p = line.slice(nest);
      const hexAt = (s: string, n: number): string | undefined => {
        const h = s.slice(0, n);
        return h.length === n && /^[0-9a-fA-F]+$/.test(h) ? h.toLowerCase() : undefined;
      };
      const white = (c: string | undefined) => c === ' ' || c === '\t';
      const nameOf = (rest: string): string => {
        const n = rest.replace(/^[ \t]+/, '');
        if (n === '') fail();
        return n;
      };
      if (nest === 0) {
        if (p[0] === 'C' && p[1] === ' ') {
          const c = hexAt(p.slice(2), 2);
          if (c === undefined || !white(p[4])) fail();
          id1 = c!;
          cat = 'class';
          setOnce(ids.classes, id1, nameOf(p.slice(5)));
        } else if (p[0] === 'S' && p[1] === ' ') {
          const v = hexAt(p.slice(2), 4);
          if (v === undefined || p.length !== 6) fail();
          if (!ids.vendors.has(v!)) fail('Vendor does not exist');
          id1 = v!;
          cat = 'gensub';
        } else if (p[0]! >= 'A' && p[0]! <= 'Z' && p[1] === ' ') {
          cat = 'unknown';
        } else {
          const v = hexAt(p, 4);
          if (v === undefined || !white(p[4])) fail();
          id1 = v!;
          cat = 'vendor';
          setOnce(ids.vendors, id1, nameOf(p.slice(5)));
        }
      } else if (cat === 'unknown') {
      } else if (nest === 1) {
        if (cat === 'vendor' || cat === 'device' || cat === 'subsystem') {
          const d = hexAt(p, 4);
          if (d === undefined || !white(p[4])) fail();
          id2 = d!;
          cat = 'device';
          setOnce(ids.devices, `${id1}:${id2}`, nameOf(p.slice(5)));
        } else if (cat === 'gensub') {
          const d = hexAt(p, 4);
          if (d === undefined || !white(p[4])) fail();
          setOnce(ids.genericSubsystems, `${id1}:${d}`, nameOf(p.slice(5)));
        } else if (cat === 'class' || cat === 'subclass' || cat === 'progif') {
          const s = hexAt(p, 2);
          if (s === undefined || !white(p[2])) fail();
          id2 = s!;
          cat = 'subclass';
          setOnce(ids.subclasses, `${id1}${id2}`, nameOf(p.slice(3)));
        } else fail();
      } else if (nest === 2) {
        if (cat === 'device' || cat === 'subsystem') {
          const sv = hexAt(p, 4);
          const sd = hexAt(p.slice(5), 4);
          if (sv === undefined || !white(p[4]) || sd === undefined || !white(p[9])) fail();
          cat = 'subsystem';
          setOnce(ids.subsystems, `${id1}:${id2}:${sv}:${sd}`, nameOf(p.slice(10)));
        } else if (cat === 'class' || cat === 'subclass' || cat === 'progif') {
          const pi = hexAt(p, 2);
          if (pi === undefined || !white(p[2])) fail();
          cat = 'progif';
          setOnce(ids.progIfs, `${id1}${id2}${pi}`, nameOf(p.slice(3)));
        } else fail();
      } else fail();
    }
    return ids;
  }

  /** Reads and parses `path`. Errors: ENOENT etc. from fs, {@link PciIdsParseError}. */
  static load(path: string): PciIds {
    return PciIds.parse(readFileSync(path, 'utf8'), path);
  }

  /**
   * Finds and loads the system's pci.ids: `explicit` (an option), else $RAWPCI_PCI_IDS, else
   * `searchPaths` ({@link PCI_IDS_DEFAULT_PATHS}). `found` is false when none exists (the database is then
   * empty and callers print {@link PCI_IDS_MISSING_HINT} once). An explicit path that does not
   * exist throws an Error naming it.
   */
  static find(
    explicit?: string,
    env: NodeJS.ProcessEnv = process.env,
    searchPaths: readonly string[] = PCI_IDS_DEFAULT_PATHS,
  ): { ids: PciIds; found: boolean } {
    const chosen = explicit ?? env[PCI_IDS_ENV];
    if (chosen) {
      if (!existsSync(chosen)) throw new Error(`pci.ids file ${chosen} does not exist: pass an existing file to --pci-ids (or ${PCI_IDS_ENV})`);
      return { ids: PciIds.load(chosen), found: true };
    }
    for (const p of searchPaths) if (existsSync(p)) return { ids: PciIds.load(p), found: true };
    return { ids: PciIds.empty(), found: false };
  }

  vendorName(vendor: number): string | undefined {
    return this.vendors.get(h4(vendor));
  }

  deviceName(vendor: number, device: number): string | undefined {
    return this.devices.get(`${h4(vendor)}:${h4(device)}`);
  }

  /** libpci id_lookup_subsys: per-device entry, then generic `S` entry, then the device itself when subsystem == device. */
  subsystemName(vendor: number, device: number, subVendor: number, subDevice: number): string | undefined {
    let d: string | undefined;
    if (vendor > 0 && device > 0) d = this.subsystems.get(`${h4(vendor)}:${h4(device)}:${h4(subVendor)}:${h4(subDevice)}`);
    d ??= this.genericSubsystems.get(`${h4(subVendor)}:${h4(subDevice)}`);
    if (d === undefined && vendor === subVendor && device === subDevice) d = this.deviceName(vendor, device);
    return d;
  }

  /**
   * `Class name` for a 16-bit class (base << 8 | sub), as PCI_LOOKUP_CLASS: the subclass name,
   * else the base class name with the number forced on (`Network controller [0280]`), else
   * `Class cccc`. Truncated to `bufSize - 1` characters with `...` like libpci.
   */
  formatClass(cls: number, mode: IdMode, bufSize = LSPCI_NAME_BUF): string {
    const num = h4(cls);
    let name = this.subclasses.get(num);
    let m = mode;
    if (name === undefined) {
      name = this.classes.get(h2(cls >> 8));
      if (name !== undefined && m !== 'numeric') m = 'mixed';
    }
    return formatName(name, num, 'Class', m, bufSize);
  }

  /** Prog-if name or undefined (PCI_LOOKUP_PROGIF | PCI_LOOKUP_NO_NUMBERS), with libpci's IDE special case. */
  progIfName(cls: number, progIf: number): string | undefined {
    const n = this.progIfs.get(`${h4(cls)}${h2(progIf)}`);
    if (n !== undefined) return n;
    if (cls === 0x0101 && !(progIf & 0x70)) {
      const s = `${progIf & 0x80 ? ' Master' : ''}${progIf & 0x08 ? ' SecP' : ''}${progIf & 0x04 ? ' SecO' : ''}${progIf & 0x02 ? ' PriP' : ''}${progIf & 0x01 ? ' PriO' : ''}`;
      return s.slice(1);
    }
    return undefined;
  }

  /** `Vendor Device [vvvv:dddd]` (mixed), `Vendor Device` (names) or `vvvv:dddd` (numeric), as PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE. */
  formatVendorDevice(vendor: number, device: number, mode: IdMode, bufSize = LSPCI_NAME_BUF): string {
    return formatPair(this.vendorName(vendor), this.deviceName(vendor, device), `${h4(vendor)}:${h4(device)}`, mode, bufSize);
  }

  /** One vendor name (PCI_LOOKUP_VENDOR, lspci -m's Vendor field): `Vendor vvvv` when unknown. */
  formatVendor(vendor: number, mode: IdMode, bufSize = LSPCI_NAME_BUF): string {
    return formatName(this.vendorName(vendor), h4(vendor), 'Vendor', mode, bufSize);
  }

  /** One device name (PCI_LOOKUP_DEVICE, lspci -m's Device field): `Device dddd` when unknown. */
  formatDevice(vendor: number, device: number, mode: IdMode, bufSize = LSPCI_NAME_BUF): string {
    return formatName(this.deviceName(vendor, device), h4(device), 'Device', mode, bufSize);
  }

  /** Subsystem vendor name (PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_VENDOR, lspci -m's SVendor): `Unknown vendor vvvv` when unknown. */
  formatSubsystemVendor(subVendor: number, mode: IdMode, bufSize = LSPCI_NAME_BUF): string {
    return formatName(this.vendorName(subVendor), h4(subVendor), 'Unknown vendor', mode, bufSize);
  }

  /** Subsystem name (PCI_LOOKUP_SUBSYSTEM | PCI_LOOKUP_DEVICE, lspci -m's SDevice): `Device dddd` when unknown. */
  formatSubsystemDevice(vendor: number, device: number, subVendor: number, subDevice: number, mode: IdMode, bufSize = LSPCI_NAME_BUF): string {
    return formatName(this.subsystemName(vendor, device, subVendor, subDevice), h4(subDevice), 'Device', mode, bufSize);
  }

  /** The Subsystem line's text: subsystem vendor's name and the subsystem's name (PCI_LOOKUP_SUBSYSTEM | VENDOR | DEVICE). */
  formatSubsystem(vendor: number, device: number, subVendor: number, subDevice: number, mode: IdMode, bufSize = LSPCI_SUBSYS_BUF): string {
    return formatPair(this.vendorName(subVendor), this.subsystemName(vendor, device, subVendor, subDevice), `${h4(subVendor)}:${h4(subDevice)}`, mode, bufSize);
  }
}

function setOnce(map: Map<string, string>, key: string, value: string): void {
  if (!map.has(key)) map.set(key, value);
}

/** libpci format_name. */
function formatName(name: string | undefined, num: string, unknown: string, mode: IdMode, bufSize: number): string {
  let s: string;
  if (mode === 'numeric') s = num;
  else if (name === undefined) s = mode === 'mixed' ? `${unknown} [${num}]` : `${unknown} ${num}`;
  else if (mode !== 'mixed') s = name;
  else s = `${name} [${num}]`;
  return truncate(s, bufSize);
}

/** libpci format_name_pair. */
function formatPair(v: string | undefined, d: string | undefined, num: string, mode: IdMode, bufSize: number): string {
  let s: string;
  if (mode === 'numeric') s = num;
  else if (mode === 'mixed') {
    if (v !== undefined && d !== undefined) s = `${v} ${d} [${num}]`;
    else if (v === undefined) s = `Device [${num}]`;
    else s = `${v} Device [${num}]`;
  } else if (v !== undefined && d !== undefined) s = `${v} ${d}`;
  else if (v === undefined) s = `Device ${num}`;
  else s = `${v} Device ${num.slice(5)}`;
  return truncate(s, bufSize);
}

/** snprintf into a buffer of `size` bytes (UTF-8 bytes, as lspci prints them), then libpci's `...` marker on overflow. */
function truncate(s: string, size: number): string {
  const bytes = Buffer.from(s, 'utf8');
  if (bytes.length < size) return s;
  return `${bytes.subarray(0, size - 4).toString('utf8')}...`;
}

function h4(v: number): string {
  return v.toString(16).padStart(4, '0');
}

function h2(v: number): string {
  return v.toString(16).padStart(2, '0');
}
