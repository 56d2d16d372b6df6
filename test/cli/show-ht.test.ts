// rawpci show decodes HyperTransport capabilities (both interface blocks in the 1.x and 2.02 layouts, MSI Mapping, Revision ID, the named and unknown types) as lspci -v, -vv and -vvv do.

import test from 'ava';
import { PCI_CAP_ID_HT } from '../../shared/linux/pci-regs.js';
import { buildFakeSysfs, compareLines, type FakeDevice, writeFixtureIds } from '../helpers/fake-sysfs.js';
import { bothListings, compareShowVv, compareShowVvv } from '../helpers/show-compare.js';

/** A HyperTransport capability: the command word and the dwords from +4 on. */
const ht = (cmd: number, body: number[] = [0, 0, 0, 0, 0, 0]) => ({ id: 'raw' as const, capId: PCI_CAP_ID_HT, flags: cmd, body });

/** Dwords of a primary interface block whose revision byte (at +12) is `rid`; other registers patterned. */
const priBody = (rid: number) => [0x00d1_0a22, 0x7011_0a20, 0x0035_0000 | rid | 0x5500, 0x0275_0033, 0x00f0_3c5a, 0x0004_1211];
/** Dwords of a secondary interface block whose revision byte (at +8) is `rid`; Feature at +12 with ExtRS when `extrs`. */
const secBody = (rid: number, extrs: boolean) => [0x1111_0a22, 0x0035_6500 | rid, (extrs ? 0x0133 : 0x0033) | 0x00a5_0000, 0x8421_0000, 0x0000_3c5a, 0];

const CASES: { what: string; caps: FakeDevice['caps'] }[] = [
  { what: 'HyperTransport primary interface of revision 2.02', caps: [ht(0x1c25, priBody(0x22))] },
  { what: 'HyperTransport primary interface of revision 1.03', caps: [ht(0x0c25, priBody(0x03))] },
  { what: 'HyperTransport primary interface of revision 1.05 (possibly incomplete decoding)', caps: [ht(0x0425, priBody(0x15))] },
  { what: 'HyperTransport secondary interface of revision 3.00 with the extended register set', caps: [ht(0x3d95, secBody(0x60, true))] },
  { what: 'HyperTransport secondary interface of revision 3.00 without the extended register set', caps: [ht(0x3d95, secBody(0x60, false))] },
  { what: 'HyperTransport secondary interface of revision 1.02', caps: [ht(0x3fff, secBody(0x02, true))] },
  { what: 'HyperTransport MSI Mapping with a programmable address', caps: [ht(0xa801, [0xfee0_0abc, 0x0000_0012])] },
  { what: 'HyperTransport MSI Mapping with a fixed address', caps: [ht(0xa803, [0xfee0_0000, 0])] },
  { what: 'HyperTransport Revision ID capability', caps: [ht(0x8825)] },
  {
    what: 'chain of HyperTransport Switch, Interrupt Discovery, UnitID Clumping, Address Mapping, DirectRoute, VCSet, Retry Mode, X86 and unknown types',
    caps: [0x4000, 0x8000, 0x9000, 0x9800, 0xa000, 0xb000, 0xb800, 0xc000, 0xc800, 0xd000, 0xf801].map((c) => ht(c, [0])),
  },
];

const devices: FakeDevice[] = CASES.map((c, i) => ({
  bdf: `0000:00:${(0x10 + i).toString(16)}.0`,
  vendor: 0x8086,
  device: 0x3100 + i,
  classCode: 0x060000,
  caps: c.caps,
}));
const fake = buildFakeSysfs(devices);
const ids = writeFixtureIds();
test.after.always(() => fake.remove());

CASES.forEach((c, i) => {
  const bdf = devices[i]!.bdf;
  test(`show -v of a ${c.what} prints what lspci -v prints`, async (t) => {
    const { ours, theirs } = await bothListings(fake, ids, bdf, 1);
    compareLines(t, ours, theirs);
  });
  test(`show -vv of a ${c.what} prints what lspci -vv prints`, (t) => compareShowVv(t, fake, ids, bdf));
  test(`show -vvv of a ${c.what} prints what lspci -vvv prints`, (t) => compareShowVvv(t, fake, ids, bdf));
});

test('show -vv prints a programmable MSI Mapping address without its low 20 bits, as lspci does', async (t) => {
  const { ours } = await bothListings(fake, ids, devices[6]!.bdf, 2);
  t.true(ours.includes('\t\tMapping Address Base: 00000012fee00000\n'), ours);
});
