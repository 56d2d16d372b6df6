// PciFront's config filter: identity read-only, interrupt line and multifunction bit virtual, status/cache line/other capabilities forwarded to the host.

import test from 'ava';
import { EduDevice } from '../../r0/sim/models/edu.js';
import { TestDevDevice } from '../../r0/sim/models/testdev.js';
import { GuestPciBus } from '../../r3/guest/guest-bus.js';
import { PciFront } from '../../r3/guest/pci-front.js';
import {
  PCI_CACHE_LINE_SIZE,
  PCI_CAPABILITY_LIST,
  PCI_CLASS_REVISION,
  PCI_COMMAND,
  PCI_COMMAND_MEMORY,
  PCI_HEADER_TYPE,
  PCI_INTERRUPT_LINE,
  PCI_INTERRUPT_PIN,
  PCI_PM_CTRL,
  PCI_PM_CTRL_STATE_MASK,
  PCI_STATUS,
  PCI_SUBSYSTEM_VENDOR_ID,
  PCI_VENDOR_ID,
} from '../../shared/linux/pci-regs.js';
import { RecordingSink, rig } from './helpers/rig.js';
import { Ring0Host } from './helpers/ring0-host.js';

test('vendor, device, revision, class, header type, subsystem, capability pointer and pin cannot be written', (t) => {
  const r = rig(new EduDevice());
  const regs = [PCI_VENDOR_ID, PCI_CLASS_REVISION, PCI_SUBSYSTEM_VENDOR_ID, PCI_CAPABILITY_LIST];
  const before = regs.map((o) => r.cfgRead(o, 4));
  const headerBefore = r.cfgRead(PCI_HEADER_TYPE, 1);
  const pinBefore = r.cfgRead(PCI_INTERRUPT_PIN, 1);
  r.host.resetCalls();
  for (const o of regs) r.cfgWrite(o, 4, 0xffff_ffff);
  r.cfgWrite(PCI_HEADER_TYPE, 1, 0xff);
  r.cfgWrite(PCI_INTERRUPT_PIN, 1, 4);
  t.deepEqual(
    regs.map((o) => r.cfgRead(o, 4)),
    before,
  );
  t.is(r.cfgRead(PCI_VENDOR_ID, 4), 0x11e8_1234);
  t.is(r.cfgRead(PCI_HEADER_TYPE, 1), headerBefore);
  t.is(r.cfgRead(PCI_INTERRUPT_PIN, 1), pinBefore);
  t.deepEqual(r.host.calls, [], 'nothing was forwarded');
});

test('the interrupt line is virtual: it starts at the routed line and guest writes stay in ring 3', (t) => {
  const r = rig(new EduDevice());
  const line = r.bus.functions()[0]!.line;
  const hostLine = r.host.cfgRead(r.handle, PCI_INTERRUPT_LINE, 1);
  t.is(r.cfgRead(PCI_INTERRUPT_LINE, 1), line);
  r.cfgWrite(PCI_INTERRUPT_LINE, 1, 0x0b);
  t.is(r.cfgRead(PCI_INTERRUPT_LINE, 1), 0x0b);
  t.is(r.host.cfgRead(r.handle, PCI_INTERRUPT_LINE, 1), hostLine, 'the host register is untouched');
});

test('the multifunction bit is virtual: set on function 0 exactly while the slot holds another function', (t) => {
  const sink = new RecordingSink();
  const bus = new GuestPciBus({ sink });
  const host = new Ring0Host([new EduDevice(), new TestDevDevice()]);
  const fn0 = bus.attach(new PciFront(host, host.handles[0]!), 6, 0);
  t.is(bus.configRead(fn0, PCI_HEADER_TYPE, 1) & 0x80, 0);
  const fn1 = bus.attach(new PciFront(host, host.handles[1]!), 6, 1);
  t.is(bus.configRead(fn0, PCI_HEADER_TYPE, 1) & 0x80, 0x80);
  t.is((bus.configRead(fn0, PCI_CACHE_LINE_SIZE, 4) >>> 16) & 0x80, 0x80, 'also in a dword read of 0x0c');
  t.is(bus.configRead(fn1, PCI_HEADER_TYPE, 1) & 0x80, 0, 'function 1 does not carry it');
  bus.detach(fn1);
  t.is(bus.configRead(fn0, PCI_HEADER_TYPE, 1) & 0x80, 0);
});

test('status, cache line size and capabilities other than MSI/MSI-X are forwarded to the host', (t) => {
  const r = rig(new TestDevDevice());
  r.cfgWrite(PCI_CACHE_LINE_SIZE, 1, 0x10);
  t.is(r.host.cfgRead(r.handle, PCI_CACHE_LINE_SIZE, 1), 0x10);
  t.is(r.cfgRead(PCI_STATUS, 2), r.host.cfgRead(r.handle, PCI_STATUS, 2));
  const pm = 0x40;
  r.cfgWrite(pm + PCI_PM_CTRL, 2, 3);
  t.is(r.host.cfgRead(r.handle, pm + PCI_PM_CTRL, 2) & PCI_PM_CTRL_STATE_MASK, 3, 'D3hot reached the device');
  t.is(r.cfgRead(pm + PCI_PM_CTRL, 2) & PCI_PM_CTRL_STATE_MASK, 3);
});

test('extended config space (0x100 and up) is read from the host', (t) => {
  const r = rig(new TestDevDevice());
  t.is(r.front.configSize, 4096);
  t.is(r.cfgRead(0x100, 2), 0x000b, 'vendor-specific extended capability ID');
  t.is(r.cfgRead(0x104, 2), 0x5250, 'its VSEC ID');
});

test('a dword write at 0x04 updates the virtual command and forwards the status half as a word', (t) => {
  const r = rig(new EduDevice());
  r.host.resetCalls();
  r.cfgWrite(PCI_COMMAND, 4, (0xffff_0000 | PCI_COMMAND_MEMORY) >>> 0);
  t.deepEqual(r.host.calls, ['cfgWrite 0x4/2=0x2', 'cfgWrite 0x6/2=0xffff']);
  t.is(r.cfgRead(PCI_COMMAND, 2), PCI_COMMAND_MEMORY);
});

test('byte writes to the command register merge with its other byte', (t) => {
  const r = rig(new EduDevice());
  r.cfgWrite(PCI_COMMAND, 2, 0x0406);
  r.cfgWrite(PCI_COMMAND, 1, 0x02);
  t.is(r.cfgRead(PCI_COMMAND, 2), 0x0402);
  r.cfgWrite(PCI_COMMAND + 1, 1, 0);
  t.is(r.cfgRead(PCI_COMMAND, 2), 0x0002);
});

test('a host config failure reads all-ones instead of throwing into the vCPU', (t) => {
  const r = rig(new EduDevice());
  r.host.cfgRead = () => {
    throw new Error('device gone');
  };
  t.is(r.cfgRead(PCI_STATUS, 2), 0xffff);
  t.is(r.cfgRead(PCI_VENDOR_ID, 2), 0x1234, 'virtual registers still answer');
});
