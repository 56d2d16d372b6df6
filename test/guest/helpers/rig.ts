// Guest-test rigs: a guest bus with a recording interrupt sink and PciFronts over an in-process ring 0 (Ring0Host).

import type { SimDeviceModel } from '../../../r0/sim/device.js';
import { type GuestDirectMapping, type GuestInterruptSink, type GuestMsiSource, GuestPciBus } from '../../../r3/guest/guest-bus.js';
import { PciFront } from '../../../r3/guest/pci-front.js';
import type { Bdf } from '../../../shared/bdf.js';
import type { PciRawDevHandle } from '../../../shared/protocol.js';
import { Ring0Host } from './ring0-host.js';

/** An interrupt sink that records what the bus delivers: line levels and their changes, MSIs, faults and direct-map changes. */
export class RecordingSink implements GuestInterruptSink {
  readonly levels = new Map<number, boolean>();
  readonly changes: [number, boolean][] = [];
  readonly msis: { address: bigint; data: number; source: GuestMsiSource }[] = [];
  readonly faults: string[] = [];
  readonly maps: [GuestDirectMapping, boolean][] = [];

  setIrqLevel(line: number, level: boolean): void {
    this.levels.set(line, level);
    this.changes.push([line, level]);
  }

  deliverMsi(address: bigint, data: number, source: GuestMsiSource): void {
    this.msis.push({ address, data, source });
  }

  fault(_bdf: unknown, detail: string): void {
    this.faults.push(detail);
  }
}

/**
 * A bus, a recording sink and one PciFront at guest slot `device` over `model`, which ring 0
 * serves as the only device of a fresh {@link Ring0Host} (opened and powered on).
 */
export function rig(model: SimDeviceModel, device = 3): Rig {
  const sink = new RecordingSink();
  const bus = new GuestPciBus({ sink, onDirectMapChange: (m, on) => sink.maps.push([m, on]) });
  const host = new Ring0Host([model]);
  const handle = host.handles[0]!;
  const front = new PciFront(host, handle, { name: model.model });
  const bdf = bus.attach(front, device);
  return {
    sink,
    bus,
    host,
    handle,
    front,
    bdf,
    cfgRead: (offset, cb) => bus.configRead(bdf, offset, cb),
    cfgWrite: (offset, cb, value) => bus.configWrite(bdf, offset, cb, value),
  };
}

/** What {@link rig} returns; `cfgRead`/`cfgWrite` address the front's config space through the bus, `handle` is the device's ring-0 handle. */
export interface Rig {
  sink: RecordingSink;
  bus: GuestPciBus;
  host: Ring0Host;
  handle: PciRawDevHandle;
  front: PciFront;
  bdf: Bdf;
  cfgRead(offset: number, cb: 1 | 2 | 4): number;
  cfgWrite(offset: number, cb: 1 | 2 | 4, value: number): void;
}
