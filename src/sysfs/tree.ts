// lspci -t / -tv: the bus tree of bridges and devices, a port of pciutils ls-tree.c (grow_tree, show_forest).

import { realpathSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { Bdf } from '../../shared/bdf.js';
import {
  PCI_CB_CARD_BUS,
  PCI_CB_PRIMARY_BUS,
  PCI_CB_SUBORDINATE_BUS,
  PCI_HEADER_TYPE_BRIDGE,
  PCI_HEADER_TYPE_CARDBUS,
  PCI_PRIMARY_BUS,
  PCI_SECONDARY_BUS,
  PCI_SUBORDINATE_BUS,
} from '../../shared/linux/pci-regs.js';
import { PCI_BASE_CLASS_BRIDGE } from '../../shared/sysfs/binding.js';
import { matchFilter, type PciFilter } from '../../shared/sysfs/filter.js';
import type { PciDeviceRecord } from '../../shared/sysfs/source.js';
import type { SysfsPciSource } from '../../shared/sysfs/sysfs-source.js';
import { ConfigView, headerType } from './config-view.js';
import type { IdMode, PciIds } from './pci-ids.js';

/** ls-tree.c LINE_BUF_SIZE: a tree line is cut at 1023 characters and marked `...`. */
const LINE_BUF_SIZE = 1024;

interface Bridge {
  domain: number;
  primary: number;
  secondary: number;
  subordinate: number;
  dev?: TreeDevice;
  children: Bridge[];
  buses: Bus[];
}

interface Bus {
  domain: number;
  number: number;
  devices: TreeDevice[];
}

interface TreeDevice {
  rec: PciDeviceRecord;
  bridge?: Bridge;
  /** The bridge whose bus the device sits on (ls-tree.c's parent_bus->parent_bridge). */
  upstream?: Bridge;
}

/**
 * Parents as libpci's sysfs back end finds them (lib/sysfs.c, PCI_FILL_PARENT): the device
 * directory's parent, when it is itself a listed function's directory. Keyed by `Bdf.toString()`.
 */
export function sysfsParents(source: SysfsPciSource, records: PciDeviceRecord[]): Map<string, string> {
  const known = new Set(records.map((r) => r.bdf.toString()));
  const out = new Map<string, string>();
  for (const r of records) {
    try {
      const up = dirname(realpathSync(source.deviceDir(r.bdf)));
      const p = Bdf.tryParse(basename(up));
      if (p && known.has(p.toString()) && realpathSync(source.deviceDir(p)) === up) out.set(r.bdf.toString(), p.toString());
    } catch {}
  }
  return out;
}

/** grow_tree: the host bridge with every bridge below it and every device on its bus. */
function growTree(records: PciDeviceRecord[], parents: Map<string, string>): { host: Bridge; devices: TreeDevice[] } {
  const host: Bridge = { domain: 0, primary: 0xffffffff, secondary: 0, subordinate: 0xffffffff, children: [], buses: [] };
  const devs = records.map((rec): TreeDevice => ({ rec }));
  const byBdf = new Map(devs.map((d) => [d.rec.bdf.toString(), d]));
  const parentOf = (d: TreeDevice) => {
    const p = parents.get(d.rec.bdf.toString());
    return p === undefined ? undefined : byBdf.get(p);
  };
  const chain: Bridge[] = [host];
  const addBridge = (dev: TreeDevice, primary: number, secondary: number, subordinate: number) => {
    dev.bridge = { domain: dev.rec.bdf.domain, primary, secondary, subordinate, dev, children: [], buses: [] };
    chain.push(dev.bridge);
  };
  for (const d of devs) {
    const cfg = new ConfigView(d.rec.config);
    const ht = cfg.size < 64 ? -1 : headerType(cfg);
    if (d.rec.classCode >> 16 !== PCI_BASE_CLASS_BRIDGE || (ht !== PCI_HEADER_TYPE_BRIDGE && ht !== PCI_HEADER_TYPE_CARDBUS)) continue;
    const cb = ht === PCI_HEADER_TYPE_CARDBUS;
    addBridge(
      d,
      cfg.byte(cb ? PCI_CB_PRIMARY_BUS : PCI_PRIMARY_BUS),
      cfg.byte(cb ? PCI_CB_CARD_BUS : PCI_SECONDARY_BUS),
      cfg.byte(cb ? PCI_CB_SUBORDINATE_BUS : PCI_SUBORDINATE_BUS),
    );
  }
  // Bridges libpci reports only as parents (no bridge header, e.g. a VF's PF).
  for (const d of devs) {
    const parent = parentOf(d);
    if (!parent || parent.bridge) continue;
    addBridge(parent, parent.rec.bdf.bus, d.rec.bdf.bus, d.rec.bdf.bus);
  }
  for (const b of chain) {
    let best: Bridge | undefined;
    const parent = b.dev ? parentOf(b.dev) : undefined;
    if (parent) best = parent.bridge;
    if (!best)
      for (const c of chain)
        if (
          c !== b &&
          (c === host || b.domain === c.domain) &&
          b.primary >= c.secondary &&
          b.primary <= c.subordinate &&
          (!best || best.subordinate - best.primary > c.subordinate - c.primary)
        )
          best = c;
    // ls-tree.c pushes on the head of the child list.
    if (best) best.children.unshift(b);
  }
  const findBus = (b: Bridge, domain: number, n: number) => b.buses.find((u) => u.domain === domain && u.number === n);
  const newBus = (b: Bridge, domain: number, n: number): Bus => {
    const u: Bus = { domain, number: n, devices: [] };
    b.buses.push(u);
    return u;
  };
  for (const b of chain) if (!findBus(b, b.domain, b.secondary)) newBus(b, b.domain, b.secondary);
  const insert = (d: TreeDevice, b: Bridge): void => {
    const { domain, bus: n } = d.rec.bdf;
    const parent = parentOf(d);
    let bus: Bus | undefined;
    let owner = b;
    if (parent?.bridge) {
      owner = parent.bridge;
      bus = owner.buses[0] ?? newBus(owner, domain, n);
    }
    if (!bus) {
      owner = b;
      bus = findBus(b, domain, n);
    }
    if (!bus) {
      for (const c of b.children)
        if (c.domain === domain && c.secondary <= n && n <= c.subordinate) {
          insert(d, c);
          return;
        }
      bus = newBus(b, domain, n);
    }
    bus.devices.push(d);
    d.upstream = owner;
  };
  for (const d of devs) insert(d, host);
  return { host, devices: devs };
}

/**
 * The slot names lspci -P (`level` 1) and -PP (2) print (lspci.c show_slot_path, over the tree
 * grow_tree builds): the path of bridges from the host bridge down, `00:1c.0/00.0` with -P,
 * `00:1c.0/01:00.0` with -PP; a device on a host bridge's bus keeps `bb:dd.f`. Without the
 * domain (the caller adds it as lspci does). Keyed by `Bdf.toString()`.
 */
export function slotPaths(records: PciDeviceRecord[], level: number, parents: Map<string, string> = new Map()): Map<string, string> {
  const { devices } = growTree(records, parents);
  const out = new Map<string, string>();
  const visiting = new Set<TreeDevice>();
  const path = (d: TreeDevice): string => {
    const known = out.get(d.rec.bdf.toString());
    if (known !== undefined) return known;
    const short = d.rec.bdf.toShortString();
    const up = d.upstream?.dev;
    // A bridge whose bus numbers put it below itself would make lspci recurse until it crashes; the path stops there.
    if (!up || visiting.has(up)) return short;
    visiting.add(d);
    const p = `${path(up)}/${level > 1 ? short : short.slice(3)}`;
    visiting.delete(d);
    out.set(d.rec.bdf.toString(), p);
    return p;
  };
  for (const d of devices) path(d);
  return out;
}

/** How the tree prints: -v adds vendor and device names; the -s/-d filter keeps matching devices and the bridges above them. */
export interface TreeOptions {
  verbose: number;
  mode: IdMode;
  filter?: PciFilter | undefined;
}

/**
 * The tree lspci -t prints for `records` (all of the host's functions, sorted), as text ending
 * in a newline. `parents` as {@link sysfsParents} finds them (empty: topology from bridge bus
 * numbers only, as for a dump).
 */
export function formatTree(records: PciDeviceRecord[], ids: PciIds, opts: TreeOptions, parents: Map<string, string> = new Map()): string {
  const { host } = growTree(records, parents);
  const f = opts.filter;
  let out = '';
  let line = '';
  const put = (text: string): void => {
    const room = LINE_BUF_SIZE - 1 - line.length;
    if (room > 0) line += text.slice(0, room);
  };
  const printIt = (): void => {
    out += line;
    if (line.length >= LINE_BUF_SIZE - 1) out += '...';
    out += '\n';
    line = line.replace(/[+|]/g, '|').replace(/[^|]/g, ' ');
  };
  const devOk = (d: TreeDevice): boolean => !f || matchFilter(f, d.rec) || (!!d.bridge && d.bridge.buses.some(busOk));
  const busOk = (u: Bus): boolean => !f || u.devices.some(devOk);
  const showDev = (d: TreeDevice): void => {
    const q = d.rec.bdf;
    put(`${hex(q.device, 2)}.${q.fn.toString(16)}`);
    const b = d.bridge;
    if (b) {
      if (b.secondary === 0) put('-');
      else if (b.secondary === b.subordinate) put(`-[${hex(b.secondary, 2)}]-`);
      else put(`-[${hex(b.secondary, 2)}-${hex(b.subordinate, 2)}]-`);
      showBridge(b);
      return;
    }
    if (opts.verbose) put(`  ${ids.formatVendorDevice(d.rec.vendor, d.rec.device, opts.mode, 256)}`);
    printIt();
  };
  const showBus = (u: Bus): void => {
    const start = line.length;
    if (!u.devices.length) printIt();
    else if (u.devices.length === 1) {
      if (devOk(u.devices[0]!)) {
        put('--');
        showDev(u.devices[0]!);
      } else printIt();
    } else {
      let empty = true;
      u.devices.forEach((d, i) => {
        if (!devOk(d)) return;
        line = line.slice(0, start);
        put(i === u.devices.length - 1 ? '\\-' : '+-');
        showDev(d);
        empty = false;
      });
      if (empty) {
        line = line.slice(0, start);
        printIt();
      }
    }
  };
  const showBridge = (b: Bridge): void => {
    put('-');
    const start = line.length;
    if (b.buses.length === 1) {
      const u = b.buses[0]!;
      if (busOk(u)) {
        if (b === host) put(`[${hex(u.domain, 4)}:${hex(u.number, 2)}]-`);
        showBus(u);
      } else printIt();
    } else {
      let empty = true;
      b.buses.forEach((u, i) => {
        if (!busOk(u)) return;
        line = line.slice(0, start);
        put(`${i === b.buses.length - 1 ? '\\-' : '+-'}[${hex(u.domain, 4)}:${hex(u.number, 2)}]-`);
        showBus(u);
        empty = false;
      });
      if (empty) printIt();
    }
  };
  showBridge(host);
  return out;
}

function hex(v: number, width: number): string {
  return v.toString(16).padStart(width, '0');
}
