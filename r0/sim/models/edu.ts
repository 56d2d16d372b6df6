// QEMU 7.2's `edu` teaching device (hw/misc/edu.c), exact to the project's spec (docs/edu.md).
//
// Differences from QEMU 7.2's edu, all deliberate and listed in docs/edu.md:
// - reset(): QEMU's edu has no reset handler (its registers survive a PCI reset); ours returns
//   every register, the DMA buffer and the interrupt state to zero on a reset / power cycle.
// - A DMA with a bad range (count 0, or not inside the 4096-byte buffer at 0x40000 with QEMU 7.2's
//   exact check `end < 0x41000`, so 4095 bytes is the largest transfer) makes QEMU 7.2 abort the
//   whole emulator (hw_error). Ours refuses it cleanly: nothing is transferred, a line is logged,
//   and the command completes as usual (bit 0 cleared, other bits kept, cause 0x100 raised if
//   bit 2 asked for it) so a driver polling bit 0 or waiting for the interrupt never hangs.
// - An IOMMU fault (host.dmaRead/dmaWrite refusing the guest-RAM side, or bus mastering off)
//   is handled the same way: nothing is read into the buffer or written to RAM, the host
//   reports the fault, we log, and the command completes with bit 0 cleared. A guest-RAM range
//   that crosses 2^64 (possible only with a dmaMask above 2^64 - 4096) is such a fault, refused
//   whole; QEMU's 64-bit address arithmetic would wrap it to bus address 0.
// - Completion times: the factorial completes `factorialDelayMs` (default 1 ms) after the
//   write, a DMA `dmaDelayMs` (default 5 ms) after the command instead of QEMU 7.2's 100 ms; both
//   stay asynchronous (host.schedule).

import { fillOnes, readLe64, writeLe } from '../../../shared/le.js';
import { ConfigSpace } from '../config-space.js';
import { SimPciFunction, showOption } from './base.js';

// The register map lives with the protocol so ring-3 drivers use the same numbers.
export * from '../../../shared/devices/edu.js';

import {
  EDU_BAR0_SIZE,
  EDU_CLASS_CODE,
  EDU_DEFAULT_DMA_MASK,
  EDU_DEVICE_ID,
  EDU_DMA_DIR_TO_RAM,
  EDU_DMA_IRQ,
  EDU_DMA_RUN,
  EDU_DMA_SIZE,
  EDU_DMA_START,
  EDU_ID_VALUE,
  EDU_IRQ_DMA,
  EDU_IRQ_FACT,
  EDU_MSI_CAP_OFFSET,
  EDU_REG,
  EDU_REVISION,
  EDU_STATUS_COMPUTING,
  EDU_STATUS_IRQFACT,
  EDU_SUBSYSTEM_ID,
  EDU_SUBSYSTEM_VENDOR_ID,
  EDU_VENDOR_ID,
} from '../../../shared/devices/edu.js';

/** Options of the `edu` model (inventory `options`). */
export interface EduOptions {
  /** DMA mask (QEMU 7.2's `dma_mask` property), a number or a numeric string such as "0x0fffffff". */
  dmaMask?: number | string;
  /** Milliseconds from a factorial write to its result; default 1. */
  factorialDelayMs?: number;
  /** Milliseconds from a DMA command to its completion; default 5. */
  dmaDelayMs?: number;
}

const MASK64 = 0xffff_ffff_ffff_ffffn;

/** N! in 32-bit unsigned arithmetic; 0! = 1, and N! ≡ 0 (mod 2^32) for N >= 34 (32 factors of 2). */
export function eduFactorial(n: number): number {
  if (n >= 34) return 0;
  let r = 1;
  for (let i = n >>> 0; i > 0; i--) r = Math.imul(r, i) >>> 0;
  return r >>> 0;
}

