// PciFront's virtual BARs, table-driven over every BAR kind × {size probe, move, 64-bit half order, decode disabled, ROM enable}.

import test from 'ava';
import { PCI_BASE_ADDRESS_0, PCI_COMMAND, PCI_COMMAND_IO, PCI_COMMAND_MEMORY, PCI_ROM_ADDRESS, PCI_ROM_ADDRESS_ENABLE } from '../../shared/linux/pci-regs.js';
import { BarZooDevice } from '../fixtures/bar-zoo-model.js';
import { type Rig, rig } from './helpers/rig.js';

interface Row {
  kind: 'io' | 'mem24' | 'mem32' | 'mem64' | 'rom';
  /** Config offset of the (low) register. */
  reg: number;
  /** What the low register reads after an all-ones probe. */
  probeLow: number;
  /** What the high register reads after an all-ones probe (mem64). */
  probeHigh?: number;
  /** Read-only flag bits. */
  flags: number;
  /** Two placements. */
  a: bigint;
  b: bigint;
}

const rows: Row[] = [
  { kind: 'io', reg: PCI_BASE_ADDRESS_0, probeLow: 0xffff_ffe1, flags: 0x1, a: 0x1000n, b: 0x2040n },
  { kind: 'mem24', reg: PCI_BASE_ADDRESS_0 + 4, probeLow: 0x000f_ff02, flags: 0x2, a: 0x8_0000n, b: 0x9_ff00n },
  { kind: 'mem32', reg: PCI_BASE_ADDRESS_0 + 8, probeLow: 0xffff_0000, flags: 0x0, a: 0xe000_0000n, b: 0xe123_0000n },
  { kind: 'mem64', reg: PCI_BASE_ADDRESS_0 + 12, probeLow: 0xfff0_000c, probeHigh: 0xffff_ffff, flags: 0xc, a: 0x1_0000_0000n, b: 0x2_4010_0000n },
  { kind: 'rom', reg: PCI_ROM_ADDRESS, probeLow: 0xffff_f801, flags: 0, a: 0xe800_0000n, b: 0xe900_0800n },
];

const MARK = 0x1234_5678;

function decodeBit(row: Row): number {
  return row.kind === 'io' ? PCI_COMMAND_IO : PCI_COMMAND_MEMORY;
}

function setDecode(r: Rig, row: Row, on: boolean): void {
  const cmd = r.cfgRead(PCI_COMMAND, 2);
  r.cfgWrite(PCI_COMMAND, 2, on ? cmd | decodeBit(row) : cmd & ~decodeBit(row));
}

function writeLow(r: Rig, row: Row, addr: bigint): void {
  const low = Number(addr & 0xffff_ffffn) | (row.kind === 'rom' ? PCI_ROM_ADDRESS_ENABLE : 0);
  r.cfgWrite(row.reg, 4, low >>> 0);
}

function writeHigh(r: Rig, row: Row, addr: bigint): void {
  r.cfgWrite(row.reg + 4, 4, Number(addr >> 32n));
}

function place(r: Rig, row: Row, addr: bigint): void {
  writeLow(r, row, addr);
  if (row.kind === 'mem64') writeHigh(r, row, addr);
}

/** Whether an access at `addr` reaches the device (a marker written there reads back; the ROM's 55 AA). */
function reaches(r: Rig, row: Row, addr: bigint): boolean {
  if (row.kind === 'rom') return r.bus.mmioRead(addr, 2) === 0xaa55;
  if (row.kind === 'io') {
    r.bus.ioWrite(Number(addr) + 4, 4, MARK);
    return r.bus.ioRead(Number(addr) + 4, 4) === MARK;
  }
  r.bus.mmioWrite(addr + 4n, 4, MARK);
  return r.bus.mmioRead(addr + 4n, 4) === MARK;
}

