// Unit tests of the emulated config space: write merging, W1C, read-only fields, BAR and ROM probes, capability chains.

import test from 'ava';
import type { BarDecl } from '../../r0/sim/config-header.js';
import { ConfigSpace } from '../../r0/sim/config-space.js';
import {
  PCI_BASE_ADDRESS_0,
  PCI_BASE_ADDRESS_2,
  PCI_CACHE_LINE_SIZE,
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_PM,
  PCI_CAP_ID_VNDR,
  PCI_CAPABILITY_LIST,
  PCI_CLASS_REVISION,
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_EXP_DEVSTA,
  PCI_EXP_FLAGS,
  PCI_EXP_LNKSTA,
  PCI_EXT_CAP_ID_DSN,
  PCI_EXT_CAP_ID_VNDR,
  PCI_HEADER_TYPE,
  PCI_INTERRUPT_LINE,
  PCI_INTERRUPT_PIN,
  PCI_MSI_ADDRESS_HI,
  PCI_MSI_ADDRESS_LO,
  PCI_MSI_DATA_64,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_64BIT,
  PCI_MSI_FLAGS_ENABLE,
  PCI_MSI_FLAGS_MASKBIT,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
  PCI_MSIX_PBA,
  PCI_MSIX_TABLE,
  PCI_PM_CTRL,
  PCI_PM_CTRL_PME_ENABLE,
  PCI_PM_CTRL_PME_STATUS,
  PCI_ROM_ADDRESS,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_STATUS_INTERRUPT,
  PCI_STATUS_REC_MASTER_ABORT,
  PCI_STATUS_SIG_TARGET_ABORT,
  PCI_SUBSYSTEM_VENDOR_ID,
  PCI_VENDOR_ID,
} from '../../shared/linux/pci-regs.js';
import { PCI_COMMAND_WRITABLE } from '../../shared/pci/header-bits.js';

function make(size = 256): ConfigSpace {
  return new ConfigSpace({
    size,
    vendorId: 0x1234,
    deviceId: 0xabcd,
    revision: 0x42,
    classCode: 0x02_0000,
    subsystemVendorId: 0x1af4,
    subsystemId: 0x1100,
    interruptPin: 1,
  });
}

test('the identity fields read back as constructed', (t) => {
  const c = make();
  t.is(c.read(PCI_VENDOR_ID, 4), 0xabcd_1234);
  t.is(c.read(PCI_CLASS_REVISION, 4), 0x0200_0042);
  t.is(c.read(PCI_SUBSYSTEM_VENDOR_ID, 4), 0x1100_1af4);
  t.is(c.read(PCI_HEADER_TYPE, 1), 0);
  t.is(c.read(PCI_INTERRUPT_PIN, 1), 1);
});

test('a guest write changes only the writable bits of the command register', (t) => {
  const c = make();
  c.write(PCI_COMMAND, 2, 0xffff);
  t.is(c.read(PCI_COMMAND, 2), PCI_COMMAND_WRITABLE);
  c.write(PCI_COMMAND, 2, 0);
  t.is(c.command, 0);
});

test('byte, word and dword writes at any in-range offset merge the same way', (t) => {
  const c = make();
  c.write(PCI_COMMAND + 1, 1, PCI_COMMAND_INTX_DISABLE >> 8);
  t.is(c.command, PCI_COMMAND_INTX_DISABLE);
  c.write(PCI_COMMAND, 4, 0xffff_0000 | PCI_COMMAND_MEMORY); // the status half is not writable
  t.is(c.read(PCI_COMMAND, 4), PCI_COMMAND_MEMORY);
  c.write(PCI_INTERRUPT_LINE, 2, 0x0409); // line takes 9, the pin stays 1
  t.is(c.read(PCI_INTERRUPT_LINE, 2), 0x0109);
  c.writeBytes(PCI_COMMAND + 1, Uint8Array.of(0xff, 0xff, 0xff));
  t.is(c.command, PCI_COMMAND_MEMORY | (PCI_COMMAND_WRITABLE & 0xff00));
});

test('status error bits are write-1-to-clear and the other status bits are read-only', (t) => {
  const c = make();
  c.setStatusBits(PCI_STATUS_SIG_TARGET_ABORT | PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_INTERRUPT, true);
  c.write(PCI_STATUS, 2, PCI_STATUS_SIG_TARGET_ABORT);
  t.is(c.status, PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_INTERRUPT);
  c.write(PCI_STATUS, 2, 0);
  t.is(c.status, PCI_STATUS_REC_MASTER_ABORT | PCI_STATUS_INTERRUPT, 'writing 0 clears nothing');
  c.write(PCI_STATUS, 2, 0xffff);
  t.is(c.status, PCI_STATUS_INTERRUPT, 'INTERRUPT is read-only, error bits cleared');
});

