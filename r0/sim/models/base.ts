// Base class of the simulated PCI functions: config hooks over a ConfigSpace, emulated MSI-X table/PBA, ROM, interrupts and timers.
//
// A model extends `SimPciFunction`, builds its `ConfigSpace` (identity, BARs, ROM, capabilities)
// and passes it to `super`, then implements the register hooks it needs (`readIo`/`writeIo`,
// `readBar`/`writeBar`) and `resetState`. The base class gives it:
// - config reads and writes with their side effects (INTx disable, MSI/MSI-X enable and masks,
//   PM state filtering, PCIe Function Level Reset);
// - the MSI-X table and pending bit array inside the memory BAR the capability names
//   (PCI Local Bus spec 3.0, 6.8.2): entries start masked; a masked vector sets its PBA bit and
//   is sent when unmasked;
// - `signalVector(v)`: MSI-X if enabled, else MSI if enabled, else INTx (level);
// - timers that a reset cancels, DMA helpers that respect Bus Master Enable, and logging.
// Return values of the hooks: true when the access addressed the device (a guest mistake inside
// a region is logged and answered with all-ones, never thrown); false when the access does not
// address a region of this device at all (ring 0 should have refused it; nothing happened).

import { fillOnes, readLe, readLe64, writeLe } from '../../../shared/le.js';
import {
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_PM,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_MASTER,
  PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL_BCR_FLR,
  PCI_PM_CAP_D1,
  PCI_PM_CAP_D2,
  PCI_PM_CTRL,
  PCI_PM_CTRL_STATE_MASK,
  PCI_PM_PMC,
  PCI_STATUS_INTERRUPT,
} from '../../../shared/linux/pci-regs.js';
import { type MsixEntry, type MsixState, MsixTable } from '../../../shared/pci/msix.js';
import { PCIRAW_REGION } from '../../../shared/protocol.js';
import type { ConfigSpace } from '../config-space.js';
import type { SimDeviceHost, SimDeviceModel, SimRegion } from '../device.js';

/**
 * How {@link SimPciFunction.signalVector} delivered a vector: `'msix'`/`'msi'` a message was
 * sent, `'intx'` the INTx line is asserted, `'masked'` the vector is masked and now pending,
 * `'dropped'` nothing happened (no bus mastering, vector out of range; logged).
 */
export type SimVectorRoute = 'msix' | 'msi' | 'intx' | 'masked' | 'dropped';

/**
 * An option value as an error message shows it: JSON where JSON can say it, `5n` for a bigint,
 * String() otherwise. Never throws (JSON.stringify throws on a bigint or a cycle, which would
 * replace the option error naming the option with an unrelated TypeError).
 */
