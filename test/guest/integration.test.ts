// The guest demo against the real ring 0 (piscina workers, simulated host): every step of the guest driver passes through PciFront and RawPciClient.

import test from 'ava';
import { GuestPciBus } from '../../r3/guest/guest-bus.js';
import { PciFront } from '../../r3/guest/pci-front.js';
import { PCI_BASE_ADDRESS_2, PCI_COMMAND, PCI_COMMAND_MEMORY } from '../../shared/linux/pci-regs.js';
import { PCIRAW_POWER } from '../../shared/protocol.js';
import { runGuestDemo } from '../../src/demo/guest.js';
import { withVm } from '../helpers/ring0.js';
import { RecordingSink } from './helpers/rig.js';

/** Guest RAM of the demo VM (bytes): the guest driver places DMA buffers up to 16 MiB. */
const RAM = 16 << 20;

test('the guest driver enumerates, sizes, places and drives edu and the testdev through PciFront on the real ring 0', async (t) => {
  await withVm({ connect: { guestRamBytes: RAM } }, async (vm) => {
    const steps: { name: string; ok: boolean; detail: string }[] = [];
    await runGuestDemo(vm, async (name, fn) => {
      try {
        steps.push({ name, ok: true, detail: await fn() });
        return true;
      } catch (e) {
        steps.push({ name, ok: false, detail: (e as Error).message });
        return false;
      }
    });
    for (const s of steps) t.log(`${s.ok ? 'PASS' : 'FAIL'} ${s.name}: ${s.detail}`);
    t.true(steps.length >= 12, `only ${steps.length} steps ran`);
    t.deepEqual(
      steps.filter((s) => !s.ok).map((s) => `${s.name}: ${s.detail}`),
      [],
    );
  });
});

test("RawPciClient is PciFront's host as is: the testdev BAR2 is mapped into ring 3 and its view follows a guest move", async (t) => {
  await withVm({ connect: { guestRamBytes: RAM } }, async (vm) => {
    const h = vm.openDevice('0000:00:05.0', { detachHostDriver: true });
    vm.powerStateChange(h, PCIRAW_POWER.ON);
    const sink = new RecordingSink();
    const bus = new GuestPciBus({ sink });
    const front = new PciFront(vm, h);
    const bdf = bus.attach(front, 2);
    bus.configWrite(bdf, PCI_BASE_ADDRESS_2, 4, 0);
    bus.configWrite(bdf, PCI_BASE_ADDRESS_2 + 4, 4, 0x10);
    bus.configWrite(bdf, PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
    const at = 0x10_0000_0000n;
    bus.mmioWrite(at + 8n, 4, 0xabcd_0123);
    const host = vm.getRegionInfo(h, 2).regionStart;
    t.is(vm.mmioRead(h, host + 8n, 4), 0xabcd_0123, 'the write went to the device memory');
    const before = vm.opCounts.MMIO_READ ?? 0;
    t.is(bus.mmioRead(at + 8n, 4), 0xabcd_0123);
    t.is(vm.opCounts.MMIO_READ ?? 0, before, 'served from the ring-3 view, no round trip');
    bus.configWrite(bdf, PCI_BASE_ADDRESS_2 + 4, 4, 0x20);
    t.is(bus.mmioRead(0x20_0000_0000n + 8n, 4), 0xabcd_0123);
    t.deepEqual(
      bus.directMappings().map((m) => m.guestPhys),
      [0x20_0000_0000n],
    );
    bus.detach(bdf);
    vm.closeDevice(h);
  });
});
