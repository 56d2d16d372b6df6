// Test helpers: start ring 0 on the simulated host, connect VMs, and open the default devices.
import { Ring0Service, type Ring0ServiceOptions } from '../../r0/service.js';
import { type ConnectOptions, RawPciClient } from '../../r3/client.js';
import { PCIRAW_MEMINFO, PCIRAW_POWER } from '../../shared/protocol.js';

/** BDFs of the default simulated inventory. */
export const HOST_BRIDGE = '0000:00:00.0';
export const EDU = '0000:00:04.0';
export const TESTDEV = '0000:00:05.0';
/** Guest RAM of test VMs (bytes). */
export const RAM_BYTES = 4 << 20;

/** Starts a ring-0 service (quiet logs unless RAWPCI_LOG is set). */
export async function startService(options: Ring0ServiceOptions = {}): Promise<Ring0Service> {
  process.env.RAWPCI_LOG ??= 'silent';
  return Ring0Service.start({ maxVms: 4, ...options });
}

/** Connects a VM with an IOMMU domain mapping all its guest RAM at IOVA 0. */
export async function connectVm(service: Ring0Service, options: ConnectOptions = {}): Promise<RawPciClient> {
  const vm = await RawPciClient.connect(service, { guestRamBytes: RAM_BYTES, timeoutMs: 10_000, ...options });
  vm.initVm();
  vm.contigMemInfo(0n, 0n, BigInt(vm.ram.byteLength), PCIRAW_MEMINFO.MAP);
  return vm;
}

/** Opens `bdf` detaching its host driver, powers it on, and enables decode + bus mastering. */
export function openOn(vm: RawPciClient, bdf: string): number {
  const h = vm.openDevice(bdf, { detachHostDriver: true });
  vm.powerStateChange(h, PCIRAW_POWER.ON);
  const cmd = vm.cfgRead(h, 0x04, 2);
  vm.cfgWrite(h, 0x04, 2, cmd | 0x7); // PCI_COMMAND_IO | MEMORY | MASTER
  return h;
}

/** BAR start of `region` as a bigint. */
export function barStart(vm: RawPciClient, h: number, region: number): bigint {
  return vm.getRegionInfo(h, region).regionStart;
}
