// rawpci show decodes every register set of the PCI Express capability (v2 device/link, slot, root) for every port type as lspci -vv and -vvv do.

import test from 'ava';
import { PCI_CAP_ID_EXP } from '../../shared/linux/pci-regs.js';
import { buildFakeSysfs, type FakeDevice, writeFixtureIds } from '../helpers/fake-sysfs.js';
import { compareShowVv, compareShowVvv, prng } from '../helpers/show-compare.js';

/** Port types with the header each has: bridges for ports, type 0 for endpoints. */
const TYPES = [
  { type: 0, name: 'endpoint', bridge: false },
  { type: 1, name: 'legacy endpoint', bridge: false },
  { type: 4, name: 'root port', bridge: true },
  { type: 5, name: 'upstream port', bridge: true },
  { type: 6, name: 'downstream port', bridge: true },
  { type: 7, name: 'PCIe-to-PCI bridge', bridge: true },
  { type: 8, name: 'PCI-to-PCIe bridge', bridge: true },
  { type: 9, name: 'RC integrated endpoint', bridge: false },
  { type: 10, name: 'RC event collector', bridge: false },
] as const;

/** A v1 or v2 PCI Express capability with every register (0x3c bytes) filled from `rnd`. */
function expressCap(type: number, version: number, slot: boolean, rnd: () => number): FakeDevice['caps'] {
  const flags = version | (type << 4) | (slot ? 0x100 : 0) | ((rnd() & 0x1f) << 9);
  return [{ id: 'raw', capId: PCI_CAP_ID_EXP, flags, body: Array.from({ length: 14 }, () => rnd()) }];
}

const devices: FakeDevice[] = [];
const cases: { bdf: string; what: string }[] = [];
let bus = 0x10;
for (const t of TYPES) {
  for (const [seed, version, slot, fn] of [
    [1, 2, true, 0],
    [2, 2, false, 0],
    [3, 1, true, 0],
    [4, 2, true, 1],
    [5, 2, false, 0],
  ] as const) {
    const rnd = prng(seed * 7919 + t.type * 104729);
    const bdf = `0000:${bus.toString(16).padStart(2, '0')}:00.${fn}`;
    const d: FakeDevice = {
      bdf,
      vendor: 0x8086,
      device: 0x1000 + t.type,
      classCode: t.bridge ? 0x060400 : 0x020000,
      caps: expressCap(t.type, version, slot, rnd),
      ...(fn ? {} : { multifunction: false }),
    };
    if (t.bridge) {
      d.headerType = 1;
      d.bridge = { primary: bus, secondary: bus + 1, subordinate: bus + 1 };
    } else if (seed % 2) d.bars = [{ kind: 'mem32', address: 0xfe000000n + BigInt(bus << 16), size: 0x1000n }];
    else d.bars = [{ kind: 'io', address: 0x2000n + BigInt(bus << 4), size: 16n }];
    devices.push(d);
    cases.push({ bdf, what: `${t.name} (v${version}, slot${slot ? '+' : '-'}, fn ${fn}, seed ${seed})` });
    bus += 2;
  }
}

const fake = buildFakeSysfs(devices);
const ids = writeFixtureIds();
test.after.always(() => fake.remove());

for (const c of cases) {
  test(`show -vv of a ${c.what} prints the PCI Express registers lspci -vv prints`, (t) => compareShowVv(t, fake, ids, c.bdf));
  test(`show -vvv of a ${c.what} prints the PCI Express registers lspci -vvv prints`, (t) => compareShowVvv(t, fake, ids, c.bdf));
}
