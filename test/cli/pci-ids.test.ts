// pci.ids parsing and name formatting follow libpci (names.c, names-parse.c).

import test from 'ava';
import { PCI_IDS_MISSING_HINT, PciIds, PciIdsParseError } from '../../src/sysfs/pci-ids.js';

const ids = PciIds.parse(`# c
8086  Intel Corporation
\t1234  Widget
\t\t1af4 0001  Widget for QEMU
1af4  Red Hat, Inc.
\t1041  Virtio network
S 1af4
\t1100  QEMU Virtual Machine
C 02  Network controller
\t00  Ethernet controller
C 01  Mass storage controller
\t01  IDE interface
`);

test('a device with a subsystem entry is named by it, else by a generic S entry, else by itself when subsystem == device', (t) => {
  t.is(ids.formatSubsystem(0x8086, 0x1234, 0x1af4, 0x0001, 'mixed'), 'Red Hat, Inc. Widget for QEMU [1af4:0001]');
  t.is(ids.formatSubsystem(0x8086, 0x1234, 0x1af4, 0x1100, 'mixed'), 'Red Hat, Inc. QEMU Virtual Machine [1af4:1100]');
  t.is(ids.formatSubsystem(0x1af4, 0x1041, 0x1af4, 0x1041, 'mixed'), 'Red Hat, Inc. Virtio network [1af4:1041]');
  t.is(ids.formatSubsystem(0x8086, 0x1234, 0x8086, 0x9999, 'mixed'), 'Intel Corporation Device [8086:9999]');
});

test('unknown vendors, devices and classes fall back to numbers the way lspci prints them', (t) => {
  t.is(ids.formatVendorDevice(0xabcd, 0x0001, 'mixed'), 'Device [abcd:0001]');
  t.is(ids.formatVendorDevice(0x8086, 0x9999, 'names'), 'Intel Corporation Device 9999');
  t.is(ids.formatClass(0x0280, 'mixed'), 'Network controller [0280]');
  t.is(ids.formatClass(0x0280, 'names'), 'Network controller [0280]');
  t.is(ids.formatClass(0x1200, 'mixed'), 'Class [1200]');
  t.is(ids.formatClass(0x0200, 'numeric'), '0200');
});

test("a name longer than lspci's 128-byte buffer is cut to 127 bytes ending in ...", (t) => {
  const long = PciIds.parse(`8086  ${'x'.repeat(200)}\n\t0001  d\n`);
  const s = long.formatVendorDevice(0x8086, 0x0001, 'mixed');
  t.is(s.length, 127);
  t.true(s.endsWith('...'));
});

test('IDE prog-if without a pci.ids entry is spelled out as libpci does', (t) => {
  t.is(ids.progIfName(0x0101, 0x8a), 'Master SecP PriP');
});

test('a malformed line is a parse error that names the line', (t) => {
  const e = t.throws(() => PciIds.parse('8086  Intel\n\tzz  bad\n', 'f.ids'), { instanceOf: PciIdsParseError });
  t.is(e.line, 2);
  t.regex(e.message, /Parse error at f\.ids, line 2/);
});

test('with no pci.ids anywhere find() returns an empty database and the hint says how to install one', (t) => {
  const r = PciIds.find(undefined, {}, ['/nonexistent/a.ids', '/nonexistent/b.ids']);
  t.false(r.found);
  t.is(r.ids.formatVendorDevice(0x8086, 0x1234, 'mixed'), 'Device [8086:1234]');
  t.regex(PCI_IDS_MISSING_HINT, /apt-get install pci\.ids/);
});
