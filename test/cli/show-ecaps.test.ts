// rawpci show decodes every extended capability lspci 3.9.0 decodes (AER through DOE, CXL DVSECs) as lspci -vv and -vvv do, for every port type.

import test from 'ava';
import {
  PCI_EXT_CAP_ID_ACS,
  PCI_EXT_CAP_ID_ARI,
  PCI_EXT_CAP_ID_ATS,
  PCI_EXT_CAP_ID_DLF,
  PCI_EXT_CAP_ID_DOE,
  PCI_EXT_CAP_ID_DPA,
  PCI_EXT_CAP_ID_DPC,
  PCI_EXT_CAP_ID_DSN,
  PCI_EXT_CAP_ID_DVSEC,
  PCI_EXT_CAP_ID_ERR,
  PCI_EXT_CAP_ID_L1SS,
  PCI_EXT_CAP_ID_LTR,
  PCI_EXT_CAP_ID_MCAST,
  PCI_EXT_CAP_ID_MFVC,
  PCI_EXT_CAP_ID_MRIOV,
  PCI_EXT_CAP_ID_PASID,
  PCI_EXT_CAP_ID_PL_16GT,
  PCI_EXT_CAP_ID_PMUX,
  PCI_EXT_CAP_ID_PRI,
  PCI_EXT_CAP_ID_PTM,
  PCI_EXT_CAP_ID_PWR,
  PCI_EXT_CAP_ID_RCEC,
  PCI_EXT_CAP_ID_RCILC,
  PCI_EXT_CAP_ID_RCLD,
  PCI_EXT_CAP_ID_RCRB,
  PCI_EXT_CAP_ID_REBAR,
  PCI_EXT_CAP_ID_SECPCI,
  PCI_EXT_CAP_ID_SRIOV,
  PCI_EXT_CAP_ID_TPH,
  PCI_EXT_CAP_ID_VC,
  PCI_EXT_CAP_ID_VC9,
  PCI_EXT_CAP_ID_VNDR,
} from '../../shared/linux/pci-regs.js';
import { buildFakeSysfs, type FakeDevice, type FakeExtCap, writeFixtureIds } from '../helpers/fake-sysfs.js';
import { compareShowVv, compareShowVvv, prng } from '../helpers/show-compare.js';

/** IDs lspci only names (ls-ecaps.c show_ext_caps prints `Name <?>`), plus 0x2a which it does not know. */
const NAMED_ONLY = [
  PCI_EXT_CAP_ID_PWR,
  PCI_EXT_CAP_ID_RCILC,
  PCI_EXT_CAP_ID_MFVC,
  PCI_EXT_CAP_ID_RCRB,
  PCI_EXT_CAP_ID_MRIOV,
  PCI_EXT_CAP_ID_DPA,
  PCI_EXT_CAP_ID_PMUX,
  0x1c,
  0x20,
  0x21,
  0x22,
  PCI_EXT_CAP_ID_DLF,
  PCI_EXT_CAP_ID_PL_16GT,
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
  const caps: FakeExtCap[] = [
    { id: 0, version: 0, body: body(1) },
    { id: PCI_EXT_CAP_ID_ERR, version: 2, body: body(14) },
    { id: seed % 2 ? PCI_EXT_CAP_ID_VC : PCI_EXT_CAP_ID_VC9, version: 1, body: body(28) },
    { id: PCI_EXT_CAP_ID_DSN, version: 1, body: body(2) },
    { id: PCI_EXT_CAP_ID_RCLD, version: 1, body: [(rnd() & ~0xff00) | ((rnd() % 4) << 8), ...body(14)] },
    { id: PCI_EXT_CAP_ID_RCEC, version: 1 + (seed % 2), body: seed === 3 ? [0, 0x0000ff00] : body(2) },
    { id: PCI_EXT_CAP_ID_VNDR, version: 1, body: body(3) },
    { id: PCI_EXT_CAP_ID_ACS, version: 1, body: body(2) },
    { id: PCI_EXT_CAP_ID_ARI, version: 1, body: body(1) },
    { id: PCI_EXT_CAP_ID_ATS, version: 1, body: body(1) },
    { id: PCI_EXT_CAP_ID_SRIOV, version: 1, body: body(15) },
    { id: PCI_EXT_CAP_ID_MCAST, version: 1, body: body(12) },
    { id: PCI_EXT_CAP_ID_PRI, version: 1, body: body(3) },
    { id: PCI_EXT_CAP_ID_REBAR, version: 1, body: body(13) },
    { id: 0x24, version: 1, body: [rnd(), (rnd() & ~0xe0) | ((1 + (seed % 6)) << 5), ...body(11)] },
    { id: PCI_EXT_CAP_ID_TPH, version: 1, body: body(2) },
    { id: PCI_EXT_CAP_ID_LTR, version: 1, body: body(1) },
    { id: PCI_EXT_CAP_ID_SECPCI, version: 1, body: body(4) },
    { id: PCI_EXT_CAP_ID_PASID, version: 1, body: body(1) },
    { id: PCI_EXT_CAP_ID_DPC, version: 1, body: body(8) },
    { id: PCI_EXT_CAP_ID_L1SS, version: 1, body: body(3) },
    { id: PCI_EXT_CAP_ID_PTM, version: 1, body: body(2) },
    { id: PCI_EXT_CAP_ID_DOE, version: 1, body: body(5) },
    { id: PCI_EXT_CAP_ID_DVSEC, version: 1, body: [(rnd() & 0xffff) | (0x10 << 20), ...body(2)] },
    ...NAMED_ONLY.map((id) => ({ id, version: 1, body: body(1) })),
  ];
  for (const [id, len] of CXL_DVSECS) {
    const b = body(len / 4 - 1);
    b[0] = (0x1e98 | ((rnd() % 4) << 16) | (len << 20)) >>> 0;
    b[1] = (rnd() & 0xffff_0000) | id;
    // Range size low words: type and class below 3 and interleave below 8 (lspci indexes its tables unchecked).
    for (const k of [6, 10])
      if (id === 0 && b[k] !== undefined) b[k] = ((b[k]! & ~0x1ffc) | ((rnd() % 3) << 2) | ((rnd() % 3) << 5) | ((rnd() % 8) << 8)) >>> 0;
    caps.push({ id: PCI_EXT_CAP_ID_DVSEC, version: 1, body: b });
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
