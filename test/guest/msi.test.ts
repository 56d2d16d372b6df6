// Virtual MSI and MSI-X: the guest programs its own messages, host vectors are translated, per-vector masks and the function mask hold vectors pending, the MSI-X table and PBA are emulated.

import test from 'ava';
import { EDU_REG, EduDevice } from '../../r0/sim/models/edu.js';
import { TESTDEV_REG, TestDevDevice } from '../../r0/sim/models/testdev.js';
import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_4,
  PCI_COMMAND,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_MSI_ADDRESS_HI,
  PCI_MSI_ADDRESS_LO,
  PCI_MSI_DATA_32,
  PCI_MSI_DATA_64,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_ENABLE,
  PCI_MSI_FLAGS_QSIZE,
  PCI_MSI_MASK_32,
  PCI_MSI_PENDING_32,
  PCI_MSIX_ENTRY_CTRL_MASKBIT,
  PCI_MSIX_ENTRY_DATA,
  PCI_MSIX_ENTRY_LOWER_ADDR,
  PCI_MSIX_ENTRY_UPPER_ADDR,
  PCI_MSIX_ENTRY_VECTOR_CTRL,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
} from '../../shared/linux/pci-regs.js';
import { BarZooDevice } from '../fixtures/bar-zoo-model.js';
import { type Rig, rig } from './helpers/rig.js';

const MSI = 0x40;

