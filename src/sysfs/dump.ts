// lspci -F FILE: devices read from an `lspci -x`/-xxx/-xxxx dump, as pciutils' dump back end (lib/dump.c) and generic fill (lib/generic.c) see them.

import { readFileSync } from 'node:fs';
import { Bdf } from '../../shared/bdf.js';
import {
  PCI_CAP_ID_SSVID,
  PCI_CAPABILITY_LIST,
  PCI_CB_SUBSYSTEM_ID,
  PCI_CB_SUBSYSTEM_VENDOR_ID,
  PCI_INTERRUPT_LINE,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_SUBSYSTEM_ID,
  PCI_SUBSYSTEM_VENDOR_ID,
} from '../../shared/linux/pci-regs.js';
import { type PciDeviceRecord, sortRecords } from '../../shared/sysfs/source.js';
import { ConfigView, headerType } from './config-view.js';

/** A malformed dump, with libpci's message (`dump: Malformed line`) and the line number. */
export class DumpParseError extends Error {
  override readonly name = 'DumpParseError';
}

const SLOT_SHORT = /^([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-9a-fA-F]) /;
const SLOT_LONG = /^([0-9a-fA-F]{4,5}):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-9a-fA-F]) /;

/**
 * Parses dump text: a `BB:DD.F ` or `DDDD:BB:DD.F ` line opens a device (the rest of the line is
 * ignored), `oo: xx xx ...` lines fill its config bytes (offsets up to 4095), a blank line ends
 * it, any other line is skipped (so `lspci -vvx` output reads as well). Only the bytes up to the
 * highest one given are readable; holes read 0xff. Throws {@link DumpParseError}.
 */
export function parseDump(text: string, file = '<dump>'): PciDeviceRecord[] {
  const devs = new Map<string, { bdf: Bdf; data: Uint8Array; len: number }>();
  let cur: { bdf: Bdf; data: Uint8Array; len: number } | undefined;
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((raw, n) => {
    const fail = (m: string): never => {
      throw new DumpParseError(`dump: ${m} at ${file}, line ${n + 1}: it must be \`lspci -x\` (or -xxx, -xxxx) output`);
    };
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const s = SLOT_SHORT.exec(line);
    const l = s ? undefined : SLOT_LONG.exec(line);
    if (s || l) {
      const [dom, bus, dev, fn] = s ? ['0', s[1]!, s[2]!, s[3]!] : [l![1]!, l![2]!, l![3]!, l![4]!];
      const f = Number.parseInt(fn, 16);
      if (Number.parseInt(dev, 16) > 0x1f || f > 7) return;
      const bdf = new Bdf(Number.parseInt(dom, 16), Number.parseInt(bus, 16), Number.parseInt(dev, 16), f);
      cur = { bdf, data: new Uint8Array(256).fill(0xff), len: 0 };
      devs.set(bdf.toString(), cur);
      return;
    }
    if (line === '') {
      cur = undefined;
      return;
    }
    const m = /^([0-9a-fA-F]{2,8}): /.exec(line);
    if (!cur || !m) return;
    let i = Number.parseInt(m[1]!, 16);
    let z = line.slice(m[1]!.length + 2);
    while (/^[0-9a-fA-F]{2}( |$)/.test(z)) {
      if (i >= 4096) fail('At most 4096 bytes of config space are supported');
      if (i >= cur.data.length) {
        const big = new Uint8Array(4096).fill(0xff);
        big.set(cur.data);
        cur.data = big;
      }
      cur.data[i++] = Number.parseInt(z.slice(0, 2), 16);
      if (i > cur.len) cur.len = i;
      z = z.slice(z[2] === ' ' ? 3 : 2);
    }
    if (z) fail('Malformed line');
  });
  return sortRecords([...devs.values()].map((d) => recordFromConfig(d.bdf, d.data.slice(0, d.len))));
}

/** Reads and parses a dump file (errors: fs errors, {@link DumpParseError}). */
export function readDump(path: string): PciDeviceRecord[] {
  return parseDump(readFileSync(path, 'latin1'), path);
}

/**
 * A record filled from config space alone, as pci_generic_fill_info does: IDs, class, revision,
 * the interrupt line as the IRQ, subsystem by header type (a bridge's from its SSVID
 * capability), BARs from config with no sizes; no driver, IOMMU group or NUMA node.
 */
export function recordFromConfig(bdf: Bdf, config: Uint8Array): PciDeviceRecord {
  const cfg = new ConfigView(config);
  const readable = cfg.size >= 64;
  const rec: PciDeviceRecord = {
    bdf,
    vendor: cfg.word(0),
    device: cfg.word(2),
    classCode: (cfg.word(0x0a) << 8) | cfg.byte(0x09),
    revision: cfg.byte(0x08),
    irq: cfg.byte(PCI_INTERRUPT_LINE),
    config: readable ? config : new Uint8Array(0),
  };
  const ht = headerType(cfg);
  if (ht === 0) {
    rec.subsystemVendor = cfg.word(PCI_SUBSYSTEM_VENDOR_ID);
    rec.subsystemDevice = cfg.word(PCI_SUBSYSTEM_ID);
  } else if (ht === 2) {
    rec.subsystemVendor = cfg.word(PCI_CB_SUBSYSTEM_VENDOR_ID);
    rec.subsystemDevice = cfg.word(PCI_CB_SUBSYSTEM_ID);
  } else if (ht === 1 && cfg.word(PCI_STATUS) & PCI_STATUS_CAP_LIST) {
    let where = cfg.byte(PCI_CAPABILITY_LIST) & ~3;
    for (let ttl = 48; where && ttl; ttl--) {
      if (cfg.byte(where) === PCI_CAP_ID_SSVID) {
        rec.subsystemVendor = cfg.word(where + 4);
        rec.subsystemDevice = cfg.word(where + 6);
        break;
      }
      where = cfg.byte(where + 1) & ~3;
    }
  }
  return rec;
}
