// PciFront: a host device projected onto the guest PCI bus (Palacios' pci_front, completed): virtual config copy, virtual BARs and ROM, command gating, virtual MSI/MSI-X, forwarded accesses.
//
// What Palacios' pci_front.c does, and what this adds:
// - pci_front: pull the device's config space on attach; decode I/O, MEM24, MEM32 and MEM64
//   (low and high halves) BARs; answer size probes from the virtual copy; forward port and memory
//   accesses of each decoded range through the client; move a range when the guest rewrites its
//   BAR (the value masked to the BAR's size, flag bits kept); forward config writes through a
//   filter.
// - added: the expansion ROM BAR (enable bit, sizing, reads served from the device's ROM); the
//   command register (I/O and memory decode switch ranges on and off, bus mastering gates DMA
//   and MSI, INTx disable honoured) forwarded to the host; BAR moves held until decode is
//   enabled and a 64-bit BAR moved on its high half; virtual MSI and MSI-X (table and PBA
//   trapped, per-vector masks, host vectors translated to the guest's messages); virtual
//   multifunction bit (set by the bus) and interrupt line; a BAR mapped straight into ring 3
//   (MAP_REGION) served from its view, the view following the BAR when it moves.
//
// The parts live beside it: the host seam (pci-front-host.ts), the config filter
// (config-filter.ts), MSI/MSI-X delivery and host programming (front-messages.ts), accesses to
// a directly mapped BAR (direct-view.ts); registers, capabilities and MSI-X tables are the
// shared PCI core (shared/pci/).

import { onesOf, onesValue, readLe, replaceBytes, writeLe } from '../../shared/le.js';
import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_MEM_TYPE_1M,
  PCI_BASE_ADDRESS_MEM_TYPE_MASK,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_CFG_SPACE_SIZE,
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_HEADER_TYPE,
  PCI_HEADER_TYPE_MASK,
  PCI_INTERRUPT_LINE,
  PCI_ROM_ADDRESS,
  PCI_STD_NUM_BARS,
} from '../../shared/linux/pci-regs.js';
import { childLogger } from '../../shared/log.js';
import { readSplit, writeSplit } from '../../shared/pci/access-split.js';
import { findCapability } from '../../shared/pci/capabilities.js';
import { PciConfigRegisters } from '../../shared/pci/config-registers.js';
import { PCI_COMMAND_WRITABLE } from '../../shared/pci/header-bits.js';
import type { PciRegionKind } from '../../shared/pci/region.js';
import { PCIRAW_IRQ_KIND, PCIRAW_REGION, type PciRawDevHandle, type PciRawIrqEvent } from '../../shared/protocol.js';
import type { MappedRegion } from '../client.js';
import { VirtualBar } from './bars.js';
import { type ConfigField, configField, sameGroup } from './config-filter.js';
import { viewRead, viewWrite } from './direct-view.js';
import { FrontMessages } from './front-messages.js';
import type { GuestDecodedRange, GuestDirectMapping, GuestPciFunction, GuestPciLink, MmioWidth, PortWidth } from './guest-bus.js';
import { VirtualMsi, VirtualMsix } from './msi.js';
import type { PciFrontHost } from './pci-front-host.js';

export type { PciFrontHost } from './pci-front-host.js';

/** Options of {@link PciFront}. */
export interface PciFrontOptions {
  /** Map memory BARs straight into ring 3 where ring 0 allows it (default true). */
  mapRegions?: boolean;
  /** Call REGISTER_R0_IRQ_HANDLER with the guest line when attached (default true). */
  registerIrqHandler?: boolean;
  /**
   * Message address PciFront programs into the host's MSI/MSI-X (default 0xfee0_0000). The host
   * device's messages only tell which vector fired; the guest receives its own messages.
   */
  hostMsiAddress?: bigint;
  /** Name for logs (default: the handle). */
  name?: string;
}

const log = childLogger({ ring: 3, part: 'pci-front' });

