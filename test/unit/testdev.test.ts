// Unit tests of rawpci-testdev against docs/testdev.md: identity, regions, BAR0 registers, BAR2 memory, MSI-X, ROM, PM, FLR.

import test from 'ava';
import { HostBridgeDevice } from '../../r0/sim/models/host-bridge.js';
import { buildTestDevRom, TESTDEV_CAP, TESTDEV_ID_VALUE, TESTDEV_REG, TestDevDevice } from '../../r0/sim/models/testdev.js';
import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_2,
  PCI_BASE_ADDRESS_3,
  PCI_BASE_ADDRESS_4,
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_PM,
  PCI_CAP_ID_VNDR,
  PCI_CLASS_REVISION,
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_EXP_DEVCAP,
  PCI_EXP_DEVCAP_FLR,
  PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL_BCR_FLR,
  PCI_EXT_CAP_ID_VNDR,
  PCI_INTERRUPT_PIN,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
  PCI_PM_CTRL,
  PCI_ROM_ADDRESS,
  PCI_STATUS,
  PCI_STATUS_INTERRUPT,
  PCI_VENDOR_ID,
} from '../../shared/linux/pci-regs.js';
import { cfgRead, cfgWrite, FakeSimHost, identityOf, ioRead, ioWrite, memRead, memRead64, memWrite } from '../helpers/fake-sim-host.js';

function setup(options: Record<string, unknown> = {}): {
  dev: TestDevDevice;
  host: FakeSimHost;
} {
  const dev = new TestDevDevice(options);
  const host = new FakeSimHost();
  dev.open(host);
  return { dev, host };
}

/** Programs MSI-X entry `v` (address 0xfee0_0000 + v * 0x10, data 0x40 + v) and unmasks it. */
function programEntry(dev: TestDevDevice, v: number, unmask = true): void {
  memWrite(dev, 4, v * 16, 8, 0xfee0_0000n + BigInt(v * 0x10));
  memWrite(dev, 4, v * 16 + 8, 4, 0x40 + v);
  memWrite(dev, 4, v * 16 + 12, 4, unmask ? 0 : 1);
}

