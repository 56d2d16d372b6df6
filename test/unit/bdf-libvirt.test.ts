// Bdf reads and writes libvirt's node device names (pci_DDDD_BB_DD_F, virsh nodedev-list).

import test from 'ava';
import { Bdf } from '../../shared/bdf.js';

for (const [name, bdf] of [
  ['pci_0000_03_00_0', '0000:03:00.0'],
  ['pci_0000_00_1f_3', '0000:00:1f.3'],
  ['PCI_10AB_FF_1F_7', '10ab:ff:1f.7'],
] as const)
  test(`${name} is ${bdf} and prints back as libvirt writes it`, (t) => {
    const b = Bdf.fromLibvirtName(name);
    t.is(b?.toString(), bdf);
    t.is(b?.libvirtName, name.toLowerCase());
  });

for (const name of ['pci_0000_03_00', 'pci_0000_03_20_0', 'pci_0000_03_00_8', 'usb_0000_03_00_0', '0000:03:00.0', 'pci_00_03_00_0'])
  test(`${name} is not a libvirt PCI device name`, (t) => t.is(Bdf.fromLibvirtName(name), undefined));
