// rawpci show decodes every extended capability lspci 3.9.0 decodes (AER through DOE, CXL DVSECs) as lspci -vv and -vvv do, for every port type.

import test from 'ava';
import * as regs from '../../shared/linux/pci-regs.js';
import { buildFakeSysfs, type FakeDevice, type FakeExtCap, writeFixtureIds } from '../helpers/fake-sysfs.js';
import { compareShowVv, compareShowVvv, prng } from '../helpers/show-compare.js';

/** IDs lspci only names (ls-ecaps.c show_ext_caps prints `Name <?>`), plus 0x2a which it does not know. */
const NAMED_ONLY = [
  regs.PCI_EXT_CAP_ID_PWR,
  regs.PCI_EXT_CAP_ID_RCILC,
  regs.PCI_EXT_CAP_ID_MFVC,
  regs.PCI_EXT_CAP_ID_RCRB,
  regs.PCI_EXT_CAP_ID_MRIOV,
  regs.PCI_EXT_CAP_ID_DPA,
  regs.PCI_EXT_CAP_ID_PMUX,
  0x1c,
  0x20,
  0x21,
  0x22,
  regs.PCI_EXT_CAP_ID_DLF,
  regs.PCI_EXT_CAP_ID_PL_16GT,
  0x27,
  0x28,
  0x29,
  0x2a,
];

/** The CXL DVSECs lspci decodes (DVSEC ID, length in bytes), plus an ID it does not know. */
const CXL_DVSECS: [number, number][] = [
  [0, 0x38],
  [2, 0x2c],
  [3, 0x28],
  [4, 0x10],
  [5, 0x10],
  [7, 0x20],
  [8, 0x24],
  [9, 0x10],
  [0x77, 0x10],
];

/** Every extended capability in one chain, bodies from `rnd`, fields lspci indexes tables with kept in range. */
function extCaps(rnd: () => number, seed: number): FakeExtCap[] {
  const body = (n: number) => Array.from({ length: n }, () => rnd());
  /** Version-1 capabilities PCI_EXT_CAP_ID_<name> with `dwords` random body dwords each, in order. */
  const simple = (caps: [string, number][]): FakeExtCap[] =>
    caps.map(([name, dwords]) => ({ id: (regs as Record<string, number>)[`PCI_EXT_CAP_ID_${name}`]!, version: 1, body: body(dwords) }));
  const caps: FakeExtCap[] = [
    { id: 0, version: 0, body: body(1) },
    { id: regs.PCI_EXT_CAP_ID_ERR, version: 2, body: body(14) },
    { id: seed % 2 ? regs.PCI_EXT_CAP_ID_VC : regs.PCI_EXT_CAP_ID_VC9, version: 1, body: body(28) },
    { id: regs.PCI_EXT_CAP_ID_DSN, version: 1, body: body(2) },
    { id: regs.PCI_EXT_CAP_ID_RCLD, version: 1, body: [(rnd() & ~0xff00) | ((rnd() % 4) << 8), ...body(14)] },
    { id: regs.PCI_EXT_CAP_ID_RCEC, version: 1 + (seed % 2), body: seed === 3 ? [0, 0x0000ff00] : body(2) },
    ...simple([
      ['VNDR', 3],
      ['ACS', 2],
      ['ARI', 1],
      ['ATS', 1],
      ['SRIOV', 15],
      ['MCAST', 12],
      ['PRI', 3],
      ['REBAR', 13],
    ]),
    { id: 0x24, version: 1, body: [rnd(), (rnd() & ~0xe0) | ((1 + (seed % 6)) << 5), ...body(11)] },
    ...simple([
      ['TPH', 2],
      ['LTR', 1],
      ['SECPCI', 4],
      ['PASID', 1],
      ['DPC', 8],
      ['L1SS', 3],
      ['PTM', 2],
      ['DOE', 5],
    ]),
    { id: regs.PCI_EXT_CAP_ID_DVSEC, version: 1, body: [(rnd() & 0xffff) | (0x10 << 20), ...body(2)] },
    ...NAMED_ONLY.map((id) => ({ id, version: 1, body: body(1) })),
  ];
  for (const [id, len] of CXL_DVSECS) {
    const b = body(len / 4 - 1);
    b[0] = (0x1e98 | ((rnd() % 4) << 16) | (len << 20)) >>> 0;
    b[1] = (rnd() & 0xffff_0000) | id;
    // Range size low words: type and class below 3 and interleave below 8 (lspci indexes its tables unchecked).
    for (const k of [6, 10])
      if (id === 0 && b[k] !== undefined) b[k] = ((b[k]! & ~0x1ffc) | ((rnd() % 3) << 2) | ((rnd() % 3) << 5) | ((rnd() % 8) << 8)) >>> 0;
    caps.push({ id: regs.PCI_EXT_CAP_ID_DVSEC, version: 1, body: b });
  }
  return caps;
}

const PORT_TYPES = [
  [0, 'endpoint'],
  [4, 'root port'],
  [5, 'upstream port'],
  [6, 'downstream port'],
  [9, 'RC integrated endpoint'],
  [10, 'RC event collector'],
] as const;

const devices: FakeDevice[] = [];
const cases: { bdf: string; what: string }[] = [];
let bus = 0x20;
for (const [type, name] of PORT_TYPES) {
  for (const seed of [1, 2, 3, 4]) {
    const rnd = prng(seed * 65537 + type * 31337);
    const bdf = `0000:${bus.toString(16).padStart(2, '0')}:00.0`;
    devices.push({
      bdf,
      vendor: 0x8086,
      device: 0x2000 + type,
      classCode: 0x088000,
      bars: [{ kind: 'mem32', address: 0xfd000000n + BigInt(bus << 16), size: 0x1000n }],
      caps: [{ id: 'exp', type }],
      configSize: 4096,
      extCaps: extCaps(rnd, seed),
    });
    cases.push({ bdf, what: `${name} (seed ${seed})` });
    bus++;
  }
}

const fake = buildFakeSysfs(devices);
const ids = writeFixtureIds();
test.after.always(() => fake.remove());

for (const c of cases) {
  test(`show -vv of a ${c.what} with every extended capability prints what lspci -vv prints`, (t) => compareShowVv(t, fake, ids, c.bdf));
  test(`show -vvv of a ${c.what} with every extended capability prints what lspci -vvv prints`, (t) => compareShowVvv(t, fake, ids, c.bdf));
}