for (const row of rows) {
  test(`${row.kind}: an all-ones size probe reads back ~(size - 1) | flags and never moves the decoded range`, (t) => {
    const r = rig(new BarZooDevice());
    place(r, row, row.a);
    setDecode(r, row, true);
    t.true(reaches(r, row, row.a));
    r.cfgWrite(row.reg, 4, 0xffff_ffff);
    t.is(r.cfgRead(row.reg, 4), row.probeLow);
    if (row.probeHigh !== undefined) {
      r.cfgWrite(row.reg + 4, 4, 0xffff_ffff);
      t.is(r.cfgRead(row.reg + 4, 4), row.probeHigh);
    }
    t.true(reaches(r, row, row.a), 'still decoded at its old address during the probe');
    place(r, row, row.a);
    t.is(r.cfgRead(row.reg, 4), (Number(row.a & 0xffff_ffffn) | row.flags | (row.kind === 'rom' ? 1 : 0)) >>> 0);
    t.true(reaches(r, row, row.a));
  });

  test(`${row.kind}: rewriting the BAR with decode enabled moves the decoded range (value masked to the size, flags kept)`, (t) => {
    const r = rig(new BarZooDevice());
    place(r, row, row.a);
    setDecode(r, row, true);
    t.true(reaches(r, row, row.a));
    place(r, row, row.b);
    t.true(reaches(r, row, row.b));
    t.false(reaches(r, row, row.a), 'the old range no longer decodes');
    // Low bits below the size are not address bits: writing them changes nothing.
    writeLow(r, row, row.b | 0x3n);
    t.is(r.cfgRead(row.reg, 4) & ~row.flags & ~1, Number(row.b & 0xffff_ffffn) & ~1);
  });

  if (row.kind === 'mem64') {
    test('mem64: the move waits for the high half (low then high), and either order gives the same placement once decode is enabled', (t) => {
      const r = rig(new BarZooDevice());
      place(r, row, row.a);
      setDecode(r, row, true);
      writeLow(r, row, row.b);
      t.true(reaches(r, row, row.a), 'a low-half write alone does not move a 64-bit BAR');
      t.false(reaches(r, row, (row.a & ~0xffff_ffffn) | (row.b & 0xffff_ffffn)), 'never decoded at a half-updated address');
      writeHigh(r, row, row.b);
      t.true(reaches(r, row, row.b));
      // High then low, decode off: applied when decode is enabled.
      setDecode(r, row, false);
      writeHigh(r, row, row.a);
      writeLow(r, row, row.a);
      setDecode(r, row, true);
      t.true(reaches(r, row, row.a));
      t.false(reaches(r, row, row.b));
    });
  } else {
    test(`${row.kind}: a 32-bit BAR moves on its single register write; the next register is not its high half`, (t) => {
      const r = rig(new BarZooDevice());
      place(r, row, row.a);
      setDecode(r, row, true);
      writeLow(r, row, row.b);
      t.true(reaches(r, row, row.b));
      if (row.kind === 'mem24') {
        // The register after it belongs to BAR2: writing it leaves this BAR alone.
        r.cfgWrite(row.reg + 4, 4, 0xe700_0000);
        t.true(reaches(r, row, row.b));
      }
    });
  }

  test(`${row.kind}: with decode disabled nothing decodes and a move is held until decode is enabled`, (t) => {
    const r = rig(new BarZooDevice());
    place(r, row, row.a);
    t.false(reaches(r, row, row.a), 'decode off after reset');
    setDecode(r, row, true);
    t.true(reaches(r, row, row.a));
    setDecode(r, row, false);
    t.false(reaches(r, row, row.a), 'decode off: the range is switched off');
    place(r, row, row.b);
    t.false(reaches(r, row, row.b));
    t.false(reaches(r, row, row.a));
    setDecode(r, row, true);
    t.true(reaches(r, row, row.b), 'the held move is applied when decode comes on');
    t.false(reaches(r, row, row.a));
  });

  if (row.kind === 'rom') {
    test('rom: the ROM decodes only with its enable bit and memory decode, serves the device ROM, and drops writes', (t) => {
      const r = rig(new BarZooDevice());
      r.cfgWrite(PCI_ROM_ADDRESS, 4, Number(row.a));
      r.cfgWrite(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
      t.false(reaches(r, row, row.a), 'enable bit clear');
      r.cfgWrite(PCI_ROM_ADDRESS, 4, (Number(row.a) | PCI_ROM_ADDRESS_ENABLE) >>> 0);
      t.true(reaches(r, row, row.a));
      t.is(r.bus.mmioRead(row.a + 0x10n, 4), 0x5a5a_5a5a);
      t.is(r.bus.mmioRead(row.a + 0x7fcn, 4), 0x5a5a_5a5a);
      r.host.resetCalls();
      r.bus.mmioWrite(row.a + 0x10n, 4, 0);
      t.is(r.bus.mmioRead(row.a + 0x10n, 4), 0x5a5a_5a5a);
      t.false(
        r.host.calls.some((c) => c.startsWith('mmioWrite')),
        'ROM writes never reach the host',
      );
      // Linux's ROM probe writes ~PCI_ROM_ADDRESS_ENABLE: the size reads back and the ROM stops decoding.
      r.cfgWrite(PCI_ROM_ADDRESS, 4, ~PCI_ROM_ADDRESS_ENABLE >>> 0);
      t.is(r.cfgRead(PCI_ROM_ADDRESS, 4), 0xffff_f800);
      t.false(reaches(r, row, row.a));
    });
  } else {
    test(`${row.kind}: the ROM enable bit does not gate a BAR`, (t) => {
      const r = rig(new BarZooDevice());
      place(r, row, row.a);
      r.cfgWrite(PCI_ROM_ADDRESS, 4, 0xe800_0000);
      setDecode(r, row, true);
      t.true(reaches(r, row, row.a));
    });
  }
}

test('mem24: address bits at and above 1 MiB are hardwired to zero', (t) => {
  const r = rig(new BarZooDevice());
  r.cfgWrite(PCI_BASE_ADDRESS_0 + 4, 4, 0x0123_4500);
  t.is(r.cfgRead(PCI_BASE_ADDRESS_0 + 4, 4), 0x0003_4502);
});

test('an I/O BAR placed past 64 KiB of ports does not decode; a MEM32 BAR ending exactly at 4 GiB does', (t) => {
  const r = rig(new BarZooDevice());
  r.cfgWrite(PCI_BASE_ADDRESS_0, 4, 0x0001_0000);
  r.cfgWrite(PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY);
  t.false(r.front.decodes('io', 0x1_0000n, 1));
  r.cfgWrite(PCI_BASE_ADDRESS_0 + 8, 4, 0xffff_0000 - 0x1_0000);
  t.true(r.front.decodes('mem', 0xfffe_0000n, 4));
});

test('a byte write to a BAR merges with the other bytes of the register', (t) => {
  const r = rig(new BarZooDevice());
  r.cfgWrite(PCI_BASE_ADDRESS_0 + 8, 4, 0xe000_0000);
  r.cfgWrite(PCI_BASE_ADDRESS_0 + 8 + 2, 1, 0x12);
  t.is(r.cfgRead(PCI_BASE_ADDRESS_0 + 8, 4), 0xe012_0000);
  t.is(r.cfgRead(PCI_BASE_ADDRESS_0 + 8 + 2, 2), 0xe012);
});

test('BAR and ROM BAR writes never reach the host (its BARs belong to the host)', (t) => {
  const r = rig(new BarZooDevice());
  for (const row of rows) {
    place(r, row, row.a);
    r.cfgWrite(row.reg, 4, 0xffff_ffff);
    r.cfgWrite(row.reg, 2, 0x1234);
  }
  t.deepEqual(
    r.host.calls.filter((c) => /^cfgWrite 0x(1[0-9a-f]|2[0-7]|3[0-3])\//.test(c)),
    [],
  );
  t.false(
    r.host.failures.some((f) => f.includes('VERR_ACCESS_DENIED')),
    'ring 0 refused nothing',
  );
});

test('unimplemented BARs read 0 and ignore writes', (t) => {
  const r = rig(new BarZooDevice());
  r.cfgWrite(PCI_BASE_ADDRESS_0 + 20, 4, 0xffff_ffff);
  t.is(r.cfgRead(PCI_BASE_ADDRESS_0 + 20, 4), 0);
});
