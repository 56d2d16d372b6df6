// Driver binding in sysfs, for the CLI's attach/detach and ring 0's DETACH_HOST_DRIVER alike: which drivers count as passed through, what blocks an IOMMU group, and the bind and restore sequences.
//
// The sequences are those of driverctl and virsh nodedev-detach/-reattach, over the sysfs ABI
// (Documentation/ABI/testing/sysfs-bus-pci): `driver/unbind`, `driver_override`,
// `drivers_probe`, `drivers/NAME/bind`. Viability follows Linux drivers/vfio/group.c: a group
// can be used by VFIO when every member is unbound, on vfio-pci, or on a driver VFIO allows.

import { join } from 'node:path';
import type { Bdf } from '../bdf.js';
import { PCI_HEADER_TYPE, PCI_HEADER_TYPE_MASK, PCI_HEADER_TYPE_NORMAL } from '../linux/pci-regs.js';
import type { PciDeviceRecord } from './source.js';
import type { SysfsPciSource } from './sysfs-source.js';
import type { SysfsWrite, SysfsWriter } from './writer.js';

/** The Linux driver rawpci hands devices to for VFIO. */
export const VFIO_PCI_DRIVER = 'vfio-pci';
/** The "driver" a device of the simulated host is bound to once rawpci's ring 0 owns it. */
export const SIM_RING0_DRIVER = 'rawpci';

/**
 * Drivers under which a device is not the host's: vfio-pci and the simulated ring 0 hold it for
 * a VM, pci-stub holds it for nobody (Linux drivers/vfio/group.c allows pci-stub in a viable
 * group). Any other driver is a host driver.
 */
export const PASSTHROUGH_DRIVERS: ReadonlySet<string> = new Set([VFIO_PCI_DRIVER, 'pci-stub', SIM_RING0_DRIVER]);

/** True when `driver` is a host driver: bound (not null/undefined) and not in {@link PASSTHROUGH_DRIVERS}. */
export function isHostDriver(driver: string | null | undefined): driver is string {
  return driver != null && !PASSTHROUGH_DRIVERS.has(driver);
}

/** PCI base class of bridges (PCI Local Bus spec 3.0, appendix D). */
export const PCI_BASE_CLASS_BRIDGE = 0x06;

/**
 * True for functions rawpci refuses to hand to a VM: host bridges (class 0600), PCI-to-PCI and
 * CardBus bridges (0604, 0607, 0609) and anything whose header type is not 0 (PCI Local Bus
 * spec 3.0, 6.2.1 and Appendix D). `config` may be empty (then the class decides alone).
 */
export function isBridge(rec: Pick<PciDeviceRecord, 'classCode' | 'config'>): boolean {
  const cls = rec.classCode >> 8;
  if (cls === 0x0600 || cls === 0x0604 || cls === 0x0607 || cls === 0x0609) return true;
  return rec.config.length > PCI_HEADER_TYPE && (rec.config[PCI_HEADER_TYPE]! & PCI_HEADER_TYPE_MASK) !== PCI_HEADER_TYPE_NORMAL;
}

/** One member of an IOMMU group as the viability rule sees it. */
export interface GroupMember {
  bdf: Bdf;
  /** Bound driver; null or undefined when unbound. */
  driver: string | null | undefined;
  /** The member is a bridge (bridges on pcieport do not take part in DMA). */
  bridge: boolean;
}

/** A member of an IOMMU group that keeps it from being viable, with its driver. */
export interface GroupBlocker {
  bdf: Bdf;
  driver: string;
}

/**
 * The one answer to "what blocks this group": the members other than `self` still bound to a
 * host driver, except the `target` driver being attached and bridges on pcieport. Empty when
 * the group is viable for `self`.
 */
export function groupBlockers(members: Iterable<GroupMember>, self: Bdf, target: string = VFIO_PCI_DRIVER): GroupBlocker[] {
  const out: GroupBlocker[] = [];
  for (const m of members) {
    if (m.bdf.equals(self) || !isHostDriver(m.driver) || m.driver === target) continue;
    if (m.bridge && m.driver === 'pcieport') continue;
    out.push({ bdf: m.bdf, driver: m.driver });
  }
  return out;
}