/**
 * A host device on the guest bus. Construct it with the client (or any {@link PciFrontHost}) and
 * the device handle (the device open and powered on); the constructor pulls the config space and
 * the region layout, then {@link GuestPciBus.attach} places it. Guest BARs start unplaced (address
 * 0, decode off): the guest's firmware or driver sizes and places them.
 *
 * Errors: the constructor throws what the host throws (the device could not be read); after
 * that guest accesses never throw: host failures are logged and read all-ones.
 */
export class PciFront implements GuestPciFunction {
  readonly host: PciFrontHost;
  readonly handle: PciRawDevHandle;
  readonly name: string;
  /** Config space size of the host device (256 or 4096). */
  readonly configSize: number;
  /** The virtual BARs by region index (0..5, 6 = ROM); absent regions are missing. */
  readonly bars: ReadonlyMap<number, VirtualBar>;
  /** Virtual MSI, when the device has the capability. */
  readonly msi: VirtualMsi | undefined;
  /** Virtual MSI-X, when the device has the capability. */
  readonly msix: VirtualMsix | undefined;
  /** Counters: accesses forwarded to the host, served from a direct view, and interrupts delivered/held/dropped. */
  readonly stats = { forwarded: 0, direct: 0, msiSent: 0, msiPending: 0, msiDropped: 0, intxAsserted: 0 };
  /** The virtual config copy: registers with the guest-writable bits of the virtual fields. */
  readonly #regs = new PciConfigRegisters(PCI_CFG_SPACE_SIZE);
  readonly #barList: VirtualBar[];
  readonly #maps = new Map<number, MappedRegion>();
  readonly #announced = new Map<number, GuestDirectMapping>();
  readonly #messages: FrontMessages;
  readonly #registerIrq: boolean;
  #link: GuestPciLink | undefined;
  #hostIntx = false;
  #intxOut = false;

