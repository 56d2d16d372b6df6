// The v86 bridge: puts a GuestPciBus (PciFront devices) on the PCI bus of a v86 emulator, through v86's internal PCI, port, MMIO and IRQ hooks.
//
// v86 (https://github.com/copy/v86) has no public device API. This module uses the internals
// listed in docs/v86.md (after ../shared/V86.md, v86 0.5.462, which package.json pins exactly):
// - config cycles: `cpu.devices.pci.pci_query` (latches the dword 0xCFC answers when byte 3 of
//   0xCF8 is written) and `pci_write8/16/32` are wrapped for the slots the bus owns; every other
//   slot stays v86's;
// - ports: `cpu.io.ports[p]` entries are swapped in while a BAR decodes them and put back after;
// - MMIO: the 128 KiB blocks `cpu.memory_map_read8/write8/read32/write32[addr >>> 17]` a BAR
//   overlaps are wrapped (addresses the bus does not decode go to the block's old handler);
// - INTx: `cpu.device_raise_irq/device_lower_irq` on the ISA IRQ the PIIX3's PIRQ route register
//   (`pci.isa_bridge_space8[0x60 + pirq]`) names, with the swizzle SeaBIOS
//   (src/fw/pciinit.c, piix_pci_slot_get_irq) and v86's own devices (pci.js raise_irq) use,
//   `pirq = (slot - 1 + pin - 1) & 3`, so the IRQ raised is the one SeaBIOS wrote into the
//   Interrupt Line register. The GuestPciBus numbers its lines `(slot + pin - 1) & 3` (see
//   {@link v86Pirq});
// - end of interrupt: v86's interrupt controllers are in its WebAssembly core and tell nobody
//   about an EOI, so a level INTx is resampled the way QEMU's vfio-pci does without irqfd: any
//   guest access to the device's BARs or config space while its line is asserted counts as an
//   EOI (PciFront then acknowledges the host line; a device still asserting raises it again).

import { Bdf } from '../../shared/bdf.js';
import { childLogger } from '../../shared/log.js';
import type { PciRawIrqEvent } from '../../shared/protocol.js';
import type { GuestInterruptSink, GuestMsiSource, GuestPciBus, MmioWidth, PortWidth } from './guest-bus.js';

/** The v86 version whose internals this bridge uses (package.json pins it exactly). */
export const V86_PINNED_VERSION = '0.5.462';

/** v86 MMIO dispatch block: 1 << MMAP_BLOCK_BITS (17) bytes (src/const.js). */
export const V86_MMAP_BLOCK_BYTES = 0x2_0000;

/** v86's IOAPIC window (handled inside its WebAssembly core before any MMIO hook). */
export const V86_IOAPIC_ADDRESS = 0xfec0_0000;
/** v86's local APIC window (handled inside its WebAssembly core). */
export const V86_LAPIC_ADDRESS = 0xfee0_0000;
/** Size of each APIC window in bytes. */
export const V86_APIC_WINDOW_BYTES = 0x1000;
/** Where v86 puts the VGA linear framebuffer (src/vga.js), `vga_memory_size` bytes long. */
export const V86_VGA_LFB_ADDRESS = 0xe000_0000;
/** v86's default `vga_memory_size` (8 MiB). */
export const V86_DEFAULT_VGA_MEMORY_BYTES = 8 << 20;
/** PIIX3 PIRQ route control registers PIRQA..PIRQD (82371SB datasheet 2.2.9): ISA IRQ, bit 7 = routing off. */
export const PIIX3_PIRQ_ROUTE = 0x60;
/** PIRQ route register bit 7: the PIRQ is not routed to any ISA IRQ. */
export const PIIX3_PIRQ_ROUTE_DISABLE = 0x80;

/**
 * The PIIX3 PIRQ (0..3 = PIRQA..D) that slot `slot`'s INTx pin `pin` (1..4 = INTA..INTD) is
 * wired to on v86's board, as SeaBIOS routes it (pciinit.c piix_pci_slot_get_irq:
 * `(pin - 1 + slot - 1) & 3`) and v86 raises its own devices' (pci.js raise_irq).
 */