test('vendor, device, class, revision and header type ignore writes', (t) => {
  const c = make();
  for (const off of [0x00, 0x08, 0x0c, 0x2c]) c.write(off, 4, 0xffff_ffff);
  t.is(c.read(PCI_VENDOR_ID, 4), 0xabcd_1234);
  t.is(c.read(PCI_CLASS_REVISION, 4), 0x0200_0042);
  t.is(c.read(PCI_HEADER_TYPE, 1), 0);
  t.is(c.read(PCI_CACHE_LINE_SIZE, 1), 0xff, 'cache line size is writable');
  t.is(c.read(PCI_SUBSYSTEM_VENDOR_ID, 4), 0x1100_1af4);
});

test('the interrupt line is writable and the interrupt pin read-only', (t) => {
  const c = make();
  c.write(PCI_INTERRUPT_LINE, 1, 11);
  c.write(PCI_INTERRUPT_PIN, 1, 4);
  t.is(c.read(PCI_INTERRUPT_LINE, 1), 11);
  t.is(c.read(PCI_INTERRUPT_PIN, 1), 1);
});

test('accesses beyond the config space read all-ones and write nothing', (t) => {
  const c = make();
  t.is(c.read(0xfe, 4), 0xffff_ffff);
  t.is(c.read(0x100, 1), 0xff);
  t.false(c.write(0xfd, 4, 0));
  t.false(c.readBytes(0x100, new Uint8Array(1)));
  t.is(c.read(0, 3), 0xff_ffff, 'a bad width reads all-ones');
});

const barProbes: { name: string; decl: BarDecl; low: number; high?: number; flags: number }[] = [
  { name: 'I/O, 256 ports', decl: { index: 0, kind: 'io', size: 0x100 }, low: 0xffff_ff01, flags: 0x1 },
  { name: 'I/O, 4 ports', decl: { index: 0, kind: 'io', size: 4 }, low: 0xffff_fffd, flags: 0x1 },
  { name: '32-bit memory, 1 MiB', decl: { index: 0, kind: 'mem32', size: 0x10_0000 }, low: 0xfff0_0000, flags: 0 },
  { name: '32-bit prefetchable memory, 4 KiB', decl: { index: 0, kind: 'mem32', size: 0x1000, prefetchable: true }, low: 0xffff_f008, flags: 0x8 },
  {
    name: '64-bit prefetchable memory, 1 MiB',
    decl: { index: 0, kind: 'mem64', size: 0x10_0000, prefetchable: true },
    low: 0xfff0_000c,
    high: 0xffff_ffff,
    flags: 0xc,
  },
  { name: '64-bit memory, 8 GiB', decl: { index: 0, kind: 'mem64', size: 2 ** 33 }, low: 0x0000_0004, high: 0xffff_fffe, flags: 0x4 },
];

for (const p of barProbes) {
  test(`a BAR size probe reads back the size mask with the flag bits kept: ${p.name}`, (t) => {
    const c = make();
    c.addBar(p.decl);
    t.is(c.read(PCI_BASE_ADDRESS_0, 4), p.flags, 'power-on value is the flags alone');
    c.write(PCI_BASE_ADDRESS_0, 4, 0xffff_ffff);
    if (p.high !== undefined) c.write(PCI_BASE_ADDRESS_0 + 4, 4, 0xffff_ffff);
    t.is(c.read(PCI_BASE_ADDRESS_0, 4), p.low);
    if (p.high !== undefined) t.is(c.read(PCI_BASE_ADDRESS_0 + 4, 4), p.high);
    t.is(c.bar(0)!.flags, p.flags);
  });
}

test('a BAR write keeps the flag bits and drops address bits below the size', (t) => {
  const c = make();
  c.addBar({ index: 1, kind: 'mem32', size: 0x10_0000, prefetchable: true });
  c.write(PCI_BASE_ADDRESS_0 + 4, 4, 0xfebf_1230);
  t.is(c.read(PCI_BASE_ADDRESS_0 + 4, 4), 0xfeb0_0008);
  t.is(c.barAddress(1), 0xfeb0_0000n);
});

test('a 64-bit BAR address joins both halves, and a byte write moves only its byte', (t) => {
  const c = make();
  c.addBar({ index: 2, kind: 'mem64', size: 0x1000, prefetchable: true });
  c.write(PCI_BASE_ADDRESS_2, 4, 0x1234_5000);
  c.write(PCI_BASE_ADDRESS_2 + 4, 4, 0x80);
  t.is(c.barAddress(2), 0x80_1234_5000n);
  c.write(PCI_BASE_ADDRESS_2 + 3, 1, 0xab);
  t.is(c.barAddress(2), 0x80_ab34_5000n);
});

