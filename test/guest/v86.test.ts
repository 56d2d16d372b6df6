// The v86 bridge on a real v86 0.5.462 CPU (no BIOS, no guest: the test drives v86's own port and MMIO dispatch as a guest's instructions would).

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import test from 'ava';
import { V86 } from 'v86';
import { TESTDEV_ID_VALUE, TESTDEV_REG } from '../../r0/sim/models/testdev.js';
import { GuestPciBus } from '../../r3/guest/guest-bus.js';
import { PciFront } from '../../r3/guest/pci-front.js';
import { attachToV86, missingV86Internals, V86_PINNED_VERSION, type V86Bridge, type V86Cpu } from '../../r3/guest/v86.js';
import { EDU_REG } from '../../shared/devices/edu.js';
import {
  PCI_BASE_ADDRESS_0,
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_INTERRUPT_LINE,
} from '../../shared/linux/pci-regs.js';
import { PCIRAW_POWER } from '../../shared/protocol.js';
import { chooseSlots } from '../../src/vm/v86-vm.js';
import { EDU, TESTDEV, withVm } from '../helpers/ring0.js';
import { RecordingSink } from './helpers/rig.js';

const require = createRequire(import.meta.url);
const V86_DIR = dirname(dirname(require.resolve('v86')));
const EDU_SLOT = 3;
const TD_SLOT = 4;
const EDU_BAR0 = 0xf000_0000;
const TD_PORTS = 0xc000;

/** A v86 emulator loaded (not running) with `memory_size` bytes of RAM; destroyed after `body`. */
async function withV86<T>(body: (emulator: V86, cpu: V86Cpu) => Promise<T>): Promise<T> {
  const emulator = new V86({
    wasm_path: join(V86_DIR, 'build', 'v86.wasm'),
    autostart: false,
    memory_size: 64 << 20,
    disable_keyboard: true,
    disable_mouse: true,
    disable_speaker: true,
  } as ConstructorParameters<typeof V86>[0]);
  await new Promise<void>((resolve) => emulator.add_listener('emulator-loaded', () => resolve()));
  try {
    return await body(emulator, (emulator as unknown as { v86: { cpu: V86Cpu } }).v86.cpu);
  } finally {
    await emulator.destroy();
  }
}

interface Rig {
  cpu: V86Cpu & {
    io: { port_read32(p: number): number; port_write32(p: number, v: number): void; port_write16(p: number, v: number): void };
    mmap_read32(a: number): number;
    mmap_write32(a: number, v: number): void;
  };
  bridge: V86Bridge;
  sink: RecordingSink;
  raised: number[];
  lowered: number[];
  warnings: string[];
}

/** edu at slot 3 and the testdev at slot 4 of a v86 bus, on the real ring 0 (simulated host). */
async function withRig(body: (rig: Rig) => Promise<void>): Promise<void> {
  await withVm(async (vm) => {
    await withV86(async (emulator, cpu) => {
      const sink = new RecordingSink();
      const bus = new GuestPciBus({ sink });
      for (const [bdf, slot] of [
        [EDU, EDU_SLOT],
        [TESTDEV, TD_SLOT],
      ] as const) {
        const h = vm.openDevice(bdf, { detachHostDriver: true });
        vm.powerStateChange(h, PCIRAW_POWER.ON);
        bus.attach(new PciFront(vm, h), slot);
      }
      const raised: number[] = [];
      const lowered: number[] = [];
      cpu.device_raise_irq = (n) => void raised.push(n);
      cpu.device_lower_irq = (n) => void lowered.push(n);
      const warnings: string[] = [];
      const bridge = attachToV86(emulator as never, bus, { onWarning: (m) => warnings.push(m) });
      const stop = bus.connect(vm);
      try {
        await body({ cpu: cpu as Rig['cpu'], bridge, sink, raised, lowered, warnings });
      } finally {
        stop();
        bridge.detach();
      }
    });
  });
}

