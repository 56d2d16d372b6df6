// `rawpci demo --guest`: a guest driver that knows only its PCI bus (0xCF8/0xCFC, ports, MMIO, interrupts) drives edu and the testdev projected by PciFront.
//
// Two halves, kept apart on purpose:
// - the VMM (`projectDevices`): opens the host devices, wraps each in a PciFront, attaches them
//   to a GuestPciBus and feeds ring 0's interrupts into it. It is the only code that touches
//   handles or host addresses.
// - the guest (`GuestDriver`): enumerates the bus through configuration mechanism #1, finds the
//   devices by vendor/device ID, sizes their BARs, places them in windows of its own choice,
//   enables decode and bus mastering, and drives the devices with port and MMIO accesses,
//   waiting for the interrupts its interrupt controller receives. It never sees a host address.

import type { RawPciClient } from '../../r3/client.js';
import { type GuestInterruptSink, type GuestMsiSource, GuestPciBus } from '../../r3/guest/guest-bus.js';
import { PciFront } from '../../r3/guest/pci-front.js';
import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_MEM_TYPE_64,
  PCI_BASE_ADDRESS_SPACE_IO,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_COMMAND,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_HEADER_TYPE,
  PCI_INTERRUPT_LINE,
  PCI_MSI_ADDRESS_HI,
  PCI_MSI_ADDRESS_LO,
  PCI_MSI_DATA_64,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_ENABLE,
  PCI_MSIX_ENTRY_CTRL_MASKBIT,
  PCI_MSIX_ENTRY_SIZE,
  PCI_MSIX_ENTRY_VECTOR_CTRL,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_PBA,
  PCI_ROM_ADDRESS,
  PCI_ROM_ADDRESS_ENABLE,
  PCI_VENDOR_ID,
} from '../../shared/linux/pci-regs.js';
import { capabilityList } from '../../shared/pci/capabilities.js';
import { msixEntryDwords } from '../../shared/pci/msix.js';
import { PCIRAW_POWER } from '../../shared/protocol.js';
import { EDU } from '../drivers/edu.js';
import { DEMO_DEVICES } from './identity.js';

/** How the demo reports a step (src/demo/main.ts's `step`): runs `fn`, prints PASS/FAIL with its detail. */
export type GuestDemoStep = (name: string, fn: () => string | Promise<string>) => Promise<boolean>;

/** Options of {@link runGuestDemo}. */
export interface GuestDemoOptions {
  /** Host BDF of edu (default 0000:00:04.0). */
  edu?: string;
  /** Host BDF of the testdev (default 0000:00:05.0). */
  testdev?: string;
  /** How long the guest waits for one interrupt, in ms (default 5000). */
  irqTimeoutMs?: number;
}

const EDU_IDS = DEMO_DEVICES.edu;
const TESTDEV_IDS = DEMO_DEVICES.testdev;
/** testdev BAR0 ports (docs/testdev.md). */
const TD = { ID: 0x00, SCRATCH: 0x04, DOORBELL: 0x08, IRQ_STATUS: 0x0c } as const;

/** The guest's address windows: 32-bit MMIO, 64-bit MMIO above 4 GiB, and ports. */
const WINDOW = { mem32: 0xc000_0000n, mem64: 0x10_0000_0000n, io: 0xc000n } as const;
/** The guest's MSI messages: x86 LAPIC address space, a vector per source. */
const MSI_ADDRESS = 0xfee0_0000n;
const EDU_MSI_DATA = 0x0031;
const TD_MSIX_DATA = 0x0043;
const TD_VECTOR = 3;
/** Guest RAM used for the DMA round trip (guest-physical = bus address: the VM maps RAM at IOVA 0). */
const DMA_SRC = 0x30_000;
const DMA_DST = 0x38_000;
const DMA_LEN = 4000;

/**
 * Runs the guest-side demo on `vm` (connected, INIT_VM done, guest RAM mapped at IOVA 0 by
 * CONTIG_MEM_INFO; edu and the testdev not open). Each part is one `step`; a failed step is
 * reported by `step` and later steps still run (they may fail in turn). Devices are closed and
 * the interrupt pump stopped at the end. Never throws.
 */
