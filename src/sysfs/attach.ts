// attach / detach / restore: hand host PCI functions to vfio-pci a whole IOMMU group at a time (driverctl set-override, virsh nodedev-detach), give them back, re-apply the saved set at boot.

import { join } from 'node:path';
import { Bdf } from '../../shared/bdf.js';
import {
  bindToDriver,
  describeBlockers,
  type GroupBlocker,
  isBridge,
  restoreDriver,
  returnToDriver,
  sysfsGroupBlockers,
  VFIO_PCI_DRIVER,
} from '../../shared/sysfs/binding.js';
import type { PciDeviceRecord } from '../../shared/sysfs/source.js';
import type { SysfsPciSource } from '../../shared/sysfs/sysfs-source.js';
import type { SysfsWrite, SysfsWriter } from '../../shared/sysfs/writer.js';
import { type AttachmentRecord, isPersistent, loadState, type StateFile, sameAttachment, withState } from './state.js';

/** Why an attach, detach or restore was refused; `message` names the cause and the fix. */
export type AttachErrorCode =
  | 'NOT_FOUND'
  | 'BRIDGE'
  | 'NO_IOMMU_GROUP'
  | 'GROUP_NOT_VIABLE'
  | 'DRIVER_MISSING'
  | 'BIND_FAILED'
  | 'NOT_ATTACHED'
  | 'DEVICE_CHANGED'
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
 * Parses a device argument: `DDDD:BB:DD.F`, `BB:DD.F`, or libvirt's node device name
 * `pci_DDDD_BB_DD_F` (virsh nodedev-list). Undefined when it is none of them.
 */
export function parseDeviceName(text: string): Bdf | undefined {
  return Bdf.tryParse(text) ?? Bdf.fromLibvirtName(text);
}

/**
 * Parses the attach target: a device (see {@link parseDeviceName}), or VBoxManage's
 * `HB:HD.HF@GB:GD.GF` (host@guest). A guest given both ways must agree. Throws
 * AttachError('BAD_ADDRESS') naming the accepted forms.
 */
export function parseAttachTarget(text: string, guestOption?: string): AttachTarget {
  const [hostText, guestText, extra] = text.split('@');
  if (extra !== undefined || !hostText)
    throw new AttachError('BAD_ADDRESS', `'${text}' is not a device: write BDF (0000:03:00.0) or host@guest as VBoxManage does (03:00.0@01:05.0)`);
  const host = parseDeviceName(hostText);
  if (!host)
    throw new AttachError(
      'BAD_ADDRESS',
      `'${hostText}' is not a host PCI address: write DDDD:BB:DD.F, BB:DD.F or libvirt's pci_DDDD_BB_DD_F (e.g. 0000:03:00.0, pci_0000_03_00_0)`,
    );
  const g1 = guestText !== undefined ? parseGuest(guestText) : undefined;
  const g2 = guestOption !== undefined ? parseGuest(guestOption) : undefined;
  if (g1 && g2 && !g1.equals(g2))
    throw new AttachError(
      'BAD_ADDRESS',
      `guest address given twice (${g1.toShortString()} and ${g2.toShortString()}): give it once, with --guest or after '@'`,
    );
  const guest = g1 ?? g2;
  return guest ? { host, guest } : { host };
}

function parseGuest(text: string): Bdf {
  const b = Bdf.tryParse(text);
  if (!b) throw new AttachError('BAD_ADDRESS', `'${text}' is not a guest PCI address: write BB:DD.F or DDDD:BB:DD.F (e.g. 01:05.0)`);
  return b;
}

/** One device to attach: host function and, optionally, the guest address to record. */
export interface AttachTarget {
  host: Bdf;
  guest?: Bdf;
}

/** Options shared by attach, detach and restore on a sysfs host. */
export interface SysfsBindingOptions {
  source: SysfsPciSource;
  writer: SysfsWriter;
  /** The state file changed (under its lock). */
  statePath: string;
  /** Driver to hand the devices to (default vfio-pci). */
  driver?: string;
  /** Clock for `attachedAt` (tests). */
  now?: () => Date;
}

/** What attach did to one device. */
export interface DeviceAttach {
  record: AttachmentRecord;
  /** Already bound to the target driver and recorded: nothing was written. */
  alreadyAttached: boolean;
  writes: SysfsWrite[];
}