  constructor(host: PciFrontHost, handle: PciRawDevHandle, options: PciFrontOptions = {}) {
    this.host = host;
    this.handle = handle;
    this.name = options.name ?? `handle 0x${(handle >>> 0).toString(16)}`;
    this.#registerIrq = options.registerIrqHandler ?? true;
    // Pull the config space (pci_front does this on attach).
    for (let off = 0; off < PCI_CFG_SPACE_SIZE; off += 4) this.#regs.set32(off, host.cfgRead(handle, off, 4));
    this.configSize = this.#probeConfigSize();
    const snapshot = this.#regs.bytes.slice();
    // Regions: GET_REGION_INFO says kind and size; the BAR's own type bits tell MEM24 apart.
    const bars = new Map<number, VirtualBar>();
    for (let r = 0; r <= PCIRAW_REGION.ROM; r++) {
      const info = host.getRegionInfo(handle, r);
      if (!info.present || info.kind === 'none') continue;
      let kind: PciRegionKind = info.kind;
      if (kind === 'mem32' && (readLe(snapshot, PCI_BASE_ADDRESS_0 + 4 * r, 4) & PCI_BASE_ADDRESS_MEM_TYPE_MASK) === PCI_BASE_ADDRESS_MEM_TYPE_1M)
        kind = 'mem24';
      bars.set(r, new VirtualBar({ index: r, kind, size: info.regionSize, prefetchable: info.prefetchable, hostStart: info.regionStart }));
      if (kind === 'mem64') r++;
    }
    this.bars = bars;
    this.#barList = [...bars.values()];
    // Header: command starts 0 (decode off), BARs unplaced, header type without the multifunction bit, line 0.
    this.#regs.set16(PCI_COMMAND, 0);
    for (let r = 0; r < PCI_STD_NUM_BARS; r++) this.#regs.set32(PCI_BASE_ADDRESS_0 + 4 * r, 0);
    this.#regs.set32(PCI_ROM_ADDRESS, 0);
    this.#syncBarRegisters();
    this.#regs.set8(PCI_HEADER_TYPE, this.#regs.get8(PCI_HEADER_TYPE) & PCI_HEADER_TYPE_MASK);
    this.#regs.set8(PCI_INTERRUPT_LINE, 0);
    this.#regs.setWritable(PCI_INTERRUPT_LINE, 1, 0xff);
    // Capabilities kept virtual.
    const msiCap = findCapability(this.#regs.reader, PCI_CAP_ID_MSI);
    this.msi = msiCap ? new VirtualMsi(this.#regs, msiCap) : undefined;
    const msixCap = findCapability(this.#regs.reader, PCI_CAP_ID_MSIX);
    this.msix = msixCap ? new VirtualMsix(this.#regs, msixCap) : undefined;
    this.#messages = new FrontMessages(
      {
        name: this.name,
        host,
        handle,
        bars,
        stats: this.stats,
        busMaster: () => (this.command & PCI_COMMAND_MASTER) !== 0,
        send: (address, data, kind, vector) => {
          this.stats.msiSent++;
          this.#link?.sendMsi(address, data, kind, vector);
        },
        hostCfgWrite: (offset, len, value) => this.#hostCfgWrite(offset, len, value),
        failed: (what, e, answer) => this.#failed(what, e, answer),
        messagesEnabled: () => this.#dropIntxForMessages(),
        updateIntx: () => this.#updateIntx(),
      },
      this.msi,
      this.msix,
      options.hostMsiAddress ?? 0xfee0_0000n,
    );
    if (options.mapRegions ?? true) this.#mapRegions();
  }

  /** The guest's command register. */
  get command(): number {
    return this.#regs.get16(PCI_COMMAND);
  }

  /**
   * The ranges this function decodes now: each placed BAR (ports or guest-physical bytes) whose
   * space the command register enables, and the ROM while its enable bit is set.
   */
  decodedRanges(): GuestDecodedRange[] {
    const cmd = this.command;
    const ioOn = (cmd & PCI_COMMAND_IO) !== 0;
    const memOn = (cmd & PCI_COMMAND_MEMORY) !== 0;
    const out: GuestDecodedRange[] = [];
    for (const bar of this.#barList) {
      const r = bar.decoded(ioOn, memOn);
      if (r) out.push({ space: bar.space, start: r.start, end: r.end, region: bar.index });
    }
    return out;
  }

  /** Whether the function's INTx output is asserted toward the bus (after INTx disable). */
  get intxAsserted(): boolean {
    return this.#intxOut;
  }

  /** Guest address and line, once attached. */
  get link(): GuestPciLink | undefined {
    return this.#link;
  }

  // ---- GuestPciFunction: attach ----

  /** Bus hook: records the link, sets the interrupt line register to the routed line, registers the host IRQ handler. */
  attached(link: GuestPciLink): void {
    this.#link = link;
    this.#regs.set8(PCI_INTERRUPT_LINE, link.line >= 0 ? link.line : 0xff);
    if (this.#registerIrq && this.host.registerIrqHandler) {
      try {
        this.host.registerIrqHandler(this.handle, Math.max(0, link.line));
      } catch (e) {
        log.debug(`${this.name}: REGISTER_R0_IRQ_HANDLER: ${(e as Error).message}`);
      }
    }
    this.#refreshMappings();
  }

  /** Bus hook: withdraws direct mappings and the INTx level; unmaps views from ring 3. */
  detached(): void {
    for (const [region, m] of this.#announced) {
      this.#announced.delete(region);
      this.#link?.directMapChanged(m, false);
    }
    this.#setIntxOut(false);
    this.#link = undefined;
    for (const m of this.#maps.values()) {
      try {
        this.host.unmapRegion?.(m);
      } catch (e) {
        log.debug(`${this.name}: UNMAP_REGION: ${(e as Error).message}`);
      }
    }
    this.#maps.clear();
  }

  // ---- GuestPciFunction: config space ----

  /** Config read through the filter (see the file comment). Offsets past 255 go to the host. */
  configRead(offset: number, cb: PortWidth): number {
    let hostValue: number | undefined;
    let v = 0;
    for (let i = 0; i < cb; i++) {
      const at = offset + i;
      let byte: number;
      if (this.#field(at) === 'host') {
        hostValue ??= this.#hostCfgRead(offset, cb);
        byte = (hostValue >>> (8 * i)) & 0xff;
      } else byte = this.#regs.get8(at);
      v |= byte << (8 * i);
    }
    return v >>> 0;
  }

  /**
   * Config write through the filter: read-only bytes dropped; the command register kept and
   * forwarded to the host (decode, bus master, INTx disable take effect); BARs and ROM BAR
   * virtual; interrupt line, MSI and MSI-X virtual; everything else forwarded.
   */
  configWrite(offset: number, cb: PortWidth, value: number): void {
    let i = 0;
    while (i < cb) {
      const kind = this.#field(offset + i);
      let j = i + 1;
      while (j < cb && this.#field(offset + j) === kind && sameGroup(kind, offset + i, offset + j)) j++;
      const part = (value >>> (8 * i)) & onesOf(j - i);
      this.#writeField(kind, offset + i, j - i, part >>> 0);
      i = j;
    }
  }

  // ---- GuestPciFunction: BAR decode and accesses ----

  /** Whether one of the BARs decodes `[address, address + cb)` now. */
  decodes(space: 'io' | 'mem', address: bigint, cb: number): boolean {
    return this.#hit(space, address, cb) !== undefined;
  }

  /** Guest port read inside an I/O BAR: forwarded to the host port (PIO_READ). */
  ioRead(port: number, cb: PortWidth): number {
    const hit = this.#hit('io', BigInt(port), cb);
    if (!hit) return onesOf(cb);
    this.stats.forwarded++;
    try {
      return this.host.pioRead(this.handle, Number(hit.bar.hostStart + hit.offset), cb);
    } catch (e) {
      return this.#failed(`port read 0x${port.toString(16)}/${cb}`, e, onesOf(cb));
    }
  }

  /** Guest port write inside an I/O BAR: forwarded (PIO_WRITE). */
  ioWrite(port: number, cb: PortWidth, value: number): void {
    const hit = this.#hit('io', BigInt(port), cb);
    if (!hit) return;
    this.stats.forwarded++;
    try {
      this.host.pioWrite(this.handle, Number(hit.bar.hostStart + hit.offset), cb, value);
    } catch (e) {
      this.#failed(`port write 0x${port.toString(16)}/${cb}`, e, 0);
    }
  }

  /**
   * Guest MMIO read inside a memory BAR or the ROM: the MSI-X table and PBA are emulated, a
   * directly mapped BAR is read from its view, the rest is forwarded (MMIO_READ).
   */
  mmioRead(address: bigint, cb: MmioWidth): number | bigint {
    const allOnes = onesValue(cb);
    const hit = this.#hit('mem', address, cb);
    if (!hit) return allOnes;
    const { bar, offset } = hit;
    const off = Number(offset);
    const msix = this.msix;
    if (msix && bar.kind !== 'rom' && msix.inTable(bar.index, off, cb))
      return msix.readTable(off - msix.tableOffset, cb) ?? this.#guestMistake(`MSI-X table read ${cb}@0x${off.toString(16)}`, allOnes);
    if (msix && bar.kind !== 'rom' && msix.inPba(bar.index, off, cb))
      return msix.readPba(off - msix.pbaOffset, cb) ?? this.#guestMistake(`MSI-X PBA read ${cb}@0x${off.toString(16)}`, allOnes);
    const m = this.#maps.get(bar.index);
    if (m) {
      this.stats.direct++;
      return viewRead(m.view, off, cb);
    }
    this.stats.forwarded++;
    try {
      return this.host.mmioRead(this.handle, bar.hostStart + offset, cb);
    } catch (e) {
      return this.#failed(`MMIO read 0x${address.toString(16)}/${cb}`, e, allOnes);
    }
  }

  /** Guest MMIO write; see {@link mmioRead}. ROM writes are dropped (read-only). */
  mmioWrite(address: bigint, cb: MmioWidth, value: number | bigint): void {
    const hit = this.#hit('mem', address, cb);
    if (!hit) return;
    const { bar, offset } = hit;
    const off = Number(offset);
    if (bar.kind === 'rom') {
      this.#guestMistake(`write to the expansion ROM at 0x${off.toString(16)} (read-only)`, 0);
      return;
    }
    const msix = this.msix;
    if (msix?.inTable(bar.index, off, cb)) {
      if (!msix.writeTable(off - msix.tableOffset, cb, value)) this.#guestMistake(`MSI-X table write ${cb}@0x${off.toString(16)}`, 0);
      else this.#messages.deliverPendingMsix();
      return;
    }
    if (msix?.inPba(bar.index, off, cb)) {
      this.#guestMistake(`MSI-X PBA write at 0x${off.toString(16)} (read-only)`, 0);
      return;
    }
    const m = this.#maps.get(bar.index);
    if (m) {
      this.stats.direct++;
      viewWrite(m.view, off, cb, value);
      return;
    }
    this.stats.forwarded++;
    try {
      this.host.mmioWrite(this.handle, bar.hostStart + offset, cb, cb === 8 ? BigInt(value) : Number(value));
    } catch (e) {
      this.#failed(`MMIO write 0x${address.toString(16)}/${cb}`, e, 0);
    }
  }

  // ---- GuestPciFunction: interrupts ----

  /**
   * A host event from ring 0 (GET_IRQ). Returns false when it is another device's. INTx asserts
   * the guest line (held until {@link endOfInterrupt}); MSI/MSI-X vector `v` becomes the guest's
   * programmed message for `v`, or a pending bit while masked, or is dropped while the guest has
   * MSI/MSI-X disabled or bus mastering off (an MSI is a memory write: 6.8). Faults go to the sink.
   */
  hostIrq(ev: PciRawIrqEvent): boolean {
    if (ev.device !== this.handle) return false;
    switch (ev.kind) {
      case PCIRAW_IRQ_KIND.INTX:
        this.#hostIntx = true;
        this.#updateIntx();
        break;
      case PCIRAW_IRQ_KIND.MSI:
        this.#messages.hostMsi(ev.vector);
        break;
      case PCIRAW_IRQ_KIND.MSIX:
        this.#messages.hostMsix(ev.vector);
        break;
      case PCIRAW_IRQ_KIND.FAULT:
        this.#link?.fault(ev.detail ?? `DMA fault at IOVA 0x${ev.address.toString(16)}`, ev);
        break;
    }
    return true;
  }

  /**
   * The guest ended the interrupt on this function's line: the INTx level is resampled. The
   * guest line drops and the host line is unmasked (ACK_IRQ); a device still asserting INTx makes
   * ring 0 send another event, which asserts the line again.
   */
  endOfInterrupt(): void {
    if (!this.#hostIntx) return;
    this.#hostIntx = false;
    this.#updateIntx();
    this.#ackHostIntx();
  }

  // ---- config internals ----

  #field(at: number): ConfigField {
    return configField(at, (b) => this.msi?.contains(b) === true || this.msix?.contains(b) === true);
  }

  #writeField(kind: ConfigField, at: number, len: number, value: number): void {
    switch (kind) {
      case 'ro':
        log.debug(`${this.name}: config write 0x${value.toString(16)} at 0x${at.toString(16)}/${len} to a read-only register dropped`);
        return;
      case 'host':
        this.#hostCfgWrite(at, len, value);
        return;
      case 'command': {
        const merged = replaceBytes(this.command, at - PCI_COMMAND, len, value);
        this.#writeCommand(merged & 0xffff);
        return;
      }
      case 'bar': {
        const reg = at & ~3;
        const merged = replaceBytes(this.#regs.get32(reg), at - reg, len, value);
        this.#writeBar(reg, merged);
        return;
      }
      case 'virtual': {
        const msiBefore = this.msi ? { enabled: this.msi.enabled, flags: this.msi.flags } : undefined;
        const msixBefore = this.msix?.enabled;
        const maskBefore = this.msix?.functionMasked;
        const part = new Uint8Array(len);
        writeLe(part, 0, len, value);
        this.#regs.writeBytes(at, part);
        if (this.msi?.contains(at)) this.#messages.afterMsiWrite(msiBefore!.enabled, msiBefore!.flags);
        if (this.msix?.contains(at)) this.#messages.afterMsixWrite(msixBefore!, maskBefore!);
        return;
      }
    }
  }

  /** PCI_COMMAND: keep the writable bits, forward to the host, then apply decode and INTx changes. */
  #writeCommand(value: number): void {
    const before = this.command;
    const leftover = value & ~PCI_COMMAND_WRITABLE;
    if (leftover) log.debug(`${this.name}: command bits 0x${leftover.toString(16)} not supported: they read 0`);
    const cmd = value & PCI_COMMAND_WRITABLE;
    this.#regs.set16(PCI_COMMAND, cmd);
    // The host device needs the guest's bus mastering for its DMA and MSI, and its INTx disable.
    this.#hostCfgWrite(PCI_COMMAND, 2, cmd);
    // INTx disable cleared while a host INTx is held: the guest line went down when it was set
    // (uio_pci_generic's handler sets it, with no access left to count as EOI), so the held
    // level may be stale. Resample at the host instead of raising it again: ACK_IRQ unmasks the
    // host line and ring 0 sends a new event only if the device still asserts INTx.
    if (this.#hostIntx && (before & PCI_COMMAND_INTX_DISABLE) !== 0 && (cmd & PCI_COMMAND_INTX_DISABLE) === 0) {
      this.#hostIntx = false;
      this.#ackHostIntx();
    }
    const ioOn = (cmd & PCI_COMMAND_IO) !== 0 && (before & PCI_COMMAND_IO) === 0;
    const memOn = (cmd & PCI_COMMAND_MEMORY) !== 0 && (before & PCI_COMMAND_MEMORY) === 0;
    for (const bar of this.#barList) if (bar.space === 'io' ? ioOn : memOn) bar.apply();
    this.#syncBarRegisters();
    this.#refreshMappings();
    this.#updateIntx();
  }

  /** A BAR register (0x10..0x24) or the ROM BAR (0x30), with the dword merged from a partial write. */
  #writeBar(reg: number, value: number): void {
    const cmd = this.command;
    if (reg === PCI_ROM_ADDRESS) {
      const rom = this.bars.get(PCIRAW_REGION.ROM);
      if (rom?.writeLow(value, (cmd & PCI_COMMAND_MEMORY) !== 0)) log.debug(`${this.name}: ROM now at 0x${rom.base!.toString(16)}`);
    } else {
      const idx = (reg - PCI_BASE_ADDRESS_0) >>> 2;
      const low = this.bars.get(idx);
      const below = this.bars.get(idx - 1);
      if (low) {
        if (low.writeLow(value, (cmd & (low.space === 'io' ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY)) !== 0))
          log.debug(`${this.name}: BAR${idx} now at 0x${low.base!.toString(16)}`);
      } else if (below?.kind === 'mem64') {
        if (below.writeHigh(value, (cmd & PCI_COMMAND_MEMORY) !== 0)) log.debug(`${this.name}: BAR${idx - 1} now at 0x${below.base!.toString(16)}`);
      } else log.debug(`${this.name}: write to unimplemented BAR${idx} dropped`);
    }
    this.#syncBarRegisters();
    this.#refreshMappings();
  }

  #syncBarRegisters(): void {
    for (const bar of this.#barList) {
      if (bar.kind === 'rom') this.#regs.set32(PCI_ROM_ADDRESS, bar.low);
      else {
        this.#regs.set32(PCI_BASE_ADDRESS_0 + 4 * bar.index, bar.low);
        if (bar.kind === 'mem64') this.#regs.set32(PCI_BASE_ADDRESS_0 + 4 * (bar.index + 1), bar.high);
      }
    }
  }

  #hostCfgRead(offset: number, cb: PortWidth): number {
    try {
      return readSplit((at, width) => this.host.cfgRead(this.handle, at, width as PortWidth), offset, cb);
    } catch (e) {
      return this.#failed(`config read 0x${offset.toString(16)}/${cb}`, e, onesOf(cb));
    }
  }

  #hostCfgWrite(offset: number, len: number, value: number): void {
    try {
      writeSplit((at, width, part) => this.host.cfgWrite(this.handle, at, width as PortWidth, part), offset, len, value);
    } catch (e) {
      this.#failed(`config write 0x${offset.toString(16)}/${len}`, e, 0);
    }
  }

