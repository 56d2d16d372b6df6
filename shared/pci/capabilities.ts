// The one capability-list walker (PCI Local Bus spec 3.0, 6.7; PCIe base spec 7.6), over any config reader: the simulated config space, PciFront, the edu driver and the guest demo use it.
//
// The walk follows Linux (drivers/pci/pci.c, __pci_find_next_cap_ttl and pci_find_next_ext_capability):
// the list exists only when PCI_STATUS_CAP_LIST is set; pointers are masked with ~3 (the low two
// bits are reserved); a pointer below 0x40 (inside the header) ends the list; at most
// PCI_FIND_CAP_TTL (48) entries are visited and an offset seen before ends the walk, so a
// corrupt or malicious list cannot loop. Extended capabilities start at 0x100; a header of 0 or
// all ones ends that list, as does a next pointer below 0x100.

import {
  PCI_CAP_LIST_ID,
  PCI_CAP_LIST_NEXT,
  PCI_CAPABILITY_LIST,
  PCI_CFG_SPACE_EXP_SIZE,
  PCI_CFG_SPACE_SIZE,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_STD_HEADER_SIZEOF,
} from '../linux/pci-regs.js';

/**
 * A config-space reader: `width` (1, 2 or 4) bytes at byte `offset`, unsigned, little-endian.
 * It may throw; the walkers let the error through.
 */
export type ConfigRead = (offset: number, width: 1 | 2 | 4) => number;

/** One entry of a capability list: its ID (8 bits, or 16 for an extended capability) and byte offset. */
export interface CapabilityEntry {
  id: number;
  offset: number;
}

/** Most capabilities a walk visits: (256 - 64) / 4 dword slots (Linux drivers/pci/pci.c PCI_FIND_CAP_TTL). */
export const PCI_FIND_CAP_TTL = 48;

/** Offset of the first extended capability in a 4 KiB config space (PCIe base spec 7.6; Linux PCI_CFG_SPACE_SIZE). */
export const PCI_EXT_CAP_START = PCI_CFG_SPACE_SIZE;

/** Most extended capabilities a walk visits: (4096 - 256) / 8 (Linux pci_find_next_ext_capability's ttl). */
const PCI_FIND_EXT_CAP_TTL = (PCI_CFG_SPACE_EXP_SIZE - PCI_CFG_SPACE_SIZE) / 8;

/**
 * The capability list read through `read`, in list order: empty when PCI_STATUS_CAP_LIST is
 * clear. Stops at a pointer below 0x40 or past 0xff, at a repeated offset, or after 48 entries.
 */
export function capabilityList(read: ConfigRead): CapabilityEntry[] {
  const out: CapabilityEntry[] = [];
  if ((read(PCI_STATUS, 2) & PCI_STATUS_CAP_LIST) === 0) return out;
  const seen = new Set<number>();
  let at = read(PCI_CAPABILITY_LIST, 1) & ~3;
  while (at >= PCI_STD_HEADER_SIZEOF && at < PCI_CFG_SPACE_SIZE && !seen.has(at) && out.length < PCI_FIND_CAP_TTL) {
    seen.add(at);
    out.push({ id: read(at + PCI_CAP_LIST_ID, 1), offset: at });
    at = read(at + PCI_CAP_LIST_NEXT, 1) & ~3;
  }
  return out;
}

/** Byte offset of the first capability with ID `id` (PCI_CAP_ID_*), or undefined (Linux pci_find_capability). */
export function findCapability(read: ConfigRead, id: number): number | undefined {
  return capabilityList(read).find((c) => c.id === id)?.offset;
}

/**
 * The extended capability list (PCIe base spec 7.6) from 0x100 of a config space of
 * `configSize` bytes (empty unless 4096): header dword `id | version << 16 | next << 20`.
 * Stops at a header of 0 or 0xffff_ffff, a next pointer outside 0x100..configSize - 1, a
 * repeated offset, or after 480 entries.
 */
export function extendedCapabilityList(read: ConfigRead, configSize: number): CapabilityEntry[] {
  const out: CapabilityEntry[] = [];
  if (configSize !== PCI_CFG_SPACE_EXP_SIZE) return out;
  const seen = new Set<number>();
  let at = PCI_EXT_CAP_START;
  while (at >= PCI_EXT_CAP_START && at < configSize && !seen.has(at) && out.length < PCI_FIND_EXT_CAP_TTL) {
    seen.add(at);
    const header = read(at, 4) >>> 0;
    if (header === 0 || header === 0xffff_ffff) break;
    out.push({ id: header & 0xffff, offset: at });
    at = (header >>> 20) & 0xffc;
  }
  return out;
}

/** Byte offset of the first extended capability with ID `id` (PCI_EXT_CAP_ID_*), or undefined (Linux pci_find_ext_capability). */
export function findExtendedCapability(read: ConfigRead, configSize: number, id: number): number | undefined {
  return extendedCapabilityList(read, configSize).find((c) => c.id === id)?.offset;
}
