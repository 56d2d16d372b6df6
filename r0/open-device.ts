// A host device open in one VM: its power state, IRQ routing (INTx automask, MSI edges), DMA policy and fixed-order cleanup.

import { PCI_COMMAND, PCI_COMMAND_IO, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY } from '../shared/linux/pci-regs.js';
import { PCIRAW_IRQ_KIND, type PciRawIrqEvent } from '../shared/protocol.js';
import { show } from '../shared/show.js';
import type { HostDevice, HostDeviceEvents, HostDeviceInfo, HostRegion } from './host.js';
import type { IommuDomain } from './iommu.js';
import type { Session } from './session.js';
import { TIMER_GROUP_MAX, type TimerGroup } from './timers.js';

/**
 * Power state of an open device. `open`: accessible, no IOMMU domain attached yet; `on`: powered
 * on with the VM's domain attached; `suspended`: frozen (no access, timer, IRQ or DMA); `off`.
 */
export type DevicePower = 'open' | 'on' | 'suspended' | 'off';

/** Most MAP_REGION mappings one open device may have at once (past it: VERR_OUT_OF_RESOURCES). */
export const DEVICE_MAX_MAPPINGS = 32;
/** 2^64 - 1: the largest bus address an event may carry. */
const U64_MAX = (1n << 64n) - 1n;
/** 2^53: regions ending above it are looked up with bigints. */
const TWO_53_NUMBER = 2 ** 53;

/** Where a device's events and DMA go; filled in by the dispatcher before the host opens it. */
export interface OpenDeviceDeps {
  session: Session;
  handle: number;
  info: HostDeviceInfo;
  timers: TimerGroup;
  log: (msg: string) => void;
}

/**
 * The ring-0 side of one open device. Implements {@link HostDeviceEvents} for the host device,
 * so every interrupt and DMA the device makes passes ring 0's policy:
 * - INTx is level-triggered and automasked: one event per assertion, unmasked by ACK_IRQ
 *   (a line still asserted then gives the next event), as VFIO does.
 * - MSI and MSI-X are edges: one event per message.
 * - DMA needs power on, the VM's IOMMU domain attached and bus mastering enabled; anything else
 *   is a fault reported to ring 3 and nothing is read or written.
 */
export class OpenDevice implements HostDeviceEvents {
  readonly session: Session;
  readonly handle: number;
  readonly info: HostDeviceInfo;
  readonly timers: TimerGroup;
  /** Set right after the host opened it. */
  hostDevice!: HostDevice;
  power: DevicePower = 'open';
  #powerBeforeSuspend: DevicePower = 'open';
  /** The domain attached at power ON. */
  domain: IommuDomain | undefined;
  /** REGISTER_R0_IRQ_HANDLER's guest IRQ, or undefined. */
  guestIrq: number | undefined;
  intxAsserted = false;
  intxMasked = false;
  /** Driver detached at open (rebound on close); undefined when none was detached. */
  detachedDriver: string | null | undefined;
  /** MAP_REGION views by id. */
  readonly maps = new Map<number, { region: number; start: bigint; size: bigint }>();
  /** Accesses served (statistics). */
  accesses = 0;
  closed = false;
  /** How long each step of {@link shutdown} took, in ms, by step name (filled by the close; `rawpci serve` logs them). */
  readonly closeTimings: Record<string, number> = {};
  readonly #log: (msg: string) => void;

  constructor(deps: OpenDeviceDeps) {
    this.session = deps.session;
    this.handle = deps.handle;
    this.info = deps.info;
    this.timers = deps.timers;
    this.#log = deps.log;
  }

  /** Present regions of the device. */
  regions(): readonly HostRegion[] {
    return this.hostDevice.regions();
  }

  /** I/O regions as plain port ranges (ports fit a number), built once for the PIO hot path. */
  #io: { r: HostRegion; lo: number; hi: number }[] | undefined;

  /**
   * Memory regions (BARs and ROM) for the MMIO hot path: `last[cb]` is the last address an
   * access of `cb` bytes may start at, precomputed so a lookup allocates no bigint; `nlo` and
   * `nend` the bounds as numbers, for an address that arrived as a number (the fixed layout).
   */
  #mem: { r: HostRegion; lo: bigint; last: bigint[]; nlo: number; nend: number }[] | undefined;