/**
 * QEMU 7.2's edu_check_range (QEMU 9.0 and later also allow 4096 bytes and log instead of aborting): `[addr, addr + size)` must start inside `[start, start + size2)` and
 * end strictly below `start + size2`, with 64-bit wrap-around (so count 0 and count 4096 fail,
 * and a count that wraps `addr + size` past 2^64 fails too). All four arguments are u64 values
 * (register contents, 0..2^64-1); `start + size2` is the buffer's end and does not wrap.
 */
export function eduRangeOk(addr: bigint, size: bigint, start: bigint, size2: bigint): boolean {
  const end1 = (addr + size) & MASK64;
  const end2 = start + size2;
  return start <= addr && addr < end2 && end1 > addr && end1 < end2;
}

function parseOptions(options: Record<string, unknown>): Required<Omit<EduOptions, 'dmaMask'>> & { dmaMask: bigint } {
  const known = new Set(['dmaMask', 'factorialDelayMs', 'dmaDelayMs']);
  for (const key of Object.keys(options)) {
    if (!known.has(key)) throw new TypeError(`edu: unknown option '${key}': known options are ${[...known].join(', ')}`);
  }
  let dmaMask = BigInt(EDU_DEFAULT_DMA_MASK);
  const m = options.dmaMask;
  if (m !== undefined) {
    try {
      if (typeof m === 'number' && !Number.isSafeInteger(m)) throw new Error();
      if (typeof m !== 'number' && typeof m !== 'string') throw new Error();
      // BigInt('') and BigInt('  ') are 0n: an empty string would silently mask every address to 0.
      if (typeof m === 'string' && m.trim() === '') throw new Error();
      dmaMask = BigInt(m);
      if (dmaMask < 0n || dmaMask > MASK64) throw new Error();
    } catch {
      throw new TypeError(`edu: option dmaMask ${showOption(m)} is invalid: give a non-negative integer or a string like "0x0fffffff"`);
    }
  }
  const delay = (name: string, dflt: number): number => {
    const v = options[name];
    if (v === undefined) return dflt;
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new RangeError(`edu: option ${name} ${showOption(v)} must be a number of milliseconds >= 0`);
    return v;
  };
  return { dmaMask, factorialDelayMs: delay('factorialDelayMs', 1), dmaDelayMs: delay('dmaDelayMs', 5) };
}

function buildConfig(): ConfigSpace {
  const config = new ConfigSpace({
    vendorId: EDU_VENDOR_ID,
    deviceId: EDU_DEVICE_ID,
    revision: EDU_REVISION,
    classCode: EDU_CLASS_CODE,
    subsystemVendorId: EDU_SUBSYSTEM_VENDOR_ID,
    subsystemId: EDU_SUBSYSTEM_ID,
    interruptPin: 1,
  });
  config.addBar({ index: 0, kind: 'mem32', size: EDU_BAR0_SIZE });
  config.addMsi({ vectors: 1, is64: true, perVectorMask: false, offset: EDU_MSI_CAP_OFFSET });
  return config;
}

/**
 * The `edu` model: BAR0 registers per {@link EDU_REG}, factorial, interrupts (INTx level or MSI
 * edge), DMA through the host's IOMMU domain. `options` as {@link EduOptions}; throws
 * TypeError/RangeError naming a bad option.
 */
export class EduDevice extends SimPciFunction {
  readonly model = 'edu';
  /** The 4096-byte DMA buffer (device addresses 0x40000..0x40fff); not reachable through BAR0. */
  readonly dmaBuffer = new Uint8Array(EDU_DMA_SIZE);
  private readonly dmaMask: bigint;
  private readonly factorialDelayMs: number;
  private readonly dmaDelayMs: number;
  private liveness = 0;
  private fact = 0;
  private status = 0;
  private irqStatus = 0;
  private dmaSrc = 0n;
  private dmaDst = 0n;
  private dmaCount = 0n;
  private dmaCmd = 0n;

  constructor(options: Record<string, unknown> = {}) {
    super(buildConfig());
    const o = parseOptions(options);
    this.dmaMask = o.dmaMask;
    this.factorialDelayMs = o.factorialDelayMs;
    this.dmaDelayMs = o.dmaDelayMs;
  }