test('BAR addresses are unsigned: an I/O BAR after the all-ones probe and a 64-bit BAR at the top of the space', (t) => {
  const c = make();
  c.addBar({ index: 0, kind: 'io', size: 0x100 });
  c.addBar({ index: 2, kind: 'mem64', size: 0x1000 });
  c.write(PCI_BASE_ADDRESS_0, 4, 0xffff_ffff);
  t.is(c.barAddress(0), 0xffff_ff00n);
  c.write(PCI_BASE_ADDRESS_2, 4, 0xffff_ffff);
  c.write(PCI_BASE_ADDRESS_2 + 4, 4, 0xffff_ffff);
  t.is(c.barAddress(2), 0xffff_ffff_ffff_f000n);
});

test('unimplemented BAR slots read 0 and ignore writes, also the probe', (t) => {
  const c = make();
  c.addBar({ index: 0, kind: 'mem64', size: 0x1000 });
  for (const off of [0x18, 0x1c, 0x20, 0x24]) {
    c.write(off, 4, 0xffff_ffff);
    t.is(c.read(off, 4), 0, `BAR at 0x${off.toString(16)}`);
  }
  t.is(c.bars().length, 1);
});

test('a BAR declaration rejects bad sizes, bad indices and taken slots', (t) => {
  const c = make();
  t.throws(() => c.addBar({ index: 0, kind: 'mem32', size: 0x3000 }), { instanceOf: RangeError });
  t.throws(() => c.addBar({ index: 0, kind: 'mem32', size: 8 }), { instanceOf: RangeError });
  t.throws(() => c.addBar({ index: 5, kind: 'mem64', size: 0x1000 }), { instanceOf: RangeError });
  t.throws(() => c.addBar({ index: 0, kind: 'io', size: 16, prefetchable: true }), { instanceOf: RangeError });
  c.addBar({ index: 2, kind: 'mem64', size: 0x1000 });
  t.throws(() => c.addBar({ index: 3, kind: 'io', size: 16 }), { message: /slot 3 is already used/ });
});

test('the ROM BAR probe reads back the size mask and its enable bit is writable', (t) => {
  const c = make();
  c.addRom(0x8000);
  t.is(c.read(PCI_ROM_ADDRESS, 4), 0);
  c.write(PCI_ROM_ADDRESS, 4, 0xffff_fffe);
  t.is(c.read(PCI_ROM_ADDRESS, 4), 0xffff_8000);
  c.write(PCI_ROM_ADDRESS, 4, 0xfe10_8001);
  t.is(c.romAddress(), 0xfe10_8000);
  t.true(c.romEnabled());
  t.is(c.romSize, 0x8000);
  t.throws(() => make().addRom(0x400), { instanceOf: RangeError });
});

test('without a ROM the ROM BAR reads 0 whatever is written', (t) => {
  const c = make();
  c.write(PCI_ROM_ADDRESS, 4, 0xffff_ffff);
  t.is(c.read(PCI_ROM_ADDRESS, 4), 0);
});

test('a config space without capabilities has PCI_STATUS_CAP_LIST clear', (t) => {
  const c = make();
  t.is(c.status & PCI_STATUS_CAP_LIST, 0);
  t.deepEqual(c.capabilities(), []);
});

test('capabilities chain from PCI_CAPABILITY_LIST in order and set PCI_STATUS_CAP_LIST', (t) => {
  const c = make();
  c.addBar({ index: 0, kind: 'mem32', size: 0x1000 });
  const pm = c.addPowerManagement();
  const msi = c.addMsi({ vectors: 4, is64: true, perVectorMask: true });
  const msix = c.addMsix({ tableSize: 4, tableBir: 0, tableOffset: 0, pbaBir: 0, pbaOffset: 0x800 });
  const exp = c.addPciExpress();
  const vndr = c.addVendorSpecific(Uint8Array.of(1, 2, 3));
  t.not(c.status & PCI_STATUS_CAP_LIST, 0);
  t.is(c.read(PCI_CAPABILITY_LIST, 1), pm);
  t.deepEqual(c.capabilities(), [
    { id: PCI_CAP_ID_PM, offset: 0x40 },
    { id: PCI_CAP_ID_MSI, offset: 0x48 },
    { id: PCI_CAP_ID_MSIX, offset: 0x60 },
    { id: PCI_CAP_ID_EXP, offset: 0x6c },
    { id: PCI_CAP_ID_VNDR, offset: 0xa8 },
  ]);
  t.deepEqual([pm, msi, msix, exp, vndr], [0x40, 0x48, 0x60, 0x6c, 0xa8]);
  t.is(c.read(vndr + 1, 1), 0, 'the last capability ends the list');
  t.is(c.read(vndr + 2, 1), 6, 'vendor-specific length byte');
  t.is(c.findCapability(PCI_CAP_ID_MSIX), 0x60);
});