export function v86Pirq(slot: number, pin: number): number {
  return (slot - 1 + pin - 1) & 3;
}

type Read = (address: number) => number;
type Write = (address: number, value: number) => void;

/** One entry of v86's port table (src/io.js). */
export interface V86PortEntry {
  read8: (port: number) => number;
  read16: (port: number) => number;
  read32: (port: number) => number;
  write8: (value: number) => void;
  write16: (value: number) => void;
  write32: (value: number) => void;
  device: unknown;
}

/** The parts of v86's CPU object (src/cpu.js, src/io.js, src/pci.js) the bridge touches. */
export interface V86Cpu {
  io: { ports: V86PortEntry[]; empty_port_read8: unknown };
  devices: {
    pci: {
      pci_addr: Uint8Array;
      pci_response32: Int32Array;
      pci_status32: Int32Array;
      device_spaces: (Int32Array | undefined)[];
      devices: ({ name?: string } | undefined)[];
      isa_bridge_space8: Uint8Array;
      pci_query(): void;
      pci_write8(address: number, value: number): void;
      pci_write16(address: number, value: number): void;
      pci_write32(address: number, value: number): void;
    };
    vga?: { vga_memory_size?: number };
  };
  memory_size: ArrayLike<number>;
  memory_map_read8: Read[];
  memory_map_write8: Write[];
  memory_map_read32: Read[];
  memory_map_write32: Write[];
  device_raise_irq(irq: number): void;
  device_lower_irq(irq: number): void;
}

/** A v86 emulator (the `V86` class of the `v86` package) after "emulator-loaded": its CPU is `v86.cpu`. */
export interface V86Emulator {
  v86: { cpu: unknown };
}

/** The internals {@link attachToV86} needs, as `path: typeof` pairs; the internals test checks them on the installed v86. */
export const V86_INTERNALS: readonly [string, string][] = [
  ['io.ports', 'object'],
  ['io.empty_port_read8', 'function'],
  ['devices.pci.pci_addr', 'object'],
  ['devices.pci.pci_response32', 'object'],
  ['devices.pci.pci_status32', 'object'],
  ['devices.pci.device_spaces', 'object'],
  ['devices.pci.devices', 'object'],
  ['devices.pci.isa_bridge_space8', 'object'],
  ['devices.pci.pci_query', 'function'],
  ['devices.pci.pci_write8', 'function'],
  ['devices.pci.pci_write16', 'function'],
  ['devices.pci.pci_write32', 'function'],
  ['memory_size', 'object'],
  ['memory_map_read8', 'object'],
  ['memory_map_write8', 'object'],
  ['memory_map_read32', 'object'],
  ['memory_map_write32', 'object'],
  ['device_raise_irq', 'function'],
  ['device_lower_irq', 'function'],
];

/**
 * The internals of `cpu` (an emulator's `v86.cpu`) that are missing or of another type, as
 * `path (expected type, found type)` strings; empty when the bridge can attach.
 */
export function missingV86Internals(cpu: unknown): string[] {
  const missing: string[] = [];
  for (const [path, type] of V86_INTERNALS) {
    let v: unknown = cpu;
    for (const k of path.split('.')) v = v !== null && (typeof v === 'object' || typeof v === 'function') ? (v as Record<string, unknown>)[k] : undefined;
    if (typeof v !== type || v === null) missing.push(`cpu.${path} (expected ${type}, found ${v === null ? 'null' : typeof v})`);
  }
  return missing;
}

/** Options of {@link attachToV86}. */
export interface V86BridgeOptions {
  /** Told about guest placements v86 cannot serve and interrupts it cannot deliver (default: logged as warnings). */
  onWarning?: (message: string) => void;
}

/** Counters of a {@link V86Bridge}. */
export interface V86BridgeStats {
  /** Config cycles (latched reads and writes) to the bus's functions. */
  configCycles: number;
  /** Port accesses dispatched to the bus. */
  portAccesses: number;
  /** MMIO accesses dispatched to the bus (16-bit ones count twice: v86 splits them). */
  mmioAccesses: number;
  /** ISA IRQ raises (a line going from no PCI source to one). */
  irqRaises: number;
  /** INTx resamples (accesses taken as end of interrupt). */
  resamples: number;
}

