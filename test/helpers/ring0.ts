// Test helpers: start ring 0 on the simulated host, connect VMs (or run a test body with them), and open the default devices.
import { Ring0Service, type Ring0ServiceOptions } from '../../r0/service.js';
import { type ConnectOptions, RawPciClient } from '../../r3/client.js';
import { PCI_COMMAND, PCI_COMMAND_IO, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY } from '../../shared/linux/pci-regs.js';
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

/** What {@link withVms} sets up: how many VMs (default 1), the service's options, the VMs' connect options. */
export interface VmFixture {
  vms?: number;
  service?: Ring0ServiceOptions;
  connect?: ConnectOptions;
}

/**
 * The test fixture: starts a service (`fixture.service` as {@link startService}), connects
 * `fixture.vms` VMs to it (as {@link connectVm}, with `fixture.connect`), runs `body` with them,
 * then closes the VMs in order and the service whether `body` returned or threw. Returns what
 * `body` returns; a failed assertion or an error in `body` fails the test as before.
 */
export async function withVms<T>(fixture: VmFixture, body: (vms: RawPciClient[], service: Ring0Service) => T | Promise<T>): Promise<T> {
  const service = await startService(fixture.service);
  const vms: RawPciClient[] = [];
  try {
    for (let i = 0; i < (fixture.vms ?? 1); i++) vms.push(await connectVm(service, fixture.connect));
    return await body(vms, service);
  } finally {
    for (const vm of vms) await vm.close();
    await service.close();
  }
}

/** A test body run by {@link withVm}. */
type VmBody<T> = (vm: RawPciClient, service: Ring0Service) => T | Promise<T>;

/** {@link withVms} with one VM: `withVm(body)` or `withVm({ service, connect }, body)`. */
export function withVm<T>(body: VmBody<T>): Promise<T>;
export function withVm<T>(fixture: Omit<VmFixture, 'vms'>, body: VmBody<T>): Promise<T>;
export function withVm<T>(fixtureOrBody: Omit<VmFixture, 'vms'> | VmBody<T>, maybeBody?: VmBody<T>): Promise<T> {
  const [fixture, body] = typeof fixtureOrBody === 'function' ? [{}, fixtureOrBody] : [fixtureOrBody, maybeBody!];
  return withVms({ ...fixture, vms: 1 }, ([vm], service) => body(vm!, service));
}

/** Opens `bdf` detaching its host driver, powers it on, and enables decode + bus mastering. */
export function openOn(vm: RawPciClient, bdf: string): number {
  const h = vm.openDevice(bdf, { detachHostDriver: true });
  vm.powerStateChange(h, PCIRAW_POWER.ON);
  const cmd = vm.cfgRead(h, PCI_COMMAND, 2);
  vm.cfgWrite(h, PCI_COMMAND, 2, cmd | PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  return h;
}

/** BAR start of `region` as a bigint. */
export function barStart(vm: RawPciClient, h: number, region: number): bigint {
  return vm.getRegionInfo(h, region).regionStart;
}
