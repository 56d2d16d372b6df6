// One IOMMU-group viability rule (shared/sysfs/binding.ts) for ring 0, the VFIO host and the CLI: what blocks a group, and the bind/restore write sequences.

import test from 'ava';
import { Bdf } from '../../shared/bdf.js';
import { bindToDriver, groupBlockers, isHostDriver, restoreDriver } from '../../shared/sysfs/binding.js';
import { SysfsPciSource } from '../../shared/sysfs/sysfs-source.js';
import { DryRunSysfsWriter } from '../../shared/sysfs/writer.js';

const me = Bdf.parse('0000:03:00.0');
const m = (bdf: string, driver: string | null, bridge = false) => ({ bdf: Bdf.parse(bdf), driver, bridge });

test('only members on a host driver block a group: unbound, vfio-pci, pci-stub, rawpci, the target and bridges on pcieport do not', (t) => {
  const members = [
    m('0000:03:00.0', 'e1000e'),
    m('0000:03:00.1', null),
    m('0000:03:00.2', 'vfio-pci'),
    m('0000:03:00.3', 'pci-stub'),
    m('0000:03:00.4', 'rawpci'),
    m('0000:03:00.5', 'pcieport', true),
    m('0000:03:00.6', 'snd_hda_intel'),
    m('0000:03:00.7', 'pcieport'),
  ];
  t.deepEqual(
    groupBlockers(members, me).map((b) => `${b.bdf} ${b.driver}`),
    ['0000:03:00.6 snd_hda_intel', '0000:03:00.7 pcieport'],
  );
  t.deepEqual(groupBlockers([m('0000:03:00.1', 'uio_pci_generic')], me, 'uio_pci_generic'), []);
  t.false(isHostDriver(null));
  t.false(isHostDriver('vfio-pci'));
  t.true(isHostDriver('e1000e'));
});

test('binding writes unbind, driver_override, drivers_probe; restoring clears the override and probes when the original is not loaded', (t) => {
  const source = new SysfsPciSource('/nonexistent-sys');
  const writer = new DryRunSysfsWriter();
  const dev = '/nonexistent-sys/bus/pci/devices/0000:03:00.0';
  t.deepEqual(bindToDriver(source, writer, me, 'e1000e', 'vfio-pci'), [
    { path: `${dev}/driver/unbind`, value: '0000:03:00.0' },
    { path: `${dev}/driver_override`, value: 'vfio-pci' },
    { path: '/nonexistent-sys/bus/pci/drivers_probe', value: '0000:03:00.0' },
  ]);
  t.deepEqual(restoreDriver(source, writer, me, true, 'e1000e'), [
    { path: `${dev}/driver/unbind`, value: '0000:03:00.0' },
    { path: `${dev}/driver_override`, value: '\n' },
    { path: '/nonexistent-sys/bus/pci/drivers_probe', value: '0000:03:00.0' },
  ]);
  t.is(writer.log.length, 6);
});
