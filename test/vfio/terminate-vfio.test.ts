// Real VFIO in the QEMU guest: a VM whose ring-0 worker is given up (terminateVm, as the watchdog does with a stuck one) has its VFIO fds and mappings closed and its host driver rebound by the service.

import { readdirSync, readlinkSync } from 'node:fs';
import { basename } from 'node:path';
import test from 'ava';
import { Ring0Service } from '../../r0/service.js';
import { RawPciClient } from '../../r3/client.js';
import { PCI_COMMAND } from '../../shared/linux/pci-regs.js';
import { PCIRAW_MEMINFO, PCIRAW_POWER, PCIRAWR0_DO } from '../../shared/protocol.js';
import { VBoxStatus } from '../../shared/status.js';

const EDU_BDF = process.env.RAWPCI_VFIO_EDU;
const RAM = 4 << 20;

const driverOf = (bdf: string) => {
  try {
    return basename(readlinkSync(`/sys/bus/pci/devices/${bdf}/driver`));
  } catch {
    return null;
  }
};

/** This process's descriptors onto VFIO groups and devices (a container alone is not counted). */
function vfioFds(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const target = readlinkSync(`/proc/self/fd/${fd}`);
      if (/^\/dev\/vfio\/\d+$/.test(target) || target.includes('vfio-device')) out.push(`${fd} -> ${target}`);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

test("terminateVm on the vfio host closes the worker's VFIO fds and BAR mappings, rebinds uio_pci_generic, and another VM can open edu again", async (t) => {
  if (!EDU_BDF) throw new Error('RAWPCI_VFIO_EDU is not set: this test runs inside the QEMU guest of npm run test:vfio');
  const service = await Ring0Service.start({ host: 'vfio', maxVms: 2 });
  try {
    t.deepEqual(vfioFds(), []);
    const vm = await RawPciClient.connect(service, { guestRamBytes: RAM, startTimeoutMs: 60_000 });
    vm.initVm();
    vm.contigMemInfo(0n, 0n, BigInt(RAM), PCIRAW_MEMINFO.MAP);
    const h = vm.openDevice(EDU_BDF, { detachHostDriver: true });
    vm.powerStateChange(h, PCIRAW_POWER.ON);
    vm.registerIrqHandler(h, 11);
    vm.cfgWrite(h, PCI_COMMAND, 2, vm.cfgRead(h, PCI_COMMAND, 2) | 0x6);
    const bar = vm.getRegionInfo(h, 0).regionStart;
    t.is(vm.mmioRead(h, bar, 4), 0x0100_00ed);
    // Ring 3 holds a MAP_REGION view too: the release must wait for it without hanging the service.
    const m = vm.mapRegion(h, 0);
    t.is(new Uint32Array(m.sab)[0], 0x0100_00ed);
    t.is(driverOf(EDU_BDF), 'vfio-pci');
    t.true(vfioFds().length >= 2, vfioFds().join(', '));
    t.true(await service.terminateVm(vm.session));
    t.is(vm.rawSync(PCIRAWR0_DO.MMIO_READ, h, { address: bar, cb: 4 }).rc, VBoxStatus.VERR_INVALID_STATE);
    t.is(new Uint32Array(m.sab)[0], 0, 'ring 3 withdrew its view when the worker went away');
    t.deepEqual(vfioFds(), [], 'no descriptor onto the group or device is left');
    t.is(driverOf(EDU_BDF), 'uio_pci_generic', 'the original host driver is back');
    await vm.close();
    // The group is free in the kernel: a new VM's container takes it.
    const vm2 = await RawPciClient.connect(service, { guestRamBytes: RAM, startTimeoutMs: 60_000 });
    const h2 = vm2.openDevice(EDU_BDF, { detachHostDriver: true });
    vm2.cfgWrite(h2, PCI_COMMAND, 2, vm2.cfgRead(h2, PCI_COMMAND, 2) | 0x2);
    t.is(vm2.mmioRead(h2, vm2.getRegionInfo(h2, 0).regionStart, 4), 0x0100_00ed);
    await vm2.close();
    t.is(driverOf(EDU_BDF), 'uio_pci_generic');
  } finally {
    await service.close();
  }
});