function enableMsix(dev: TestDevDevice, extra = 0): void {
  cfgWrite(dev, PCI_COMMAND, 2, PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  cfgWrite(dev, TESTDEV_CAP.MSIX + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE | extra);
}

test('testdev identity: vendor 0x1234 device 0x5250, revision 0x01, class 0x00ff00, subsystem 0x1234:0x0001, pin A, 4 KiB config', (t) => {
  const { dev } = setup();
  t.deepEqual(identityOf(dev), { id: 0x5250_1234, classRevision: 0x00ff_0001, subsystem: 0x0001_1234, interruptPin: 1, configSize: 4096 });
});

const regionTable = [
  {
    name: 'BAR0 I/O, 256 ports',
    index: 0,
    kind: 'io',
    size: 0x100,
    prefetchable: undefined,
    backed: false,
    reg: PCI_BASE_ADDRESS_0,
    probe: [0xffff_ff01],
  },
  {
    name: 'BAR2 64-bit prefetchable memory, 1 MiB',
    index: 2,
    kind: 'mem64',
    size: 0x10_0000,
    prefetchable: true,
    backed: true,
    reg: PCI_BASE_ADDRESS_2,
    probe: [0xfff0_000c, 0xffff_ffff],
  },
  {
    name: 'BAR4 32-bit memory, 4 KiB',
    index: 4,
    kind: 'mem32',
    size: 0x1000,
    prefetchable: false,
    backed: false,
    reg: PCI_BASE_ADDRESS_4,
    probe: [0xffff_f000],
  },
  {
    name: 'expansion ROM, 32 KiB',
    index: 6,
    kind: 'rom',
    size: 0x8000,
    prefetchable: undefined,
    backed: false,
    reg: PCI_ROM_ADDRESS,
    probe: [0xffff_8000],
  },
] as const;

for (const r of regionTable) {
  test(`region info and size probe of ${r.name}`, (t) => {
    const { dev } = setup();
    const region = dev.regions().find((x) => x.index === r.index);
    t.truthy(region);
    t.is(region!.kind, r.kind);
    t.is(region!.size, r.size);
    t.is(region!.prefetchable, r.prefetchable);
    t.is(region!.backing !== undefined, r.backed);
    if (r.backed) t.is(region!.backing!.byteLength, r.size);
    const probeValue = r.kind === 'rom' ? 0xffff_fffe : 0xffff_ffff;
    for (let i = 0; i < r.probe.length; i++) cfgWrite(dev, r.reg + 4 * i, 4, probeValue);
    t.deepEqual(
      r.probe.map((_, i) => cfgRead(dev, r.reg + 4 * i, 4)),
      [...r.probe],
    );
  });
}

test('BAR1 and BAR5 are not implemented and regions() lists exactly 0, 2, 4 and the ROM', (t) => {
  const { dev } = setup();
  t.deepEqual(
    dev.regions().map((r) => r.index),
    [0, 2, 4, 6],
  );
  for (const off of [0x14, 0x24]) {
    cfgWrite(dev, off, 4, 0xffff_ffff);
    t.is(cfgRead(dev, off, 4), 0);
  }
  cfgWrite(dev, PCI_BASE_ADDRESS_3, 4, 0x80);
  cfgWrite(dev, PCI_BASE_ADDRESS_2, 4, 0x1000_0000);
  t.is(dev.config.barAddress(2), 0x80_1000_0000n);
});

test('capabilities: PM at 0x40, MSI-X at 0x50, PCI Express at 0x60, vendor-specific at 0xa0, vendor-specific extended at 0x100', (t) => {
  const { dev } = setup();
  t.deepEqual(dev.config.capabilities(), [
    { id: PCI_CAP_ID_PM, offset: 0x40 },
    { id: PCI_CAP_ID_MSIX, offset: 0x50 },
    { id: PCI_CAP_ID_EXP, offset: 0x60 },
    { id: PCI_CAP_ID_VNDR, offset: 0xa0 },
  ]);
  t.deepEqual(dev.config.extendedCapabilities(), [{ id: PCI_EXT_CAP_ID_VNDR, offset: 0x100 }]);
  t.is(cfgRead(dev, 0x100, 4), PCI_EXT_CAP_ID_VNDR | (1 << 16), 'version 1, last in the chain');
  t.is(cfgRead(dev, 0x104, 4), (0x5250 | (1 << 16) | (0x10 << 20)) >>> 0);
  t.is(Buffer.from(dev.config.bytes.subarray(0x108, 0x110)).toString('latin1'), 'RAWPCITD');
  t.is(cfgRead(dev, 0xa2, 1), 8);
  t.is(Buffer.from(dev.config.bytes.subarray(0xa3, 0xa7)).toString('latin1'), 'RPCI');
  t.deepEqual(dev.config.msix(), {
    offset: 0x50,
    enabled: false,
    functionMask: false,
    tableSize: 8,
    tableBir: 4,
    tableOffset: 0,
    pbaBir: 4,
    pbaOffset: 0x800,
  });
  t.not(cfgRead(dev, TESTDEV_CAP.EXP + PCI_EXP_DEVCAP, 4) & PCI_EXP_DEVCAP_FLR, 0);
});

// ---- BAR0 registers -------------------------------------------------------------------------

test('BAR0 0x00 ID reads 0x52500001 and ignores writes', (t) => {
  const { dev } = setup();
  t.is(ioRead(dev, 0, TESTDEV_REG.ID, 4), TESTDEV_ID_VALUE);
  ioWrite(dev, 0, TESTDEV_REG.ID, 4, 0);
  t.is(ioRead(dev, 0, TESTDEV_REG.ID, 4), 0x5250_0001);
});

test('BAR0 0x04 SCRATCH keeps what was written at widths 1, 2 and 4 at any port inside it', (t) => {
  const { dev } = setup();
  ioWrite(dev, 0, 0x04, 4, 0x1122_3344);
  t.is(ioRead(dev, 0, 0x04, 4), 0x1122_3344);
  ioWrite(dev, 0, 0x05, 2, 0xaabb);
  t.is(ioRead(dev, 0, 0x04, 4), 0x11aa_bb44);
  ioWrite(dev, 0, 0x07, 1, 0x99);
  t.is(ioRead(dev, 0, 0x06, 2), 0x99aa);
  t.is(ioRead(dev, 0, 0x04, 1), 0x44);
});

test('BAR0 registers other than SCRATCH take only 4-byte accesses: others read all ones and writes are ignored', (t) => {
  const { dev, host } = setup();
  t.is(ioRead(dev, 0, TESTDEV_REG.ID, 2), 0xffff);
  t.is(ioRead(dev, 0, TESTDEV_REG.ID + 1, 1), 0xff);
  t.is(ioRead(dev, 0, 0x06, 4), 0xffff_ffff, 'a dword crossing out of SCRATCH');
  ioWrite(dev, 0, TESTDEV_REG.DOORBELL, 2, 0);
  t.deepEqual(host.irqEvents, []);
  t.true(host.logs.some((l) => l.includes('bad width')));
});

test('BAR0 undefined ports read all ones and ignore writes; DOORBELL reads all ones', (t) => {
  const { dev } = setup();
  for (const port of [0x1c, 0x20, 0x80, 0xfc]) {
    t.is(ioRead(dev, 0, port, 4), 0xffff_ffff);
    ioWrite(dev, 0, port, 4, 0);
  }
  t.is(ioRead(dev, 0, TESTDEV_REG.DOORBELL, 4), 0xffff_ffff);
  t.false(dev.readIo(0, 0xfe, new Uint8Array(4)), 'an access leaving BAR0 is refused');
  t.false(dev.readIo(1, 0, new Uint8Array(4)));
});

test('BAR0 0x10 ACCESS_COUNT counts earlier accesses, and a write clears it without counting', (t) => {
  const { dev } = setup();
  t.is(ioRead(dev, 0, TESTDEV_REG.ACCESS_COUNT, 4), 0);
  ioRead(dev, 0, TESTDEV_REG.ID, 4);
  ioWrite(dev, 0, 0x04, 1, 1);
  ioRead(dev, 0, 0xfc, 4); // undefined ports count too
  t.is(ioRead(dev, 0, TESTDEV_REG.ACCESS_COUNT, 4), 4);
  ioWrite(dev, 0, TESTDEV_REG.ACCESS_COUNT, 4, 1234);
  t.is(ioRead(dev, 0, TESTDEV_REG.ACCESS_COUNT, 4), 0);
  t.is(ioRead(dev, 0, TESTDEV_REG.ACCESS_COUNT, 4), 1);
});

test('BAR0 0x14 VECTORS and 0x18 MEM_SIZE describe the device', (t) => {
  const { dev } = setup();
  t.is(ioRead(dev, 0, TESTDEV_REG.VECTORS, 4), 8);
  t.is(ioRead(dev, 0, TESTDEV_REG.MEM_SIZE, 4), 0x10_0000);
  const small = setup({ memBarSize: 0x4000, msixVectors: 2 }).dev;
  t.is(ioRead(small, 0, TESTDEV_REG.VECTORS, 4), 2);
  t.is(ioRead(small, 0, TESTDEV_REG.MEM_SIZE, 4), 0x4000);
  t.is(small.config.msix()!.tableSize, 2);
});

// ---- interrupts -----------------------------------------------------------------------------

test('a doorbell with MSI-X off asserts INTx (level) and the W1C IRQ_STATUS ack deasserts it', (t) => {
  const { dev, host } = setup();
  ioWrite(dev, 0, TESTDEV_REG.DOORBELL, 4, 3);
  ioWrite(dev, 0, TESTDEV_REG.DOORBELL, 4, 5);
  t.is(ioRead(dev, 0, TESTDEV_REG.IRQ_STATUS, 4), 0x28);
  t.true(host.irqLevel);
  t.not(cfgRead(dev, PCI_STATUS, 2) & PCI_STATUS_INTERRUPT, 0);
  ioWrite(dev, 0, TESTDEV_REG.IRQ_STATUS, 4, 0x08);
  t.true(host.irqLevel, 'still one cause pending');
  ioWrite(dev, 0, TESTDEV_REG.IRQ_STATUS, 4, 0x20);
  t.false(host.irqLevel);
  t.deepEqual(host.irqEvents, ['raise', 'lower']);
});

test('INTX_DISABLE holds the INTx line down', (t) => {
  const { dev, host } = setup();
  cfgWrite(dev, PCI_COMMAND, 2, PCI_COMMAND_INTX_DISABLE);
  ioWrite(dev, 0, TESTDEV_REG.DOORBELL, 4, 0);
  t.false(host.irqLevel);
  t.true(dev.intxAsserted);
});

test('a doorbell with MSI-X enabled sends the table entry given by the written value', (t) => {
  const { dev, host } = setup();
  programEntry(dev, 5);
  enableMsix(dev);
  ioWrite(dev, 0, TESTDEV_REG.DOORBELL, 4, 5);
  t.deepEqual(host.msis, [{ kind: 'msix', vector: 5, address: 0xfee0_0050n, data: 0x45 }]);
  t.false(host.irqLevel, 'no INTx with MSI-X');
  ioWrite(dev, 0, TESTDEV_REG.DOORBELL, 4, 5);
  t.is(host.msis.length, 2, 'an edge per doorbell');
});

test('an MSI-X entry with both address dwords all ones sends bus address 2^64-1, never a negative or wider value', (t) => {
  const { dev, host } = setup();
  memWrite(dev, 4, 3 * 16, 4, 0xffff_ffff);
  memWrite(dev, 4, 3 * 16 + 4, 4, 0xffff_ffff);
  memWrite(dev, 4, 3 * 16 + 8, 4, 0xffff_ffff);
  memWrite(dev, 4, 3 * 16 + 12, 4, 0);
  enableMsix(dev);
  ioWrite(dev, 0, TESTDEV_REG.DOORBELL, 4, 3);
  t.deepEqual(host.msis, [{ kind: 'msix', vector: 3, address: 0xffff_ffff_ffff_ffffn, data: 0xffff_ffff }]);
  t.is(dev.msixEntry(3)?.address, 0xffff_ffff_ffff_ffffn);
  t.is(dev.msixEntry(1.5), undefined, 'a fractional vector names no entry');
  t.false(dev.msixPending(Number.NaN));
});

test('MSI-X table entries start masked: a masked vector sets its PBA bit and is sent on unmask', (t) => {
  const { dev, host } = setup();
  t.is(memRead(dev, 4, 2 * 16 + 12, 4), 1, 'entry 2 masked at power-on');
  enableMsix(dev);
  memWrite(dev, 4, 2 * 16, 4, 0xfee0_1000);
  memWrite(dev, 4, 2 * 16 + 8, 4, 0x77);
  ioWrite(dev, 0, TESTDEV_REG.DOORBELL, 4, 2);
  t.deepEqual(host.msis, []);
  t.is(memRead(dev, 4, 0x800, 4), 1 << 2, 'PBA bit 2 pending');
  t.true(dev.msixPending(2));
  memWrite(dev, 4, 2 * 16 + 12, 4, 0);
  t.deepEqual(host.msis, [{ kind: 'msix', vector: 2, address: 0xfee0_1000n, data: 0x77 }]);
  t.is(memRead64(dev, 4, 0x800, 8), 0n, 'PBA bit cleared once sent');
});

test('the MSI-X function mask holds every vector pending until it is cleared', (t) => {
  const { dev, host } = setup();
  programEntry(dev, 0);
  programEntry(dev, 1);
  enableMsix(dev, PCI_MSIX_FLAGS_MASKALL);
  ioWrite(dev, 0, TESTDEV_REG.DOORBELL, 4, 0);
  ioWrite(dev, 0, TESTDEV_REG.DOORBELL, 4, 1);
  t.is(host.msis.length, 0);
  t.is(memRead(dev, 4, 0x800, 4), 0b11);
  cfgWrite(dev, TESTDEV_CAP.MSIX + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
  t.deepEqual(
    host.msis.map((m) => m.vector),
    [0, 1],
  );
});

test('MSI-X needs bus mastering: without it the message is dropped and logged', (t) => {
  const { dev, host } = setup();
  programEntry(dev, 0);
  cfgWrite(dev, TESTDEV_CAP.MSIX + PCI_MSIX_FLAGS, 2, PCI_MSIX_FLAGS_ENABLE);
  ioWrite(dev, 0, TESTDEV_REG.DOORBELL, 4, 0);
  t.is(host.msis.length, 0);
  t.false(host.irqLevel);
  t.true(host.logs.some((l) => l.includes('bus mastering')));
});

test('a doorbell beyond the vector count is logged and ignored', (t) => {
  const { dev, host } = setup();
  ioWrite(dev, 0, TESTDEV_REG.DOORBELL, 4, 8);
  t.is(ioRead(dev, 0, TESTDEV_REG.IRQ_STATUS, 4), 0);
  t.false(host.irqLevel);
  t.true(host.logs.some((l) => l.includes('doorbell 8')));
});

test('enabling MSI-X deasserts a pending INTx', (t) => {
  const { dev, host } = setup();
  ioWrite(dev, 0, TESTDEV_REG.DOORBELL, 4, 0);
  t.true(host.irqLevel);
  enableMsix(dev);
  t.false(host.irqLevel);
});

test('MSI-X table and PBA take aligned 4- and 8-byte accesses; the PBA and vector control reserved bits are read-only', (t) => {
  const { dev } = setup();
  t.is(memRead(dev, 4, 0, 2), 0xffff);
  memWrite(dev, 4, 2, 4, 0x1234_5678);
  t.is(memRead(dev, 4, 0, 4), 0);
  memWrite(dev, 4, 12, 4, 0xffff_ffff);
  t.is(memRead(dev, 4, 12, 4), 1);
  memWrite(dev, 4, 0x800, 8, 0xffn);
  t.is(memRead64(dev, 4, 0x800, 8), 0n);
  t.is(memRead(dev, 4, 0x400, 4), 0xffff_ffff, 'between table and PBA: undefined');
});

// ---- BAR2 memory ----------------------------------------------------------------------------

test('BAR2 is plain memory at widths 1, 2, 4 and 8, shared with its backing SharedArrayBuffer', (t) => {
  const { dev } = setup();
  memWrite(dev, 2, 0x10, 8, 0x0102_0304_0506_0708n);
  t.is(memRead64(dev, 2, 0x10, 8), 0x0102_0304_0506_0708n);
  t.is(memRead(dev, 2, 0x10, 4), 0x0506_0708);
  t.is(memRead(dev, 2, 0x13, 2), 0x0405);
  t.is(memRead(dev, 2, 0x17, 1), 0x01);
  memWrite(dev, 2, 0xf_ffff, 1, 0xab);
  const backing = new Uint8Array(dev.regions().find((r) => r.index === 2)!.backing!);
  t.is(backing[0x10], 0x08);
  t.is(backing[0xf_ffff], 0xab);
  backing[0x2000] = 0x5a;
  t.is(memRead(dev, 2, 0x2000, 1), 0x5a, 'a ring-3 view and MMIO see the same bytes');
  t.false(dev.readMem(2, 0x10_0000, new Uint8Array(1)), 'past the BAR is refused');
});

// ---- ROM ------------------------------------------------------------------------------------

test('the expansion ROM has a valid PCI ROM header, a PCIR structure matching the device and a zero checksum', (t) => {
  const { dev } = setup();
  const rom = new Uint8Array(0x8000);
  for (let off = 0; off < rom.length; off += 4) rom.set(new Uint8Array(new Uint32Array([memRead(dev, 6, off, 4)]).buffer), off);
  const view = new DataView(rom.buffer);
  t.is(rom[0], 0x55);
  t.is(rom[1], 0xaa);
  t.is(rom[2] * 512, 0x8000, 'legacy image length');
  const pcir = view.getUint16(0x18, true);
  t.is(Buffer.from(rom.subarray(pcir, pcir + 4)).toString('latin1'), 'PCIR');
  t.is(view.getUint16(pcir + 4, true), 0x1234);
  t.is(view.getUint16(pcir + 6, true), 0x5250);
  t.is(view.getUint16(pcir + 0x0a, true), 0x1c);
  t.is(rom[pcir + 0x0c], 3);
  t.deepEqual([...rom.subarray(pcir + 0x0d, pcir + 0x10)], [0x00, 0xff, 0x00]);
  t.is(view.getUint16(pcir + 0x10, true) * 512, 0x8000, 'image length in 512-byte units');
  t.is(rom[pcir + 0x14], 0, 'code type x86');
  t.is(rom[pcir + 0x15], 0x80, 'last image');
  t.is(
    rom.reduce((s, b) => (s + b) & 0xff, 0),
    0,
  );
  t.deepEqual(rom, buildTestDevRom());
});

test('ROM writes are ignored', (t) => {
  const { dev } = setup();
  memWrite(dev, 6, 0, 4, 0);
  t.is(memRead(dev, 6, 0, 2), 0xaa55);
});

// ---- power management, FLR, reset, options --------------------------------------------------

test('PM: D3hot is accepted and an unsupported D1 write is discarded', (t) => {
  const { dev } = setup();
  cfgWrite(dev, TESTDEV_CAP.PM + PCI_PM_CTRL, 2, 3);
  t.is(cfgRead(dev, TESTDEV_CAP.PM + PCI_PM_CTRL, 2) & 3, 3);
  cfgWrite(dev, TESTDEV_CAP.PM + PCI_PM_CTRL, 2, 1);
  t.is(cfgRead(dev, TESTDEV_CAP.PM + PCI_PM_CTRL, 2) & 3, 3);
});

test('Initiate FLR resets the function: config, registers, MSI-X table and BAR2 memory back to power-on', (t) => {
  const { dev, host } = setup();
  cfgWrite(dev, PCI_BASE_ADDRESS_0, 4, 0xc000);
  programEntry(dev, 1);
  enableMsix(dev);
  ioWrite(dev, 0, 0x04, 4, 0xdead_beef);
  memWrite(dev, 2, 0, 4, 0x1234_5678);
  const backing = dev.regions().find((r) => r.index === 2)!.backing!;
  cfgWrite(dev, TESTDEV_CAP.EXP + PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR);
  t.is(cfgRead(dev, PCI_BASE_ADDRESS_0, 4), 0x1, 'BAR address gone, flag kept');
  t.is(cfgRead(dev, PCI_COMMAND, 2), 0);
  t.is(cfgRead(dev, TESTDEV_CAP.EXP + PCI_EXP_DEVCTL, 2) & PCI_EXP_DEVCTL_BCR_FLR, 0, 'Initiate FLR reads 0');
  t.false(dev.config.msix()!.enabled);
  t.is(memRead(dev, 4, 16 + 12, 4), 1, 'entries masked again');
  t.is(memRead64(dev, 4, 16, 8), 0n);
  t.is(ioRead(dev, 0, 0x04, 4), 0);
  t.is(memRead(dev, 2, 0, 4), 0);
  t.is(dev.regions().find((r) => r.index === 2)!.backing, backing, 'same SharedArrayBuffer after reset');
  t.true(host.logs.some((l) => l.includes('function level reset')));
});

test('testdev options are validated with the option named', (t) => {
  t.throws(() => new TestDevDevice({ memBarSize: 3000 }), {
    instanceOf: RangeError,
    message: /memBarSize/,
  });
  t.throws(() => new TestDevDevice({ msixVectors: 33 }), {
    instanceOf: RangeError,
    message: /msixVectors/,
  });
  t.throws(() => new TestDevDevice({ bogus: 1 }), {
    instanceOf: TypeError,
    message: /memBarSize, msixVectors/,
  });
  // A bigint (from an inventory built in code) gets the option's own error, not JSON's.
  t.throws(() => new TestDevDevice({ memBarSize: 4096n }), { instanceOf: RangeError, message: /memBarSize 4096n/ });
  t.throws(() => new TestDevDevice({ msixVectors: 8n }), { instanceOf: RangeError, message: /msixVectors 8n/ });
});

// ---- host bridge ----------------------------------------------------------------------------

test('the host bridge is class 0x0600 with q35 identity, no regions and no BARs', (t) => {
  const dev = new HostBridgeDevice();
  t.is(cfgRead(dev, PCI_VENDOR_ID, 4), 0x29c0_8086);
  t.is(cfgRead(dev, PCI_CLASS_REVISION, 4) >>> 8, 0x06_0000);
  t.deepEqual(dev.regions(), []);
  for (let off = PCI_BASE_ADDRESS_0; off <= 0x24; off += 4) {
    cfgWrite(dev, off, 4, 0xffff_ffff);
    t.is(cfgRead(dev, off, 4), 0);
  }
  t.is(cfgRead(dev, PCI_INTERRUPT_PIN, 1), 0);
  t.false(dev.readIo(0, 0, new Uint8Array(4)));
  t.false(dev.readMem(0, 0, new Uint8Array(4)));
  t.throws(() => new HostBridgeDevice({ x: 1 }), { instanceOf: TypeError });
});
