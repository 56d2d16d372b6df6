// A host bridge (class 0x0600) like QEMU 7.2 q35's MCH (hw/pci-host/q35.c) at 00:00.0: identity only, no BARs, no interrupt.

import { ConfigSpace } from '../config-space.js';
import { SimPciFunction } from './base.js';

/** Identity of QEMU 7.2 q35's host bridge (Intel 82G33/G31/P35/P31 Express DRAM Controller). */
export const HOST_BRIDGE_VENDOR_ID = 0x8086;
export const HOST_BRIDGE_DEVICE_ID = 0x29c0;
export const HOST_BRIDGE_REVISION = 0x00;
/** Class code 0x060000: bridge, host bridge (PCI Code and ID Assignment spec 1.x, base 06 sub 00). */
export const HOST_BRIDGE_CLASS_CODE = 0x06_0000;
export const HOST_BRIDGE_SUBSYSTEM_VENDOR_ID = 0x1af4;
export const HOST_BRIDGE_SUBSYSTEM_ID = 0x1100;

/**
 * The `host-bridge` model: a 256-byte type 0 header with the identity above, no BARs, no
 * capabilities, no interrupt pin. Every I/O and memory access is refused (it has no regions);
 * the command register is writable like any function's. Takes no options (throws TypeError
 * naming an unknown one).
 */
export class HostBridgeDevice extends SimPciFunction {
  readonly model = 'host-bridge';

  constructor(options: Record<string, unknown> = {}) {
    const unknown = Object.keys(options);
    if (unknown.length > 0) throw new TypeError(`host-bridge: unknown option '${unknown[0]}': this model takes no options`);
    super(
      new ConfigSpace({
        vendorId: HOST_BRIDGE_VENDOR_ID,
        deviceId: HOST_BRIDGE_DEVICE_ID,
        revision: HOST_BRIDGE_REVISION,
        classCode: HOST_BRIDGE_CLASS_CODE,
        subsystemVendorId: HOST_BRIDGE_SUBSYSTEM_VENDOR_ID,
        subsystemId: HOST_BRIDGE_SUBSYSTEM_ID,
      }),
    );
  }

  /** The bridge has no I/O region: refused (ring 0 should not route an access here). */
  override readIo(region: number, offset: number, data: Uint8Array): boolean {
    this.log(`I/O read of ${data.length} bytes at region ${region}+0x${offset.toString(16)}: the host bridge has no I/O BAR`);
    return false;
  }

  /** The bridge has no I/O region: refused. */
  override writeIo(region: number, offset: number, data: Uint8Array): boolean {
    this.log(`I/O write of ${data.length} bytes at region ${region}+0x${offset.toString(16)}: the host bridge has no I/O BAR`);
    return false;
  }

  protected resetState(): void {}
}
