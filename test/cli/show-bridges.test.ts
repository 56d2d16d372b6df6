// rawpci show decodes CardBus bridges (header type 2), PCI-to-PCI bridge windows (enabled, disabled, empty, 16/32-bit I/O, 64-bit prefetchable, from sysfs or config) and what sysfs says of unknown headers as lspci -v, -vv, -vvv and -x do.

import test from 'ava';
import { PCI_CAP_ID_PM, PCI_COMMAND_IO, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY } from '../../shared/linux/pci-regs.js';
import { buildConfig, buildFakeSysfs, compareLines, type FakeDevice, writeFixtureIds } from '../helpers/fake-sysfs.js';
import { bothListings, compareShowVv, compareShowVvv } from '../helpers/show-compare.js';

/** `n` sysfs resource lines of an unused resource (start, end and flags 0). */
const unusedLines = (n: number): [bigint, bigint, bigint][] => Array.from({ length: n }, () => [0n, 0n, 0n]);

/** Writes little-endian `bytes`-wide `value` at `at`. */
function put(cfg: Uint8Array, at: number, value: number, bytes: 1 | 2 | 4): Uint8Array {
  const v = new DataView(cfg.buffer);
  if (bytes === 1) v.setUint8(at, value);
  else if (bytes === 2) v.setUint16(at, value, true);
  else v.setUint32(at, value >>> 0, true);
  return cfg;
}

/** A CardBus bridge's registers (PCI_CB_*): memory and I/O windows as [base, limit] register values, bridge control, ExCa base, secondary status, a PM capability at 0x80. */
interface CardBus {
  command: number;
  mem: [[number, number], [number, number]];
  io: [[number, number], [number, number]];
  bridgeControl: number;
  exca?: number;
  secStatus?: number;
  pm?: boolean;
  size?: 64 | 256;
}

function cardbusConfig(d: FakeDevice, c: CardBus): Uint8Array {
  const cfg = buildConfig({ ...d, headerType: 2, command: c.command, config: undefined });
  put(cfg, 0x18, 0x0302_0100 | 0x40_00_00_00, 4);
  for (const i of [0, 1]) {
    put(put(cfg, 0x1c + 8 * i, c.mem[i]![0], 4), 0x20 + 8 * i, c.mem[i]![1], 4);
    put(put(cfg, 0x2c + 8 * i, c.io[i]![0], 4), 0x30 + 8 * i, c.io[i]![1], 4);
  }
  put(cfg, 0x3e, c.bridgeControl, 2);
  put(cfg, 0x16, c.secStatus ?? 0, 2);
  put(cfg, 0x44, c.exca ?? 0, 2);
  if (c.pm) {
    put(cfg, 0x06, 0x0010, 2);
    put(cfg, 0x14, 0x80, 1);
    put(cfg, 0x80, PCI_CAP_ID_PM, 1);
    put(cfg, 0x82, 0xfe02, 2);
  }
  return c.size === 64 ? cfg.slice(0, 64) : cfg;
}

const ON = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;

const CARDBUS: { what: string; cb: CardBus; subsystemFiles?: boolean }[] = [
  {
    what: 'CardBus bridge with a prefetchable memory window, 32-bit and 16-bit I/O windows, a legacy ExCa base and a PM capability',
    cb: {
      command: ON,
      mem: [
        [0xf800_0000, 0xf83f_f000],
        [0xf840_0000, 0xf87f_f000],
      ],
      io: [
        [0x0001_4001, 0x0001_40fc],
        [0x0000_4400, 0x1234_44fc],
      ],
      bridgeControl: 0x05c0 | 0x100,
      exca: 0x03e0,
      pm: true,
    },
  },
  {
    what: 'CardBus bridge whose memory window 1 and I/O window 1 are disabled (base above limit)',
    cb: {
      command: ON,
      mem: [
        [0xf800_0000, 0xf83f_f000],
        [0xfff0_0000, 0],
      ],
      io: [
        [0x4000, 0x40fc],
        [0xfff0, 0],
      ],
      bridgeControl: 0x0300,
    },
  },
  {
    what: 'CardBus bridge with I/O and memory decoding off and a secondary SERR',
    cb: {
      command: 0,
      mem: [
        [0x1000_0000, 0x1000_0000],
        [0, 0],
      ],
      io: [
        [0, 0],
        [0, 0],
      ],
      bridgeControl: 0x002f,
      secStatus: 0x4000,
    },
  },
  {
    what: 'CardBus bridge whose config space reads only 64 bytes',
    cb: {
      command: ON,
      mem: [
        [0xf800_0000, 0xf83f_f000],
        [0, 0],
      ],
      io: [
        [0x4000, 0x40fc],
        [0, 0],
      ],
      bridgeControl: 0x0400,
      size: 64,
      pm: true,
    },
  },
  {
    what: 'CardBus bridge without subsystem files in sysfs',
    cb: {
      command: ON,
      mem: [
        [0, 0],
        [0, 0],
      ],
      io: [
        [0, 0],
        [0, 0],
      ],
      bridgeControl: 0,
    },
    subsystemFiles: false,
  },
];