/** A config cycle through v86's 0xCF8/0xCFC handlers, as a guest's `outl`/`inl`. */
function cfgRead(cpu: Rig['cpu'], slot: number, offset: number): number {
  cpu.io.port_write32(0xcf8, (0x8000_0000 | (slot << 11) | offset) >>> 0);
  return cpu.io.port_read32(0xcfc) >>> 0;
}
function cfgWrite(cpu: Rig['cpu'], slot: number, offset: number, value: number): void {
  cpu.io.port_write32(0xcf8, (0x8000_0000 | (slot << 11) | offset) >>> 0);
  cpu.io.port_write32(0xcfc, value >>> 0);
}

async function until(what: string, cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test(`package.json pins v86 to exactly ${V86_PINNED_VERSION}, the version whose internals the bridge uses`, (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
  t.is(pkg.dependencies.v86, V86_PINNED_VERSION);
  t.is(JSON.parse(readFileSync(join(V86_DIR, 'package.json'), 'utf8')).version.split('+')[0], V86_PINNED_VERSION);
});

test('the installed v86 has every internal hook the bridge uses (this fails loudly when they move)', async (t) => {
  await withV86(async (_e, cpu) => {
    t.deepEqual(missingV86Internals(cpu), []);
  });
});

test('a v86 without those internals is refused with a message naming each missing one and the pinned version', (t) => {
  const bus = new GuestPciBus({ sink: new RecordingSink() });
  const err = t.throws(() => attachToV86({ v86: { cpu: { io: { ports: [] }, devices: {} } } }, bus));
  t.regex(err!.message, /cpu\.devices\.pci\.pci_query \(expected function, found undefined\)/);
  t.regex(err!.message, new RegExp(`v86@${V86_PINNED_VERSION.replaceAll('.', '\\.')}`));
  t.notRegex(err!.message, /cpu\.io\.ports /);
});

test("config cycles through v86's 0xCF8/0xCFC reach the bus's functions, and v86's own slots stay v86's", async (t) => {
  await withRig(async ({ cpu, bridge }) => {
    t.is(cfgRead(cpu, EDU_SLOT, 0), 0x11e8_1234, 'edu vendor/device');
    t.is(cfgRead(cpu, TD_SLOT, 0), 0x5250_1234, 'testdev vendor/device');
    t.is(cfgRead(cpu, 0, 0), 0x1237_8086, "v86's 82441FX host bridge");
    t.is(cfgRead(cpu, 9, 0), 0xffff_ffff, 'an empty slot');
    // Sizing probe, as SeaBIOS does it.
    cfgWrite(cpu, EDU_SLOT, PCI_BASE_ADDRESS_0, 0xffff_ffff);
    t.is(cfgRead(cpu, EDU_SLOT, PCI_BASE_ADDRESS_0), 0xfff0_0000, 'edu BAR0 is 1 MiB');
    t.true(bridge.stats.configCycles >= 5);
  });
});

test("a BAR the guest places decodes through v86's MMIO and port tables, follows a move and stops with decode off", async (t) => {
  await withRig(async ({ cpu }) => {
    cfgWrite(cpu, EDU_SLOT, PCI_BASE_ADDRESS_0, EDU_BAR0);
    cfgWrite(cpu, EDU_SLOT, PCI_COMMAND, PCI_COMMAND_MEMORY);
    t.is(cpu.mmap_read32(EDU_BAR0 + EDU_REG.ID) >>> 0, 0x0100_00ed, 'edu identification');
    cpu.mmap_write32(EDU_BAR0 + EDU_REG.LIVENESS, 0x1234_5678);
    t.is(cpu.mmap_read32(EDU_BAR0 + EDU_REG.LIVENESS) >>> 0, ~0x1234_5678 >>> 0, 'liveness inverts');
    const moved = EDU_BAR0 + 0x20_0000;
    cfgWrite(cpu, EDU_SLOT, PCI_COMMAND, 0);
    t.is(cpu.mmap_read32(EDU_BAR0) >>> 0, 0xffff_ffff, 'decode off: all-ones');
    cfgWrite(cpu, EDU_SLOT, PCI_BASE_ADDRESS_0, moved);
    cfgWrite(cpu, EDU_SLOT, PCI_COMMAND, PCI_COMMAND_MEMORY);
    t.is(cpu.mmap_read32(moved) >>> 0, 0x0100_00ed, 'at the new address');
    t.is(cpu.mmap_read32(EDU_BAR0) >>> 0, 0xffff_ffff, 'the old address no longer answers');

    cfgWrite(cpu, TD_SLOT, PCI_BASE_ADDRESS_0, TD_PORTS | 1);
    cfgWrite(cpu, TD_SLOT, PCI_COMMAND, PCI_COMMAND_IO);
    t.is(cpu.io.port_read32(TD_PORTS + TESTDEV_REG.ID) >>> 0, TESTDEV_ID_VALUE, 'testdev ID through its I/O BAR');
    cpu.io.port_write16(TD_PORTS + TESTDEV_REG.SCRATCH, 0xbeef);
    t.is(cpu.io.port_read32(TD_PORTS + TESTDEV_REG.SCRATCH) & 0xffff, 0xbeef);
    cfgWrite(cpu, TD_SLOT, PCI_COMMAND, 0);
    t.is(cpu.io.port_read32(TD_PORTS + TESTDEV_REG.ID) >>> 0, 0xffff_ffff, 'I/O decode off: the ports are v86 empty ports again');
  });
});

test('a BAR placed where v86 cannot serve MMIO (guest RAM, above 4 GiB, the VGA framebuffer) is refused with a message saying where to put it', async (t) => {
  await withRig(async ({ cpu, warnings }) => {
    cfgWrite(cpu, EDU_SLOT, PCI_BASE_ADDRESS_0, 0x0100_0000);
    cfgWrite(cpu, EDU_SLOT, PCI_COMMAND, PCI_COMMAND_MEMORY);
    t.is(cpu.memory_map_read32[0x0100_0000 >>> 17] as unknown, undefined, 'guest RAM stays RAM: no MMIO hook there');
    cfgWrite(cpu, EDU_SLOT, PCI_COMMAND, 0);
    cfgWrite(cpu, EDU_SLOT, PCI_BASE_ADDRESS_0, 0xe010_0000);
    cfgWrite(cpu, EDU_SLOT, PCI_COMMAND, PCI_COMMAND_MEMORY);
    t.is(warnings.length, 2, warnings.join('\n'));
    t.regex(warnings[0]!, /BAR0 of 00:03\.0 at 0x1000000\.\.0x10fffff: v86 cannot serve it \(inside guest RAM, which ends at 0x4000000\).*Place BARs between/);
    t.regex(warnings[1]!, /over the VGA framebuffer/);
  });
});

test("a level INTx reaches v86's PIC on the IRQ the PIIX3 routes the slot's PIRQ to, and a BAR access resamples it", async (t) => {
  await withRig(async ({ cpu, bridge, raised, lowered }) => {
    // Four distinct IRQs, so a swizzle off by one shows. SeaBIOS (piix_pci_slot_get_irq) and v86
    // (pci.js raise_irq) both route slot s, pin p to PIRQ (s - 1 + p - 1) & 3: edu (slot 3, INTA)
    // is on PIRQC, the testdev (slot 4, INTA) on PIRQD. (A bridge using (s + p - 1) & 3 raised
    // the testdev's INTx on PIRQA's IRQ while Linux waited on PIRQD's.)
    cpu.devices.pci.isa_bridge_space8.set([5, 9, 11, 10], 0x60);
    t.deepEqual(
      bridge.routes().map((r) => [r.bdf.toShortString(), r.pirq, r.irq]),
      [
        ['00:03.0', 2, 11],
        ['00:04.0', 3, 10],
      ],
    );
    cfgWrite(cpu, EDU_SLOT, PCI_BASE_ADDRESS_0, EDU_BAR0);
    cfgWrite(cpu, EDU_SLOT, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    cpu.mmap_write32(EDU_BAR0 + EDU_REG.IRQ_RAISE, 1);
    await until('IRQ 11 to be raised', () => raised.includes(11));
    t.deepEqual(lowered, []);
    cpu.mmap_write32(EDU_BAR0 + EDU_REG.IRQ_ACK, 1);
    t.deepEqual(lowered, [11], 'the ack was a BAR access: resampled, the line dropped');
    await new Promise((r) => setTimeout(r, 100));
    t.deepEqual(raised, [11], 'the device no longer asserts: no second interrupt');
    // INTx disable holds the line low while the device asserts.
    cfgWrite(cpu, EDU_SLOT, PCI_COMMAND, PCI_COMMAND_MEMORY | PCI_COMMAND_INTX_DISABLE);
    cpu.mmap_write32(EDU_BAR0 + EDU_REG.IRQ_RAISE, 2);
    await new Promise((r) => setTimeout(r, 100));
    t.deepEqual(raised, [11], 'INTx disabled: nothing raised');
    cfgWrite(cpu, EDU_SLOT, PCI_COMMAND, PCI_COMMAND_MEMORY);
    await until('IRQ 11 again once INTx is enabled', () => raised.length === 2);
    cpu.mmap_write32(EDU_BAR0 + EDU_REG.IRQ_ACK, 2);
    t.is(lowered.length, 2);
    t.true(cfgRead(cpu, EDU_SLOT, PCI_INTERRUPT_LINE) >= 0);
  });
});

test("a function on a slot v86 uses itself is refused, and detach puts v86's config, port and MMIO hooks back", async (t) => {
  await withVm(async (vm) => {
    await withV86(async (emulator, cpu) => {
      const bus = new GuestPciBus({ sink: new RecordingSink() });
      const h = vm.openDevice(EDU, { detachHostDriver: true });
      vm.powerStateChange(h, PCIRAW_POWER.ON);
      const at = bus.attach(new PciFront(vm, h), 1);
      t.throws(() => attachToV86(emulator as never, bus), { message: /guest slot 00:01\.0 is v86's own 82371SB PIIX3 ISA/ });
      bus.detach(at);
      bus.attach(new PciFront(vm, h), EDU_SLOT);
      const before = { query: cpu.devices.pci.pci_query, r32: cpu.memory_map_read32[EDU_BAR0 >>> 17] };
      const bridge = attachToV86(emulator as never, bus);
      const c = cpu as Rig['cpu'];
      cfgWrite(c, EDU_SLOT, PCI_BASE_ADDRESS_0, EDU_BAR0);
      cfgWrite(c, EDU_SLOT, PCI_COMMAND, PCI_COMMAND_MEMORY);
      t.is(c.mmap_read32(EDU_BAR0) >>> 0, 0x0100_00ed);
      bridge.detach();
      t.is(cpu.devices.pci.pci_query, before.query);
      t.is(cpu.memory_map_read32[EDU_BAR0 >>> 17], before.r32);
      t.is(cfgRead(c, EDU_SLOT, 0), 0xffff_ffff, 'the slot is empty for v86 again');
      t.is(c.mmap_read32(EDU_BAR0) >>> 0, 0xffff_ffff);
    });
  });
});

test("rawpci vm's slot choice skips v86's own slots and the IRQ its INTx devices use (ne2k at 00:05.0 is on IRQ 10)", async (t) => {
  await withV86(async (_e, cpu) => {
    // PIRQ (s - 1 + p - 1) & 3, SeaBIOS's IRQs 10, 10, 11, 11: slots 3, 4, 7, 8 are on IRQ 11; 5 is ne2k's; 6 is on IRQ 10.
    t.deepEqual(chooseSlots(cpu, [undefined, undefined, undefined, undefined], [1, 1, 1, 1]), [3, 4, 7, 8]);
    t.deepEqual(chooseSlots(cpu, [4, undefined], [1, 1]), [4, 3], 'a slot given is kept and not chosen again');
    t.deepEqual(chooseSlots(cpu, [undefined], [0]), [3], 'a function without a pin takes the first free slot');
  });
});