test('capability headers and the capability pointer are read-only', (t) => {
  const c = make();
  const at = c.addPowerManagement();
  c.write(at, 2, 0xffff);
  c.write(PCI_CAPABILITY_LIST, 1, 0x80);
  t.is(c.read(at, 2), PCI_CAP_ID_PM);
  t.is(c.read(PCI_CAPABILITY_LIST, 1), at);
});

test('a capability that does not fit or overlaps is refused', (t) => {
  const c = make();
  c.addPowerManagement();
  t.throws(() => c.addCapability(PCI_CAP_ID_VNDR, 8, 0x40), { instanceOf: RangeError });
  t.throws(() => c.addCapability(PCI_CAP_ID_VNDR, 0x40, 0xf0), { instanceOf: RangeError });
});

const msiLayouts = [
  { is64: false, mask: false, length: 10, dataAt: 0x8 },
  { is64: false, mask: true, length: 20, dataAt: 0x8 },
  { is64: true, mask: false, length: 14, dataAt: 0xc },
  { is64: true, mask: true, length: 24, dataAt: 0xc },
];
for (const l of msiLayouts) {
  test(`the MSI capability layout follows the choice of ${l.is64 ? 64 : 32}-bit address ${l.mask ? 'with' : 'without'} per-vector masking`, (t) => {
    const c = make();
    const at = c.addMsi({ vectors: 2, is64: l.is64, perVectorMask: l.mask });
    const next = c.addVendorSpecific(new Uint8Array(1));
    t.is(next, (at + l.length + 3) & ~3);
    const flags = c.read(at + PCI_MSI_FLAGS, 2);
    t.is(Boolean(flags & PCI_MSI_FLAGS_64BIT), l.is64);
    t.is(Boolean(flags & PCI_MSI_FLAGS_MASKBIT), l.mask);
    c.write(at + l.dataAt, 2, 0xbeef);
    t.is(c.msi()!.data, 0xbeef);
  });
}

test('msi() reports what the guest programmed, with MME clamped to the capable count', (t) => {
  const c = make();
  const at = c.addMsi({ vectors: 4, is64: true, perVectorMask: false });
  t.false(c.msi()!.enabled);
  c.write(at + PCI_MSI_ADDRESS_LO, 4, 0xfee0_100f);
  c.write(at + PCI_MSI_ADDRESS_HI, 4, 0x1);
  c.write(at + PCI_MSI_DATA_64, 2, 0x4120);
  c.write(at + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | (2 << 4));
  const s = c.msi()!;
  t.true(s.enabled);
  t.is(s.address, 0x1_fee0_100cn, 'address bits 1:0 are read-only');
  t.is(s.data, 0x4120);
  t.is(s.vectorsCapable, 4);
  t.is(s.vectorsEnabled, 4);
  c.write(at + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE | (5 << 4));
  t.is(c.msi()!.vectorsEnabled, 4);
  t.is(c.read(at + PCI_MSI_FLAGS, 2) & 0xe, 2 << 1, 'Multiple Message Capable is read-only');
});

test('an MSI address built from two all-ones dwords is 2^64-4, and a 32-bit MSI capability ignores the high dword', (t) => {
  const c = make();
  const at = c.addMsi({ vectors: 1, is64: true, perVectorMask: false });
  c.write(at + PCI_MSI_ADDRESS_LO, 4, 0xffff_ffff);
  c.write(at + PCI_MSI_ADDRESS_HI, 4, 0xffff_ffff);
  t.is(c.msi()!.address, 0xffff_ffff_ffff_fffcn);
  const c32 = make();
  const at32 = c32.addMsi({ vectors: 1, is64: false, perVectorMask: false });
  c32.write(at32 + PCI_MSI_ADDRESS_LO, 4, 0xffff_ffff);
  t.is(c32.msi()!.address, 0xffff_fffcn);
});

