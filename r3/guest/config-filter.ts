// PciFront's config-space filter: which config bytes the guest sees from the virtual copy, which go to the host, which are dropped.
//
// Config filter (PCI Local Bus spec 3.0, 6.1 and 6.2): reads of identity, class, header type,
// subsystem, capability pointer, pin, BARs, ROM BAR, interrupt line, command, MSI and MSI-X come
// from the virtual copy; everything else (status, cache line, latency, other capabilities,
// extended config) is read from and written to the host. Writes to read-only registers are
// dropped (6.1: "read-only registers ... writes are ignored"); BAR writes never reach the host.

import {
  PCI_BASE_ADDRESS_0,
  PCI_CACHE_LINE_SIZE,
  PCI_CFG_SPACE_SIZE,
  PCI_COMMAND,
  PCI_INTERRUPT_LINE,
  PCI_LATENCY_TIMER,
  PCI_ROM_ADDRESS,
  PCI_STATUS,
  PCI_STD_HEADER_SIZEOF,
  PCI_STD_NUM_BARS,
} from '../../shared/linux/pci-regs.js';

/**
 * How one config byte is handled: `ro` read from the copy, writes dropped; `command` the
 * command register (kept and forwarded); `bar` a BAR or the ROM BAR (virtual); `virtual` kept in
 * the copy through its writable mask (interrupt line, MSI, MSI-X); `host` read from and written
 * to the host device.
 */
export type ConfigField = 'ro' | 'command' | 'bar' | 'virtual' | 'host';

/**
 * The field of config byte `at` (0..4095). `virtualCap(at)` says whether the byte belongs to a
 * capability kept virtual (MSI, MSI-X). Bytes past 255 (extended config) go to the host.
 */
export function configField(at: number, virtualCap: (at: number) => boolean): ConfigField {
  if (at >= PCI_CFG_SPACE_SIZE) return 'host';
  if (virtualCap(at)) return 'virtual';
  if (at >= PCI_STD_HEADER_SIZEOF) return 'host';
  if (at === PCI_COMMAND || at === PCI_COMMAND + 1) return 'command';
  if (at === PCI_STATUS || at === PCI_STATUS + 1 || at === PCI_CACHE_LINE_SIZE || at === PCI_LATENCY_TIMER) return 'host';
  if ((at >= PCI_BASE_ADDRESS_0 && at < PCI_BASE_ADDRESS_0 + 4 * PCI_STD_NUM_BARS) || (at >= PCI_ROM_ADDRESS && at < PCI_ROM_ADDRESS + 4)) return 'bar';
  if (at === PCI_INTERRUPT_LINE) return 'virtual';
  return 'ro';
}

/** Whether bytes `a` and `b` of one write belong to the same register group (BARs by dword, command by word). */
export function sameGroup(kind: ConfigField, a: number, b: number): boolean {
  if (kind === 'bar' || kind === 'host') return a >>> 2 === b >>> 2;
  return true;
}
