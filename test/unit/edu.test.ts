// Unit tests of the edu model against docs/edu.md: identity, every BAR0 register row, width rules, interrupts, DMA, reset.

import test from 'ava';
import {
  EDU_DMA_DIR_TO_RAM,
  EDU_DMA_IRQ,
  EDU_DMA_RUN,
  EDU_ID_VALUE,
  EDU_IRQ_DMA,
  EDU_IRQ_FACT,
  EDU_REG,
  EDU_STATUS_COMPUTING,
  EDU_STATUS_IRQFACT,
  EduDevice,
  eduFactorial,
  eduRangeOk,
} from '../../r0/sim/models/edu.js';
import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_1,
  PCI_CAP_ID_MSI,
  PCI_CAPABILITY_LIST,
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_HEADER_TYPE,
  PCI_MSI_ADDRESS_HI,
  PCI_MSI_ADDRESS_LO,
  PCI_MSI_DATA_64,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_64BIT,
  PCI_MSI_FLAGS_ENABLE,
  PCI_ROM_ADDRESS,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_STATUS_INTERRUPT,
  PCI_VENDOR_ID,
} from '../../shared/linux/pci-regs.js';
import { cfgRead, cfgWrite, FakeSimHost, identityOf, memRead, memRead64, memWrite } from '../helpers/fake-sim-host.js';

const RAM = 0x1_0000; // the test's DMA area in guest RAM (bus address)

function setup(options: Record<string, unknown> = {}): { dev: EduDevice; host: FakeSimHost } {
  const dev = new EduDevice(options);
  const host = new FakeSimHost();
  dev.open(host);
  host.map(RAM, 0x2000);
  return { dev, host };
}

const rd = (dev: EduDevice, offset: number, width = 4): number => memRead(dev, 0, offset, width);
const wr = (dev: EduDevice, offset: number, value: number | bigint, width = 4): void => {
  memWrite(dev, 0, offset, width, value);
};