  #probeConfigSize(): number {
    // The status register says whether there is a capability list; extended config exists when the host answers at 0x100.
    try {
      this.host.cfgRead(this.handle, PCI_CFG_SPACE_SIZE, 4);
      return 4096;
    } catch {
      return PCI_CFG_SPACE_SIZE;
    }
  }

  // ---- BAR internals ----

  #hit(space: 'io' | 'mem', address: bigint, cb: number): { bar: VirtualBar; offset: bigint } | undefined {
    const cmd = this.command;
    const ioOn = (cmd & PCI_COMMAND_IO) !== 0;
    const memOn = (cmd & PCI_COMMAND_MEMORY) !== 0;
    if (space === 'io' ? !ioOn : !memOn) return undefined;
    for (const bar of this.#barList) {
      if (bar.space !== space) continue;
      const r = bar.decoded(ioOn, memOn);
      if (r && address >= r.start && address + BigInt(cb) <= r.end) return { bar, offset: address - r.start };
    }
    return undefined;
  }

  #mapRegions(): void {
    if (!this.host.mapRegion) return;
    for (const bar of this.#barList) {
      if (bar.space !== 'mem' || bar.kind === 'rom') continue;
      if (this.msix && (this.msix.tableBir === bar.index || this.msix.pbaBir === bar.index)) continue;
      try {
        this.#maps.set(bar.index, this.host.mapRegion(this.handle, bar.index));
      } catch (e) {
        log.debug(`${this.name}: BAR${bar.index} stays trapped: ${(e as Error).message}`);
      }
    }
  }

  /** Tells the bus where each directly mapped BAR decodes now (the view follows the BAR). */
  #refreshMappings(): void {
    const link = this.#link;
    if (!link) return;
    const cmd = this.command;
    for (const [region, m] of this.#maps) {
      const r = this.bars.get(region)!.decoded((cmd & PCI_COMMAND_IO) !== 0, (cmd & PCI_COMMAND_MEMORY) !== 0);
      const old = this.#announced.get(region);
      if (old && r && old.guestPhys === r.start) continue;
      if (old) {
        this.#announced.delete(region);
        link.directMapChanged(old, false);
      }
      if (r) {
        const next: GuestDirectMapping = { bdf: link.bdf, region, guestPhys: r.start, size: m.size, bytes: m.bytes, view: m.view };
        this.#announced.set(region, next);
        link.directMapChanged(next, true);
      }
    }
  }

  // ---- interrupt internals ----

  #updateIntx(): void {
    const disabled = (this.command & PCI_COMMAND_INTX_DISABLE) !== 0 || this.msi?.enabled === true || this.msix?.enabled === true;
    this.#setIntxOut(this.#hostIntx && !disabled);
  }

  #setIntxOut(level: boolean): void {
    if (level === this.#intxOut) return;
    this.#intxOut = level;
    if (level) this.stats.intxAsserted++;
    this.#link?.setIntx(level);
  }

  #ackHostIntx(): void {
    try {
      this.host.ackIrq(this.handle, PCIRAW_IRQ_KIND.INTX);
    } catch (e) {
      this.#failed('ACK_IRQ', e, 0);
    }
  }

  /** Enabling MSI/MSI-X stops INTx (6.8.1.3): a held host INTx is acknowledged so ring 0 unmasks it. */
  #dropIntxForMessages(): void {
    if (!this.#hostIntx) return;
    this.#hostIntx = false;
    this.#ackHostIntx();
  }

  // ---- errors ----

  #failed<T>(what: string, e: unknown, answer: T): T {
    log.warn(`${this.name}: ${what} failed on the host: ${(e as Error).message} (the guest reads all-ones)`);
    return answer;
  }

  #guestMistake<T>(what: string, answer: T): T {
    log.debug(`${this.name}: guest ${what}: bad width, alignment or read-only (all-ones / ignored)`);
    return answer;
  }
}