/** PCI-to-PCI bridges: the fake builder's windows, then `patch` over the config bytes, and the `resource` lines when not the builder's. */
const BRIDGES: { what: string; d: Partial<FakeDevice>; patch?: [number, number, 1 | 2 | 4][]; resourceLines?: [bigint, bigint, bigint][] }[] = [
  {
    what: 'bridge with enabled I/O, memory and 64-bit prefetchable windows listed in sysfs',
    d: { bridge: { primary: 0, secondary: 1, subordinate: 2, io: [0x1000, 0x1fff], mem: [0xfd00_0000, 0xfe0f_ffff], pref: [0x8_0000_0000n, 0x8_1fff_ffffn] } },
  },
  {
    what: 'bridge whose windows are disabled (base above limit) and empty in sysfs',
    d: { bridge: { primary: 0, secondary: 1, subordinate: 1, io: [0x2000, 0x1fff], mem: [0xfe00_0000, 0xfd0f_ffff], pref: [0x8_2000_0000n, 0x8_1fff_ffffn] } },
  },
  {
    what: 'bridge whose windows are all zero and empty in sysfs',
    d: { bridge: { primary: 0, secondary: 1, subordinate: 1 } },
    patch: [
      [0x1c, 0, 2],
      [0x20, 0, 4],
      [0x24, 0, 4],
      [0x28, 0, 4],
      [0x2c, 0, 4],
    ],
    resourceLines: unusedLines(11),
  },
  {
    what: 'bridge with a 32-bit I/O window and a 64-bit prefetchable window decoded from config space',
    d: { bridge: { primary: 0, secondary: 1, subordinate: 1 } },
    patch: [
      [0x1c, 0x3121, 2],
      [0x30, 0x0002_0001, 4],
      [0x20, 0xfe20_fe10, 4],
      [0x24, 0x3ff1_2001, 4],
      [0x28, 0x0000_0040, 4],
      [0x2c, 0x0000_0041, 4],
    ],
    resourceLines: unusedLines(7),
  },
  {
    what: 'bridge with sysfs windows after the SR-IOV lines (17 resource lines)',
    d: { bridge: { primary: 0, secondary: 1, subordinate: 1 } },
    resourceLines: [
      ...unusedLines(13),
      [0x3000n, 0x3fffn, 0x101n],
      [0xfc00_0000n, 0xfc1f_ffffn, 0x200n],
      [0x1_0000_0000n, 0x1_3fff_ffffn, 0x102201n],
      [0n, 0n, 0n],
    ],
  },
  {
    what: 'bridge with unknown I/O, memory and prefetchable window types',
    d: { bridge: { primary: 0, secondary: 1, subordinate: 1 } },
    patch: [
      [0x1c, 0x1213, 2],
      [0x20, 0x2002_1001, 4],
      [0x24, 0x2003_1002, 4],
    ],
    resourceLines: unusedLines(7),
  },
  {
    what: 'function of unknown header type 05 whose BARs, ROM and windows sysfs lists',
    d: { bridge: { primary: 0, secondary: 1, subordinate: 1 } },
    patch: [[0x0e, 0x05, 1]],
    resourceLines: [
      [0xfe00_0000n, 0xfe00_0fffn, 0x40200n],
      [0xc000n, 0xc01fn, 0x40101n],
      ...unusedLines(4),
      [0xfff0_0000n, 0xfff7_ffffn, 0x46200n],
      [0x5000n, 0x5fffn, 0x101n],
      [0xfc00_0000n, 0xfc0f_ffffn, 0x200n],
      [0x2_0000_0000n, 0x2_0fff_ffffn, 0x102201n],
      [0x7000n, 0x7fffn, 0x400n],
    ],
  },
  {
    what: 'function whose config space cannot be read, with BARs in sysfs',
    d: { config: new Uint8Array(0) },
    resourceLines: [[0xfe10_0000n, 0xfe10_3fffn, 0x140204n], ...unusedLines(6)],
  },
];