  /** The memory region (BAR or ROM) holding bytes `address .. address + cb - 1` (cb 1..8; `address` a bigint, or a safe integer), or undefined. */
  memRegionAt(address: bigint | number, cb: number): HostRegion | undefined {
    this.#mem ??= this.hostDevice
      .regions()
      .filter((x) => x.kind !== 'io')
      .map((r) => ({
        r,
        lo: r.start,
        last: [0n, 1n, 2n, 3n, 4n, 5n, 6n, 7n, 8n].map((w) => r.start + r.size - w),
        // The same bounds as numbers, for a number address: exact while the region ends at or below 2^53.
        nlo: Number(r.start),
        nend: Number(r.start + r.size),
      }));
    if (typeof address === 'number') {
      if (!Number.isSafeInteger(address) || address < 0 || cb < 1 || cb > 8) return undefined;
      for (const x of this.#mem) {
        if (x.nend > TWO_53_NUMBER) return this.memRegionAt(BigInt(address), cb);
        if (address >= x.nlo && address + cb <= x.nend) return x.r;
      }
      return undefined;
    }
    for (const x of this.#mem) {
      const last = x.last[cb];
      if (last !== undefined && address >= x.lo && address <= last) return x.r;
    }
    return undefined;
  }

  /** The I/O region holding ports `port .. port + cb - 1`, or undefined. */
  ioRegionAt(port: number, cb: number): HostRegion | undefined {
    this.#io ??= this.hostDevice
      .regions()
      .filter((x) => x.kind === 'io')
      .map((r) => ({ r, lo: Number(r.start), hi: Number(r.start + r.size) }));
    for (const x of this.#io) if (port >= x.lo && port + cb <= x.hi) return x.r;
    return undefined;
  }

  // ---- HostDeviceEvents: what the device does ----

  intx(asserted: boolean): void {
    this.intxAsserted = asserted;
    if (asserted) this.deliverIntx();
  }

  msi(kind: 'msi' | 'msix', vector: number, address: bigint, data: number): void {
    if (!this.#irqLive()) return;
    // The host seam is public (user device models): a message no bus could carry is a device
    // bug, logged and dropped, never queued for ring 3 (it could not even be encoded).
    if (
      (kind !== 'msi' && kind !== 'msix') ||
      !Number.isInteger(vector) ||
      vector < 0 ||
      vector > 2047 ||
      typeof address !== 'bigint' ||
      address < 0n ||
      address > U64_MAX ||
      !Number.isInteger(data) ||
      data < 0 ||
      data > 0xffff_ffff
    ) {
      this.log(`dropped an impossible ${show(kind)} message from the device: vector ${show(vector)}, address ${show(address)}, data ${show(data)}`);
      return;
    }
    this.session.pushEvent(this.#event(kind === 'msi' ? PCIRAW_IRQ_KIND.MSI : PCIRAW_IRQ_KIND.MSIX, vector, address, data));
  }

  dmaRead(iova: bigint, dest: Uint8Array): boolean {
    return this.#dma(iova, dest, false);
  }

  dmaWrite(iova: bigint, src: Uint8Array): boolean {
    return this.#dma(iova, src, true);
  }

  /** A DMA of `bytes` at `iova` through ring 0's policy and the VM's IOMMU domain; a refusal is a fault report. */
  #dma(iova: bigint, bytes: Uint8Array, write: boolean): boolean {
    const why = this.#dmaBlocked();
    if (why) return this.#fault(iova, bytes.length, write, why);
    if (write ? this.domain!.write(iova, bytes) : this.domain!.read(iova, bytes)) return true;
    const f = this.domain!.faults.at(-1)!;
    return this.#fault(f.iova, bytes.length, write, f.ring3 ? f.reason : domainReason(f.reason), true);
  }

  iommuFault(iova: bigint, write: boolean, reason: string): void {
    this.#fault(iova, 0, write, reason);
  }

  schedule(delayMs: number, cb: () => void): () => void {
    return this.timers.schedule(delayMs, cb, () => this.log(`a timer was dropped: the device already has ${TIMER_GROUP_MAX} pending`));
  }

  log(msg: string): void {
    this.#log(`${this.info.bdf}: ${msg}`);
  }

  // ---- ring 3's requests ----

  /** REGISTER_R0_IRQ_HANDLER. A line asserted already is delivered now. */
  registerIrq(guestIrq: number): void {
    this.guestIrq = guestIrq;
    this.deliverIntx();
  }

  /** UNREGISTER_R0_IRQ_HANDLER: no more events; queued ones are dropped. */
  unregisterIrq(): void {
    this.guestIrq = undefined;
    this.session.dropEventsOf(this.handle);
  }

  /** ACK_IRQ of INTx: unmask; a line still asserted raises the next event. */
  ackIntx(): void {
    this.intxMasked = false;
    this.hostDevice.ackIntx?.();
    this.deliverIntx();
  }

  /** Sends an INTx event if the line is asserted, unmasked, and delivery is live. */
  deliverIntx(): void {
    if (!this.intxAsserted || this.intxMasked || !this.#irqLive()) return;
    this.intxMasked = true;
    this.session.pushEvent(this.#event(PCIRAW_IRQ_KIND.INTX, 0, 0n, 0));
  }

  /** POWER ON: reset the device, attach the VM's IOMMU domain. */
  powerOn(): void {
    this.#resetDevice();
    this.domain = this.session.domain;
    this.power = 'on';
  }

  /** POWER OFF: quiesce, detach the domain, reset. */
  powerOff(): void {
    this.#quiesce();
    this.domain = undefined;
    this.#resetDevice();
    this.power = 'off';
  }

  /** SUSPEND: freeze timers (device state kept); no access, IRQ or DMA until RESUME. */
  suspend(): void {
    this.#powerBeforeSuspend = this.power;
    this.timers.suspend();
    this.power = 'suspended';
  }

  /** RESUME: restart timers where they stopped; a line still asserted is delivered. */
  resume(): void {
    this.power = this.#powerBeforeSuspend;
    this.timers.resume();
    this.session.flushToParked();
    this.deliverIntx();
  }

  /** RESET (FLR): device state back to power-on values; power state and domain unchanged. */
  reset(): boolean {
    return this.#resetDevice();
  }

  /**
   * Closes the device in one fixed, idempotent order: stop IRQs, disable decode and bus
   * mastering, unmap, detach the IOMMU domain, reset, release the host device. (The dispatcher
   * then rebinds the host driver and releases exclusivity.)
   */
  shutdown(): void {
    if (this.closed) return;
    this.closed = true;
    const steps: [string, () => void][] = [
      ['stop IRQs', () => this.unregisterIrq()],
      ['disable decode and bus mastering', () => this.#quiesce()],
      ['unmap regions', () => this.#unmapAll()],
      ['detach IOMMU domain', () => (this.domain = undefined)],
      ['reset', () => void this.#resetDevice()],
      ['release host device', () => this.hostDevice.close()],
    ];
    for (const [what, step] of steps) {
      const t0 = performance.now();
      try {
        step();
      } catch (e) {
        this.log(`close: ${what} failed: ${(e as Error).message}`);
      }
      this.closeTimings[what] = performance.now() - t0;
    }
    this.power = 'off';
  }

  #unmapAll(): void {
    for (const mapId of this.maps.keys()) this.session.postControl?.({ type: 'unmap', mapId });
    this.maps.clear();
  }

  #quiesce(): void {
    this.timers.clear();
    const cmd = new Uint8Array(2);
    if (!this.hostDevice.readConfig(PCI_COMMAND, cmd)) return;
    const v = cmd[0]! | (cmd[1]! << 8);
    const off = v & ~(PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    cmd[0] = off & 0xff;
    cmd[1] = off >>> 8;
    this.hostDevice.writeConfig(PCI_COMMAND, cmd);
  }

  #resetDevice(): boolean {
    this.timers.clear();
    this.intxAsserted = false;
    this.intxMasked = false;
    this.session.dropEventsOf(this.handle);
    return this.hostDevice.reset();
  }

  #irqLive(): boolean {
    return this.guestIrq !== undefined && !this.closed && (this.power === 'on' || this.power === 'open');
  }

  #dmaBlocked(): string | undefined {
    if (this.closed) return 'device closed';
    if (this.power === 'suspended') return 'VM suspended';
    if (this.power === 'off') return 'device powered off';
    if (!this.domain) return 'no IOMMU domain attached (INIT_VM, then POWER_STATE_CHANGE ON)';
    const cmd = new Uint8Array(2);
    if (this.hostDevice.readConfig(PCI_COMMAND, cmd) && (cmd[0]! & PCI_COMMAND_MASTER) === 0) return 'bus mastering disabled in PCI_COMMAND';
    return undefined;
  }

  #fault(iova: bigint, size: number, write: boolean, reason: string, recorded = false): false {
    // Fault addresses come from models and the host's fault records: keep them bus addresses.
    if (typeof iova !== 'bigint' || iova < 0n || iova > U64_MAX) {
      reason = `${reason} (the device gave the impossible address ${show(iova)})`;
      iova = typeof iova === 'bigint' && iova > U64_MAX ? U64_MAX : 0n;
    }
    if (!Number.isSafeInteger(size) || size < 0) size = 0;
    if (!recorded) this.session.domain?.recordFault({ iova, size, write, reason });
    const detail = `DMA ${write ? 'write' : 'read'} of ${size} bytes at IOVA 0x${iova.toString(16)} refused: ${reason}`;
    this.log(detail);
    this.session.pushEvent({ ...this.#event(PCIRAW_IRQ_KIND.FAULT, 0, iova, 0), detail });
    return false;
  }

  #event(kind: PciRawIrqEvent['kind'], vector: number, address: bigint, data: number): PciRawIrqEvent {
    return {
      timeNs: Number(process.hrtime.bigint()),
      kind,
      device: this.handle,
      guestIrq: this.guestIrq ?? -1,
      hostIrq: this.info.irq,
      vector,
      address,
      data,
    };
  }
}

/** The FAULT detail for a DMA the VM's IOMMU domain refused, with the domain's own reason. */
function domainReason(reason: string): string {
  return reason === 'not mapped' ? 'not mapped in the VM IOMMU domain' : `not mapped in the VM IOMMU domain (${reason})`;
}
