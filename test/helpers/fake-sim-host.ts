// A fake SimDeviceHost for unit tests: manual clock, recorded IRQs/MSIs/logs, fake guest RAM behind an IOVA allow-list; plus access helpers.

import type { SimDeviceHost, SimDeviceModel, SimMsiMessage } from '../../r0/sim/device.js';
import { PCI_CLASS_REVISION, PCI_INTERRUPT_PIN, PCI_SUBSYSTEM_VENDOR_ID, PCI_VENDOR_ID } from '../../shared/linux/pci-regs.js';

interface Timer {
  seq: number;
  due: number;
  callback: () => void;
  cancelled: boolean;
}

/** A recorded DMA fault: which operation, at which bus address, how many bytes. */
export interface FakeDmaFault {
  op: 'read' | 'write';
  iova: bigint;
  length: number;
}

/**
 * SimDeviceHost with a manual clock (`advance(ms)` fires due timers in order), an INTx line
 * (`irqLevel`, `irqEvents`), recorded MSIs and log lines, and guest RAM: `ram` is indexed by
 * IOVA from 0, and only ranges added with `map` are reachable by DMA (everything else is an
 * IOMMU fault: recorded in `faults`, nothing read or written).
 */
export class FakeSimHost implements SimDeviceHost {
  now = 0;
  irqLevel = false;
  readonly irqEvents: ('raise' | 'lower')[] = [];
  readonly msis: SimMsiMessage[] = [];
  readonly logs: string[] = [];
  readonly faults: FakeDmaFault[] = [];
  readonly ram: Uint8Array;
  private readonly mapped: { start: bigint; end: bigint }[] = [];
  private timers: Timer[] = [];
  private seq = 0;

  /** `ramSize` bytes of guest RAM at IOVA 0 (default 1 MiB), nothing mapped yet. */
  constructor(ramSize = 0x10_0000) {
    this.ram = new Uint8Array(ramSize);
  }

  /** Maps `[iova, iova + size)` in the fake IOMMU domain. */
  map(iova: number | bigint, size: number | bigint): void {
    const start = BigInt(iova);
    this.mapped.push({ start, end: start + BigInt(size) });
  }

  private reachable(iova: bigint, length: number): boolean {
    const end = iova + BigInt(length);
    if (end > BigInt(this.ram.length)) return false;
    // Whole range inside one mapping (tests map contiguous ranges).
    return this.mapped.some((m) => iova >= m.start && end <= m.end);
  }

  raiseIrq(): void {
    this.irqLevel = true;
    this.irqEvents.push('raise');
  }

  lowerIrq(): void {
    this.irqLevel = false;
    this.irqEvents.push('lower');
  }

  sendMsi(msg: SimMsiMessage): void {
    this.msis.push(msg);
  }

  dmaRead(iova: bigint, dest: Uint8Array): boolean {
    if (!this.reachable(iova, dest.length)) {
      this.faults.push({ op: 'read', iova, length: dest.length });
      return false;
    }
    dest.set(this.ram.subarray(Number(iova), Number(iova) + dest.length));
    return true;
  }

  dmaWrite(iova: bigint, src: Uint8Array): boolean {
    if (!this.reachable(iova, src.length)) {
      this.faults.push({ op: 'write', iova, length: src.length });
      return false;
    }
    this.ram.set(src, Number(iova));
    return true;
  }

  schedule(delayMs: number, callback: () => void): () => void {
    const timer: Timer = { seq: this.seq++, due: this.now + delayMs, callback, cancelled: false };
    this.timers.push(timer);
    return () => {
      timer.cancelled = true;
    };
  }

  log(message: string): void {
    this.logs.push(message);
  }

  /** Timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** Moves the clock `ms` forward, firing due timers in (due, scheduling) order. */
  advance(ms: number): void {
    const target = this.now + ms;
    for (;;) {
      this.timers = this.timers.filter((t) => !t.cancelled);
      const next = this.timers.filter((t) => t.due <= target).sort((a, b) => a.due - b.due || a.seq - b.seq)[0];
      if (!next) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.now = Math.max(this.now, next.due);
      next.callback();
    }
    this.now = target;
  }
}

function toBytes(width: number, value: number | bigint): Uint8Array {
  const data = new Uint8Array(width);
  let v = typeof value === 'bigint' ? value : BigInt(value >>> 0) | (width === 8 ? BigInt(Math.floor(value / 2 ** 32)) << 32n : 0n);
  for (let i = 0; i < width; i++) {
    data[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return data;
}

function fromBytes(data: Uint8Array): bigint {
  let v = 0n;
  for (let i = data.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[i]!);
  return v;
}

/** Config read of `width` bytes (1/2/4) at `offset`; throws when the model refuses it. */
export function cfgRead(model: SimDeviceModel, offset: number, width: number): number {
  const data = new Uint8Array(width);
  if (!model.readConfig(offset, data)) throw new Error(`readConfig(${offset}, ${width}) refused`);
  return Number(fromBytes(data));
}

/**
 * The identity of `model` as its config space reads (PCI Local Bus spec 3.0, 6.2.1): the
 * vendor/device, class/revision and subsystem dwords, the interrupt pin, and the config size.
 */
export function identityOf(model: SimDeviceModel): { id: number; classRevision: number; subsystem: number; interruptPin: number; configSize: number } {
  return {
    id: cfgRead(model, PCI_VENDOR_ID, 4),
    classRevision: cfgRead(model, PCI_CLASS_REVISION, 4),
    subsystem: cfgRead(model, PCI_SUBSYSTEM_VENDOR_ID, 4),
    interruptPin: cfgRead(model, PCI_INTERRUPT_PIN, 1),
    configSize: model.configSize,
  };
}

/** Config write; returns the model's answer. */
export function cfgWrite(model: SimDeviceModel, offset: number, width: number, value: number): boolean {
  return model.writeConfig(offset, toBytes(width, value));
}

/** Memory read of `width` bytes (1/2/4) in `region`; throws when refused. */
export function memRead(model: SimDeviceModel, region: number, offset: number, width: number): number {
  return Number(memRead64(model, region, offset, width));
}

/** Memory read of `width` bytes (1..8) as a bigint; throws when refused. */
export function memRead64(model: SimDeviceModel, region: number, offset: number, width: number): bigint {
  const data = new Uint8Array(width);
  if (!model.readMem(region, offset, data)) throw new Error(`readMem(${region}, ${offset}, ${width}) refused`);
  return fromBytes(data);
}

/** Memory write of `width` bytes (1..8); returns the model's answer. */
export function memWrite(model: SimDeviceModel, region: number, offset: number, width: number, value: number | bigint): boolean {
  return model.writeMem(region, offset, toBytes(width, value));
}

/** I/O read of `width` bytes (1/2/4); throws when refused. */
export function ioRead(model: SimDeviceModel, region: number, offset: number, width: number): number {
  const data = new Uint8Array(width);
  if (!model.readIo(region, offset, data)) throw new Error(`readIo(${region}, ${offset}, ${width}) refused`);
  return Number(fromBytes(data));
}

/** I/O write of `width` bytes; returns the model's answer. */
export function ioWrite(model: SimDeviceModel, region: number, offset: number, width: number, value: number): boolean {
  return model.writeIo(region, offset, toBytes(width, value));
}
