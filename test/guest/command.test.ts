// PciFront's command register: I/O and memory decode gate the ranges, bus mastering gates DMA and MSI (forwarded to the host), INTx disable and level INTx with EOI resampling.

import test from 'ava';
import { EDU_REG, EduDevice } from '../../r0/sim/models/edu.js';
import {
  PCI_BASE_ADDRESS_0,
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_MSI_ADDRESS_LO,
  PCI_MSI_DATA_64,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_ENABLE,
  PCI_STATUS,
  PCI_STATUS_INTERRUPT,
} from '../../shared/linux/pci-regs.js';
import { PCI_COMMAND_WRITABLE } from '../../shared/pci/header-bits.js';
import { BarZooDevice } from '../fixtures/bar-zoo-model.js';
import { type Rig, rig } from './helpers/rig.js';

const EDU_BAR = 0xe000_0000n;

function eduRig(cmd: number): Rig {
  const r = rig(new EduDevice());
  r.cfgWrite(PCI_BASE_ADDRESS_0, 4, Number(EDU_BAR));
  r.cfgWrite(PCI_COMMAND, 2, cmd);
  return r;
}

function edu(r: Rig, reg: number, value?: number): number {
  if (value === undefined) return r.bus.mmioRead(EDU_BAR + BigInt(reg), 4);
  r.bus.mmioWrite(EDU_BAR + BigInt(reg), 4, value);
  return 0;
}

/** Raises edu interrupt `cause` (IRQ_RAISE) and delivers the host's events to the guest bus; returns the function's guest line. */
function raiseIntx(r: Rig, cause: number): number {
  edu(r, EDU_REG.IRQ_RAISE, cause);
  r.host.deliver(r.bus);
  return r.bus.functions()[0]!.line;
}

function enableMsi(r: Rig): void {
  r.cfgWrite(0x40 + PCI_MSI_ADDRESS_LO, 4, 0xfee0_2000);
  r.cfgWrite(0x40 + PCI_MSI_DATA_64, 2, 0x4055);
  r.cfgWrite(0x40 + PCI_MSI_FLAGS, 2, r.cfgRead(0x40 + PCI_MSI_FLAGS, 2) | PCI_MSI_FLAGS_ENABLE);
}

test('I/O decode and memory decode switch their own ranges on and off independently', (t) => {
  const r = rig(new BarZooDevice());
  r.cfgWrite(PCI_BASE_ADDRESS_0, 4, 0x1000);
  r.cfgWrite(PCI_BASE_ADDRESS_0 + 8, 4, 0xe000_0000);
  r.cfgWrite(PCI_COMMAND, 2, PCI_COMMAND_IO);
  t.true(r.bus.ioRead(0x1000, 4) !== undefined && r.front.decodes('io', 0x1000n, 4));
  t.false(r.bus.decodesMmio(0xe000_0000n));
  r.cfgWrite(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
  t.false(r.front.decodes('io', 0x1000n, 4));
  t.true(r.bus.decodesMmio(0xe000_0000n));
  t.is(r.bus.ioRead(0x1000, 4), 0xffff_ffff, 'a port nobody decodes reads all-ones');
});

test('the command register is kept virtually and forwarded to the host device', (t) => {
  const r = eduRig(0);
  r.host.resetCalls();
  r.cfgWrite(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  t.deepEqual(r.host.calls, ['cfgWrite 0x4/2=0x6']);
  t.is(r.host.cfgRead(r.handle, PCI_COMMAND, 2) & 0x7, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  t.is(r.cfgRead(PCI_COMMAND, 2), PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
});

test('command bits PciFront does not support read back 0', (t) => {
  const r = eduRig(0);
  r.cfgWrite(PCI_COMMAND, 2, 0xffff);
  t.is(r.cfgRead(PCI_COMMAND, 2), PCI_COMMAND_WRITABLE);
});

test('bus mastering gates the device DMA: off, nothing reaches guest RAM; on, the bytes arrive', (t) => {
  const r = eduRig(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  const pattern = Uint8Array.from({ length: 64 }, (_, i) => i + 1);
  r.host.ram.set(pattern, 0x1000);
  const dma = (src: number, dst: number, dir: number) => {
    r.bus.mmioWrite(EDU_BAR + BigInt(EDU_REG.DMA_SRC), 8, BigInt(src));
    r.bus.mmioWrite(EDU_BAR + BigInt(EDU_REG.DMA_DST), 8, BigInt(dst));
    r.bus.mmioWrite(EDU_BAR + BigInt(EDU_REG.DMA_COUNT), 8, 64n);
    edu(r, EDU_REG.DMA_CMD, 1 | dir);
    r.host.flush();
  };
  dma(0x1000, 0x4_0000, 0);
  r.cfgWrite(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
  dma(0x4_0000, 0x2000, 2);
  t.deepEqual([...r.host.ram.subarray(0x2000, 0x2040)], new Array(64).fill(0), 'no DMA without bus mastering');
  r.cfgWrite(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  dma(0x4_0000, 0x2000, 2);
  t.deepEqual([...r.host.ram.subarray(0x2000, 0x2040)], [...pattern]);
});

test('bus mastering gates MSI: with it off the message is dropped, with it on the guest message arrives', (t) => {
  const r = eduRig(PCI_COMMAND_MEMORY);
  enableMsi(r);
  edu(r, EDU_REG.IRQ_RAISE, 1);
  r.host.deliver(r.bus);
  t.deepEqual(r.sink.msis, []);
  r.cfgWrite(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  edu(r, EDU_REG.IRQ_RAISE, 1);
  r.host.deliver(r.bus);
  t.is(r.sink.msis.length, 1);
  t.is(r.sink.msis[0]!.address, 0xfee0_2000n);
  t.is(r.sink.msis[0]!.data, 0x4055);
});

test('INTx disable is honoured: no guest level while set, the pending level appears when it is cleared', (t) => {
  const r = eduRig(PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
  const line = raiseIntx(r, 1);
  t.false(r.bus.lineLevel(line));
  t.truthy(r.cfgRead(PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 'status shows the device level (read from the host)');
  r.cfgWrite(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
  r.host.deliver(r.bus);
  t.true(r.bus.lineLevel(line));
  r.cfgWrite(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
  t.false(r.bus.lineLevel(line), 'setting INTx disable drops an asserted line');
});

test('level INTx: an EOI while the device still asserts raises the line again; after the device is acknowledged it stays low', (t) => {
  const r = eduRig(PCI_COMMAND_MEMORY);
  const line = raiseIntx(r, 4);
  t.true(r.bus.lineLevel(line));
  t.deepEqual(r.sink.changes, [[line, true]]);
  r.bus.endOfInterrupt(line);
  t.false(r.bus.lineLevel(line));
  t.true(r.host.calls.includes('ackIrq intx'), 'the host line is unmasked with ACK_IRQ');
  r.host.deliver(r.bus);
  t.true(r.bus.lineLevel(line), 'still asserted on the device: raised again');
  edu(r, EDU_REG.IRQ_ACK, 4);
  r.bus.endOfInterrupt(line);
  t.is(r.host.deliver(r.bus), 0);
  t.false(r.bus.lineLevel(line));
});

test('enabling MSI stops INTx on the guest line', (t) => {
  const r = eduRig(PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  const line = raiseIntx(r, 1);
  t.true(r.bus.lineLevel(line));
  enableMsi(r);
  t.false(r.bus.lineLevel(line));
});
