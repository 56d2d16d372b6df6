// lspci -b: the bus-centric view, where a function's IDs, class, IRQ and BARs are what its config space says rather than the kernel's view.

import { PCI_CLASS_REVISION, PCI_DEVICE_ID, PCI_INTERRUPT_LINE, PCI_VENDOR_ID } from '../../shared/linux/pci-regs.js';
import type { PciDeviceRecord } from '../../shared/sysfs/source.js';
import { ConfigView } from './config-view.js';

/**
 * The record libpci fills with `pacc->buscentric` set (lspci -b): lib/sysfs.c sysfs_fill_info
 * then skips the kernel's vendor, device, class, revision, subsystem, irq and resource files
 * and the device's sysfs parent, so lib/generic.c reads them from config space: IDs from
 * 0x00/0x02, class and prog-if and revision from 0x08, the IRQ from the Interrupt Line
 * register (0x3c), BARs and ROM from the header with no sizes, subsystem from the header. The
 * driver, IOMMU group, NUMA node, label, physical slot and modalias stay (sysfs still gives
 * them). Registers past the readable config space read as all-ones (ConfigView).
 */
export function busCentric(rec: PciDeviceRecord): PciDeviceRecord {
  const cfg = new ConfigView(rec.config);
  const { resources: _r, sizes: _s, revision: _v, subsystemVendor: _sv, subsystemDevice: _sd, ...kept } = rec;
  return {
    ...kept,
    vendor: cfg.word(PCI_VENDOR_ID),
    device: cfg.word(PCI_DEVICE_ID),
    classCode: cfg.long(PCI_CLASS_REVISION) >>> 8,
    irq: cfg.byte(PCI_INTERRUPT_LINE),
  };
}