/** What attach did (or, with a dry-run writer, would do), device by device in address order. */
export interface AttachResult {
  devices: DeviceAttach[];
  writes: SysfsWrite[];
}

/** A device of the set with what it was before the command. */
interface Planned {
  bdf: Bdf;
  rec: PciDeviceRecord;
  guest?: Bdf;
  group: string;
}

const h4 = (v: number) => v.toString(16).padStart(4, '0');
const idOf = (rec: PciDeviceRecord) => `${h4(rec.vendor)}:${h4(rec.device)}`;

/**
 * The set a command works on: each target read from sysfs, refused when missing, a bridge, or
 * without IOMMU group; with `group`, every other function of each target's IOMMU group added
 * (bridges of the group skipped: they stay on pcieport). Sorted by address, no duplicates.
 */
async function planSet(source: SysfsPciSource, targets: readonly AttachTarget[], group: boolean): Promise<Planned[]> {
  const out = new Map<number, Planned>();
  for (const t of targets) {
    const rec = await source.get(t.host);
    if (!rec) throw new AttachError('NOT_FOUND', `no PCI device at ${t.host} in ${source.description}: check the address with \`rawpci list\``);
    if (isBridge(rec))
      throw new AttachError(
        'BRIDGE',
        `${t.host} is a bridge (class ${h4(rec.classCode >> 8)}): bridges route other devices and cannot be passed through; attach the endpoint behind it instead`,
      );
    if (rec.iommuGroup === undefined)
      throw new AttachError(
        'NO_IOMMU_GROUP',
        `${t.host} has no IOMMU group (no ${join(source.deviceDir(t.host), 'iommu_group')} link): enable the IOMMU (intel_iommu=on or amd_iommu=on on the kernel command line, VT-d/AMD-Vi in firmware) and reboot`,
      );
    out.set(t.host.pciAddress, { bdf: t.host, rec, group: rec.iommuGroup, ...(t.guest ? { guest: t.guest } : {}) });
    if (!group) continue;
    for (const m of source.groupMembers(rec.iommuGroup)) {
      if (out.has(m.pciAddress)) continue;
      const mr = source.tryRead(m);
      if (!mr || isBridge(mr)) continue;
      out.set(m.pciAddress, { bdf: m, rec: mr, group: rec.iommuGroup });
    }
  }
  return [...out.values()].sort((a, b) => a.bdf.pciAddress - b.bdf.pciAddress);
}

/**
 * Refuses the set unless every IOMMU group it touches is viable once the set is on `target`:
 * every member outside the set unbound, on `target` or pci-stub, or a bridge on pcieport (the
 * one rule of shared/sysfs/binding.ts, applied to the set). Also refuses when `target` is not
 * loaded.
 */
function checkSet(source: SysfsPciSource, set: readonly Planned[], target: string): void {
  const inSet = (b: Bdf) => set.some((p) => p.bdf.equals(b));
  const byGroup = new Map<string, Planned[]>();
  for (const p of set) byGroup.set(p.group, [...(byGroup.get(p.group) ?? []), p]);
  for (const [group, members] of byGroup) {
    const blockers: GroupBlocker[] = sysfsGroupBlockers(source, members[0]!.bdf, group, target).filter((b) => !inSet(b.bdf));
    if (!blockers.length) continue;
    const names = members.map((m) => m.bdf.toString());
    const all = [...names, ...blockers.map((b) => b.bdf.toString())];
    throw new AttachError(
      'GROUP_NOT_VIABLE',
      `${names.join(', ')} ${names.length > 1 ? 'are' : 'is'} in IOMMU group ${group} with ${describeBlockers(blockers)}: VFIO needs the whole group; attach them together (rawpci attach --group ${names[0]}, or rawpci attach ${all.join(' ')})`,
    );
  }
  if (!source.hasDriver(target))
    throw new AttachError(
      'DRIVER_MISSING',
      `driver ${target} is not loaded (no ${join(source.busPciDir, 'drivers', target)}): load it with \`modprobe ${target}\``,
    );
}

/**
 * Binds every device of `set` not yet on `target`, in order, checking each ended up there.
 * On the first failure (a write the kernel refused, or a probe that left the device elsewhere)
 * every device this call changed is put back as it was ({@link returnToDriver}: original
 * driver, driver_override as before) and AttachError('BIND_FAILED') says what failed and what
 * was rolled back. Returns the writes per device (none for those already on `target`).
 */
