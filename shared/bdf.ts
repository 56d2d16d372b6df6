// PCI addresses: the `Bdf` value type that parses and prints `0000:03:00.0`.

/**
 * A PCI address: segment (domain) 0..0xffff, bus 0..255, device 0..31, function 0..7
 * (PCI Local Bus spec 3.0, 3.2.2.3.1). Immutable; `toString()` prints the canonical
 * `DDDD:BB:DD.F` form that lspci -D and sysfs use.
 */
export class Bdf {
  readonly domain: number;
  readonly bus: number;
  readonly device: number;
  readonly fn: number;

  /** Throws RangeError naming the field that is out of range. */
  constructor(domain: number, bus: number, device: number, fn: number) {
    check('domain', domain, 0xffff);
    check('bus', bus, 0xff);
    check('device', device, 31);
    check('function', fn, 7);
    this.domain = domain;
    this.bus = bus;
    this.device = device;
    this.fn = fn;
  }

  /**
   * Parses `DDDD:BB:DD.F` or `BB:DD.F` (domain 0), hex digits, case-insensitive.
   * Throws TypeError with the accepted forms when `text` is not a PCI address.
   */
  static parse(text: string): Bdf {
    const m = /^(?:([0-9a-f]{1,4}):)?([0-9a-f]{1,2}):([0-9a-f]{1,2})\.([0-7])$/i.exec(text.trim());
    if (!m) throw new TypeError(`'${text}' is not a PCI address: write it as DDDD:BB:DD.F (e.g. 0000:00:04.0) or BB:DD.F`);
    return new Bdf(Number.parseInt(m[1] ?? '0', 16), Number.parseInt(m[2]!, 16), Number.parseInt(m[3]!, 16), Number(m[4]));
  }

  /** Like {@link parse} but returns undefined instead of throwing. */
  static tryParse(text: string): Bdf | undefined {
    try {
      return Bdf.parse(text);
    } catch {
      return undefined;
    }
  }

  /**
   * Parses libvirt's node device name `pci_DDDD_BB_DD_F` (virsh nodedev-list, nodedev-detach),
   * hex, case-insensitive. Undefined when `name` is not one.
   */
  static fromLibvirtName(name: string): Bdf | undefined {
    const m = /^pci_([0-9a-f]{4})_([0-9a-f]{2})_([0-9a-f]{2})_([0-7])$/i.exec(name.trim());
    if (!m) return undefined;
    const d = Number.parseInt(m[3]!, 16);
    return d > 31 ? undefined : new Bdf(Number.parseInt(m[1]!, 16), Number.parseInt(m[2]!, 16), d, Number(m[4]));
  }

  /** libvirt's node device name, `pci_DDDD_BB_DD_F`. */
  get libvirtName(): string {
    return `pci_${hex(this.domain, 4)}_${hex(this.bus, 2)}_${hex(this.device, 2)}_${this.fn}`;
  }

  /** Decodes rawpci's 32-bit PCI address `domain << 16 | bus << 8 | device << 3 | fn`. */
  static fromPciAddress(addr: number): Bdf {
    return new Bdf((addr >>> 16) & 0xffff, (addr >>> 8) & 0xff, (addr >>> 3) & 0x1f, addr & 7);
  }

  /** rawpci's 32-bit PCI address (PCIRAWREQOPENDEVICE.PciAddress, with the domain in bits 16..31). */
  get pciAddress(): number {
    return ((this.domain << 16) | (this.bus << 8) | (this.device << 3) | this.fn) >>> 0;
  }

  /** devfn as Linux encodes it (`device << 3 | fn`). */
  get devfn(): number {
    return (this.device << 3) | this.fn;
  }

  /** True when both name the same function. */
  equals(other: Bdf): boolean {
    return this.pciAddress === other.pciAddress;
  }

  /** `DDDD:BB:DD.F`, lowercase hex. */
  toString(): string {
    return `${hex(this.domain, 4)}:${hex(this.bus, 2)}:${hex(this.device, 2)}.${this.fn}`;
  }

  /** `BB:DD.F` (lspci without -D). */
  toShortString(): string {
    return `${hex(this.bus, 2)}:${hex(this.device, 2)}.${this.fn}`;
  }

  toJSON(): string {
    return this.toString();
  }
}

function check(name: string, v: number, max: number): void {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`PCI ${name} ${v} is out of range 0..${max}`);
}

function hex(v: number, width: number): string {
  return v.toString(16).padStart(width, '0');
}
