// The guest bus: configuration mechanism #1 edge cases, two devices on one bus, INTx line sharing, unclaimed accesses and the VMM-facing argument checks.

import test from 'ava';
import { EduDevice } from '../../r0/sim/models/edu.js';
import { TESTDEV_REG, TestDevDevice } from '../../r0/sim/models/testdev.js';
import { GuestPciBus } from '../../r3/guest/guest-bus.js';
import { PciFront } from '../../r3/guest/pci-front.js';
import { Bdf } from '../../shared/bdf.js';
import { PCI_BASE_ADDRESS_0, PCI_COMMAND, PCI_COMMAND_IO, PCI_COMMAND_MEMORY, PCI_DEVICE_ID, PCI_VENDOR_ID } from '../../shared/linux/pci-regs.js';
import { RecordingSink, rig } from './helpers/rig.js';
import { Ring0Host } from './helpers/ring0-host.js';

function addr(bus: number, dev: number, fn: number, reg: number): number {
  return (0x8000_0000 | (bus << 16) | (dev << 11) | (fn << 8) | reg) >>> 0;
}

test('CONFIG_ADDRESS keeps enable, bus, device, function and register; reserved bits 30..24 and 1..0 read 0', (t) => {
  const { bus } = rig(new EduDevice());
  bus.ioWrite(0xcf8, 4, 0xffff_ffff);
  t.is(bus.ioRead(0xcf8, 4), 0x80ff_fffc);
});

test('only a dword write to 0xCF8 sets CONFIG_ADDRESS; byte and word accesses there are ordinary I/O', (t) => {
  const { bus } = rig(new EduDevice());
  bus.ioWrite(0xcf8, 4, addr(0, 3, 0, 0));
  bus.ioWrite(0xcf8, 1, 0x00);
  bus.ioWrite(0xcf9, 1, 0x06);
  bus.ioWrite(0xcf8, 2, 0);
  t.is(bus.ioRead(0xcf8, 4), addr(0, 3, 0, 0));
  t.is(bus.ioRead(0xcf8, 2), 0xffff, 'a word read of 0xCF8 is not CONFIG_ADDRESS');
});

test('with the enable bit clear, 0xCFC is not a config cycle: reads all-ones, writes change nothing', (t) => {
  const r = rig(new EduDevice());
  r.bus.ioWrite(0xcf8, 4, addr(0, 3, 0, PCI_COMMAND) & 0x7fff_ffff);
  t.is(r.bus.ioRead(0xcfc, 4), 0xffff_ffff);
  r.bus.ioWrite(0xcfc, 2, PCI_COMMAND_MEMORY);
  t.is(r.cfgRead(PCI_COMMAND, 2), 0);
});

test('byte and word accesses at 0xCFC + 1..3 reach the matching config bytes', (t) => {
  const r = rig(new EduDevice());
  const { bus } = r;
  bus.ioWrite(0xcf8, 4, addr(0, 3, 0, PCI_VENDOR_ID));
  t.is(bus.ioRead(0xcfc, 4), 0x11e8_1234);
  t.is(bus.ioRead(0xcfd, 1), 0x12);
  t.is(bus.ioRead(0xcfe, 2), 0x11e8);
  t.is(bus.ioRead(0xcff, 1), 0x11);
  bus.ioWrite(0xcf8, 4, addr(0, 3, 0, PCI_COMMAND));
  bus.ioWrite(0xcfc, 1, PCI_COMMAND_MEMORY);
  t.is(r.cfgRead(PCI_COMMAND, 2), PCI_COMMAND_MEMORY);
  bus.ioWrite(0xcf8, 4, addr(0, 3, 0, 0x3c));
  bus.ioWrite(0xcfc, 1, 0x0a);
  t.is(bus.ioRead(0xcfd, 1), 1, 'interrupt pin at 0x3d');
  t.is(r.cfgRead(0x3c, 1), 0x0a);
});

test('a word access at 0xCFD or a dword at 0xCFE is not a config cycle (it would cross the register)', (t) => {
  const { bus } = rig(new EduDevice());
  bus.ioWrite(0xcf8, 4, addr(0, 3, 0, PCI_VENDOR_ID));
  t.is(bus.ioRead(0xcfd, 2), 0xffff);
  t.is(bus.ioRead(0xcfe, 4), 0xffff_ffff);
});

test('absent devices, absent functions and other bus numbers read all-ones', (t) => {
  const { bus } = rig(new EduDevice());
  bus.ioWrite(0xcf8, 4, addr(0, 4, 0, 0));
  t.is(bus.ioRead(0xcfc, 4), 0xffff_ffff);
  bus.ioWrite(0xcf8, 4, addr(0, 3, 1, 0));
  t.is(bus.ioRead(0xcfc, 2), 0xffff);
  bus.ioWrite(0xcf8, 4, addr(1, 3, 0, 0));
  t.is(bus.ioRead(0xcfc, 4), 0xffff_ffff);
  bus.ioWrite(0xcfc, 4, 0);
});