async function bindSet(source: SysfsPciSource, writer: SysfsWriter, set: readonly Planned[], target: string): Promise<Map<number, SysfsWrite[]>> {
  const writes = new Map<number, SysfsWrite[]>();
  const touched: Planned[] = [];
  for (const p of set) {
    touched.push(p);
    let failure: string | undefined;
    try {
      writes.set(p.bdf.pciAddress, bindToDriver(source, writer, p.bdf, p.rec.driver, target));
      if (!writer.dryRun) {
        const now = source.driverOf(p.bdf);
        if (now !== target)
          failure = `after probing, ${p.bdf} is ${now ? `bound to ${now}` : 'not bound to any driver'} instead of ${target} (check \`dmesg\` for the kernel's reason: a missing IOMMU or a device ${target} refuses)`;
      }
    } catch (e) {
      failure = (e as Error).message;
    }
    if (failure === undefined) continue;
    const undone: string[] = [];
    const stuck: string[] = [];
    for (const q of touched.reverse()) {
      try {
        returnToDriver(source, writer, q.bdf, source.driverOf(q.bdf) !== undefined, q.rec.driver, q.rec.driverOverride);
        const back = source.driverOf(q.bdf);
        if (back === q.rec.driver) undone.push(`${q.bdf} (${q.rec.driver ?? 'unbound'})`);
        else stuck.push(`${q.bdf} is ${back ? `on ${back}` : 'unbound'}, was ${q.rec.driver ?? 'unbound'}`);
      } catch (e) {
        stuck.push(`${q.bdf}: ${(e as Error).message}`);
      }
    }
    throw new AttachError(
      'BIND_FAILED',
      `binding ${p.bdf} to ${target} failed: ${failure}; rolled back ${undone.join(', ') || 'nothing'}${stuck.length ? `; could not roll back ${stuck.join('; ')}: rebind by hand (rawpci list shows the drivers)` : ''}; nothing was recorded`,
    );
  }
  return writes;
}

/**
 * Attaches a set of functions on a sysfs host in one step, the way `driverctl set-override`
 * and `virsh nodedev-detach` do for one: `targets`, plus with `group` the rest of their IOMMU
 * groups. Checks every device exists, is no bridge and has a group, that each group is viable
 * for the set, and that the driver is loaded; then per device writes BDF to driver/unbind, the
 * target to driver_override and BDF to drivers_probe, and checks it ended on the target. A
 * failure rolls the set back and records nothing. Success records every device (original
 * driver, guest address, `persistent` for `rawpci restore`), all under the state file's lock,
 * so concurrent attaches lose nothing. Dry-run writers take no lock and record nothing.
 * Throws {@link AttachError}.
 */
export async function attachSysfs(
  opts: SysfsBindingOptions & { targets: readonly AttachTarget[]; group?: boolean; persistent?: boolean },
): Promise<AttachResult> {
  const run = async (state: StateFile): Promise<{ value: AttachResult; save: boolean }> => {
    const { source, writer } = opts;
    const target = opts.driver ?? VFIO_PCI_DRIVER;
    const persistent = opts.persistent ?? true;
    const set = await planSet(source, opts.targets, !!opts.group);
    const keyOf = (b: Bdf) => ({ bdf: b.toString(), host: 'sysfs' as const, sysfsRoot: source.root });
    const existing = (b: Bdf) => state.attachments.find((a) => sameAttachment(a, keyOf(b)));
    const toBind = set.filter((p) => !(p.rec.driver === target && existing(p.bdf)));
    checkSet(source, set, target);
    const writes = await bindSet(source, writer, toBind, target);
    const at = (opts.now ?? (() => new Date()))().toISOString();
    const devices: DeviceAttach[] = set.map((p) => {
      const old = existing(p.bdf);
      const guest = p.guest ? p.guest.toShortString() : old?.guest;
      if (old && p.rec.driver === target) return { record: { ...old, ...(guest ? { guest } : {}), persistent }, alreadyAttached: true, writes: [] };
      const record: AttachmentRecord = {
        ...keyOf(p.bdf),
        ...(guest ? { guest } : {}),
        originalDriver: old ? old.originalDriver : p.rec.driver && p.rec.driver !== target ? p.rec.driver : null,
        driver: target,
        iommuGroup: p.group,
        attachedAt: at,
        id: idOf(p.rec),
        persistent,
      };
      return { record, alreadyAttached: false, writes: writes.get(p.bdf.pciAddress) ?? [] };
    });
    const changed = devices.filter((d) => !d.alreadyAttached || !sameRecord(d.record, existing(Bdf.parse(d.record.bdf))));
    if (!opts.writer.dryRun && changed.length)
      state.attachments = state.attachments.filter((a) => !changed.some((d) => sameAttachment(a, d.record))).concat(changed.map((d) => d.record));
    return { value: { devices, writes: devices.flatMap((d) => d.writes) }, save: !opts.writer.dryRun && changed.length > 0 };
  };
  if (opts.writer.dryRun) return (await run(loadState(opts.statePath))).value;
  return withState(opts.statePath, run);
}