test("edu MSI: the guest address and data stay virtual; the host gets PciFront's message; a host MSI arrives as the guest's message", (t) => {
  const r = rig(new EduDevice());
  r.cfgWrite(PCI_BASE_ADDRESS_0, 4, 0xe000_0000);
  r.cfgWrite(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  r.cfgWrite(MSI + PCI_MSI_ADDRESS_LO, 4, 0xfee0_1000);
  r.cfgWrite(MSI + PCI_MSI_ADDRESS_HI, 4, 0x1);
  r.cfgWrite(MSI + PCI_MSI_DATA_64, 2, 0x4041);
  r.cfgWrite(MSI + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
  t.is(r.cfgRead(MSI + PCI_MSI_ADDRESS_LO, 4), 0xfee0_1000);
  t.is(r.cfgRead(MSI + PCI_MSI_DATA_64, 2), 0x4041);
  t.is(r.host.cfgRead(r.handle, MSI + PCI_MSI_ADDRESS_LO, 4), 0xfee0_0000, "host programmed with PciFront's address");
  t.is(r.host.cfgRead(r.handle, MSI + PCI_MSI_ADDRESS_HI, 4), 0);
  t.truthy(r.host.cfgRead(r.handle, MSI + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE);
  r.bus.mmioWrite(0xe000_0000n + BigInt(EDU_REG.IRQ_RAISE), 4, 1);
  r.host.deliver(r.bus);
  t.deepEqual(
    r.sink.msis.map((m) => [m.address, m.data, m.source.kind, m.source.vector]),
    [[0x1_fee0_1000n, 0x4041, 'msi', 0]],
  );
  r.cfgWrite(MSI + PCI_MSI_FLAGS, 2, 0);
  t.falsy(r.host.cfgRead(r.handle, MSI + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_ENABLE, 'disabling reaches the host');
});

test('MSI: Multiple Message Enable is clamped to Multiple Message Capable', (t) => {
  const r = rig(new BarZooDevice());
  r.cfgWrite(0x50 + PCI_MSI_FLAGS, 2, 5 << 4);
  t.is((r.cfgRead(0x50 + PCI_MSI_FLAGS, 2) & PCI_MSI_FLAGS_QSIZE) >>> 4, 2);
});

test('MSI per-vector mask: a masked vector is held in the pending bits and sent with its vector number in the data on unmask', (t) => {
  const dev = new BarZooDevice();
  const r = rig(dev);
  const c = 0x50;
  r.cfgWrite(PCI_COMMAND, 2, PCI_COMMAND_MASTER);
  r.cfgWrite(c + PCI_MSI_ADDRESS_LO, 4, 0xfee0_0000);
  r.cfgWrite(c + PCI_MSI_DATA_32, 2, 0x20);
  r.cfgWrite(c + PCI_MSI_MASK_32, 4, 0b0010);
  r.cfgWrite(c + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | (2 << 4));
  dev.signalVector(2);
  dev.signalVector(1);
  r.host.deliver(r.bus);
  t.deepEqual(
    r.sink.msis.map((m) => m.data),
    [0x22],
  );
  t.is(r.cfgRead(c + PCI_MSI_PENDING_32, 4), 0b0010);
  r.cfgWrite(c + PCI_MSI_PENDING_32, 4, 0);
  t.is(r.cfgRead(c + PCI_MSI_PENDING_32, 4), 0b0010, 'pending bits are read-only');
  r.cfgWrite(c + PCI_MSI_MASK_32, 4, 0);
  t.deepEqual(
    r.sink.msis.map((m) => m.data),
    [0x22, 0x21],
  );
  t.is(r.cfgRead(c + PCI_MSI_PENDING_32, 4), 0);
});

// ---- MSI-X on the testdev: BAR4 holds the table (0x000) and PBA (0x800) ----

const PORTS = 0x1000;
const BAR4 = 0xe000_0000n;
const MSIX = 0x50;

function testdevRig(): Rig & { dev: TestDevDevice } {
  const dev = new TestDevDevice();
  const r = rig(dev);
  r.cfgWrite(PCI_BASE_ADDRESS_0, 4, PORTS);
  r.cfgWrite(PCI_BASE_ADDRESS_4, 4, Number(BAR4));
  r.cfgWrite(PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  return Object.assign(r, { dev });
}

function program(r: Rig, v: number, address: bigint, data: number, masked = false): void {
  const e = BAR4 + BigInt(v * 16);
  r.bus.mmioWrite(e + BigInt(PCI_MSIX_ENTRY_LOWER_ADDR), 4, Number(address & 0xffff_ffffn));
  r.bus.mmioWrite(e + BigInt(PCI_MSIX_ENTRY_UPPER_ADDR), 4, Number(address >> 32n));
  r.bus.mmioWrite(e + BigInt(PCI_MSIX_ENTRY_DATA), 4, data);
  r.bus.mmioWrite(e + BigInt(PCI_MSIX_ENTRY_VECTOR_CTRL), 4, masked ? PCI_MSIX_ENTRY_CTRL_MASKBIT : 0);
}

function enableMsix(r: Rig, extra = 0): void {
  r.cfgWrite(MSIX + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | extra);
}

function ring(r: Rig, v: number): void {
  r.bus.ioWrite(PORTS + TESTDEV_REG.DOORBELL, 4, v);
  r.host.deliver(r.bus);
}

test("MSI-X: the guest table is emulated; the host table holds PciFront's message (data = vector); a doorbell arrives as the guest's entry", (t) => {
  const r = testdevRig();
  program(r, 3, 0xfee0_3000n, 0x53);
  enableMsix(r);
  t.deepEqual(r.dev.msixEntry(3), { address: 0xfee0_0000n, data: 3, masked: false });
  t.is(r.bus.mmioRead(BAR4 + 3n * 16n + BigInt(PCI_MSIX_ENTRY_DATA), 4), 0x53);
  ring(r, 3);
  t.deepEqual(
    r.sink.msis.map((m) => [m.address, m.data, m.source.kind, m.source.vector]),
    [[0xfee0_3000n, 0x53, 'msix', 3]],
  );
});

test('MSI-X: entries start masked; a masked vector sets its PBA bit and is sent when unmasked', (t) => {
  const r = testdevRig();
  enableMsix(r);
  t.is(r.bus.mmioRead(BAR4 + 5n * 16n + BigInt(PCI_MSIX_ENTRY_VECTOR_CTRL), 4), PCI_MSIX_ENTRY_CTRL_MASKBIT);
  ring(r, 5);
  t.deepEqual(r.sink.msis, []);
  t.is(r.bus.mmioRead(BAR4 + 0x800n, 4), 1 << 5, 'guest PBA bit 5');
  t.false(r.dev.msixPending(5), 'the host vector was not masked');
  program(r, 5, 0xfee0_5000n, 0x55);
  t.deepEqual(
    r.sink.msis.map((m) => m.data),
    [0x55],
  );
  t.is(r.bus.mmioRead(BAR4 + 0x800n, 4), 0);
});

test('MSI-X: the function mask holds every vector pending until it is cleared', (t) => {
  const r = testdevRig();
  program(r, 1, 0xfee0_1000n, 0x11);
  enableMsix(r, PCI_MSIX_FLAGS_MASKALL);
  ring(r, 1);
  t.deepEqual(r.sink.msis, []);
  t.is(r.bus.mmioRead(BAR4 + 0x800n, 8), 2n);
  enableMsix(r);
  t.deepEqual(
    r.sink.msis.map((m) => m.data),
    [0x11],
  );
});

test('MSI-X: table accesses of a bad width read all-ones and are ignored; PBA writes are ignored; 8-byte accesses work', (t) => {
  const r = testdevRig();
  t.is(r.bus.mmioRead(BAR4 + 2n, 2), 0xffff);
  r.bus.mmioWrite(BAR4 + 8n, 2, 0x1234);
  t.is(r.bus.mmioRead(BAR4 + 8n, 4), 0);
  r.bus.mmioWrite(BAR4, 8, 0x0000_0001_fee0_0000n);
  t.is(r.bus.mmioRead(BAR4, 8), 0x0000_0001_fee0_0000n);
  r.bus.mmioWrite(BAR4 + 0x800n, 4, 0xffff_ffff);
  t.is(r.bus.mmioRead(BAR4 + 0x800n, 4), 0);
  t.deepEqual(
    r.host.calls.filter((c) => c.startsWith('mmioWrite')),
    [],
    'no guest table access reached the host table',
  );
});

test("MSI-X disabled: a host vector is dropped and the capability control reads back the guest's bits only", (t) => {
  const r = testdevRig();
  program(r, 0, 0xfee0_0000n, 0x10);
  r.cfgWrite(MSIX + PCI_MSIX_FLAGS, 2, 0xffff);
  t.is(r.cfgRead(MSIX + PCI_MSIX_FLAGS, 2), PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL | 7, 'Table Size stays read-only');
  r.cfgWrite(MSIX + PCI_MSIX_FLAGS, 2, 0);
  ring(r, 0);
  t.deepEqual(r.sink.msis, []);
  t.is(r.front.stats.msiDropped, 0, 'the host sent nothing: MSI-X is off on the host too');
  t.is(r.bus.lineLevel(r.bus.functions()[0]!.line), true, 'the doorbell fell back to INTx');
});