/** A live bridge; {@link detach} puts every v86 hook back as it was. */
export interface V86Bridge {
  readonly stats: V86BridgeStats;
  /** The ISA IRQ each function's INTx reaches now (PIRQ route registers as the BIOS programmed them), -1 when unrouted or pinless. */
  routes(): { bdf: Bdf; pirq: number; irq: number }[];
  /** Re-reads the bus's functions and decoded ranges (after attaching more functions to it). */
  refresh(): void;
  /** Removes the bridge: v86's config, port, MMIO and IRQ hooks as before, asserted lines lowered, the bus's sink restored. */
  detach(): void;
}

const log = childLogger({ ring: 3, part: 'v86' });

/**
 * Puts `bus` on the PCI bus of v86 emulator `emulator` (after its "emulator-loaded" event, before
 * or while it runs). The bus's functions keep their slots (bus 0 only: v86 has no bridges); a
 * slot v86 uses itself is refused. The bus's sink is wrapped: INTx goes to v86's PIC through the
 * PIIX3 routing, MSI and faults go on to the sink the bus had (v86 cannot deliver MSI: guests use
 * INTx). Returns the bridge.
 *
 * Throws Error naming the v86 internals that moved (another v86 version than
 * {@link V86_PINNED_VERSION}), a slot clash with a v86 device, a bus number other than 0, or
 * intxLines that are not four distinct lines.
 */
export function attachToV86(emulator: V86Emulator, bus: GuestPciBus, options: V86BridgeOptions = {}): V86Bridge {
  const cpu = emulator?.v86?.cpu as V86Cpu | undefined;
  const missing = missingV86Internals(cpu);
  if (missing.length) {
    throw new Error(
      `rawpci's v86 bridge uses v86 ${V86_PINNED_VERSION} internals, and this v86 lacks ${missing.join(', ')}: install v86@${V86_PINNED_VERSION} (npm install --save-exact v86@${V86_PINNED_VERSION}) or update r3/guest/v86.ts`,
    );
  }
  if (bus.busNumber !== 0) throw new Error(`v86 has one PCI bus (0); this GuestPciBus is bus ${bus.busNumber}`);
  if (new Set(bus.intxLines).size !== 4)
    throw new Error(`the bus's intxLines ${bus.intxLines.join(',')} must be four distinct lines (they stand for PIRQA..PIRQD)`);
  return new Bridge(cpu!, bus, options);
}

class Bridge implements V86Bridge {
  readonly stats: V86BridgeStats = { configCycles: 0, portAccesses: 0, mmioAccesses: 0, irqRaises: 0, resamples: 0 };
  readonly #cpu: V86Cpu;
  readonly #pci: V86Cpu['devices']['pci'];
  readonly #bus: GuestPciBus;
  readonly #warn: (message: string) => void;
  readonly #warned = new Set<string>();
  readonly #downstream: GuestInterruptSink;
  #owned = new Set<number>();
  /** Ports hooked now, with v86's entry to put back. */
  readonly #ports = new Map<number, V86PortEntry>();
  /** MMIO blocks hooked now, with v86's handlers to put back. */
  readonly #blocks = new Map<number, [Read, Write, Read, Write]>();
  /** Bus lines (PIRQ stand-ins) asserted, with the ISA IRQ each was raised on. */
  readonly #raised = new Map<number, number>();
  /** ISA IRQ -> number of asserted PIRQs on it. */
  readonly #irqUsers = new Map<number, number>();
  #attached = true;

