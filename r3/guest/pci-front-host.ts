// The device-access seam PciFront is written against: the raw PCI operations of one VM, each taking the device handle first.

import type { PciRawDevHandle, PciRawIrqKind } from '../../shared/protocol.js';
import type { MappedRegion, RegionInfo } from '../client.js';

/**
 * The device-access seam PciFront is written against: the raw PCI operations of one VM, each
 * taking the device handle first. {@link RawPciClient} satisfies it as is; unit tests pass a
 * fake. Every method may throw (RawPciError from a client); PciFront logs the failure and
 * answers the guest with all-ones instead of throwing into the vCPU.
 *
 * Units as in RawPciClient: ports and config offsets are numbers, memory addresses bigint host
 * physical addresses inside the device's regions, widths in bytes.
 */
export interface PciFrontHost {
  /** GET_REGION_INFO of region 0..6. */
  getRegionInfo(handle: PciRawDevHandle, region: number): RegionInfo;
  /** PCICFG_READ (naturally aligned). */
  cfgRead(handle: PciRawDevHandle, offset: number, cb: 1 | 2 | 4): number;
  /** PCICFG_WRITE (BAR registers are refused by ring 0: PciFront never sends them). */
  cfgWrite(handle: PciRawDevHandle, offset: number, cb: 1 | 2 | 4, value: number): void;
  /** PIO_READ at a host port. */
  pioRead(handle: PciRawDevHandle, port: number, cb: 1 | 2 | 4): number;
  /** PIO_WRITE at a host port. */
  pioWrite(handle: PciRawDevHandle, port: number, cb: 1 | 2 | 4, value: number): void;
  /** MMIO_READ at a host physical address: a number for 1, 2, 4 bytes, a bigint for 8. */
  mmioRead(handle: PciRawDevHandle, address: bigint, cb: 1 | 2 | 4 | 8): number | bigint;
  /** MMIO_WRITE at a host physical address. */
  mmioWrite(handle: PciRawDevHandle, address: bigint, cb: 1 | 2 | 4 | 8, value: number | bigint): void;
  /** ACK_IRQ: for INTx, unmasks the automasked host line. */
  ackIrq(handle: PciRawDevHandle, kind?: PciRawIrqKind): void;
  /** MAP_REGION (optional): throws (VERR_NOT_SUPPORTED) for regions that must be trapped. */
  mapRegion?(handle: PciRawDevHandle, region: number): MappedRegion;
  /** UNMAP_REGION (optional). */
  unmapRegion?(m: MappedRegion): void;
  /** REGISTER_R0_IRQ_HANDLER (optional): PciFront registers the guest line on attach. */
  registerIrqHandler?(handle: PciRawDevHandle, guestIrq: number): number;
}
