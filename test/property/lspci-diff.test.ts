// Differential property tests against the real lspci 3.9: random HyperTransport capabilities (every type, both revision layouts), CardBus headers, PCI-to-PCI bridge windows and functions of unknown header type or unreadable config are written as fake sysfs trees, and rawpci's -v, -vv, -vvv (CardBus also with -x and -xxx) listings equal lspci's byte for byte.

import { fc, testProp } from '@fast-check/ava';
import test, { type ExecutionContext } from 'ava';
import {
  PCI_CAP_ID_HT,
  PCI_CAP_ID_PM,
  PCI_CAPABILITY_LIST,
  PCI_CB_CAPABILITY_LIST,
  PCI_HEADER_TYPE,
  PCI_INTERRUPT_PIN,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
} from '../../shared/linux/pci-regs.js';
import { buildFakeSysfs, type FakeDevice, writeFixtureIds } from '../helpers/fake-sysfs.js';
import { sameAsLspci } from '../helpers/show-compare.js';

const ids = writeFixtureIds();
const BDF = '0000:05:00.0';
const LEVELS: [number, number][] = [
  [1, 0],
  [2, 0],
  [3, 0],
];
/** CardBus: also the 128-byte -x dump and the 256-byte -xxx one, in the same listings as -vv and -vvv. */
const CB_LEVELS: [number, number][] = [
  [1, 0],
  [2, 1],
  [3, 3],
];
const RUNS = 50;
let compared = 0;

const byte = fc.integer({ min: 0, max: 0xff });
const word = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffff_ffff });

/** Writes `d` as a one-device tree, compares the listings at `levels`, removes the tree. */
async function check(t: ExecutionContext, d: FakeDevice, levels: [number, number][]): Promise<void> {
  const fake = buildFakeSysfs([d]);
  try {
    compared += await sameAsLspci(t, fake, ids, BDF, levels);
  } finally {
    fake.remove();
  }
}

/** A config space of `size` bytes whose first 64 are `header` with the given header type and, when `capPtr` is set, the capability list bit and pointer. */
function configOf(header: Uint8Array, size: number, htype: number, capPtr?: { reg: number; at: number }): Uint8Array {
  const cfg = new Uint8Array(size);
  cfg.set(header.subarray(0, Math.min(64, size)));
  cfg[0] = 0x86;
  cfg[1] = 0x80;
  cfg[2] = 0x00;
  cfg[3] = 0x30;
  cfg[PCI_HEADER_TYPE] = (cfg[PCI_HEADER_TYPE]! & 0x80) | htype;
  // lspci prints pin n as the byte 'A' + n - 1: for n in 0x40..0xbf that byte is not UTF-8, which no string can equal.
  const pin = cfg[PCI_INTERRUPT_PIN]!;
  if (pin >= 0x40 && pin < 0xc0) cfg[PCI_INTERRUPT_PIN] = pin & 0x3f;
  if (capPtr) {
    cfg[PCI_STATUS] = cfg[PCI_STATUS]! | PCI_STATUS_CAP_LIST;
    cfg[capPtr.reg] = capPtr.at;
  } else cfg[PCI_STATUS] = cfg[PCI_STATUS]! & ~PCI_STATUS_CAP_LIST;
  return cfg;
}

/** One HyperTransport capability: the interface blocks, or a type (command bits 15..11) from 8 to 31; the revision byte biased to the 1.x / 2.02 boundaries. */
const htCap = fc.record({
  kind: fc.oneof(fc.constantFrom<'pri' | 'sec'>('pri', 'sec'), fc.integer({ min: 8, max: 31 })),
  low: word,
  rid: fc.oneof(fc.constantFrom(0x10, 0x11, 0x12, 0x21, 0x22, 0x23, 0x25, 0x60), byte),
  body: fc.uint8Array({ minLength: 28, maxLength: 28 }),
});

testProp.serial(
  'HyperTransport capabilities of every type and revision are listed as lspci -v, -vv and -vvv list them',
  [fc.uint8Array({ minLength: 64, maxLength: 64 }), fc.array(htCap, { minLength: 1, maxLength: 3 }), fc.boolean(), fc.constantFrom(256, 4096)],
  async (t, header, caps, lastAtEnd, size) => {
    const offsets = caps.map((_, k) => (lastAtEnd && k === caps.length - 1 ? 0xf0 : 0x40 + 0x40 * k));
    const cfg = configOf(header, size, 0, { reg: PCI_CAPABILITY_LIST, at: offsets[0]! });
    caps.forEach((c, k) => {
      const at = offsets[k]!;
      cfg.set(c.body.subarray(0, Math.min(28, size - at - 4)), at + 4);
      cfg[at] = PCI_CAP_ID_HT;
      cfg[at + 1] = offsets[k + 1] ?? 0;
      const cmd = c.kind === 'pri' ? c.low & 0x1fff : c.kind === 'sec' ? 0x2000 | (c.low & 0x1fff) : (c.kind << 11) | (c.low & 0x7ff);
      cfg[at + 2] = cmd & 0xff;
      cfg[at + 3] = cmd >> 8;
      const ridAt = at + (c.kind === 'pri' ? 12 : 8);
      if (typeof c.kind === 'string' && ridAt < size) cfg[ridAt] = c.rid;
    });
    await check(t, { bdf: BDF, vendor: 0x8086, device: 0x3000, classCode: 0x060000, config: cfg, resourceLines: [] }, LEVELS);
  },
  { numRuns: RUNS },
);