  constructor(cpu: V86Cpu, bus: GuestPciBus, options: V86BridgeOptions) {
    this.#cpu = cpu;
    this.#pci = cpu.devices.pci;
    this.#bus = bus;
    this.#warn = options.onWarning ?? ((m) => log.warn(m));
    this.refresh();
    const pci = this.#pci;
    const query = pci.pci_query;
    const writes = [pci.pci_write8, pci.pci_write16, pci.pci_write32] as const;
    // Own properties shadow v86's prototype methods; detach deletes them.
    pci.pci_query = () => {
      const devfn = pci.pci_addr[1]!;
      if (pci.pci_addr[2] !== 0 || !this.#owned.has(devfn)) return query.call(pci);
      this.stats.configCycles++;
      this.#latch(devfn);
    };
    ([1, 2, 4] as const).forEach((cb, i) => {
      const original = writes[i]!;
      (pci as unknown as Record<string, Write>)[`pci_write${8 * cb}`] = (address, value) => {
        const devfn = (address >>> 8) & 0xff;
        if (((address >>> 16) & 0xff) !== 0 || !this.#owned.has(devfn)) return original.call(pci, address, value);
        this.#configWrite(devfn, address & 0xff, cb, value);
      };
    });
    this.#downstream = bus.setSink({
      setIrqLevel: (line, level) => this.#setLine(line, level),
      deliverMsi: (address, data, source) => this.#msi(address, data, source),
      fault: (bdf, detail, event) => this.#fault(bdf, detail, event),
    });
  }

