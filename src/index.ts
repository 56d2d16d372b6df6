// rawpci's public API: start ring 0, connect a VM's ring-3 client, drive devices; plus the protocol and the device-model interface.
//
// ```ts
// import { Ring0Service, RawPciClient, PCIRAW_POWER } from 'rawpci';
// const ring0 = await Ring0Service.start();                  // simulated host by default
// const vm = await RawPciClient.connect(ring0, { guestRamBytes: 16 << 20 });
// vm.initVm();                                               // the VM's IOMMU domain
// vm.contigMemInfo(0n, 0n, BigInt(16 << 20));                // guest RAM reachable by DMA
// const edu = vm.openDevice('0000:00:04.0', { detachHostDriver: true });
// vm.powerStateChange(edu, PCIRAW_POWER.ON);
// const bar0 = vm.getRegionInfo(edu, 0).regionStart;
// vm.cfgWrite(edu, 0x04, 2, 0x6);                            // memory decode + bus master
// console.log(vm.mmioRead(edu, bar0, 4).toString(16));        // 10000ed
// await vm.close();
// await ring0.close();
// ```

export { MAX_SERVER_SPIN_US } from '../r0/channel-server.js';
export { DEFAULT_DMA_TIMEOUT_MS } from '../r0/dma-lane.js';
export { DEVICE_MAX_MAPPINGS } from '../r0/open-device.js';
export { type CleanupRecord, RawPciServer, type RawPciServerOptions } from '../r0/server.js';
export { DEFAULT_REQUEST_LIMIT_MS, type OpenChannelOptions, Ring0Service, type Ring0ServiceOptions, type SessionStatus } from '../r0/service.js';
// Per-session bounds (docs/hostile-ring3.md).
export { SESSION_EVENT_QUEUE_MAX, SESSION_MAX_DEVICES, SESSION_MAX_PARKED } from '../r0/session.js';
export { ConfigSpace } from '../r0/sim/config-space.js';
// Simulated host: the device-model interface (Palacios vmm_host_dev.h hooks) and the building blocks.
export type { SimBarKind, SimDeviceHost, SimDeviceModel, SimModelFactory, SimMsiMessage, SimRegion } from '../r0/sim/device.js';
export { DEFAULT_INVENTORY, loadInventory, parseInventory, type SimInventory, type SimInventoryEntry, SimInventoryError } from '../r0/sim/inventory.js';
export { createSimModel, EduDevice, HostBridgeDevice, listSimModels, registerSimModel, SimPciFunction, TestDevDevice } from '../r0/sim/models/index.js';
export { TIMER_GROUP_MAX } from '../r0/timers.js';
export { ChannelClient, type ChannelClientOptions } from '../r3/channel.js';
export {
  type BatchAccess,
  type BatchResult,
  type ConnectOptions,
  type MappedRegion,
  type OpenDeviceOptions,
  RawPciClient,
  type RawPciClientOptions,
  type RegionInfo,
} from '../r3/client.js';
export { RawPciError } from '../r3/errors.js';
// Guest side: a guest PCI bus (config mechanism #1, port/MMIO dispatch, INTx, MSI) and PciFront (Palacios pci_front).
export * from '../r3/guest/index.js';
// v86: the bridge that puts a GuestPciBus on a v86 emulator's PCI bus, and `rawpci vm`'s runner.
export {
  attachToV86,
  missingV86Internals,
  V86_PINNED_VERSION,
  type V86Bridge,
  type V86BridgeOptions,
  type V86BridgeStats,
  type V86Emulator,
} from '../r3/guest/v86.js';
export { Bdf } from '../shared/bdf.js';
export { PciRawCodec } from '../shared/codec.js';
export type { RawPciEndpoint, Ring0Connection } from '../shared/connection.js';
export type { GuestMemoryAccess } from '../shared/guest-memory.js';
export type { MsiMessage } from '../shared/pci/msi.js';
export type { MsixEntry } from '../shared/pci/msix.js';
export type { PciBarKind, PciRegionKind } from '../shared/pci/region.js';
export * from '../shared/protocol.js';
export { defaultSocketPath } from '../shared/serve-protocol.js';
export { rtFailure, rtSuccess, statusName, VBoxStatus, type VBoxStatusName } from '../shared/status.js';
// A ring-3 edu driver (QEMU's teaching device), usable against the simulated host and VFIO alike.
export { EDU, EduDriver } from './drivers/edu.js';
export { runV86Vm, type V86VmOptions, VM_EXIT_PORT, VM_EXIT_TIMEOUT, type VmDevice, VmUsageError } from './vm/v86-vm.js';