const devices: FakeDevice[] = [];
const cases: { bdf: string; what: string; hex: boolean }[] = [];
CARDBUS.forEach((c, i) => {
  const bdf = `0000:02:${i.toString(16).padStart(2, '0')}.0`;
  const d: FakeDevice = {
    bdf,
    vendor: 0x8086,
    device: 0x3200 + i,
    classCode: 0x060700,
    subsystemVendor: 0x8086,
    subsystemDevice: 0xa01f,
    irq: 11,
    interruptPin: 1,
  };
  if (c.subsystemFiles === false) d.subsystemFiles = false;
  d.bars = [{ kind: 'mem32', address: 0xfebf_f000n, size: 0x1000n }];
  d.config = cardbusConfig(d, c.cb);
  devices.push(d);
  cases.push({ bdf, what: c.what, hex: true });
});
BRIDGES.forEach((b, i) => {
  const bdf = `0000:03:${i.toString(16).padStart(2, '0')}.0`;
  const d: FakeDevice = { bdf, vendor: 0x8086, device: 0x244e, classCode: 0x060400, headerType: 1, ...b.d };
  if (b.patch) d.config = b.patch.reduce((cfg, [at, v, n]) => put(cfg, at, v, n), buildConfig(d));
  if (b.resourceLines) d.resourceLines = b.resourceLines;
  devices.push(d);
  cases.push({ bdf, what: b.what, hex: false });
});

const fake = buildFakeSysfs(devices);
const ids = writeFixtureIds();
test.after.always(() => fake.remove());

for (const c of cases) {
  test(`show -v of a ${c.what} prints what lspci -v prints`, async (t) => {
    const { ours, theirs } = await bothListings(fake, ids, c.bdf, 1);
    compareLines(t, ours, theirs);
  });
  test(`show -vv of a ${c.what} prints what lspci -vv prints`, (t) => compareShowVv(t, fake, ids, c.bdf));
  test(`show -vvv of a ${c.what} prints what lspci -vvv prints`, (t) => compareShowVvv(t, fake, ids, c.bdf));
  if (c.hex)
    for (const x of [1, 3])
      test(`show -${'x'.repeat(x)} of a ${c.what} dumps what lspci -${'x'.repeat(x)} dumps`, async (t) => {
        const { ours, theirs } = await bothListings(fake, ids, c.bdf, 0, x);
        compareLines(t, ours, theirs);
      });
}

test('show -x of a CardBus bridge dumps 128 bytes of config space, 64 when only 64 are readable', async (t) => {
  const full = await bothListings(fake, ids, cases[0]!.bdf, 0, 1);
  t.is(full.ours.split('\n').filter((l) => /^[0-9a-f]{2}:/.test(l)).length, 8);
  const short = await bothListings(fake, ids, cases[3]!.bdf, 0, 1);
  t.is(short.ours.split('\n').filter((l) => /^[0-9a-f]{2}:/.test(l)).length, 4);
});

test('show -vvv prints a disabled CardBus window that -vv leaves out', async (t) => {
  const vv = await bothListings(fake, ids, cases[1]!.bdf, 2);
  const vvv = await bothListings(fake, ids, cases[1]!.bdf, 3);
  t.false(vv.ours.includes('Memory window 1:'));
  t.true(vvv.ours.includes('\tMemory window 1: fff00000-00000fff (prefetchable)\n'), vvv.ours);
});