  routes(): { bdf: Bdf; pirq: number; irq: number }[] {
    return this.#bus.functions().map(({ bdf, line }) => {
      const pirq = this.#pirqOf(line);
      return { bdf, pirq, irq: pirq < 0 ? -1 : this.#isaIrq(pirq) };
    });
  }

  refresh(): void {
    const owned = new Set<number>();
    for (const { bdf } of this.#bus.functions()) {
      const theirs = this.#pci.device_spaces[bdf.devfn];
      if (theirs !== undefined) {
        throw new Error(
          `guest slot ${bdf.toShortString()} is v86's own ${this.#pci.devices[bdf.devfn]?.name ?? 'device'}: attach the function at another slot`,
        );
      }
      owned.add(bdf.devfn);
    }
    this.#owned = owned;
    this.#refreshDecode();
  }

  detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    const pci = this.#pci as unknown as Record<string, unknown>;
    for (const k of ['pci_query', 'pci_write8', 'pci_write16', 'pci_write32']) delete pci[k];
    for (const [port, entry] of this.#ports) this.#cpu.io.ports[port] = entry;
    this.#ports.clear();
    for (const [block, h] of this.#blocks) this.#restoreBlock(block, h);
    this.#blocks.clear();
    for (const line of [...this.#raised.keys()]) this.#setLine(line, false);
    this.#bus.setSink(this.#downstream);
  }

  // ---- config cycles ----

  #latch(devfn: number): void {
    const pci = this.#pci;
    pci.pci_status32[0] = 0x8000_0000 | 0;
    pci.pci_response32[0] = this.#bus.configRead(new Bdf(0, 0, devfn >>> 3, devfn & 7), pci.pci_addr[0]! & 0xfc, 4) | 0;
  }

  #configWrite(devfn: number, offset: number, cb: PortWidth, value: number): void {
    this.stats.configCycles++;
    const v = cb === 4 ? value >>> 0 : value & (cb === 1 ? 0xff : 0xffff);
    this.#bus.configWrite(new Bdf(0, 0, devfn >>> 3, devfn & 7), offset, cb, v);
    // A read after a write without a new 0xCF8 write sees the new value, as on hardware.
    this.#latch(devfn);
    this.#refreshDecode();
    this.#resample();
  }

  // ---- decode: ports and MMIO blocks follow the BARs ----

  #refreshDecode(): void {
    const ports = new Set<number>();
    const blocks = new Set<number>();
    const ramTop = Number(this.#cpu.memory_size[0]);
    const lfbBytes = this.#cpu.devices.vga?.vga_memory_size ?? V86_DEFAULT_VGA_MEMORY_BYTES;
    for (const r of this.#bus.decodedRanges()) {
      const what = `${r.region === 6 ? 'the ROM' : `BAR${r.region}`} of ${r.bdf.toShortString()} at 0x${r.start.toString(16)}..0x${(r.end - 1n).toString(16)}`;
      if (r.space === 'io') {
        for (let p = Number(r.start); p < Number(r.end) && p <= 0xffff; p++) ports.add(p);
        continue;
      }
      const why = unreachable(r.start, r.end, ramTop, lfbBytes);
      if (why) {
        this.#warnOnce(
          `${what}: v86 cannot serve it (${why}); the guest reads all-ones there. Place BARs between guest RAM's end (0x${ramTop.toString(16)}) and 0xfec00000, outside the VGA framebuffer`,
        );
        continue;
      }
      for (let b = Number(r.start) >>> 17; b <= (Number(r.end) - 1) >>> 17; b++) blocks.add(b);
    }
    const io = this.#cpu.io;
    for (const [port, entry] of this.#ports) {
      if (ports.has(port)) continue;
      io.ports[port] = entry;
      this.#ports.delete(port);
    }
    for (const port of ports) {
      if (this.#ports.has(port)) continue;
      const old = io.ports[port]!;
      if (old.read8 !== io.empty_port_read8) this.#warnOnce(`port 0x${port.toString(16)} is also one of v86's own devices: the guest's BAR shadows it`);
      this.#ports.set(port, old);
      io.ports[port] = this.#portEntry(port);
    }
    for (const [block, h] of this.#blocks) {
      if (blocks.has(block)) continue;
      this.#restoreBlock(block, h);
      this.#blocks.delete(block);
    }
    for (const block of blocks) if (!this.#blocks.has(block)) this.#hookBlock(block);
  }

  #portEntry(port: number): V86PortEntry {
    const read = (cb: PortWidth) => {
      this.stats.portAccesses++;
      const v = this.#bus.ioRead(port, cb);
      this.#resample();
      return v;
    };
    const write = (cb: PortWidth, value: number) => {
      this.stats.portAccesses++;
      this.#bus.ioWrite(port, cb, cb === 4 ? value >>> 0 : value & (cb === 1 ? 0xff : 0xffff));
      this.#resample();
    };
    return {
      read8: () => read(1),
      read16: () => read(2),
      read32: () => read(4),
      write8: (v) => write(1, v),
      write16: (v) => write(2, v),
      write32: (v) => write(4, v),
      device: undefined,
    };
  }

  #hookBlock(block: number): void {
    const c = this.#cpu;
    const old: [Read, Write, Read, Write] = [
      c.memory_map_read8[block]!,
      c.memory_map_write8[block]!,
      c.memory_map_read32[block]!,
      c.memory_map_write32[block]!,
    ];
    this.#blocks.set(block, old);
    const bus = this.#bus;
    const mine = (a: number, cb: MmioWidth) => bus.decodesMmio(BigInt(a >>> 0), cb);
    const read = (a: number, cb: 1 | 4): number => {
      this.stats.mmioAccesses++;
      const v = bus.mmioRead(BigInt(a >>> 0), cb);
      this.#resample();
      return v;
    };
    const write = (a: number, cb: 1 | 4, v: number) => {
      this.stats.mmioAccesses++;
      bus.mmioWrite(BigInt(a >>> 0), cb, cb === 4 ? v >>> 0 : v & 0xff);
      this.#resample();
    };
    c.memory_map_read8[block] = (a) => (mine(a, 1) ? read(a, 1) : old[0](a));
    c.memory_map_write8[block] = (a, v) => (mine(a, 1) ? write(a, 1, v) : old[1](a, v));
    c.memory_map_read32[block] = (a) => ((a & 3) === 0 && mine(a, 4) ? read(a, 4) | 0 : old[2](a));
    c.memory_map_write32[block] = (a, v) => ((a & 3) === 0 && mine(a, 4) ? write(a, 4, v) : old[3](a, v));
  }

  #restoreBlock(block: number, [r8, w8, r32, w32]: [Read, Write, Read, Write]): void {
    const c = this.#cpu;
    c.memory_map_read8[block] = r8;
    c.memory_map_write8[block] = w8;
    c.memory_map_read32[block] = r32;
    c.memory_map_write32[block] = w32;
  }

  // ---- interrupts ----

  /**
   * The PIRQ a bus line stands for, or -1 for none. The bus routes slot s pin p to
   * `intxLines[(s + p - 1) % 4]`; the board wires it to PIRQ {@link v86Pirq}(s, p), one lower.
   */
  #pirqOf(line: number): number {
    const k = line < 0 ? -1 : this.#bus.intxLines.indexOf(line);
    return k < 0 ? -1 : (k + 3) & 3;
  }

  /** The ISA IRQ PIRQ `pirq` is routed to now, or -1 (routing off or not an ISA IRQ). */
  #isaIrq(pirq: number): number {
    const route = this.#pci.isa_bridge_space8[PIIX3_PIRQ_ROUTE + pirq]!;
    return (route & PIIX3_PIRQ_ROUTE_DISABLE) !== 0 || route > 15 || route < 1 ? -1 : route;
  }

  #setLine(line: number, level: boolean): void {
    if (level) {
      if (this.#raised.has(line)) return;
      const pirq = this.#pirqOf(line);
      const irq = pirq < 0 ? -1 : this.#isaIrq(pirq);
      if (irq < 0) {
        this.#warnOnce(
          `INTx on PIRQ${'ABCD'[pirq] ?? '?'} is not routed to an ISA IRQ (PIIX3 register 0x${(PIIX3_PIRQ_ROUTE + pirq).toString(16)}): the BIOS did not set it up, the interrupt is held`,
        );
        return;
      }
      this.#raised.set(line, irq);
      const users = this.#irqUsers.get(irq) ?? 0;
      this.#irqUsers.set(irq, users + 1);
      if (users === 0) {
        this.stats.irqRaises++;
        this.#cpu.device_raise_irq(irq);
      }
      return;
    }
    const irq = this.#raised.get(line);
    if (irq === undefined) return;
    this.#raised.delete(line);
    const users = (this.#irqUsers.get(irq) ?? 1) - 1;
    if (users > 0) this.#irqUsers.set(irq, users);
    else {
      this.#irqUsers.delete(irq);
      this.#cpu.device_lower_irq(irq);
    }
  }

  /** An access by the guest while a line is asserted counts as its end of interrupt (see the file comment). */
  #resample(): void {
    if (this.#raised.size === 0) return;
    for (const line of [...this.#raised.keys()]) {
      this.stats.resamples++;
      this.#bus.endOfInterrupt(line);
    }
  }

  #msi(address: bigint, data: number, source: GuestMsiSource): void {
    this.#warnOnce(
      `${source.bdf.toShortString()} sent an ${source.kind.toUpperCase()} message, which v86 cannot deliver (no MSI in its interrupt controllers): the guest should use INTx`,
    );
    this.#downstream.deliverMsi(address, data, source);
  }

  #fault(bdf: Bdf, detail: string, event: PciRawIrqEvent): void {
    this.#downstream.fault?.(bdf, detail, event);
  }

  #warnOnce(message: string): void {
    if (this.#warned.has(message)) return;
    this.#warned.add(message);
    this.#warn(message);
  }
}

/** Why v86 cannot serve MMIO at `[start, end)`, or undefined when it can (V86.md: MMIO). */
function unreachable(start: bigint, end: bigint, ramTop: number, lfbBytes: number): string | undefined {
  if (end > 0x1_0000_0000n) return 'above 4 GiB: v86 has 32-bit physical addresses';
  const s = Number(start);
  const e = Number(end);
  if (s < ramTop) return `inside guest RAM, which ends at 0x${ramTop.toString(16)}`;
  const overlaps = (a: number, n: number) => s < a + n && e > a;
  if (overlaps(V86_VGA_LFB_ADDRESS, lfbBytes)) return 'over the VGA framebuffer';
  if (overlaps(V86_IOAPIC_ADDRESS, V86_APIC_WINDOW_BYTES)) return 'over the IOAPIC window';
  if (overlaps(V86_LAPIC_ADDRESS, V86_APIC_WINDOW_BYTES)) return 'over the local APIC window';
  return undefined;
}