/** A sysfs `resource` line: empty, or a window of random start and size (possibly with type bits in the start, as lspci reads them). */
const resLine = fc.oneof(
  fc.constant<[bigint, bigint, bigint]>([0n, 0n, 0n]),
  fc
    .tuple(fc.bigInt({ min: 0n, max: (1n << 40n) - 1n }), fc.bigInt({ min: 0n, max: 1n << 33n }), fc.constantFrom(0x101n, 0x200n, 0x102201n, 0x40200n, 0n))
    .map(([start, size, flags]): [bigint, bigint, bigint] => [start, size ? start + size - 1n : start, flags]),
  fc.tuple(u32, u32).map(([a, b]): [bigint, bigint, bigint] => [BigInt(a), BigInt(b), 0x200n]),
);

testProp.serial(
  'CardBus bridges (windows, bridge control, legacy base, capabilities, 64-byte config) are listed as lspci -v, -vv -x and -vvv -xxx list them',
  [fc.uint8Array({ minLength: 128, maxLength: 128 }), fc.constantFrom(64, 256), fc.boolean(), fc.boolean(), fc.array(resLine, { minLength: 0, maxLength: 17 })],
  async (t, regs, size, withCaps, subsystemFiles, resourceLines) => {
    const cfg = configOf(regs, size, 2, withCaps ? { reg: PCI_CB_CAPABILITY_LIST, at: 0x80 } : undefined);
    if (size > 64) cfg.set(regs.subarray(64), 64);
    if (withCaps && size > 0x88) {
      cfg[0x80] = PCI_CAP_ID_PM;
      cfg[0x81] = 0;
    }
    await check(t, { bdf: BDF, vendor: 0x8086, device: 0x3001, classCode: 0x060700, config: cfg, resourceLines, subsystemFiles }, CB_LEVELS);
  },
  { numRuns: RUNS },
);

/** An I/O or memory base/limit register with its type bits: mostly the known types, sometimes any. */
const typed = (known: number[]) =>
  fc.tuple(word, fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...known) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) }));

testProp.serial(
  'PCI-to-PCI bridge windows (enabled, disabled, empty, 16/32-bit I/O, 32/64-bit prefetchable, with and without sysfs windows) are listed as lspci -v, -vv and -vvv list them',
  [
    fc.uint8Array({ minLength: 64, maxLength: 64 }),
    fc.record({ base: typed([0, 1]), limit: typed([0, 1]), upper: fc.tuple(word, word), same: fc.boolean() }),
    fc.record({ base: typed([0]), limit: typed([0]) }),
    fc.record({ base: typed([0, 1]), limit: typed([0, 1]), upper: fc.tuple(u32, u32), same: fc.boolean() }),
    fc.oneof(fc.constant(7), fc.constant(11), fc.constant(17), fc.integer({ min: 0, max: 18 })),
    fc.array(resLine, { minLength: 18, maxLength: 18 }),
  ],
  async (t, header, io, mem, pref, lines, res) => {
    const cfg = configOf(header, 256, 1);
    const v = new DataView(cfg.buffer);
    const reg = ([hi, type]: [number, number], mask: number) => ((hi & ~mask) | type) & 0xffff;
    const ioType = io.base[1];
    cfg[0x1c] = reg(io.base, 0xf) & 0xff;
    cfg[0x1d] = reg(io.same ? [io.limit[0], ioType] : io.limit, 0xf) & 0xff;
    v.setUint16(0x30, io.upper[0], true);
    v.setUint16(0x32, io.upper[1], true);
    v.setUint16(0x20, reg(mem.base, 0xf), true);
    v.setUint16(0x22, reg(mem.limit, 0xf), true);
    v.setUint16(0x24, reg(pref.base, 0xf), true);
    v.setUint16(0x26, reg(pref.same ? [pref.limit[0], pref.base[1]] : pref.limit, 0xf), true);
    v.setUint32(0x28, pref.upper[0], true);
    v.setUint32(0x2c, pref.upper[1], true);
    await check(t, { bdf: BDF, vendor: 0x8086, device: 0x244e, classCode: 0x060400, headerType: 1, config: cfg, resourceLines: res.slice(0, lines) }, LEVELS);
  },
  { numRuns: RUNS },
);

testProp.serial(
  'functions with an unknown header type or unreadable config space are listed as lspci -v, -vv and -vvv list them (what sysfs resource says)',
  [
    fc.uint8Array({ minLength: 64, maxLength: 64 }),
    fc.oneof(fc.integer({ min: 3, max: 0x7f }), fc.constantFrom(-1, -2)),
    fc.array(resLine, { minLength: 0, maxLength: 18 }),
  ],
  async (t, header, htype, resourceLines) => {
    // -1: an empty config file (unreadable), -2: a short one (fewer than 64 bytes).
    const cfg = htype === -1 ? new Uint8Array(0) : htype === -2 ? header.slice(0, 32) : configOf(header, 256, htype);
    await check(t, { bdf: BDF, vendor: 0x8086, device: 0x3002, classCode: 0x088000, config: cfg, resourceLines }, LEVELS);
  },
  { numRuns: RUNS },
);

test.serial('every property run compared rawpci with lspci at each level and found them identical', (t) => {
  t.is(compared, RUNS * (3 * LEVELS.length + CB_LEVELS.length));
  t.log(`${compared} listings compared with lspci, all identical`);
});