function sameRecord(a: AttachmentRecord, b: AttachmentRecord | undefined): boolean {
  return !!b && JSON.stringify(a) === JSON.stringify(b);
}

/** What detach did (or would do) to one device. */
export interface DetachResult {
  record: AttachmentRecord;
  writes: SysfsWrite[];
  /** Driver the device is bound to afterwards (undefined: unbound, or dry run). */
  boundTo?: string;
}

/**
 * Detaches functions rawpci attached (virsh nodedev-reattach, driverctl unset-override): with
 * `group`, every recorded function of their IOMMU groups. Each is unbound from the target
 * driver, its driver_override cleared, then the recorded original driver bound
 * (drivers/NAME/bind) or the kernel left to probe (drivers_probe) when there was none; its
 * record is removed, under the state lock. Throws AttachError('NOT_ATTACHED') before any write
 * when one has no record, and AttachError('NOT_FOUND') when one is gone from sysfs.
 */
export async function detachSysfs(opts: SysfsBindingOptions & { bdfs: readonly Bdf[]; group?: boolean }): Promise<DetachResult[]> {
  const run = async (state: StateFile): Promise<{ value: { out: DetachResult[]; error: unknown }; save: boolean }> => {
    const { source, writer } = opts;
    const keyOf = (b: Bdf) => ({ bdf: b.toString(), host: 'sysfs' as const, sysfsRoot: source.root });
    const find = (b: Bdf) => state.attachments.find((a) => sameAttachment(a, keyOf(b)));
    const wanted = new Map<number, Bdf>();
    for (const b of opts.bdfs) {
      if (!find(b))
        throw new AttachError(
          'NOT_ATTACHED',
          `no attachment of ${b} is recorded in ${opts.statePath}: nothing to detach (\`rawpci status\` lists attachments; to unbind by hand use driverctl)`,
        );
      wanted.set(b.pciAddress, b);
      const g = opts.group ? (await source.get(b))?.iommuGroup : undefined;
      if (g !== undefined) for (const m of source.groupMembers(g)) if (find(m)) wanted.set(m.pciAddress, m);
    }
    const out: DetachResult[] = [];
    let error: unknown;
    try {
      for (const b of [...wanted.values()].sort((x, y) => x.pciAddress - y.pciAddress)) {
        const record = find(b)!;
        const rec = await source.get(b);
        if (!rec)
          throw new AttachError(
            'NOT_FOUND',
            `no PCI device at ${b} in ${source.description} (it was attached; was it removed?): remove the record with \`rawpci detach ${b} --forget\``,
          );
        const writes = restoreDriver(source, writer, b, rec.driver !== undefined, record.originalDriver);
        const boundTo = writer.dryRun ? undefined : source.driverOf(b);
        out.push({ record, writes, ...(boundTo ? { boundTo } : {}) });
        if (!writer.dryRun) state.attachments = state.attachments.filter((a) => !sameAttachment(a, record));
      }
    } catch (e) {
      // A failure part-way still saves the removal of the devices already given back.
      error = e;
    }
    return { value: { out, error }, save: !writer.dryRun && out.length > 0 };
  };
  const { out, error } = opts.writer.dryRun ? (await run(loadState(opts.statePath))).value : await withState(opts.statePath, run);
  if (error) throw error;
  return out;
}

/** Removes a record without touching the device (`detach --forget`), under the state lock. Returns the removed record. */
export async function forgetAttachment(statePath: string, key: Pick<AttachmentRecord, 'bdf' | 'host' | 'sysfsRoot'>): Promise<AttachmentRecord | undefined> {
  return withState(statePath, async (state) => {
    const record = state.attachments.find((a) => sameAttachment(a, key));
    if (record) state.attachments = state.attachments.filter((a) => !sameAttachment(a, key));
    return { value: record, save: !!record };
  });
}