test('MSI-X table size and BIR/offsets are read-only while enable and function mask are writable', (t) => {
  const c = make();
  c.addBar({ index: 4, kind: 'mem32', size: 0x1000 });
  const at = c.addMsix({ tableSize: 8, tableBir: 4, tableOffset: 0, pbaBir: 4, pbaOffset: 0x800 });
  c.write(at + PCI_MSIX_FLAGS, 2, 0xffff);
  c.write(at + PCI_MSIX_TABLE, 4, 0);
  c.write(at + PCI_MSIX_PBA, 4, 0);
  t.is(c.read(at + PCI_MSIX_FLAGS, 2), PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL | 7);
  t.deepEqual(c.msix(), { offset: at, enabled: true, functionMask: true, tableSize: 8, tableBir: 4, tableOffset: 0, pbaBir: 4, pbaOffset: 0x800 });
  t.throws(() => c.addMsix({ tableSize: 8, tableBir: 1, tableOffset: 0, pbaBir: 4, pbaOffset: 0x800 }), { message: /tableBir 1/ });
});

test('power management: PowerState and PME_En are writable and PME_Status is write-1-to-clear', (t) => {
  const c = make();
  const at = c.addPowerManagement({ noSoftReset: false });
  c.set16(at + PCI_PM_CTRL, PCI_PM_CTRL_PME_STATUS);
  c.write(at + PCI_PM_CTRL, 2, 0x0003 | PCI_PM_CTRL_PME_ENABLE);
  t.is(c.read(at + PCI_PM_CTRL, 2), PCI_PM_CTRL_PME_STATUS | PCI_PM_CTRL_PME_ENABLE | 3);
  c.write(at + PCI_PM_CTRL, 2, PCI_PM_CTRL_PME_STATUS);
  t.is(c.read(at + PCI_PM_CTRL, 2), 0);
});

test('PCI Express: an endpoint v2 capability with W1C device status and read-only link status', (t) => {
  const c = make(4096);
  const at = c.addPciExpress({ flr: true });
  t.is(c.read(at + PCI_EXP_FLAGS, 2), 0x0002);
  c.set16(at + PCI_EXP_DEVSTA, 0x0009);
  c.write(at + PCI_EXP_DEVSTA, 2, 0x0001);
  t.is(c.read(at + PCI_EXP_DEVSTA, 2), 0x0008);
  c.write(at + PCI_EXP_LNKSTA, 2, 0);
  t.is(c.read(at + PCI_EXP_LNKSTA, 2), 0x0011, 'x1 at 2.5 GT/s');
});

test('extended capabilities chain from 0x100 in a 4 KiB config space', (t) => {
  const c = make(4096);
  t.deepEqual(c.extendedCapabilities(), [], 'an empty list reads 0 at 0x100');
  const a = c.addVendorSpecificExtended(0x5250, 1, Uint8Array.of(0xaa, 0xbb));
  const b = c.addExtendedCapability(PCI_EXT_CAP_ID_DSN, 1, 12);
  t.is(a, 0x100);
  t.is(b, 0x10c);
  t.is(c.read(0x100, 4), (PCI_EXT_CAP_ID_VNDR | (1 << 16) | (0x10c << 20)) >>> 0);
  t.is(c.read(0x104, 4), (0x5250 | (1 << 16) | (10 << 20)) >>> 0);
  t.deepEqual(c.extendedCapabilities(), [
    { id: PCI_EXT_CAP_ID_VNDR, offset: 0x100 },
    { id: PCI_EXT_CAP_ID_DSN, offset: 0x10c },
  ]);
  c.write(0x100, 4, 0);
  t.is(c.findExtendedCapability(PCI_EXT_CAP_ID_DSN), 0x10c, 'extended headers are read-only');
});

test('extended capabilities need a 4 KiB config space', (t) => {
  t.throws(() => make(256).addExtendedCapability(PCI_EXT_CAP_ID_DSN, 1, 12), { instanceOf: RangeError });
  t.throws(() => make(512), { instanceOf: RangeError });
});

test('resetToPowerOn restores BARs, command and capability state', (t) => {
  const c = make();
  c.addBar({ index: 0, kind: 'mem32', size: 0x1000 });
  const msi = c.addMsi({ vectors: 1, is64: false, perVectorMask: false });
  c.capturePowerOn();
  c.write(PCI_BASE_ADDRESS_0, 4, 0xfe00_0000);
  c.write(PCI_COMMAND, 2, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  c.write(msi + PCI_MSI_FLAGS, 2, PCI_MSI_FLAGS_ENABLE);
  c.resetToPowerOn();
  t.is(c.barAddress(0), 0n);
  t.is(c.command, 0);
  t.false(c.msi()!.enabled);
  c.write(PCI_BASE_ADDRESS_0, 4, 0xffff_ffff);
  t.is(c.read(PCI_BASE_ADDRESS_0, 4), 0xffff_f000, 'masks survive a reset');
});