function enableMsi(dev: EduDevice, master = true): void {
  cfgWrite(dev, 0x40 + PCI_MSI_ADDRESS_LO, 4, 0xfee0_0000);
  cfgWrite(dev, 0x40 + PCI_MSI_ADDRESS_HI, 4, 0);
  cfgWrite(dev, 0x40 + PCI_MSI_DATA_64, 2, 0x0041);
  cfgWrite(dev, 0x40 + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
  if (master) cfgWrite(dev, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
}

function startDma(dev: EduDevice, src: number, dst: number, count: number, cmd: number): void {
  wr(dev, EDU_REG.DMA_SRC, src);
  wr(dev, EDU_REG.DMA_DST, dst);
  wr(dev, EDU_REG.DMA_COUNT, count);
  wr(dev, EDU_REG.DMA_CMD, cmd);
}

// ---- identity -------------------------------------------------------------------------------

test('edu identity: vendor 0x1234 device 0x11e8, revision 0x10, class 0x00ff00, subsystem 0x1af4:0x1100', (t) => {
  const { dev } = setup();
  t.deepEqual(identityOf(dev), { id: 0x11e8_1234, classRevision: 0x00ff_0010, subsystem: 0x1100_1af4, interruptPin: 1, configSize: 256 });
  t.is(cfgRead(dev, PCI_HEADER_TYPE, 1), 0);
  t.is(dev.model, 'edu');
});

test('edu BAR0 is 1 MiB of 32-bit non-prefetchable memory and there is no other BAR or ROM', (t) => {
  const { dev } = setup();
  t.deepEqual(dev.regions(), [{ index: 0, kind: 'mem32', size: 0x10_0000, prefetchable: false }]);
  cfgWrite(dev, PCI_BASE_ADDRESS_0, 4, 0xffff_ffff);
  t.is(cfgRead(dev, PCI_BASE_ADDRESS_0, 4), 0xfff0_0000);
  for (let off = PCI_BASE_ADDRESS_1; off <= 0x24; off += 4) {
    cfgWrite(dev, off, 4, 0xffff_ffff);
    t.is(cfgRead(dev, off, 4), 0);
  }
  cfgWrite(dev, PCI_ROM_ADDRESS, 4, 0xffff_fffe);
  t.is(cfgRead(dev, PCI_ROM_ADDRESS, 4), 0);
});

test('edu has one capability, MSI at 0x40: 1 vector, 64-bit address, no per-vector masking', (t) => {
  const { dev } = setup();
  t.not(cfgRead(dev, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST, 0);
  t.is(cfgRead(dev, PCI_CAPABILITY_LIST, 1), 0x40);
  t.is(cfgRead(dev, 0x40, 1), PCI_CAP_ID_MSI);
  t.is(cfgRead(dev, 0x41, 1), 0, 'no next capability');
  t.is(cfgRead(dev, 0x40 + PCI_MSI_FLAGS, 2), PCI_MSI_FLAGS_64BIT);
});

// ---- register rows --------------------------------------------------------------------------

test('0x00 identification reads 0x010000ed and ignores writes', (t) => {
  const { dev } = setup();
  t.is(rd(dev, EDU_REG.ID), EDU_ID_VALUE);
  t.is(EDU_ID_VALUE, 0x0100_00ed);
  wr(dev, EDU_REG.ID, 0x1234_5678);
  t.is(rd(dev, EDU_REG.ID), 0x0100_00ed);
});

test('0x04 liveness stores the bitwise not of what is written', (t) => {
  const { dev } = setup();
  t.is(rd(dev, EDU_REG.LIVENESS), 0);
  wr(dev, EDU_REG.LIVENESS, 0x1234_5678);
  t.is(rd(dev, EDU_REG.LIVENESS), 0xedcb_a987);
  wr(dev, EDU_REG.LIVENESS, 0);
  t.is(rd(dev, EDU_REG.LIVENESS), 0xffff_ffff);
});

test('0x08 factorial computes N! asynchronously and clears COMPUTING when done', (t) => {
  const { dev, host } = setup();
  wr(dev, EDU_REG.FACTORIAL, 10);
  t.is(rd(dev, EDU_REG.STATUS) & EDU_STATUS_COMPUTING, EDU_STATUS_COMPUTING);
  t.is(rd(dev, EDU_REG.FACTORIAL), 10, 'the value is not the result yet');
  host.advance(10);
  t.is(rd(dev, EDU_REG.FACTORIAL), 3_628_800);
  t.is(rd(dev, EDU_REG.STATUS) & EDU_STATUS_COMPUTING, 0);
});

test('0x08 factorial is mod 2^32 and 0! is 1', (t) => {
  const { dev, host } = setup();
  const cases: [number, number][] = [
    [0, 1],
    [1, 1],
    [12, 479_001_600],
    [13, 1_932_053_504],
    [20, 2_192_834_560],
    [33, 2_147_483_648],
    [34, 0],
    [0xffff_ffff, 0],
  ];
  for (const [n, expected] of cases) {
    wr(dev, EDU_REG.FACTORIAL, n);
    host.advance(10);
    t.is(rd(dev, EDU_REG.FACTORIAL), expected, `${n}!`);
    t.is(eduFactorial(n), expected);
  }
});

test('0x08 a factorial write is ignored while COMPUTING is set', (t) => {
  const { dev, host } = setup();
  wr(dev, EDU_REG.FACTORIAL, 5);
  wr(dev, EDU_REG.FACTORIAL, 6);
  t.is(rd(dev, EDU_REG.FACTORIAL), 5);
  host.advance(10);
  t.is(rd(dev, EDU_REG.FACTORIAL), 120);
});

test('0x08 without IRQFACT a finished factorial raises no interrupt', (t) => {
  const { dev, host } = setup();
  wr(dev, EDU_REG.FACTORIAL, 5);
  host.advance(10);
  t.is(rd(dev, EDU_REG.IRQ_STATUS), 0);
  t.deepEqual(host.irqEvents, []);
});

test('0x08 with IRQFACT a finished factorial raises cause 0x1 on INTx', (t) => {
  const { dev, host } = setup();
  wr(dev, EDU_REG.STATUS, EDU_STATUS_IRQFACT);
  wr(dev, EDU_REG.FACTORIAL, 5);
  t.false(host.irqLevel, 'not before completion');
  host.advance(10);
  t.is(rd(dev, EDU_REG.IRQ_STATUS), EDU_IRQ_FACT);
  t.true(host.irqLevel);
});

test('0x20 status: COMPUTING is read-only and IRQFACT read-write, other bits ignored', (t) => {
  const { dev } = setup();
  wr(dev, EDU_REG.STATUS, 0xffff_ffff);
  t.is(rd(dev, EDU_REG.STATUS), EDU_STATUS_IRQFACT);
  wr(dev, EDU_REG.STATUS, EDU_STATUS_COMPUTING);
  t.is(rd(dev, EDU_REG.STATUS), 0);
});

test('0x24 interrupt status is read-only', (t) => {
  const { dev } = setup();
  wr(dev, EDU_REG.IRQ_RAISE, 0x30);
  wr(dev, EDU_REG.IRQ_STATUS, 0);
  t.is(rd(dev, EDU_REG.IRQ_STATUS), 0x30);
});

test('0x60 interrupt raise ORs into irq_status and asserts INTx; it reads all ones', (t) => {
  const { dev, host } = setup();
  wr(dev, EDU_REG.IRQ_RAISE, 0x10);
  wr(dev, EDU_REG.IRQ_RAISE, 0x01);
  t.is(rd(dev, EDU_REG.IRQ_STATUS), 0x11);
  t.true(host.irqLevel);
  t.deepEqual(host.irqEvents, ['raise'], 'a level: asserted once');
  t.not(cfgRead(dev, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
  t.is(rd(dev, EDU_REG.IRQ_RAISE), 0xffff_ffff);
});

test('0x60 a raise of 0 with nothing pending asserts nothing', (t) => {
  const { dev, host } = setup();
  wr(dev, EDU_REG.IRQ_RAISE, 0);
  t.false(host.irqLevel);
});

test('0x64 interrupt acknowledge deasserts INTx only when irq_status becomes 0; it reads all ones', (t) => {
  const { dev, host } = setup();
  wr(dev, EDU_REG.IRQ_RAISE, 0x101);
  wr(dev, EDU_REG.IRQ_ACK, 0x1);
  t.is(rd(dev, EDU_REG.IRQ_STATUS), 0x100);
  t.true(host.irqLevel);
  wr(dev, EDU_REG.IRQ_ACK, 0x100);
  t.is(rd(dev, EDU_REG.IRQ_STATUS), 0);
  t.false(host.irqLevel);
  t.is(cfgRead(dev, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
  t.is(rd(dev, EDU_REG.IRQ_ACK), 0xffff_ffff);
});

for (const [name, offset] of [
  ['0x80 DMA source address', EDU_REG.DMA_SRC],
  ['0x88 DMA destination address', EDU_REG.DMA_DST],
  ['0x90 DMA transfer count', EDU_REG.DMA_COUNT],
] as const) {
  test(`${name} is read-write at 64 and 32 bits, a 32-bit write zero-extends`, (t) => {
    const { dev } = setup();
    wr(dev, offset, 0x1234_5678_9abc_def0n, 8);
    t.is(memRead64(dev, 0, offset, 8), 0x1234_5678_9abc_def0n);
    t.is(rd(dev, offset), 0x9abc_def0, 'a 4-byte read returns the low half');
    wr(dev, offset, 0xffff_0000);
    t.is(memRead64(dev, 0, offset, 8), 0xffff_0000n);
    t.is(rd(dev, offset + 4), 0xffff_ffff, 'base+4 is undefined');
    wr(dev, offset + 4, 0x55);
    t.is(memRead64(dev, 0, offset, 8), 0xffff_0000n, 'a write at base+4 is ignored');
  });

  test(`${name} ignores writes while a DMA runs`, (t) => {
    const { dev, host } = setup();
    cfgWrite(dev, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
    startDma(dev, RAM, 0x4_0000, 16, EDU_DMA_RUN);
    const before = memRead64(dev, 0, offset, 8);
    wr(dev, offset, 0x777);
    t.is(memRead64(dev, 0, offset, 8), before);
    host.advance(100);
    wr(dev, offset, 0x777);
    t.is(memRead64(dev, 0, offset, 8), 0x777n);
  });
}

test('0x98 DMA command: a write without bit 0 is ignored', (t) => {
  const { dev } = setup();
  wr(dev, EDU_REG.DMA_CMD, EDU_DMA_IRQ | EDU_DMA_DIR_TO_RAM);
  t.is(rd(dev, EDU_REG.DMA_CMD), 0);
});

test('0x98 DMA command: completion clears bit 0 and keeps the others, a write while running is ignored', (t) => {
  const { dev, host } = setup();
  cfgWrite(dev, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
  startDma(dev, 0x4_0000, RAM, 8, EDU_DMA_RUN | EDU_DMA_DIR_TO_RAM);
  t.is(rd(dev, EDU_REG.DMA_CMD), EDU_DMA_RUN | EDU_DMA_DIR_TO_RAM, 'bit 0 reads 1 while running');
  wr(dev, EDU_REG.DMA_CMD, EDU_DMA_RUN | EDU_DMA_IRQ);
  t.is(rd(dev, EDU_REG.DMA_CMD), EDU_DMA_RUN | EDU_DMA_DIR_TO_RAM);
  host.advance(100);
  t.is(rd(dev, EDU_REG.DMA_CMD), EDU_DMA_DIR_TO_RAM);
  t.is(memRead64(dev, 0, EDU_REG.DMA_CMD, 8), BigInt(EDU_DMA_DIR_TO_RAM));
});

// ---- width rules and undefined offsets ----------------------------------------------------

test('below 0x80 only 4-byte accesses are valid: other widths read all ones and writes are ignored', (t) => {
  const { dev, host } = setup();
  wr(dev, EDU_REG.LIVENESS, 0);
  for (const width of [1, 2, 8]) {
    t.is(memRead64(dev, 0, EDU_REG.ID, width), (1n << BigInt(8 * width)) - 1n, `read width ${width}`);
    wr(dev, EDU_REG.LIVENESS, 0x1234n, width);
    t.is(rd(dev, EDU_REG.LIVENESS), 0xffff_ffff, `write width ${width} ignored`);
  }
  t.true(host.logs.some((l) => l.includes('bad width')));
});

test('from 0x80 on 4- and 8-byte accesses are valid and 1- or 2-byte ones are not', (t) => {
  const { dev } = setup();
  wr(dev, EDU_REG.DMA_SRC, 0x1122_3344);
  for (const width of [1, 2]) {
    t.is(memRead(dev, 0, EDU_REG.DMA_SRC, width), (1 << (8 * width)) - 1);
    wr(dev, EDU_REG.DMA_SRC, 0, width);
  }
  t.is(rd(dev, EDU_REG.DMA_SRC), 0x1122_3344);
});

test('undefined offsets read all ones, writes to them are ignored and logged, the device keeps running', (t) => {
  const { dev, host } = setup();
  for (const off of [0x0c, 0x10, 0x28, 0x7c, 0xa0, 0x4_0000, 0xf_fffc]) {
    t.is(rd(dev, off), 0xffff_ffff, `0x${off.toString(16)}`);
    wr(dev, off, 0);
  }
  t.true(host.logs.length >= 14);
  t.is(rd(dev, EDU_REG.ID), EDU_ID_VALUE);
});

test('the DMA buffer is not reachable through BAR0', (t) => {
  const { dev } = setup();
  dev.dmaBuffer[0] = 0x42;
  t.is(rd(dev, 0x4_0000), 0xffff_ffff);
});

test('an access outside BAR0 is refused, not answered', (t) => {
  const { dev } = setup();
  t.false(dev.readMem(0, 0x10_0000, new Uint8Array(4)));
  t.false(dev.readMem(1, 0, new Uint8Array(4)));
  t.false(dev.writeMem(0, 0xf_fffe, new Uint8Array(4)));
});

// ---- interrupts -----------------------------------------------------------------------------

test('INTx is a level that follows irq_status and drops only on acknowledge', (t) => {
  const { dev, host } = setup();
  wr(dev, EDU_REG.IRQ_RAISE, 1);
  dev.ackIrq?.();
  t.true(host.irqLevel, 'a Palacios ack does not clear the cause');
  wr(dev, EDU_REG.IRQ_RAISE, 2);
  t.deepEqual(host.irqEvents, ['raise']);
  wr(dev, EDU_REG.IRQ_ACK, 3);
  t.deepEqual(host.irqEvents, ['raise', 'lower']);
});

test('INTX_DISABLE keeps the line down but PCI_STATUS_INTERRUPT shows the level; clearing it raises the line', (t) => {
  const { dev, host } = setup();
  cfgWrite(dev, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
  wr(dev, EDU_REG.IRQ_RAISE, 1);
  t.false(host.irqLevel);
  t.not(cfgRead(dev, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
  cfgWrite(dev, PCI_COMMAND, 2, 0);
  t.true(host.irqLevel);
});

test('MSI is an edge sent on every raise once MSI is enabled and bus mastering is on', (t) => {
  const { dev, host } = setup();
  enableMsi(dev);
  wr(dev, EDU_REG.IRQ_RAISE, 1);
  wr(dev, EDU_REG.IRQ_RAISE, 1);
  t.is(host.msis.length, 2);
  t.deepEqual(host.msis[0], { kind: 'msi', vector: 0, address: 0xfee0_0000n, data: 0x41 });
  t.deepEqual(host.irqEvents, [], 'no INTx with MSI');
  wr(dev, EDU_REG.IRQ_ACK, 1);
  t.is(rd(dev, EDU_REG.IRQ_STATUS), 0, 'drivers ack with MSI too');
  t.deepEqual(host.irqEvents, []);
});

test('MSI needs bus mastering: with MSI enabled and no bus master nothing is sent', (t) => {
  const { dev, host } = setup();
  enableMsi(dev, false);
  wr(dev, EDU_REG.IRQ_RAISE, 1);
  t.is(host.msis.length, 0);
  t.false(host.irqLevel);
  t.true(host.logs.some((l) => l.includes('bus mastering')));
  t.is(rd(dev, EDU_REG.IRQ_STATUS), 1);
});

test('MSI needs MSI enable: with bus mastering only, a raise asserts INTx', (t) => {
  const { dev, host } = setup();
  cfgWrite(dev, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
  wr(dev, EDU_REG.IRQ_RAISE, 1);
  t.is(host.msis.length, 0);
  t.true(host.irqLevel);
});

test('a finished factorial with IRQFACT sends an MSI when MSI is enabled', (t) => {
  const { dev, host } = setup();
  enableMsi(dev);
  wr(dev, EDU_REG.STATUS, EDU_STATUS_IRQFACT);
  wr(dev, EDU_REG.FACTORIAL, 4);
  host.advance(10);
  t.is(host.msis.length, 1);
  t.is(rd(dev, EDU_REG.FACTORIAL), 24);
});

// ---- DMA ------------------------------------------------------------------------------------

function fillRam(host: FakeSimHost, at: number, length: number): Uint8Array {
  const bytes = Uint8Array.from({ length }, (_, i) => (i * 7 + 3) & 0xff);
  host.ram.set(bytes, at);
  return bytes;
}

for (const count of [100, 4095]) {
  test(`a DMA round trip of ${count} bytes copies RAM to the buffer and back (the spec's driver sequence)`, (t) => {
    const { dev, host } = setup();
    cfgWrite(dev, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    const bytes = fillRam(host, RAM, count);
    startDma(dev, RAM, 0x4_0000, count, EDU_DMA_RUN);
    t.is(rd(dev, EDU_REG.DMA_CMD) & EDU_DMA_RUN, 1, 'asynchronous: still running right after the command');
    t.is(dev.dmaBuffer[0], 0, 'nothing copied yet');
    host.advance(100);
    t.is(rd(dev, EDU_REG.DMA_CMD) & EDU_DMA_RUN, 0);
    t.deepEqual(dev.dmaBuffer.subarray(0, count), bytes);
    startDma(dev, 0x4_0000, RAM + 0x1000, count, EDU_DMA_RUN | EDU_DMA_DIR_TO_RAM);
    host.advance(100);
    t.is(rd(dev, EDU_REG.DMA_CMD) & EDU_DMA_RUN, 0);
    t.deepEqual(host.ram.subarray(RAM + 0x1000, RAM + 0x1000 + count), bytes);
    t.deepEqual(host.faults, []);
  });
}

test('a DMA with bit 2 raises cause 0x100 on completion', (t) => {
  const { dev, host } = setup();
  cfgWrite(dev, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
  startDma(dev, RAM, 0x4_0000, 8, EDU_DMA_RUN | EDU_DMA_IRQ);
  t.false(host.irqLevel);
  host.advance(100);
  t.is(rd(dev, EDU_REG.IRQ_STATUS), EDU_IRQ_DMA);
  t.true(host.irqLevel);
  t.is(rd(dev, EDU_REG.DMA_CMD), EDU_DMA_IRQ);
});

test('DMA RAM addresses are ANDed with the 28-bit dma mask', (t) => {
  const { dev, host } = setup();
  cfgWrite(dev, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
  const bytes = fillRam(host, RAM, 32);
  startDma(dev, 0x7000_0000 + RAM, 0x4_0000, 32, EDU_DMA_RUN);
  host.advance(100);
  t.deepEqual(dev.dmaBuffer.subarray(0, 32), bytes);
  t.true(host.logs.some((l) => l.includes('clamping')));
});

const badRanges: [string, number, number][] = [
  ['count 0', 0x4_0000, 0],
  ['count 4096 (end not below 0x41000)', 0x4_0000, 4096],
  ['start below the buffer', 0x3_ffff, 16],
  ['end past the buffer', 0x4_0ff0, 0x20],
  ['start past the buffer', 0x4_1000, 1],
];
for (const [name, bufAddr, count] of badRanges) {
  test(`a DMA with a bad range is refused cleanly: ${name}`, (t) => {
    const { dev, host } = setup();
    cfgWrite(dev, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
    fillRam(host, RAM, 0x1000);
    const ramBefore = host.ram.slice();
    startDma(dev, RAM, bufAddr, count, EDU_DMA_RUN | EDU_DMA_IRQ);
    host.advance(100);
    t.true(
      dev.dmaBuffer.every((b) => b === 0),
      'nothing moved into the buffer',
    );
    startDma(dev, bufAddr, RAM, count, EDU_DMA_RUN | EDU_DMA_DIR_TO_RAM);
    host.advance(100);
    t.deepEqual(host.ram, ramBefore, 'nothing written to RAM');
    t.is(rd(dev, EDU_REG.DMA_CMD) & EDU_DMA_RUN, 0, 'the command completes');
    t.is(host.logs.filter((l) => l.includes('DMA refused')).length, 2);
    t.is(rd(dev, EDU_REG.IRQ_STATUS), EDU_IRQ_DMA, 'the completion cause is raised when asked for');
    wr(dev, EDU_REG.LIVENESS, 1);
    t.is(rd(dev, EDU_REG.LIVENESS), 0xffff_fffe, 'the device is alive');
  });
}

test('a DMA range check wraps at 2^64 like QEMU: a huge count is refused', (t) => {
  const { dev, host } = setup();
  cfgWrite(dev, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
  wr(dev, EDU_REG.DMA_SRC, RAM, 8);
  wr(dev, EDU_REG.DMA_DST, 0x4_0000, 8);
  wr(dev, EDU_REG.DMA_COUNT, 0xffff_ffff_ffff_ffffn, 8);
  wr(dev, EDU_REG.DMA_CMD, EDU_DMA_RUN);
  host.advance(100);
  t.true(host.logs.some((l) => l.includes('DMA refused')));
});

test('eduRangeOk is QEMU edu_check_range with 64-bit wrap-around', (t) => {
  const start = 0x4_0000n;
  const size2 = 0x1000n;
  const rows: [bigint, bigint, boolean][] = [
    [0x4_0000n, 1n, true],
    [0x4_0000n, 4095n, true],
    [0x4_0ffen, 1n, true],
    [0x4_0fffn, 1n, false], // end 0x41000 is not below 0x41000
    [0x4_0000n, 0n, false],
    [0x4_0000n, 0xffff_ffff_ffff_ffffn, false], // end wraps to 0x3ffff
    [0x4_0010n, (1n << 64n) - 0x10n, false], // end wraps to exactly 0x40000
    [0xffff_ffff_ffff_ffffn, 2n, false],
    [0x3_ffffn, 2n, false],
  ];
  for (const [addr, size, ok] of rows) t.is(eduRangeOk(addr, size, start, size2), ok, `0x${addr.toString(16)} + ${size}`);
});

test('with an all-ones dmaMask a DMA whose guest-RAM range crosses 2^64 is a fault, logged as crossing 2^64, and the command completes', (t) => {
  const { dev, host } = setup({ dmaMask: '0xffffffffffffffff' });
  cfgWrite(dev, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
  const iova = (1n << 64n) - 50n;
  dev.dmaBuffer.fill(0x11, 0, 100);
  for (const toRam of [false, true]) {
    wr(dev, EDU_REG.DMA_SRC, toRam ? 0x4_0000n : iova, 8);
    wr(dev, EDU_REG.DMA_DST, toRam ? iova : 0x4_0000n, 8);
    wr(dev, EDU_REG.DMA_COUNT, 100, 8);
    wr(dev, EDU_REG.DMA_CMD, EDU_DMA_RUN | (toRam ? EDU_DMA_DIR_TO_RAM : 0) | EDU_DMA_IRQ);
    host.advance(100);
    t.is(rd(dev, EDU_REG.DMA_CMD) & EDU_DMA_RUN, 0, 'the command completes');
  }
  t.deepEqual(host.faults, [
    { op: 'read', iova, length: 100 },
    { op: 'write', iova, length: 100 },
  ]);
  t.true(
    dev.dmaBuffer.subarray(0, 100).every((b) => b === 0x11),
    'buffer unchanged',
  );
  t.is(host.logs.filter((l) => l.includes('crosses 2^64')).length, 2);
  t.false(
    host.logs.some((l) => l.includes('clamping')),
    'an all-ones mask changes no address',
  );
  t.is(rd(dev, EDU_REG.ID), EDU_ID_VALUE);
});

test('an IOMMU fault leaves RAM untouched, the buffer unchanged and the device running', (t) => {
  const { dev, host } = setup();
  cfgWrite(dev, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
  const unmapped = 0x8_0000;
  host.ram.fill(0x5a, unmapped, unmapped + 0x100);
  dev.dmaBuffer.fill(0x11, 0, 0x100);
  startDma(dev, unmapped, 0x4_0000, 0x100, EDU_DMA_RUN);
  host.advance(100);
  t.true(
    dev.dmaBuffer.subarray(0, 0x100).every((b) => b === 0x11),
    'dir 0: buffer unchanged',
  );
  const ramBefore = host.ram.slice();
  startDma(dev, 0x4_0000, unmapped, 0x100, EDU_DMA_RUN | EDU_DMA_DIR_TO_RAM | EDU_DMA_IRQ);
  host.advance(100);
  t.deepEqual(host.ram, ramBefore, 'dir 1: RAM untouched');
  t.deepEqual(
    host.faults.map((f) => f.op),
    ['read', 'write'],
  );
  t.is(rd(dev, EDU_REG.DMA_CMD), EDU_DMA_DIR_TO_RAM | EDU_DMA_IRQ, 'completes with bit 0 cleared');
  t.is(rd(dev, EDU_REG.IRQ_STATUS), EDU_IRQ_DMA);
  t.true(host.logs.some((l) => l.includes('faulted')));
  // A DMA crossing from a mapped into an unmapped page is a fault too (whole or nothing).
  startDma(dev, RAM + 0x1f80, 0x4_0000, 0x100, EDU_DMA_RUN);
  host.advance(100);
  t.is(host.faults.length, 3);
});

test('a DMA without bus mastering moves nothing', (t) => {
  const { dev, host } = setup();
  fillRam(host, RAM, 16);
  startDma(dev, RAM, 0x4_0000, 16, EDU_DMA_RUN);
  host.advance(100);
  t.true(dev.dmaBuffer.every((b) => b === 0));
  t.is(rd(dev, EDU_REG.DMA_CMD) & EDU_DMA_RUN, 0);
  t.true(host.logs.some((l) => l.includes('bus mastering')));
});

// ---- reset ----------------------------------------------------------------------------------

test('reset returns every register, the buffer, the config space and INTx to power-on values and drops timers', (t) => {
  const { dev, host } = setup();
  cfgWrite(dev, PCI_BASE_ADDRESS_0, 4, 0xfe00_0000);
  cfgWrite(dev, PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  wr(dev, EDU_REG.LIVENESS, 0);
  wr(dev, EDU_REG.STATUS, EDU_STATUS_IRQFACT);
  wr(dev, EDU_REG.IRQ_RAISE, 0x8);
  startDma(dev, RAM, 0x4_0000, 16, EDU_DMA_RUN);
  wr(dev, EDU_REG.FACTORIAL, 5);
  dev.dmaBuffer.fill(1);
  t.true(host.irqLevel);
  dev.reset();
  t.false(host.irqLevel, 'INTx deasserted');
  t.is(host.pendingTimers, 0, 'timers dropped');
  for (const off of [
    EDU_REG.LIVENESS,
    EDU_REG.FACTORIAL,
    EDU_REG.STATUS,
    EDU_REG.IRQ_STATUS,
    EDU_REG.DMA_SRC,
    EDU_REG.DMA_DST,
    EDU_REG.DMA_COUNT,
    EDU_REG.DMA_CMD,
  ]) {
    t.is(rd(dev, off), 0, `0x${off.toString(16)}`);
  }
  t.true(dev.dmaBuffer.every((b) => b === 0));
  t.is(cfgRead(dev, PCI_BASE_ADDRESS_0, 4), 0);
  t.is(cfgRead(dev, PCI_COMMAND, 2), 0);
  t.is(cfgRead(dev, PCI_VENDOR_ID, 4), 0x11e8_1234);
  host.advance(1000);
  t.is(rd(dev, EDU_REG.FACTORIAL), 0, 'the dropped factorial never completes');
});

test('edu options: dmaMask, delays; unknown options are refused with the known ones named', (t) => {
  const { dev, host } = setup({ dmaMask: '0xffffffff', dmaDelayMs: 50 });
  cfgWrite(dev, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
  startDma(dev, RAM, 0x4_0000, 4, EDU_DMA_RUN);
  host.advance(49);
  t.is(rd(dev, EDU_REG.DMA_CMD) & EDU_DMA_RUN, 1);
  host.advance(1);
  t.is(rd(dev, EDU_REG.DMA_CMD) & EDU_DMA_RUN, 0);
  t.throws(() => new EduDevice({ dma_mask: 1 }), { instanceOf: TypeError, message: /dmaMask, factorialDelayMs, dmaDelayMs/ });
  t.throws(() => new EduDevice({ dmaMask: 'lots' }), { instanceOf: TypeError });
  for (const dmaMask of ['', '  ', '0x1_0000_0000_0000_0000', '0x10000000000000000', -1, 1.5, 2 ** 60, 1n]) {
    t.throws(() => new EduDevice({ dmaMask }), { instanceOf: TypeError, message: /dmaMask/ }, `dmaMask ${String(dmaMask)}`);
  }
  t.throws(() => new EduDevice({ dmaDelayMs: -1 }), { instanceOf: RangeError });
  t.throws(() => new EduDevice({ dmaDelayMs: 5n }), { instanceOf: RangeError, message: /dmaDelayMs 5n/ });
});