/** What restore did to one recorded device. */
export interface RestoreOutcome {
  bdf: string;
  /** `restored` (bound again), `already` (bound as recorded), `forgotten` (a --nosave record whose attachment ended), `failed`. */
  outcome: 'restored' | 'already' | 'forgotten' | 'failed';
  /** Why it failed (AttachError message). */
  message?: string;
  writes: SysfsWrite[];
}

/**
 * Re-applies the saved attachments of this sysfs root (`rawpci restore`, run at boot by
 * contrib/rawpci-restore.service): every persistent record not bound to its driver is bound
 * again, an IOMMU group at a time with attach's viability check and rollback (a group that
 * fails leaves the others restored), refusing a BDF whose vendor:device is no longer the
 * recorded one; records made with --nosave whose device is no longer bound as recorded (a
 * reboot ended them) are dropped. Records stay otherwise (a failed one is retried next boot).
 * Runs under the state lock; never throws AttachError (failures are outcomes).
 */
export async function restoreSysfs(opts: SysfsBindingOptions): Promise<RestoreOutcome[]> {
  const run = async (state: StateFile): Promise<{ value: RestoreOutcome[]; save: boolean }> => {
    const { source, writer } = opts;
    const mine = state.attachments.filter((a) => a.host === 'sysfs' && (a.sysfsRoot ?? '/sys') === source.root);
    const out: RestoreOutcome[] = [];
    const pending: { record: AttachmentRecord; planned: Planned }[] = [];
    let changed = false;
    for (const a of mine) {
      const bdf = Bdf.parse(a.bdf);
      const rec = await source.get(bdf);
      if (rec?.driver === a.driver) {
        out.push({ bdf: a.bdf, outcome: 'already', writes: [] });
        continue;
      }
      if (!isPersistent(a)) {
        out.push({ bdf: a.bdf, outcome: 'forgotten', writes: [] });
        state.attachments = state.attachments.filter((x) => !sameAttachment(x, a));
        changed = true;
        continue;
      }
      const fail = (message: string) => out.push({ bdf: a.bdf, outcome: 'failed', message, writes: [] });
      if (!rec) fail(`no PCI device at ${a.bdf} in ${source.description}: was it removed? \`rawpci detach ${a.bdf} --forget\` drops the record`);
      else if (a.id && idOf(rec) !== a.id)
        fail(
          `${a.bdf} is now ${idOf(rec)}, recorded as ${a.id}: the hardware changed, so rawpci will not bind it; \`rawpci detach ${a.bdf} --forget\` drops the record, then attach what you mean`,
        );
      else if (isBridge(rec) || rec.iommuGroup === undefined)
        fail(`${a.bdf} is ${isBridge(rec) ? 'a bridge now' : 'in no IOMMU group (is the IOMMU enabled on this boot?)'}: not restored`);
      else pending.push({ record: a, planned: { bdf, rec, group: rec.iommuGroup } });
    }
    const groups = new Map<string, typeof pending>();
    for (const p of pending) groups.set(p.planned.group, [...(groups.get(p.planned.group) ?? []), p]);
    for (const members of groups.values()) {
      const target = members[0]!.record.driver;
      const set = members.map((m) => m.planned);
      try {
        checkSet(source, set, target);
        const writes = await bindSet(source, writer, set, target);
        for (const m of members) {
          out.push({ bdf: m.record.bdf, outcome: 'restored', writes: writes.get(m.planned.bdf.pciAddress) ?? [] });
          if (!writer.dryRun && m.record.iommuGroup !== m.planned.group) {
            m.record.iommuGroup = m.planned.group;
            changed = true;
          }
        }
      } catch (e) {
        for (const m of members) out.push({ bdf: m.record.bdf, outcome: 'failed', message: (e as Error).message, writes: [] });
      }
    }
    out.sort((x, y) => Bdf.parse(x.bdf).pciAddress - Bdf.parse(y.bdf).pciAddress);
    return { value: out, save: !writer.dryRun && changed };
  };
  if (opts.writer.dryRun) return (await run(loadState(opts.statePath))).value;
  return withState(opts.statePath, run);
}
