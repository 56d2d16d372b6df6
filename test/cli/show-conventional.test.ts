// rawpci show decodes the conventional capabilities with register bodies (AGP, PCI-X, SATA HBA, Advanced Features, Enhanced Allocation) as lspci -vv and -vvv do.

import test from 'ava';
import { PCI_CAP_ID_AF, PCI_CAP_ID_AGP, PCI_CAP_ID_EA, PCI_CAP_ID_PCIX, PCI_CAP_ID_SATA } from '../../shared/linux/pci-regs.js';
import { buildFakeSysfs, type FakeDevice, writeFixtureIds } from '../helpers/fake-sysfs.js';
import { compareShowVv, compareShowVvv, prng } from '../helpers/show-compare.js';

/**
 * EA entries whose Entry Size covers the base, max offset and the high dwords their bit 1 asks
 * for (lspci aborts on an entry that reads past its own size); `seed % 4` entries.
 */
function eaEntries(bridge: boolean) {
  return (f: number, b: number[], seed: number): number => {
    let at = bridge ? 1 : 0;
    const n = seed % 4;
    for (let e = 0; e < n; e++) {
      const es = 2 + ((b[at + 1]! >>> 1) & 1) + ((b[at + 2]! >>> 1) & 1);
      b[at] = ((b[at]! & ~7) | es) >>> 0;
      at += 1 + es;
    }
    return (f & ~0x3f) | n;
  };
}

/** One fake function per capability kind, header type and seed; `flags` and `body` from the PRNG, shaped by `shape`. */
const KINDS: { name: string; capId: number; dwords: number; bridge?: boolean; shape?: (flags: number, body: number[], seed: number) => number }[] = [
  { name: 'AGP 2.0', capId: PCI_CAP_ID_AGP, dwords: 2, shape: (f) => (f & ~0xff) | 0x20 },
  { name: 'AGP 3.0', capId: PCI_CAP_ID_AGP, dwords: 2, shape: (f) => (f & ~0xff) | 0x30 },
  { name: 'PCI-X device', capId: PCI_CAP_ID_PCIX, dwords: 1 },
  { name: 'PCI-X bridge', capId: PCI_CAP_ID_PCIX, dwords: 3, bridge: true },
  {
    name: 'SATA HBA',
    capId: PCI_CAP_ID_SATA,
    dwords: 1,
    shape: (f, b, seed) => {
      b[0] = ((b[0]! & ~0xf) | [4, 9, 15, 2][seed % 4]!) >>> 0;
      return f;
    },
  },
  { name: 'Advanced Features', capId: PCI_CAP_ID_AF, dwords: 1 },
  { name: 'Enhanced Allocation', capId: PCI_CAP_ID_EA, dwords: 30, shape: eaEntries(false) },
  { name: 'Enhanced Allocation on a bridge', capId: PCI_CAP_ID_EA, dwords: 30, bridge: true, shape: eaEntries(true) },
];

const devices: FakeDevice[] = [];
const cases: { bdf: string; what: string }[] = [];
let bus = 0x40;
for (const k of KINDS) {
  for (const seed of [1, 2, 3, 4]) {
    const rnd = prng(seed * 2654435761 + k.capId * 97 + (k.bridge ? 1 : 0));
    const body = Array.from({ length: k.dwords }, () => rnd());
    const flags = (k.shape ? k.shape(rnd() & 0xffff, body, seed) : rnd()) & 0xffff;
    const bdf = `0000:${bus.toString(16).padStart(2, '0')}:00.0`;
    const d: FakeDevice = {
      bdf,
      vendor: 0x8086,
      device: 0x3000 + k.capId,
      classCode: k.bridge ? 0x060400 : 0x010601,
      caps: [{ id: 'raw', capId: k.capId, flags, body }],
    };
    if (k.bridge) {
      d.headerType = 1;
      d.bridge = { primary: bus, secondary: bus + 1, subordinate: bus + 1 };
      bus++;
    }
    devices.push(d);
    cases.push({ bdf, what: `${k.name} (seed ${seed})` });
    bus++;
  }
}

const fake = buildFakeSysfs(devices);
const ids = writeFixtureIds();
test.after.always(() => fake.remove());

for (const c of cases) {
  test(`show -vv of a ${c.what} prints what lspci -vv prints`, (t) => compareShowVv(t, fake, ids, c.bdf));
  test(`show -vvv of a ${c.what} prints what lspci -vvv prints`, (t) => compareShowVvv(t, fake, ids, c.bdf));
}
