// lspci's machine-readable records: -m/-mm (one quoted line a device) and -vmm (Tag:\tvalue records), lspci.c show_machine.

import type { PciDeviceRecord } from '../../shared/sysfs/source.js';
import { ConfigView } from './config-view.js';
import { hexDumpLines, type LspciOptions, modulesOf, revisionOf, slotName, subsystemOf } from './lspci-format.js';
import type { PciIds } from './pci-ids.js';

/** What -m adds to {@link LspciOptions}: the -m count and whether -D was given (a machine slot shows domain 0 only then). */
export interface MachineOptions extends LspciOptions {
  /** -m count: 1 names the first field `Device:` in -vm records, 2 or more `Slot:`. */
  machine: number;
  /** -D was given (lspci opt_domains == 2). */
  domainsRequested: boolean;
}

/** lspci print_shell_escaped: ` "text"` with `"` and `\` escaped. */
function quoted(text: string): string {
  return ` "${text.replace(/["\\]/g, (c) => `\\${c}`)}"`;
}

/**
 * The lines of one device in -m/-mm or -vm/-vmm form, with lspci show_device's hex dump and
 * blank line after it. Non-verbose: `slot "class" "vendor" "device" [-rRR] -pPP "svendor"
 * "sdevice"`; verbose: Slot, Class, Vendor, Device, SVendor, SDevice, PhySlot, Rev, ProgIf,
 * Driver and Module (with -k), NUMANode, IOMMUGroup.
 */
export function machineLines(rec: PciDeviceRecord, ids: PciIds, opts: MachineOptions): string[] {
  const cfg = new ConfigView(rec.config);
  const slot = slotName(rec, !!rec.bdf.domain || opts.domainsRequested, opts.paths);
  const cls = rec.classCode >> 8;
  const progIf = rec.classCode & 0xff;
  const rev = revisionOf(rec, cfg);
  const ss = subsystemOf(rec, cfg);
  const hasSs = !!ss && ss.vendor !== 0 && ss.vendor !== 0xffff;
  const m = opts.mode;
  const h2 = (v: number) => v.toString(16).padStart(2, '0');
  const out: string[] = [];
  if (opts.verbose) {
    out.push(`${opts.machine >= 2 ? 'Slot' : 'Device'}:\t${slot}`);
    out.push(`Class:\t${ids.formatClass(cls, m)}`);
    out.push(`Vendor:\t${ids.formatVendor(rec.vendor, m)}`);
    out.push(`Device:\t${ids.formatDevice(rec.vendor, rec.device, m)}`);
    if (hasSs) {
      out.push(`SVendor:\t${ids.formatSubsystemVendor(ss.vendor, m)}`);
      out.push(`SDevice:\t${ids.formatSubsystemDevice(rec.vendor, rec.device, ss.vendor, ss.device, m)}`);
    }
    if (rec.physSlot) out.push(`PhySlot:\t${rec.physSlot}`);
    if (rev) out.push(`Rev:\t${h2(rev)}`);
    out.push(`ProgIf:\t${h2(progIf)}`);
    if (opts.kernel) {
      if (rec.driver) out.push(`Driver:\t${rec.driver}`);
      for (const mod of modulesOf(rec, opts.modules)) out.push(`Module:\t${mod}`);
    }
    if (rec.numaNode !== undefined && rec.numaNode !== -1) out.push(`NUMANode:\t${rec.numaNode}`);
    if (rec.iommuGroup !== undefined) out.push(`IOMMUGroup:\t${rec.iommuGroup}`);
  } else {
    let line = slot + quoted(ids.formatClass(cls, m)) + quoted(ids.formatVendor(rec.vendor, m)) + quoted(ids.formatDevice(rec.vendor, rec.device, m));
    if (rev) line += ` -r${h2(rev)}`;
    line += ` -p${h2(progIf)}`;
    line += hasSs
      ? quoted(ids.formatSubsystemVendor(ss.vendor, m)) + quoted(ids.formatSubsystemDevice(rec.vendor, rec.device, ss.vendor, ss.device, m))
      : ' "" ""';
    out.push(line);
  }
  if (opts.hex) out.push(...hexDumpLines(rec, opts.hex));
  if (opts.verbose || opts.hex) out.push('');
  return out;
}