export async function runGuestDemo(vm: RawPciClient, step: GuestDemoStep, options: GuestDemoOptions = {}): Promise<void> {
  const irqs = new DemoInterruptController(options.irqTimeoutMs ?? 5000);
  let vmm: ProjectedDevices | undefined;
  const ok = await step('guest: project edu and the testdev onto a guest PCI bus', () => {
    vmm = projectDevices(vm, irqs, options.edu ?? '0000:00:04.0', options.testdev ?? '0000:00:05.0');
    return vmm.summary;
  });
  if (!ok || !vmm) return;
  const v = vmm;
  try {
    const guest = new GuestDriver(v.bus, new Uint8Array(vm.ram.buffer, vm.ram.byteOffset, vm.ram.byteLength), irqs);
    await guestSteps(guest, step, v);
  } finally {
    await step('guest: detach the devices and close them', async () => {
      v.disconnect();
      await vm.stopIrqPump();
      for (const f of v.bus.functions()) v.bus.detach(f.bdf);
      for (const h of v.handles) vm.closeDevice(h);
      return `${v.handles.length} devices closed; interrupt pump stopped`;
    });
  }
}

async function guestSteps(g: GuestDriver, step: GuestDemoStep, vmm: ProjectedDevices): Promise<void> {
  let edu: GuestDevice | undefined;
  let td: GuestDevice | undefined;
  await step('guest: enumerate the bus through 0xCF8/0xCFC', () => {
    const all = g.enumerate();
    edu = all.find((d) => d.vendor === EDU_IDS.vendor && d.device === EDU_IDS.device);
    td = all.find((d) => d.vendor === TESTDEV_IDS.vendor && d.device === TESTDEV_IDS.device);
    if (!edu || !td) throw new Error(`edu or the testdev missing from the guest bus: found ${all.map((d) => d.name).join(', ') || 'nothing'}`);
    return all.map((d) => d.name).join(', ');
  });
  if (!edu || !td) return;
  const e = edu;
  const d = td;
  await step('guest: size every BAR and the ROM (all-ones probes)', () => {
    g.sizeBars(e);
    g.sizeBars(d);
    return [e, d].map((dev) => `${dev.label}: ${dev.bars.map((b) => `${b.name} ${b.kind} ${fmtSize(b.size)}`).join(', ')}`).join('; ');
  });
  await step('guest: place BARs in its windows, enable decode and bus mastering', () => {
    g.placeAll([e, d]);
    for (const dev of [e, d]) g.cfgWrite(dev, PCI_COMMAND, 2, g.cfgRead(dev, PCI_COMMAND, 2) | PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    return [e, d].map((dev) => `${dev.label}: ${dev.bars.map((b) => `${b.name}@0x${b.base.toString(16)}`).join(' ')}`).join('; ');
  });
  const eduBar = () => e.bar('BAR0').base;
  await step('guest edu: identification and liveness through its guest BAR', () => {
    const id = g.readl(eduBar() + BigInt(EDU.ID));
    g.writel(eduBar() + BigInt(EDU.LIVENESS), 0x1357_9bdf);
    const live = g.readl(eduBar() + BigInt(EDU.LIVENESS));
    expect(id === 0x0100_00ed, `id 0x${id.toString(16)}`);
    expect(live === ~0x1357_9bdf >>> 0, `liveness 0x${live.toString(16)}`);
    return `id 0x${id.toString(16).padStart(8, '0')} at guest 0x${eduBar().toString(16)}; liveness ok`;
  });
  await step('guest edu: 10! with INTx (level line, handler acks, EOI)', async () => {
    const r = await g.eduFactorialIntx(e, 10);
    expect(r.value === 3_628_800, `got ${r.value}`);
    return `${r.value} on guest line ${e.line} (asserted, acked on the device, EOI: line low again)`;
  });
  await step('guest edu: 12! with MSI (the guest programs its own message)', async () => {
    g.enableMsi(e, MSI_ADDRESS, EDU_MSI_DATA);
    const r = await g.eduFactorialMsi(e, 12);
    expect(r.value === 479_001_600, `got ${r.value}`);
    expect(r.msi.address === MSI_ADDRESS && r.msi.data === EDU_MSI_DATA, `message 0x${r.msi.address.toString(16)}/0x${r.msi.data.toString(16)}`);
    return `${r.value}; MSI address 0x${r.msi.address.toString(16)} data 0x${r.msi.data.toString(16)} as the guest programmed them`;
  });
  await step('guest edu: DMA round trip through guest RAM (MSI on completion)', async () => {
    const src = g.ram.subarray(DMA_SRC, DMA_SRC + DMA_LEN);
    for (let i = 0; i < src.length; i++) src[i] = (i * 13 + 7) & 0xff;
    g.ram.fill(0, DMA_DST, DMA_DST + DMA_LEN);
    await g.eduDma(e, BigInt(DMA_SRC), false);
    await g.eduDma(e, BigInt(DMA_DST), true);
    const same = Buffer.compare(Buffer.from(src), Buffer.from(g.ram.subarray(DMA_DST, DMA_DST + DMA_LEN))) === 0;
    expect(same, 'the bytes that came back differ');
    return `${DMA_LEN} bytes guest 0x${DMA_SRC.toString(16)} -> device -> guest 0x${DMA_DST.toString(16)}: equal`;
  });
  const tdPorts = () => Number(d.bar('BAR0').base);
  await step('guest testdev: I/O BAR registers', () => {
    const id = g.inl(tdPorts() + TD.ID);
    g.outl(tdPorts() + TD.SCRATCH, 0x600d_cafe);
    const b = g.inb(tdPorts() + TD.SCRATCH + 2);
    expect(id === 0x5250_0001, `id 0x${id.toString(16)}`);
    expect(b === 0x0d, `scratch byte 0x${b.toString(16)}`);
    return `ports 0x${tdPorts().toString(16)}+: ID 0x${id.toString(16)}, scratch byte 2 = 0x${b.toString(16)}`;
  });
  await step('guest testdev: 64-bit BAR2 served from its ring-3 view', () => {
    const base = d.bar('BAR2').base;
    const before = vmm.opCount('MMIO_READ') + vmm.opCount('MMIO_WRITE');
    g.writeq(base + 0x100n, 0x0123_4567_89ab_cdefn);
    const back = g.readq(base + 0x100n);
    const after = vmm.opCount('MMIO_READ') + vmm.opCount('MMIO_WRITE');
    expect(back === 0x0123_4567_89ab_cdefn, `read 0x${back.toString(16)}`);
    const mapped = vmm.bus.directMappings().find((m) => m.region === 2);
    expect(mapped?.guestPhys === base, 'the direct mapping is not announced at the BAR');
    return `guest 0x${base.toString(16)}: 8-byte write/read with ${after - before} ring-0 round trips (direct view)`;
  });
  await step('guest testdev: expansion ROM through the ROM BAR', () => {
    const rom = d.bar('ROM');
    g.cfgWrite(d, PCI_ROM_ADDRESS, 4, (Number(rom.base) | PCI_ROM_ADDRESS_ENABLE) >>> 0);
    const sig = g.readw(rom.base);
    const ptr = g.readw(rom.base + 0x18n);
    const pcir = g.readl(rom.base + BigInt(ptr));
    let text = '';
    for (let off = 0x40n; off < 0x80n && !text.includes('\0'); off += 4n) {
      const v = g.readl(rom.base + off);
      for (let k = 0; k < 4; k++) text += String.fromCharCode((v >>> (8 * k)) & 0xff);
    }
    text = text.slice(0, text.indexOf('\0'));
    g.cfgWrite(d, PCI_ROM_ADDRESS, 4, Number(rom.base));
    const off = g.readw(rom.base);
    expect(sig === 0xaa55 && pcir === 0x5249_4350, `signature 0x${sig.toString(16)}, PCIR 0x${pcir.toString(16)}`);
    expect(text === 'rawpci-testdev option ROM', `ROM string '${text}'`);
    expect(off === 0xffff, 'the ROM still decodes with its enable bit clear');
    return `${fmtSize(rom.size)} at guest 0x${rom.base.toString(16)}: 55 AA, "PCIR" at +0x${ptr.toString(16)}, "${text}"; enable bit cleared: reads all-ones`;
  });
  await step(`guest testdev: MSI-X vector ${TD_VECTOR} with its per-vector mask and PBA`, async () => {
    const table = g.msixTable(d);
    g.programMsix(table, TD_VECTOR, MSI_ADDRESS, TD_MSIX_DATA, false);
    g.cfgWrite(d, d.cap(PCI_CAP_ID_MSIX) + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
    g.outl(tdPorts() + TD.DOORBELL, TD_VECTOR);
    const first = await g.irqs.msi((m) => m.data === TD_MSIX_DATA);
    g.maskMsix(table, TD_VECTOR, true);
    g.outl(tdPorts() + TD.DOORBELL, TD_VECTOR);
    await sleep(50);
    const held = g.irqs.msis.filter((m) => m.data === TD_MSIX_DATA).length;
    const pba = g.readl(table.pba);
    expect(held === 1 && (pba & (1 << TD_VECTOR)) !== 0, `masked vector: ${held} messages, PBA 0x${pba.toString(16)}`);
    g.maskMsix(table, TD_VECTOR, false);
    await g.irqs.msi((m) => m.data === TD_MSIX_DATA, 2);
    g.outl(tdPorts() + TD.IRQ_STATUS, 1 << TD_VECTOR);
    return `message 0x${first.address.toString(16)}/0x${first.data.toString(16)}; while masked: PBA 0x${pba.toString(16)}, no message; unmasked: sent`;
  });
  await step('guest: move BARs while the devices are in use; accesses follow', async () => {
    const bar2 = d.bar('BAR2');
    const old2 = bar2.base;
    const new2 = old2 + 0x4000_0000n;
    g.writeq(old2 + 0x800n, 0xfeed_f00d_dead_beefn);
    g.moveBar(d, bar2, new2);
    const moved = g.readq(new2 + 0x800n);
    const gone = g.readq(old2 + 0x800n);
    expect(moved === 0xfeed_f00d_dead_beefn, `at the new address: 0x${moved.toString(16)}`);
    expect(gone === 0xffff_ffff_ffff_ffffn, `the old address still answers 0x${gone.toString(16)}`);
    const view = vmm.bus.directMappings().find((m) => m.region === 2);
    expect(view?.guestPhys === new2, 'the ring-3 view did not follow the BAR');
    const eBar = e.bar('BAR0');
    const oldE = eBar.base;
    g.moveBar(e, eBar, oldE + 0x20_0000n);
    const r = await g.eduFactorialMsi(e, 5);
    const oldId = g.readl(oldE);
    expect(r.value === 120 && oldId === 0xffff_ffff, `5! = ${r.value}, old address reads 0x${oldId.toString(16)}`);
    return `testdev BAR2 0x${old2.toString(16)} -> 0x${new2.toString(16)} (64-bit, data and view followed); edu BAR0 0x${oldE.toString(16)} -> 0x${eBar.base.toString(16)}: 5! = ${r.value} by MSI`;
  });
}

// ---------------------------------------------------------------------------------------------
// The VMM half: handles and host addresses live here only.

interface ProjectedDevices {
  bus: GuestPciBus;
  handles: number[];
  summary: string;
  disconnect: () => void;
  opCount: (op: string) => number;
}

function projectDevices(vm: RawPciClient, irqs: GuestInterruptSink, eduBdf: string, tdBdf: string): ProjectedDevices {
  const bus = new GuestPciBus({ sink: irqs });
  const handles: number[] = [];
  const parts: string[] = [];
  const slots: [string, string, number][] = [
    ['edu', eduBdf, 6],
    ['testdev', tdBdf, 7],
  ];
  for (const [name, bdf, slot] of slots) {
    const h = vm.openDevice(bdf, { detachHostDriver: true });
    handles.push(h);
    vm.powerStateChange(h, PCIRAW_POWER.ON);
    const front = new PciFront(vm, h, { name });
    const at = bus.attach(front, slot);
    parts.push(`${name} ${bdf} -> guest ${at.toShortString()} (line ${bus.functions().find((f) => f.bdf.equals(at))!.line})`);
  }
  const disconnect = bus.connect(vm);
  return { bus, handles, summary: parts.join('; '), disconnect, opCount: (op) => vm.opCounts[op] ?? 0 };
}

// ---------------------------------------------------------------------------------------------
// The guest half: a bus, its RAM and its interrupt controller; nothing else.

/** The guest's interrupt controller: records line levels and messages, lets the driver wait for them. */
class DemoInterruptController implements GuestInterruptSink {
  readonly levels = new Map<number, boolean>();
  readonly msis: { address: bigint; data: number; source: GuestMsiSource }[] = [];
  readonly timeoutMs: number;

  constructor(timeoutMs: number) {
    this.timeoutMs = timeoutMs;
  }

  setIrqLevel(line: number, level: boolean): void {
    this.levels.set(line, level);
  }

  deliverMsi(address: bigint, data: number, source: GuestMsiSource): void {
    this.msis.push({ address, data, source });
  }

  /** Waits until line `line` is asserted. */
  async line(line: number): Promise<void> {
    await this.#until(() => (this.levels.get(line) ? true : undefined), `line ${line} to be asserted`);
  }

  /** Waits for the `nth` (1-based) message matching `pred` since the controller started. */
  async msi(pred: (m: { address: bigint; data: number }) => boolean, nth = 1): Promise<{ address: bigint; data: number }> {
    return this.#until(() => this.msis.filter(pred)[nth - 1], 'an MSI');
  }

  async #until<T>(probe: () => T | undefined, what: string): Promise<T> {
    const deadline = performance.now() + this.timeoutMs;
    for (;;) {
      const v = probe();
      if (v !== undefined) return v;
      if (performance.now() > deadline) throw new Error(`the guest waited ${this.timeoutMs} ms for ${what} in vain`);
      await sleep(1);
    }
  }
}

interface GuestBar {
  name: string;
  /** Config offset of its (low) register. */
  reg: number;
  kind: 'io' | 'mem32' | 'mem64' | 'rom';
  size: bigint;
  base: bigint;
}

/** A device as the guest found it. */
class GuestDevice {
  readonly dev: number;
  readonly fn: number;
  readonly vendor: number;
  readonly device: number;
  readonly line: number;
  readonly caps = new Map<number, number>();
  bars: GuestBar[] = [];

  constructor(dev: number, fn: number, id: number, line: number) {
    this.dev = dev;
    this.fn = fn;
    this.vendor = id & 0xffff;
    this.device = id >>> 16;
    this.line = line;
  }

  get label(): string {
    return this.device === EDU_IDS.device ? 'edu' : this.device === TESTDEV_IDS.device ? 'testdev' : `${hex4(this.vendor)}:${hex4(this.device)}`;
  }

  get name(): string {
    return `00:${this.dev.toString(16).padStart(2, '0')}.${this.fn} ${hex4(this.vendor)}:${hex4(this.device)} (${this.label})`;
  }

  bar(name: string): GuestBar {
    const b = this.bars.find((x) => x.name === name);
    if (!b) throw new Error(`${this.label} has no ${name}`);
    return b;
  }

  cap(id: number): number {
    const at = this.caps.get(id);
    if (at === undefined) throw new Error(`${this.label} has no capability 0x${id.toString(16)}`);
    return at;
  }
}

/** The guest OS's PCI code: everything through the bus's ports and MMIO, the RAM and the interrupt controller. */
class GuestDriver {
  readonly bus: Pick<GuestPciBus, 'ioRead' | 'ioWrite' | 'mmioRead' | 'mmioWrite' | 'endOfInterrupt'>;
  readonly ram: Uint8Array;
  readonly irqs: DemoInterruptController;

  constructor(bus: GuestDriver['bus'], ram: Uint8Array, irqs: DemoInterruptController) {
    this.bus = bus;
    this.ram = ram;
    this.irqs = irqs;
  }

  // port and memory instructions
  inb(port: number): number {
    return this.bus.ioRead(port, 1);
  }
  inl(port: number): number {
    return this.bus.ioRead(port, 4);
  }
  outl(port: number, v: number): void {
    this.bus.ioWrite(port, 4, v >>> 0);
  }
  readw(a: bigint): number {
    return this.bus.mmioRead(a, 2);
  }
  readl(a: bigint): number {
    return this.bus.mmioRead(a, 4);
  }
  writel(a: bigint, v: number): void {
    this.bus.mmioWrite(a, 4, v >>> 0);
  }
  readq(a: bigint): bigint {
    return this.bus.mmioRead(a, 8);
  }
  writeq(a: bigint, v: bigint): void {
    this.bus.mmioWrite(a, 8, v);
  }

  // configuration mechanism #1
  #select(dev: number, fn: number, off: number): void {
    this.outl(0xcf8, (0x8000_0000 | (dev << 11) | (fn << 8) | (off & 0xfc)) >>> 0);
  }
  cfgReadAt(dev: number, fn: number, off: number, cb: 1 | 2 | 4): number {
    this.#select(dev, fn, off);
    return this.bus.ioRead(0xcfc + (off & 3), cb);
  }
  cfgRead(d: GuestDevice, off: number, cb: 1 | 2 | 4): number {
    return this.cfgReadAt(d.dev, d.fn, off, cb);
  }
  cfgWrite(d: GuestDevice, off: number, cb: 1 | 2 | 4, v: number): void {
    this.#select(d.dev, d.fn, off);
    this.bus.ioWrite(0xcfc + (off & 3), cb, v >>> 0);
  }

  /** Scans bus 0: function 0 of every slot, functions 1..7 where the multifunction bit says so. */
  enumerate(): GuestDevice[] {
    const found: GuestDevice[] = [];
    for (let dev = 0; dev < 32; dev++) {
      const fns = this.cfgReadAt(dev, 0, PCI_HEADER_TYPE, 1) & 0x80 ? 8 : 1;
      for (let fn = 0; fn < fns; fn++) {
        const id = this.cfgReadAt(dev, fn, PCI_VENDOR_ID, 4);
        if ((id & 0xffff) === 0xffff) continue;
        const d = new GuestDevice(dev, fn, id, this.cfgReadAt(dev, fn, PCI_INTERRUPT_LINE, 1));
        for (const cap of capabilityList((offset, width) => this.cfgRead(d, offset, width))) d.caps.set(cap.id, cap.offset);
        found.push(d);
      }
    }
    return found;
  }

  /** Sizes BARs 0..5 and the ROM with decode off (PCI Local Bus spec 6.2.5.1: write all-ones, read, restore). */
  sizeBars(d: GuestDevice): void {
    const cmd = this.cfgRead(d, PCI_COMMAND, 2);
    this.cfgWrite(d, PCI_COMMAND, 2, cmd & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY));
    d.bars = [];
    for (let i = 0; i < 6; i++) {
      const reg = PCI_BASE_ADDRESS_0 + 4 * i;
      const orig = this.cfgRead(d, reg, 4);
      this.cfgWrite(d, reg, 4, 0xffff_ffff);
      const probe = this.cfgRead(d, reg, 4);
      this.cfgWrite(d, reg, 4, orig);
      if (probe === 0) continue;
      if (probe & PCI_BASE_ADDRESS_SPACE_IO) {
        d.bars.push({ name: `BAR${i}`, reg, kind: 'io', size: BigInt((~(probe & ~3) + 1) & 0xffff), base: 0n });
      } else if (probe & PCI_BASE_ADDRESS_MEM_TYPE_64) {
        const origHi = this.cfgRead(d, reg + 4, 4);
        this.cfgWrite(d, reg + 4, 4, 0xffff_ffff);
        const hi = this.cfgRead(d, reg + 4, 4);
        this.cfgWrite(d, reg + 4, 4, origHi);
        const mask = (BigInt(hi) << 32n) | BigInt((probe & ~0xf) >>> 0);
        d.bars.push({ name: `BAR${i}`, reg, kind: 'mem64', size: (~mask + 1n) & 0xffff_ffff_ffff_ffffn, base: 0n });
        i++;
      } else {
        d.bars.push({ name: `BAR${i}`, reg, kind: 'mem32', size: BigInt((~(probe & ~0xf) + 1) >>> 0), base: 0n });
      }
    }
    const rom = this.cfgRead(d, PCI_ROM_ADDRESS, 4);
    this.cfgWrite(d, PCI_ROM_ADDRESS, 4, ~PCI_ROM_ADDRESS_ENABLE >>> 0);
    const probe = this.cfgRead(d, PCI_ROM_ADDRESS, 4);
    this.cfgWrite(d, PCI_ROM_ADDRESS, 4, rom);
    if (probe) d.bars.push({ name: 'ROM', reg: PCI_ROM_ADDRESS, kind: 'rom', size: BigInt((~(probe & ~0x7ff) + 1) >>> 0), base: 0n });
    this.cfgWrite(d, PCI_COMMAND, 2, cmd);
  }

  /** Places every BAR in the guest's windows, naturally aligned, largest first. */
  placeAll(devs: GuestDevice[]): void {
    const next: Record<'io' | 'mem32' | 'mem64', bigint> = { io: WINDOW.io, mem32: WINDOW.mem32, mem64: WINDOW.mem64 };
    const all = devs.flatMap((d) => d.bars.map((b) => ({ d, b }))).sort((x, y) => (y.b.size > x.b.size ? 1 : y.b.size < x.b.size ? -1 : 0));
    for (const { d, b } of all) {
      const win = b.kind === 'rom' ? 'mem32' : b.kind;
      const at = (next[win] + b.size - 1n) & ~(b.size - 1n);
      next[win] = at + b.size;
      this.#program(d, b, at);
    }
  }

  /** Moves BAR `b` to `to` while decode stays enabled (a 64-bit BAR: low half, then high half). */
  moveBar(d: GuestDevice, b: GuestBar, to: bigint): void {
    this.#program(d, b, to);
  }

  #program(d: GuestDevice, b: GuestBar, at: bigint): void {
    this.cfgWrite(d, b.reg, 4, Number(at & 0xffff_ffffn));
    if (b.kind === 'mem64') this.cfgWrite(d, b.reg + 4, 4, Number(at >> 32n));
    b.base = at;
  }

  /** Programs and enables MSI (64-bit address) in the device's MSI capability. */
  enableMsi(d: GuestDevice, address: bigint, data: number): void {
    const c = d.cap(PCI_CAP_ID_MSI);
    this.cfgWrite(d, c + PCI_MSI_ADDRESS_LO, 4, Number(address & 0xffff_ffffn));
    this.cfgWrite(d, c + PCI_MSI_ADDRESS_HI, 4, Number(address >> 32n));
    this.cfgWrite(d, c + PCI_MSI_DATA_64, 2, data);
    this.cfgWrite(d, c + PCI_MSI_FLAGS, 2, this.cfgRead(d, c + PCI_MSI_FLAGS, 2) | PCI_MSI_FLAGS_ENABLE);
  }

  disableMsi(d: GuestDevice): void {
    const c = d.cap(PCI_CAP_ID_MSI);
    this.cfgWrite(d, c + PCI_MSI_FLAGS, 2, this.cfgRead(d, c + PCI_MSI_FLAGS, 2) & ~PCI_MSI_FLAGS_ENABLE);
  }

  /** edu n! with the completion interrupt on INTx: wait for the line, ack the cause on the device, EOI. */
  async eduFactorialIntx(d: GuestDevice, n: number): Promise<{ value: number }> {
    const bar = d.bar('BAR0').base;
    this.writel(bar + BigInt(EDU.STATUS), EDU.STATUS_IRQFACT);
    this.writel(bar + BigInt(EDU.FACTORIAL), n);
    await this.irqs.line(d.line);
    const status = this.readl(bar + BigInt(EDU.IRQ_STATUS));
    if (!(status & EDU.IRQ_FACT)) throw new Error(`line asserted but interrupt status is 0x${status.toString(16)}`);
    this.writel(bar + BigInt(EDU.IRQ_ACK), status);
    this.bus.endOfInterrupt(d.line);
    await sleep(5);
    if (this.irqs.levels.get(d.line)) throw new Error('the line stayed asserted after the ack and EOI');
    return { value: this.readl(bar + BigInt(EDU.FACTORIAL)) };
  }

  /** edu n! with the completion interrupt by MSI (MSI must be enabled). */
  async eduFactorialMsi(d: GuestDevice, n: number): Promise<{ value: number; msi: { address: bigint; data: number } }> {
    const bar = d.bar('BAR0').base;
    const seen = this.irqs.msis.filter((m) => m.data === EDU_MSI_DATA).length;
    this.writel(bar + BigInt(EDU.STATUS), EDU.STATUS_IRQFACT);
    this.writel(bar + BigInt(EDU.FACTORIAL), n);
    const msi = await this.irqs.msi((m) => m.data === EDU_MSI_DATA, seen + 1);
    this.writel(bar + BigInt(EDU.IRQ_ACK), this.readl(bar + BigInt(EDU.IRQ_STATUS)));
    return { value: this.readl(bar + BigInt(EDU.FACTORIAL)), msi };
  }

  /** One edu DMA between guest RAM (bus address = guest-physical) and the device buffer, MSI on completion. */
  async eduDma(d: GuestDevice, ram: bigint, toRam: boolean): Promise<void> {
    const bar = d.bar('BAR0').base;
    const dev = BigInt(EDU.DMA_BUF);
    const seen = this.irqs.msis.filter((m) => m.data === EDU_MSI_DATA).length;
    this.writeq(bar + BigInt(EDU.DMA_SRC), toRam ? dev : ram);
    this.writeq(bar + BigInt(EDU.DMA_DST), toRam ? ram : dev);
    this.writeq(bar + BigInt(EDU.DMA_COUNT), BigInt(DMA_LEN));
    this.writel(bar + BigInt(EDU.DMA_CMD), EDU.CMD_START | EDU.CMD_IRQ | (toRam ? EDU.CMD_TO_RAM : 0));
    await this.irqs.msi((m) => m.data === EDU_MSI_DATA, seen + 1);
    this.writel(bar + BigInt(EDU.IRQ_ACK), this.readl(bar + BigInt(EDU.IRQ_STATUS)));
    if (this.readl(bar + BigInt(EDU.DMA_CMD)) & EDU.CMD_START) throw new Error('DMA interrupt arrived but the command still runs');
  }

  /** Where the MSI-X table and PBA are in guest-physical space (from the capability and the guest's BAR placement). */
  msixTable(d: GuestDevice): { table: bigint; pba: bigint } {
    const c = d.cap(PCI_CAP_ID_MSIX);
    const t = this.cfgRead(d, c + 4, 4);
    const p = this.cfgRead(d, c + PCI_MSIX_PBA, 4);
    const base = (bir: number) => d.bar(`BAR${bir}`).base;
    return { table: base(t & 7) + BigInt((t & ~7) >>> 0), pba: base(p & 7) + BigInt((p & ~7) >>> 0) };
  }

  programMsix(t: { table: bigint }, v: number, address: bigint, data: number, masked: boolean): void {
    const e = t.table + BigInt(v * PCI_MSIX_ENTRY_SIZE);
    for (const [i, dword] of msixEntryDwords({ address, data, masked }).entries()) this.writel(e + BigInt(4 * i), dword);
  }

  maskMsix(t: { table: bigint }, v: number, masked: boolean): void {
    this.writel(t.table + BigInt(v * 16 + PCI_MSIX_ENTRY_VECTOR_CTRL), masked ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0);
  }
}

function expect(cond: boolean, msg: string): void {
  if (!cond) throw new Error(msg);
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function hex4(v: number): string {
  return v.toString(16).padStart(4, '0');
}

function fmtSize(size: bigint): string {
  if (size >= 1n << 20n && size % (1n << 20n) === 0n) return `${size >> 20n} MiB`;
  if (size >= 1024n && size % 1024n === 0n) return `${size >> 10n} KiB`;
  return `${size} ${size < 1024n ? 'bytes' : ''}`.trim();
}