test('two devices on one bus: enumeration finds both, their BARs route to the right device, their lines are separate', (t) => {
  const sink = new RecordingSink();
  const bus = new GuestPciBus({ sink });
  const host = new Ring0Host([new EduDevice(), new TestDevDevice()]);
  const [eduHandle, tdHandle] = host.handles as [number, number];
  bus.attach(new PciFront(host, eduHandle), 3);
  bus.attach(new PciFront(host, tdHandle), 4);
  const found: string[] = [];
  for (let dev = 0; dev < 32; dev++) {
    bus.ioWrite(0xcf8, 4, addr(0, dev, 0, 0));
    const id = bus.ioRead(0xcfc, 4);
    if (id !== 0xffff_ffff) found.push(`${dev}:${(id & 0xffff).toString(16)}:${(id >>> 16).toString(16)}`);
  }
  t.deepEqual(found, ['3:1234:11e8', '4:1234:5250']);
  const e = new Bdf(0, 0, 3, 0);
  const d = new Bdf(0, 0, 4, 0);
  bus.configWrite(e, PCI_BASE_ADDRESS_0, 4, 0xe000_0000);
  bus.configWrite(e, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
  bus.configWrite(d, PCI_BASE_ADDRESS_0, 4, 0x2000);
  bus.configWrite(d, PCI_COMMAND, 2, PCI_COMMAND_IO);
  t.is(bus.mmioRead(0xe000_0000n, 4), 0x0100_00ed);
  t.is(bus.ioRead(0x2000 + TESTDEV_REG.ID, 4), 0x5250_0001);
  const eduBar = host.getRegionInfo(eduHandle, 0).regionStart;
  const tdPorts = host.getRegionInfo(tdHandle, 0).regionStart;
  t.true(host.callsOf(eduHandle).includes(`mmioRead 0x${eduBar.toString(16)}/4`));
  t.true(host.callsOf(tdHandle).includes(`pioRead 0x${(tdPorts + BigInt(TESTDEV_REG.ID)).toString(16)}/4`));
  const lines = bus.functions().map((f) => f.line);
  t.deepEqual(lines, [19, 16], 'slot 3 INTA -> line 19, slot 4 INTA -> line 16 (swizzle)');
  t.is(bus.configRead(e, PCI_DEVICE_ID, 2), 0x11e8);
});

test('two functions sharing a line: the line stays high until both deassert (level OR)', (t) => {
  const sink = new RecordingSink();
  const bus = new GuestPciBus({ sink, intxLines: [9, 9, 9, 9] });
  const host = new Ring0Host([new TestDevDevice(), new TestDevDevice()]);
  const ba = bus.attach(new PciFront(host, host.handles[0]!), 1);
  const bb = bus.attach(new PciFront(host, host.handles[1]!), 2);
  for (const [bdf, port] of [
    [ba, 0x1000],
    [bb, 0x1100],
  ] as const) {
    bus.configWrite(bdf, PCI_BASE_ADDRESS_0, 4, port);
    bus.configWrite(bdf, PCI_COMMAND, 2, PCI_COMMAND_IO);
  }
  bus.ioWrite(0x1000 + TESTDEV_REG.DOORBELL, 4, 0);
  bus.ioWrite(0x1100 + TESTDEV_REG.DOORBELL, 4, 0);
  host.deliver(bus);
  t.true(bus.lineLevel(9));
  bus.ioWrite(0x1000 + TESTDEV_REG.IRQ_STATUS, 4, 1);
  bus.endOfInterrupt(9);
  host.deliver(bus);
  t.true(bus.lineLevel(9), 'b still asserts');
  bus.ioWrite(0x1100 + TESTDEV_REG.IRQ_STATUS, 4, 1);
  bus.endOfInterrupt(9);
  host.deliver(bus);
  t.false(bus.lineLevel(9));
  t.deepEqual(
    sink.changes.filter(([l]) => l === 9).map(([, v]) => v),
    [true, false, true, false],
  );
});

test('an MMIO address nothing decodes reads all-ones at every width and writes are dropped', (t) => {
  const { bus } = rig(new EduDevice());
  t.false(bus.decodesMmio(0x1234_0000n));
  t.is(bus.mmioRead(0x1234_0000n, 1), 0xff);
  t.is(bus.mmioRead(0x1234_0000n, 4), 0xffff_ffff);
  t.is(bus.mmioRead(0x1234_0000n, 8), 0xffff_ffff_ffff_ffffn);
  bus.mmioWrite(0x1234_0000n, 8, 1n);
});

test('bad VMM arguments throw TypeError/RangeError naming them', (t) => {
  const { bus, host, handle } = rig(new EduDevice());
  t.throws(() => bus.ioRead(0x10000, 1), { instanceOf: RangeError, message: /port/ });
  t.throws(() => bus.ioRead(0x80, 3 as 1), { instanceOf: RangeError, message: /width/ });
  t.throws(() => bus.mmioRead(5 as unknown as bigint, 4), { instanceOf: TypeError, message: /address/ });
  t.throws(() => bus.ioWrite(0x80, 1, 0x100), { instanceOf: RangeError, message: /value/ });
  t.throws(() => bus.attach(new PciFront(host, handle), 3), { instanceOf: RangeError, message: /occupied/ });
  t.throws(() => new GuestPciBus({} as never), { instanceOf: TypeError, message: /sink/ });
});
