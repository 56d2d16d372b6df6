// attach / detach: hand a host PCI function to vfio-pci (driverctl set-override, virsh nodedev-detach) and give it back.

import { join } from 'node:path';
import { Bdf } from '../../shared/bdf.js';
import { bindToDriver, describeBlockers, isBridge, restoreDriver, sysfsGroupBlockers, VFIO_PCI_DRIVER } from '../../shared/sysfs/binding.js';
import type { SysfsPciSource } from '../../shared/sysfs/sysfs-source.js';
import type { SysfsWrite, SysfsWriter } from '../../shared/sysfs/writer.js';
import { type AttachmentRecord, loadState, sameAttachment, saveState } from './state.js';

/** Why an attach or detach was refused; `message` names the cause and the fix. */
export type AttachErrorCode =
  | 'NOT_FOUND'
  | 'BRIDGE'
  | 'NO_IOMMU_GROUP'
  | 'GROUP_NOT_VIABLE'
  | 'DRIVER_MISSING'
  | 'BIND_FAILED'
  | 'NOT_ATTACHED'
  | 'BAD_ADDRESS';

/** An attach/detach failure with a stable `code`. */
export class AttachError extends Error {
  override readonly name = 'AttachError';
  readonly code: AttachErrorCode;
  constructor(code: AttachErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

/**
 * Parses the attach target: `BDF`, or VBoxManage's `HB:HD.HF@GB:GD.GF` (host@guest). A guest
 * given both ways must agree. Throws AttachError('BAD_ADDRESS') naming the accepted forms.
 */
export function parseAttachTarget(text: string, guestOption?: string): { host: Bdf; guest?: Bdf } {
  const [hostText, guestText, extra] = text.split('@');
  if (extra !== undefined || !hostText)
    throw new AttachError('BAD_ADDRESS', `'${text}' is not a device: write BDF (0000:03:00.0) or host@guest as VBoxManage does (03:00.0@01:05.0)`);
  const host = parseAddress(hostText, 'host');
  const g1 = guestText !== undefined ? parseAddress(guestText, 'guest') : undefined;
  const g2 = guestOption !== undefined ? parseAddress(guestOption, 'guest') : undefined;
  if (g1 && g2 && !g1.equals(g2))
    throw new AttachError(
      'BAD_ADDRESS',
      `guest address given twice (${g1.toShortString()} and ${g2.toShortString()}): give it once, with --guest or after '@'`,
    );
  const guest = g1 ?? g2;
  return guest ? { host, guest } : { host };
}

function parseAddress(text: string, what: string): Bdf {
  const b = Bdf.tryParse(text);
  if (!b) throw new AttachError('BAD_ADDRESS', `'${text}' is not a ${what} PCI address: write DDDD:BB:DD.F or BB:DD.F (e.g. 0000:03:00.0)`);
  return b;
}

/** Options shared by attach and detach on a sysfs host. */
export interface SysfsBindingOptions {
  source: SysfsPciSource;
  writer: SysfsWriter;
  statePath: string;
  /** Driver to hand the device to (default vfio-pci). */
  driver?: string;
  /** Clock for `attachedAt` (tests). */
  now?: () => Date;
}

/** What attach did (or, with a dry-run writer, would do). */
export interface AttachResult {
  record: AttachmentRecord;
  writes: SysfsWrite[];
  /** The device was already bound to the target driver and recorded; nothing was written. */
  alreadyAttached: boolean;
}

/**
 * Attaches a function on a sysfs host, the way `driverctl set-override` and `virsh
 * nodedev-detach` do: checks it exists and is not a bridge, checks its IOMMU group is viable
 * (every other member unbound, bound to the target or pci-stub; bridges on pcieport ignored),
 * records the original driver, then writes BDF to driver/unbind, the target to driver_override
 * and BDF to drivers_probe, and checks the device ended up on the target. Records the
 * attachment in the state file (atomically) unless dry-run. Throws {@link AttachError}.
 */
export async function attachSysfs(opts: SysfsBindingOptions & { bdf: Bdf; guest?: Bdf }): Promise<AttachResult> {
  const { source, writer, bdf } = opts;
  const target = opts.driver ?? VFIO_PCI_DRIVER;
  const rec = await source.get(bdf);
  if (!rec) throw new AttachError('NOT_FOUND', `no PCI device at ${bdf} in ${source.description}: check the address with \`rawpci list\``);
  if (isBridge(rec))
    throw new AttachError(
      'BRIDGE',
      `${bdf} is a bridge (class ${(rec.classCode >> 8).toString(16).padStart(4, '0')}): bridges route other devices and cannot be passed through; attach the endpoint behind it instead`,
    );
  if (rec.iommuGroup === undefined)
    throw new AttachError(
      'NO_IOMMU_GROUP',
      `${bdf} has no IOMMU group (no ${join(source.deviceDir(bdf), 'iommu_group')} link): enable the IOMMU (intel_iommu=on or amd_iommu=on on the kernel command line, VT-d/AMD-Vi in firmware) and reboot`,
    );
  const blockers = sysfsGroupBlockers(source, bdf, rec.iommuGroup, target);
  if (blockers.length) {
    const fix = blockers.map((b) => `rawpci attach ${b.bdf}`).join('; ');
    throw new AttachError(
      'GROUP_NOT_VIABLE',
      `${bdf} is in IOMMU group ${rec.iommuGroup} with ${describeBlockers(blockers)}: VFIO needs the whole group; detach ${blockers.length > 1 ? 'them' : 'it'} too (${fix})`,
    );
  }
  const drvDir = join(source.busPciDir, 'drivers', target);
  if (!source.hasDriver(target)) throw new AttachError('DRIVER_MISSING', `driver ${target} is not loaded (no ${drvDir}): load it with \`modprobe ${target}\``);
  const state = loadState(opts.statePath);
  const key = { bdf: bdf.toString(), host: 'sysfs' as const, sysfsRoot: source.root };
  const existing = state.attachments.find((a) => sameAttachment(a, key));
  if (rec.driver === target && existing) return { record: existing, writes: [], alreadyAttached: true };
  const writes = bindToDriver(source, writer, bdf, rec.driver, target);
  const originalDriver = existing ? existing.originalDriver : rec.driver && rec.driver !== target ? rec.driver : null;
  const record: AttachmentRecord = {
    ...key,
    ...(opts.guest ? { guest: opts.guest.toShortString() } : existing?.guest ? { guest: existing.guest } : {}),
    originalDriver,
    driver: target,
    iommuGroup: rec.iommuGroup ?? null,
    attachedAt: (opts.now ?? (() => new Date()))().toISOString(),
  };
  if (!writer.dryRun) {
    const after = await source.get(bdf);
    if (after?.driver !== target)
      throw new AttachError(
        'BIND_FAILED',
        `after probing, ${bdf} is ${after?.driver ? `bound to ${after.driver}` : 'not bound to any driver'} instead of ${target}: check \`dmesg\` for the kernel's reason (a missing IOMMU or a device ${target} refuses)`,
      );
    state.attachments = state.attachments.filter((a) => !sameAttachment(a, key)).concat(record);
    saveState(opts.statePath, state);
  }
  return { record, writes, alreadyAttached: false };
}

/** What detach did (or would do). */
export interface DetachResult {
  record: AttachmentRecord;
  writes: SysfsWrite[];
  /** Driver the device is bound to afterwards (undefined: unbound, or dry run). */
  boundTo?: string;
}

/**
 * Detaches a function rawpci attached (virsh nodedev-reattach, driverctl unset-override):
 * unbinds it from the target driver, clears driver_override, then binds the recorded original
 * driver (drivers/NAME/bind) or lets the kernel probe (drivers_probe) when there was none, and
 * removes the record. Throws AttachError('NOT_ATTACHED') when nothing is recorded for it.
 */
export async function detachSysfs(opts: SysfsBindingOptions & { bdf: Bdf }): Promise<DetachResult> {
  const { source, writer, bdf } = opts;
  const state = loadState(opts.statePath);
  const key = { bdf: bdf.toString(), host: 'sysfs' as const, sysfsRoot: source.root };
  const record = state.attachments.find((a) => sameAttachment(a, key));
  if (!record)
    throw new AttachError(
      'NOT_ATTACHED',
      `no attachment of ${bdf} is recorded in ${opts.statePath}: nothing to detach (\`rawpci status\` lists attachments; to unbind by hand use driverctl)`,
    );
  const rec = await source.get(bdf);
  if (!rec)
    throw new AttachError(
      'NOT_FOUND',
      `no PCI device at ${bdf} in ${source.description} (it was attached; was it removed?): remove the record with \`rawpci detach ${bdf} --forget\``,
    );
  const writes = restoreDriver(source, writer, bdf, rec.driver !== undefined, record.originalDriver);
  let boundTo: string | undefined;
  if (!writer.dryRun) {
    boundTo = (await source.get(bdf))?.driver;
    state.attachments = state.attachments.filter((a) => !sameAttachment(a, key));
    saveState(opts.statePath, state);
  }
  return { record, writes, ...(boundTo ? { boundTo } : {}) };
}

/** Removes a record without touching the device (`detach --forget`). Returns the removed record. */
export function forgetAttachment(statePath: string, key: Pick<AttachmentRecord, 'bdf' | 'host' | 'sysfsRoot'>): AttachmentRecord | undefined {
  const state = loadState(statePath);
  const record = state.attachments.find((a) => sameAttachment(a, key));
  if (record) {
    state.attachments = state.attachments.filter((a) => !sameAttachment(a, key));
    saveState(statePath, state);
  }
  return record;
}