export function showOption(value: unknown): string {
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

function hex(v: number | bigint): string {
  return `0x${v.toString(16)}`;
}

/**
 * Abstract simulated PCI function implementing {@link SimDeviceModel} over a {@link ConfigSpace}.
 * Subclasses pass their built config to the constructor (which records it as the power-on
 * state), override `readIo`/`writeIo`, `readBar`/`writeBar`, `romImage`, `regionBacking` as
 * they need, and implement {@link resetState}.
 */
export abstract class SimPciFunction implements SimDeviceModel {
  /** Model name as the inventory names it. */
  abstract readonly model: string;
  /** The emulated config space (registers and masks). */
  readonly config: ConfigSpace;
  /** The VM's services between {@link open} and {@link close}; undefined otherwise. */
  protected host: SimDeviceHost | undefined;

  private readonly timers = new Set<() => void>();
  /** The device's INTx output level, before PCI_COMMAND_INTX_DISABLE. */
  private intxLevel = false;
  /** Whether the host was last told the line is raised. */
  private intxRaised = false;
  private readonly msixLayout: MsixState | undefined;
  /** The emulated MSI-X table and PBA (empty without MSI-X). */
  private readonly msixTable: MsixTable;
  private readonly pmOffset: number | undefined;
  private readonly pcieOffset: number | undefined;

  /** `config` must be fully built; it is captured as the power-on state. */
  constructor(config: ConfigSpace) {
    this.config = config;
    config.capturePowerOn();
    this.msixLayout = config.msix();
    this.msixTable = new MsixTable(this.msixLayout?.tableSize ?? 0);
    this.pmOffset = config.findCapability(PCI_CAP_ID_PM);
    this.pcieOffset = config.findCapability(PCI_CAP_ID_EXP);
  }

  /** Config space size in bytes (256 or 4096). */
  get configSize(): number {
    return this.config.size;
  }

  /** The declared BARs and the ROM (index 6) as {@link SimRegion}s, by index. */
  regions(): readonly SimRegion[] {
    const out: SimRegion[] = this.config.bars().map((bar) => {
      const region: SimRegion = { index: bar.index, kind: bar.kind, size: bar.size };
      if (bar.kind !== 'io') region.prefetchable = bar.prefetchable;
      const backing = this.regionBacking(bar.index);
      if (backing) region.backing = backing;
      return region;
    });
    if (this.config.romSize > 0) out.push({ index: PCIRAW_REGION.ROM, kind: 'rom', size: this.config.romSize });
    return out;
  }

  /** Memory that ring 0 may map into ring 3 for BAR `index`; default none (trapped). */
  protected regionBacking(_index: number): SharedArrayBuffer | undefined {
    return undefined;
  }

  /** The expansion ROM contents (read through region 6); default none. */
  protected romImage(): Uint8Array | undefined {
    return undefined;
  }

  /** Palacios open: keeps `host` until {@link close}; an INTx level already high is raised. */
  open(host: SimDeviceHost): void {
    this.host = host;
    this.intxRaised = false;
    this.updateIntxLine();
  }

  /**
   * Palacios close: cancels pending timers, lowers a raised INTx line and forgets the host.
   * Device registers are kept; ring 0 should call {@link reset} before handing the device to
   * another VM (VFIO resets on release too).
   */
  close(): void {
    this.cancelTimers();
    if (this.intxRaised) this.host?.lowerIrq();
    this.intxRaised = false;
    this.host = undefined;
  }

  /** Config read at byte `offset`; false (data untouched) when beyond the config space. */
  readConfig(offset: number, data: Uint8Array): boolean {
    if (!this.config.readBytes(offset, data)) {
      this.log(`config read of ${data.length} bytes at ${hex(offset)} is outside the ${this.config.size}-byte config space`);
      return false;
    }
    return true;
  }

  /**
   * Config write at byte `offset`, merged through the writable/W1C masks, then its side effects:
   * INTx line follows INTX_DISABLE; MSI Multiple Message Enable is clamped to the capable count;
   * enabling MSI or MSI-X deasserts INTx (as QEMU 7.2's msi_write_config / msix_write_config, hw/pci/msi.c and msix.c); pending vectors that
   * became deliverable are sent; a PM PowerState of an unsupported D1/D2 is discarded (PCI PM
   * 1.2, 5.4.1); Initiate FLR resets the function. False when beyond the config space.
   */
  writeConfig(offset: number, data: Uint8Array): boolean {
    const msiBefore = this.config.msi()?.enabled ?? false;
    const msixBefore = this.config.msix()?.enabled ?? false;
    const pmBefore = this.pmOffset !== undefined ? this.config.get16(this.pmOffset + PCI_PM_CTRL) : 0;
    if (!this.config.writeBytes(offset, data)) {
      this.log(`config write of ${data.length} bytes at ${hex(offset)} is outside the ${this.config.size}-byte config space`);
      return false;
    }
    this.afterConfigWrite(msiBefore, msixBefore, pmBefore);
    this.onConfigWrite(offset, data.length);
    return true;
  }

  private afterConfigWrite(msiBefore: boolean, msixBefore: boolean, pmBefore: number): void {
    const msi = this.config.msi();
    msi?.clampVectorsEnabled();
    if (this.pmOffset !== undefined) {
      const pmc = this.config.get16(this.pmOffset + PCI_PM_PMC);
      const ctrl = this.config.get16(this.pmOffset + PCI_PM_CTRL);
      const state = ctrl & PCI_PM_CTRL_STATE_MASK;
      if ((state === 1 && !(pmc & PCI_PM_CAP_D1)) || (state === 2 && !(pmc & PCI_PM_CAP_D2))) {
        this.config.set16(this.pmOffset + PCI_PM_CTRL, (ctrl & ~PCI_PM_CTRL_STATE_MASK) | (pmBefore & PCI_PM_CTRL_STATE_MASK));
        this.log(`power state D${state} is not supported: write discarded`);
      }
    }
    if ((!msiBefore && msi?.enabled) || (!msixBefore && this.config.msix()?.enabled)) {
      if (this.intxLevel) this.setIntx(false);
    }
    this.updateIntxLine();
    this.deliverPending();
    if (this.pcieOffset !== undefined) {
      const devctl = this.config.get16(this.pcieOffset + PCI_EXP_DEVCTL);
      if (devctl & PCI_EXP_DEVCTL_BCR_FLR) {
        this.log('function level reset');
        this.reset();
      }
    }
  }

  /** Called after each config write and its side effects; default nothing. */
  protected onConfigWrite(_offset: number, _length: number): void {}

  /**
   * Palacios ack_irq: the guest acknowledged an interrupt of this device at its interrupt
   * controller. Default: nothing changes; a level INTx stays asserted until the device's own
   * cause is cleared (e.g. edu's 0x64 register), as on real hardware.
   */
  ackIrq(): void {}

  /**
   * Default I/O read: logs and answers all-ones (a region without registers). False when
   * `region` is no I/O BAR of this device or the access leaves it.
   */
  readIo(region: number, offset: number, data: Uint8Array): boolean {
    if (this.outside('io', 'read', region, offset, data.length)) return false;
    this.log(`I/O read of ${data.length} bytes at BAR${region}+${hex(offset)}: no register there`);
    fillOnes(data);
    return true;
  }

  /** Default I/O write: logs and ignores it; false like {@link readIo}. */
  writeIo(region: number, offset: number, data: Uint8Array): boolean {
    if (this.outside('io', 'write', region, offset, data.length)) return false;
    this.log(`I/O write of ${data.length} bytes at BAR${region}+${hex(offset)}: no register there, ignored`);
    return true;
  }

  /**
   * Memory read: the ROM (region 6), the MSI-X table and PBA are answered here; any other offset
   * of a declared memory BAR goes to {@link readBar}. False when `region` is no memory region
   * of this device or the access leaves it.
   */
  readMem(region: number, offset: number, data: Uint8Array): boolean {
    if (this.outside('mem', 'read', region, offset, data.length)) return false;
    if (region === PCIRAW_REGION.ROM) {
      const image = this.romImage();
      fillOnes(data);
      if (image && offset < image.length) data.set(image.subarray(offset, Math.min(offset + data.length, image.length)));
      return true;
    }
    const hit = this.msixPart(region, offset, data.length);
    if (!hit) return this.readBar(region, offset, data);
    const value = hit.part === 'table' ? this.msixTable.readTable(hit.at, data.length) : this.msixTable.readPba(hit.at, data.length);
    if (value === undefined) {
      // Table and PBA accesses are dword or qword, naturally aligned (PCI Local Bus spec 6.8.2).
      this.log(`MSI-X ${hit.part} read of ${data.length} bytes at ${hex(hit.at)}: use aligned 4- or 8-byte accesses`);
      fillOnes(data);
    } else writeLe(data, 0, data.length, value);
    return true;
  }

  /** Memory write: ROM writes are ignored, MSI-X table/PBA handled here, the rest to {@link writeBar}. */
  writeMem(region: number, offset: number, data: Uint8Array): boolean {
    if (this.outside('mem', 'write', region, offset, data.length)) return false;
    if (region === PCIRAW_REGION.ROM) {
      this.log(`write to the expansion ROM at ${hex(offset)} ignored (read-only)`);
      return true;
    }
    const hit = this.msixPart(region, offset, data.length);
    if (!hit) return this.writeBar(region, offset, data);
    if (hit.part === 'PBA') this.log(`write to the MSI-X PBA at ${hex(offset)} ignored (read-only)`);
    else if (!this.msixTable.writeTable(hit.at, data.length, data.length === 8 ? readLe64(data) : readLe(data))) {
      this.log(`MSI-X table write of ${data.length} bytes at ${hex(hit.at)} ignored: use aligned 4- or 8-byte accesses`);
    } else this.deliverPending();
    return true;
  }

  /** A memory BAR read outside the MSI-X structures; default: log, all-ones. */
  protected readBar(region: number, offset: number, data: Uint8Array): boolean {
    this.log(`memory read of ${data.length} bytes at BAR${region}+${hex(offset)}: no register there`);
    fillOnes(data);
    return true;
  }

  /** A memory BAR write outside the MSI-X structures; default: log, ignore. */
  protected writeBar(region: number, offset: number, data: Uint8Array): boolean {
    this.log(`memory write of ${data.length} bytes at BAR${region}+${hex(offset)}: no register there, ignored`);
    return true;
  }

  /** Whether `[offset, offset + length)` lies inside I/O BAR `region`. */
  protected ioRegionContains(region: number, offset: number, length: number): boolean {
    const bar = this.config.bar(region);
    return bar?.kind === 'io' && Number.isInteger(offset) && offset >= 0 && length > 0 && offset + length <= bar.size;
  }

  /** Logs and returns true when the access does not lie inside one of this device's I/O (`io`) or memory (`mem`) regions. */
  private outside(space: 'io' | 'mem', what: 'read' | 'write', region: number, offset: number, length: number): boolean {
    const inside = space === 'io' ? this.ioRegionContains(region, offset, length) : this.memRegionContains(region, offset, length);
    const name = space === 'io' ? 'I/O' : 'memory';
    if (!inside) this.log(`${name} ${what} of ${length} bytes at region ${region}+${hex(offset)} is outside the device's ${name} regions`);
    return !inside;
  }

  private memRegionContains(region: number, offset: number, length: number): boolean {
    let size: number;
    if (region === PCIRAW_REGION.ROM) size = this.config.romSize;
    else {
      const bar = this.config.bar(region);
      if (!bar || bar.kind === 'io') return false;
      size = bar.size;
    }
    return Number.isInteger(offset) && offset >= 0 && length > 0 && offset + length <= size;
  }

  /** Which MSI-X structure `[offset, offset + length)` of BAR `region` lies wholly inside, with the offset into it. */
  private msixPart(region: number, offset: number, length: number): { part: 'table' | 'PBA'; at: number } | undefined {
    const msix = this.msixLayout;
    if (!msix) return undefined;
    const inside = (start: number, size: number): boolean => offset >= start && offset + length <= start + size;
    if (region === msix.tableBir && inside(msix.tableOffset, this.msixTable.tableBytes)) return { part: 'table', at: offset - msix.tableOffset };
    if (region === msix.pbaBir && inside(msix.pbaOffset, this.msixTable.pbaBytes)) return { part: 'PBA', at: offset - msix.pbaOffset };
    return undefined;
  }

  /**
   * Function-level reset / power cycle: pending timers dropped, INTx deasserted, config space
   * back to its power-on state (BARs 0, command 0, MSI/MSI-X disabled), MSI-X table entries
   * masked and zeroed, PBA cleared, then the model's {@link resetState}.
   */
  reset(): void {
    this.cancelTimers();
    this.setIntx(false);
    this.config.resetToPowerOn();
    this.msixTable.reset();
    this.resetState();
  }

  /** Restores the model's own registers to power-on values (called by {@link reset}). */
  protected abstract resetState(): void;

  // ---- interrupts ------------------------------------------------------------------------

  /** Whether the device's INTx output is asserted (PCI_STATUS_INTERRUPT), before INTX_DISABLE. */
  get intxAsserted(): boolean {
    return this.intxLevel;
  }

  /**
   * Sets the device's INTx output level (level-triggered, PCI Local Bus spec 2.2.6): updates
   * PCI_STATUS_INTERRUPT and raises/lowers the host line unless PCI_COMMAND_INTX_DISABLE is set
   * (clearing that bit later raises a line that is still asserted).
   */
  protected setIntx(level: boolean): void {
    this.intxLevel = level;
    this.config.setStatusBits(PCI_STATUS_INTERRUPT, level);
    this.updateIntxLine();
  }

  private updateIntxLine(): void {
    const want = this.intxLevel && (this.config.command & PCI_COMMAND_INTX_DISABLE) === 0;
    if (want === this.intxRaised || !this.host) return;
    this.intxRaised = want;
    if (want) this.host.raiseIrq();
    else this.host.lowerIrq();
  }

  /**
   * Signals interrupt vector `vector` the way the guest configured the function:
   * - MSI-X enabled: table entry `vector`; when it or the function is masked its PBA bit is set
   *   and it is sent on unmask; needs PCI_COMMAND_MASTER (else dropped, logged);
   * - else MSI enabled: vector < vectors enabled, data `(data & ~(n - 1)) | vector`, masked
   *   vectors become pending; needs PCI_COMMAND_MASTER;
   * - else INTx: asserts the line (level; the model lowers it with `setIntx(false)`).
   */
  signalVector(vector: number): SimVectorRoute {
    const master = (this.config.command & PCI_COMMAND_MASTER) !== 0;
    const msix = this.config.msix();
    if (msix?.enabled) {
      if (!Number.isInteger(vector) || vector < 0 || vector >= msix.tableSize) {
        this.log(`MSI-X vector ${vector} is out of range 0..${msix.tableSize - 1}: dropped`);
        return 'dropped';
      }
      const entry = this.msixEntry(vector)!;
      if (msix.functionMask || entry.masked) {
        this.msixTable.setPending(vector, true);
        return 'masked';
      }
      if (!master) {
        this.log(`MSI-X vector ${vector} dropped: bus mastering is off (PCI_COMMAND_MASTER)`);
        return 'dropped';
      }
      this.host?.sendMsi({ kind: 'msix', vector, address: entry.address, data: entry.data });
      return 'msix';
    }
    const msi = this.config.msi();
    if (msi?.enabled) {
      if (!Number.isInteger(vector) || vector < 0 || vector >= msi.vectorsEnabled) {
        this.log(`MSI vector ${vector} is out of range 0..${msi.vectorsEnabled - 1} (Multiple Message Enable): dropped`);
        return 'dropped';
      }
      if (msi.perVectorMask && msi.mask & (1 << vector)) {
        msi.setPending(vector, true);
        return 'masked';
      }
      if (!master) {
        this.log(`MSI vector ${vector} dropped: bus mastering is off (PCI_COMMAND_MASTER)`);
        return 'dropped';
      }
      this.host?.sendMsi({ kind: 'msi', vector, ...msi.message(vector) });
      return 'msi';
    }
    this.setIntx(true);
    return 'intx';
  }

  /** Sends pending MSI-X/MSI vectors that are deliverable now (unmasked, enabled, bus master). */
  private deliverPending(): void {
    if ((this.config.command & PCI_COMMAND_MASTER) === 0) return;
    const msix = this.config.msix();
    if (msix?.enabled && !msix.functionMask) {
      for (let v = 0; v < msix.tableSize; v++) {
        if (!this.msixTable.isPending(v)) continue;
        const entry = this.msixTable.entry(v);
        if (entry.masked) continue;
        this.msixTable.setPending(v, false);
        this.host?.sendMsi({ kind: 'msix', vector: v, address: entry.address, data: entry.data });
      }
      return;
    }
    const msi = this.config.msi();
    if (msi?.enabled && msi.perVectorMask && msi.pending) {
      for (let v = 0; v < msi.vectorsEnabled; v++) {
        if (!(msi.pending & (1 << v)) || msi.mask & (1 << v)) continue;
        msi.setPending(v, false);
        this.host?.sendMsi({ kind: 'msi', vector: v, ...msi.message(v) });
      }
    }
  }

  /**
   * MSI-X table entry `vector` (an integer 0..tableSize-1) as programmed; its address joins the
   * two unsigned dwords, so it is always in 0..2^64-1. Undefined without MSI-X, or for a vector
   * out of range or not an integer.
   */
  msixEntry(vector: number): MsixEntry | undefined {
    if (!this.msixLayout || !Number.isInteger(vector) || vector < 0 || vector >= this.msixLayout.tableSize) return undefined;
    return this.msixTable.entry(vector);
  }

  /** Whether MSI-X vector `vector`'s pending bit is set in the PBA (false for a bad vector). */
  msixPending(vector: number): boolean {
    return Number.isInteger(vector) && vector >= 0 && vector < (this.msixLayout?.tableSize ?? 0) && this.msixTable.isPending(vector);
  }

  // ---- timers, DMA, logging ----------------------------------------------------------------

  /**
   * Runs `callback` after `delayMs` ms of device time through the host; a reset or close
   * cancels it. Without a host (device not open) the callback runs at once, synchronously.
   */
  protected schedule(delayMs: number, callback: () => void): void {
    if (!this.host) {
      callback();
      return;
    }
    let cancel: (() => void) | undefined;
    let done = false;
    const fire = (): void => {
      done = true;
      if (cancel) this.timers.delete(cancel);
      callback();
    };
    cancel = this.host.schedule(delayMs, fire);
    if (!done) this.timers.add(cancel);
  }

  private cancelTimers(): void {
    for (const cancel of this.timers) cancel();
    this.timers.clear();
  }

  /** Number of timers scheduled and not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.timers.size;
  }

  /**
   * DMA read of `dest.length` bytes at bus address `iova` (through the host's IOMMU domain).
   * False, and `dest` untouched, without bus mastering, without a host, on an IOMMU fault (a
   * range that crosses 2^64 is one), or when `iova` is not a bus address (a bigint in
   * 0..2^64-1: a model's own arithmetic went wrong; logged, never handed to the host).
   */
  protected dmaRead(iova: bigint, dest: Uint8Array): boolean {
    if (!this.dmaAllowed('read', iova, dest.length)) return false;
    return this.host!.dmaRead(iova, dest);
  }

  /** DMA write of `src` at bus address `iova`; whole or nothing, like {@link dmaRead}. */
  protected dmaWrite(iova: bigint, src: Uint8Array): boolean {
    if (!this.dmaAllowed('write', iova, src.length)) return false;
    return this.host!.dmaWrite(iova, src);
  }

  private dmaAllowed(what: 'read' | 'write', iova: bigint, length: number): boolean {
    if (typeof iova !== 'bigint' || iova < 0n || iova > 0xffff_ffff_ffff_ffffn) {
      this.log(`DMA ${what} of ${length} bytes at ${String(iova)} refused: the address is not in 0..2^64-1 (a model bug)`);
      return false;
    }
    if ((this.config.command & PCI_COMMAND_MASTER) === 0) {
      this.log(`DMA ${what} of ${length} bytes at ${hex(iova)} blocked: bus mastering is off (PCI_COMMAND_MASTER)`);
      return false;
    }
    return this.host !== undefined;
  }

  /** Logs `message` prefixed with the model name through the host (dropped without a host). */
  protected log(message: string): void {
    this.host?.log(`${this.model}: ${message}`);
  }
}