/** {@link groupBlockers} of IOMMU group `group` of `self`, its members read from sysfs. */
export function sysfsGroupBlockers(source: SysfsPciSource, self: Bdf, group: string, target: string = VFIO_PCI_DRIVER): GroupBlocker[] {
  const members = source.groupMembers(group).map((bdf): GroupMember => {
    const rec = source.tryRead(bdf);
    return { bdf, driver: rec?.driver, bridge: rec ? isBridge(rec) : false };
  });
  return groupBlockers(members, self, target);
}

/** The blockers for a refusal message: "A (bound to x), B (bound to y), which are still bound to a host driver". */
export function describeBlockers(blockers: readonly GroupBlocker[]): string {
  const list = blockers.map((b) => `${b.bdf} (bound to ${b.driver})`).join(', ');
  return `${list}, which ${blockers.length > 1 ? 'are' : 'is'} still bound to a host driver`;
}

/**
 * Hands `bdf` to driver `target` (driverctl set-override): unbinds its current driver
 * `current`, writes `target` to driver_override and probes. Returns the writes made (a dry-run
 * writer only records them). Throws the writer's Error (naming the path and the errno). The
 * caller checks the result with {@link SysfsPciSource.driverOf}.
 */
export function bindToDriver(source: SysfsPciSource, writer: SysfsWriter, bdf: Bdf, current: string | null | undefined, target: string): SysfsWrite[] {
  const writes = recording(writer);
  const dev = source.deviceDir(bdf);
  if (current && current !== target) writes.write(join(dev, 'driver', 'unbind'), bdf.toString());
  writes.write(join(dev, 'driver_override'), target);
  if (current !== target) writes.write(join(source.busPciDir, 'drivers_probe'), bdf.toString());
  return writes.log;
}

/**
 * Gives `bdf` back (driverctl unset-override, virsh nodedev-reattach): unbinds it when `bound`,
 * clears driver_override, then binds `original` (drivers/NAME/bind) when that driver is loaded,
 * or lets the kernel probe (drivers_probe). Returns the writes made. Throws the writer's Error.
 */
export function restoreDriver(source: SysfsPciSource, writer: SysfsWriter, bdf: Bdf, bound: boolean, original: string | null | undefined): SysfsWrite[] {
  const writes = recording(writer);
  const dev = source.deviceDir(bdf);
  if (bound) writes.write(join(dev, 'driver', 'unbind'), bdf.toString());
  // An empty write (a newline) clears driver_override (Linux drivers/pci/pci-sysfs.c driver_override_store).
  writes.write(join(dev, 'driver_override'), '\n');
  if (original && source.hasDriver(original)) writes.write(join(source.busPciDir, 'drivers', original, 'bind'), bdf.toString());
  else writes.write(join(source.busPciDir, 'drivers_probe'), bdf.toString());
  return writes.log;
}

function recording(writer: SysfsWriter): { log: SysfsWrite[]; write(path: string, value: string): void } {
  const log: SysfsWrite[] = [];
  return {
    log,
    write(path, value) {
      writer.write(path, value);
      log.push({ path, value });
    },
  };
}

/**
 * Puts `bdf` back the way it was before a failed attach (the rollback of {@link bindToDriver}):
 * unbinds it when `bound`, writes `override` back to driver_override (or clears it), then binds
 * `driver` through drivers/NAME/bind when it had one. A device that was unbound stays unbound:
 * no drivers_probe, which would hand it to a driver it never had. Returns the writes made.
 * Throws the writer's Error.
 */
export function returnToDriver(
  source: SysfsPciSource,
  writer: SysfsWriter,
  bdf: Bdf,
  bound: boolean,
  driver: string | null | undefined,
  override?: string,
): SysfsWrite[] {
  const writes = recording(writer);
  const dev = source.deviceDir(bdf);
  if (bound) writes.write(join(dev, 'driver', 'unbind'), bdf.toString());
  writes.write(join(dev, 'driver_override'), override ?? '\n');
  if (driver) writes.write(join(source.busPciDir, 'drivers', driver, 'bind'), bdf.toString());
  return writes.log;
}