  /** Pending interrupt causes (the irq_status register). */
  get interruptStatus(): number {
    return this.irqStatus;
  }

  protected override readBar(region: number, offset: number, data: Uint8Array): boolean {
    const width = data.length;
    if (region !== 0) return super.readBar(region, offset, data);
    if (!this.widthOk(offset, width)) {
      this.log(`BAR0 read of ${width} bytes at 0x${offset.toString(16)}: bad width (below 0x80 use 4 bytes, from 0x80 4 or 8)`);
      fillOnes(data);
      return true;
    }
    const value = this.#register(offset);
    if (value === undefined) {
      this.log(`BAR0 read of ${width} bytes at 0x${offset.toString(16)}: no readable register there`);
      fillOnes(data);
      return true;
    }
    writeLe(data, 0, data.length, value);
    return true;
  }

  /** The register at BAR0 offset `offset`, or undefined when none is readable there (a switch: this is every MMIO read's path). */
  #register(offset: number): number | bigint | undefined {
    switch (offset) {
      case EDU_REG.ID:
        return EDU_ID_VALUE;
      case EDU_REG.LIVENESS:
        return this.liveness;
      case EDU_REG.FACTORIAL:
        return this.fact;
      case EDU_REG.STATUS:
        return this.status;
      case EDU_REG.IRQ_STATUS:
        return this.irqStatus;
      case EDU_REG.DMA_SRC:
        return this.dmaSrc;
      case EDU_REG.DMA_DST:
        return this.dmaDst;
      case EDU_REG.DMA_COUNT:
        return this.dmaCount;
      case EDU_REG.DMA_CMD:
        return this.dmaCmd;
      default:
        return undefined;
    }
  }

  protected override writeBar(region: number, offset: number, data: Uint8Array): boolean {
    const width = data.length;
    if (region !== 0) return super.writeBar(region, offset, data);
    if (!this.widthOk(offset, width)) {
      this.log(`BAR0 write of ${width} bytes at 0x${offset.toString(16)} ignored: bad width (below 0x80 use 4 bytes, from 0x80 4 or 8)`);
      return true;
    }
    // A 4-byte write to a 64-bit register replaces it with the zero-extended value.
    const value64 = readLe64(data);
    const value = Number(value64 & 0xffff_ffffn);
    switch (offset) {
      case EDU_REG.LIVENESS:
        this.liveness = ~value >>> 0;
        break;
      case EDU_REG.FACTORIAL:
        if (this.status & EDU_STATUS_COMPUTING) break;
        this.fact = value;
        this.status |= EDU_STATUS_COMPUTING;
        this.schedule(this.factorialDelayMs, () => this.factorialDone());
        break;
      case EDU_REG.STATUS:
        this.status = value & EDU_STATUS_IRQFACT ? this.status | EDU_STATUS_IRQFACT : this.status & ~EDU_STATUS_IRQFACT;
        break;
      case EDU_REG.IRQ_RAISE:
        this.raiseIrq(value);
        break;
      case EDU_REG.IRQ_ACK:
        this.lowerIrq(value);
        break;
      case EDU_REG.DMA_SRC:
        if (!(this.dmaCmd & BigInt(EDU_DMA_RUN))) this.dmaSrc = value64;
        break;
      case EDU_REG.DMA_DST:
        if (!(this.dmaCmd & BigInt(EDU_DMA_RUN))) this.dmaDst = value64;
        break;
      case EDU_REG.DMA_COUNT:
        if (!(this.dmaCmd & BigInt(EDU_DMA_RUN))) this.dmaCount = value64;
        break;
      case EDU_REG.DMA_CMD:
        if (!(value64 & BigInt(EDU_DMA_RUN)) || this.dmaCmd & BigInt(EDU_DMA_RUN)) break;
        this.dmaCmd = value64;
        this.schedule(this.dmaDelayMs, () => this.dmaDone());
        break;
      default:
        this.log(`BAR0 write of ${width} bytes at 0x${offset.toString(16)} ignored: no writable register there`);
    }
    return true;
  }

  /** edu spec, Access rules: below 0x80 only 4 bytes, from 0x80 on 4 or 8. */
  private widthOk(offset: number, width: number): boolean {
    return offset < 0x80 ? width === 4 : width === 4 || width === 8;
  }

  private factorialDone(): void {
    this.fact = eduFactorial(this.fact);
    this.status &= ~EDU_STATUS_COMPUTING;
    if (this.status & EDU_STATUS_IRQFACT) this.raiseIrq(EDU_IRQ_FACT);
  }

  /** edu_raise_irq: causes accumulate; MSI (an edge per raise) when enabled, else INTx. */
  private raiseIrq(causes: number): void {
    this.irqStatus = (this.irqStatus | causes) >>> 0;
    if (this.irqStatus) this.signalVector(0);
  }

  /** edu_lower_irq: INTx follows irq_status != 0 and drops only here, and only with MSI off. */
  private lowerIrq(causes: number): void {
    this.irqStatus = (this.irqStatus & ~causes) >>> 0;
    if (!this.irqStatus && !this.config.msi()?.enabled) this.setIntx(false);
  }

  private dmaDone(): void {
    const cmd = this.dmaCmd;
    if (!(cmd & BigInt(EDU_DMA_RUN))) return;
    const count = this.dmaCount;
    const toRam = (cmd & BigInt(EDU_DMA_DIR_TO_RAM)) !== 0n;
    const bufAddr = toRam ? this.dmaSrc : this.dmaDst;
    const ramAddr = toRam ? this.dmaDst : this.dmaSrc;
    if (!eduRangeOk(bufAddr, count, BigInt(EDU_DMA_START), BigInt(EDU_DMA_SIZE))) {
      this.log(
        `DMA refused: ${toRam ? 'source' : 'destination'} 0x${bufAddr.toString(16)} + count ${count} is not inside the buffer 0x40000..0x40fff (count 1..4095, end below 0x41000); nothing transferred`,
      );
    } else {
      const bufOffset = Number(bufAddr - BigInt(EDU_DMA_START));
      const n = Number(count);
      const iova = ramAddr & this.dmaMask;
      if (iova !== ramAddr) this.log(`clamping DMA address 0x${ramAddr.toString(16)} to 0x${iova.toString(16)} (dma_mask 0x${this.dmaMask.toString(16)})`);
      // iova <= dma_mask <= 2^64 - 1, but iova + n may pass 2^64 (QEMU's bus address would wrap
      // to 0): the IOMMU domain refuses such a range whole and reports the fault.
      const wraps = BigInt(n - 1) > MASK64 - iova ? ' (the range crosses 2^64)' : '';
      if (toRam) {
        if (!this.dmaWrite(iova, this.dmaBuffer.subarray(bufOffset, bufOffset + n))) {
          this.log(`DMA write of ${n} bytes to RAM at 0x${iova.toString(16)} faulted${wraps}: nothing written`);
        }
      } else {
        const tmp = new Uint8Array(n);
        if (this.dmaRead(iova, tmp)) this.dmaBuffer.set(tmp, bufOffset);
        else this.log(`DMA read of ${n} bytes from RAM at 0x${iova.toString(16)} faulted${wraps}: buffer unchanged`);
      }
    }
    this.dmaCmd = cmd & ~BigInt(EDU_DMA_RUN);
    if (cmd & BigInt(EDU_DMA_IRQ)) this.raiseIrq(EDU_IRQ_DMA);
  }

  /** All registers, the DMA buffer and irq_status to zero (a deliberate difference from QEMU 7.2, which has no reset handler). */
  protected resetState(): void {
    this.liveness = 0;
    this.fact = 0;
    this.status = 0;
    this.irqStatus = 0;
    this.dmaSrc = 0n;
    this.dmaDst = 0n;
    this.dmaCount = 0n;
    this.dmaCmd = 0n;
    this.dmaBuffer.fill(0);
  }
}
