// Real VFIO in the QEMU guest: QEMU's edu through /dev/vfio, the whole ring 0 / ring 3 stack (run by npm run test:vfio, never on the host).

import { readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import test from 'ava';
import { Ring0Service } from '../../r0/service.js';
import { VfioHost } from '../../r0/vfio/host.js';
import { RawPciClient } from '../../r3/client.js';
import { RawPciError } from '../../r3/errors.js';
import { Bdf } from '../../shared/bdf.js';
import { PCI_COMMAND, PCI_VENDOR_ID } from '../../shared/linux/pci-regs.js';
import { PCIRAW_MEMINFO, PCIRAW_POWER } from '../../shared/protocol.js';
import { EDU, EduDriver } from '../../src/drivers/edu.js';
import { observeEdu } from '../../src/drivers/edu-observe.js';

const EDU_BDF = process.env.RAWPCI_VFIO_EDU;
const RAM = 16 << 20;
let service: Ring0Service;
let vm: RawPciClient;

const driverOf = (bdf: string) => {
  try {
    return basename(readlinkSync(`/sys/bus/pci/devices/${bdf}/driver`));
  } catch {
    return null;
  }
};
const code = (fn: () => unknown) => {
  try {
    fn();
    return 'success';
  } catch (e) {
    return e instanceof RawPciError ? `${e.code}: ${e.message}` : String(e);
  }
};

test.before(async () => {
  if (!EDU_BDF) throw new Error('RAWPCI_VFIO_EDU is not set: these tests run inside the QEMU guest of npm run test:vfio');
  service = await Ring0Service.start({ host: 'vfio', maxVms: 2 });
  vm = await RawPciClient.connect(service, { guestRamBytes: RAM, startTimeoutMs: 60_000 });
  vm.initVm();
  vm.contigMemInfo(0n, 0n, BigInt(RAM), PCIRAW_MEMINFO.MAP);
});

test.after.always(async () => {
  await vm?.close();
  await service?.close();
});

test.serial('open detaches the host driver (uio_pci_generic) and binds vfio-pci; another container gets "busy"; close rebinds', (t) => {
  const before = driverOf(EDU_BDF!);
  t.is(before, 'uio_pci_generic');
  t.regex(
    code(() => vm.openDevice(EDU_BDF!)),
    /VERR_RESOURCE_BUSY.*uio_pci_generic/,
  );
  const h = vm.openDevice(EDU_BDF!, { detachHostDriver: true });
  t.is(driverOf(EDU_BDF!), 'vfio-pci');
  // A second VFIO container (another process, or another rawpci) cannot take the group.
  const other = VfioHost.create({ host: 'vfio' }, undefined as never);
  const info = other.find(Bdf.parse(EDU_BDF!))!;
  const r = other.open(info, { intx() {}, msi() {}, dmaRead: () => false, dmaWrite: () => false, schedule: () => () => {}, log() {} });
  t.true('rc' in r);
  t.regex((r as { msg: string }).msg, /busy.*close it there first/);
  vm.closeDevice(h);
  t.is(driverOf(EDU_BDF!), 'uio_pci_generic', 'close rebinds the original driver');
});

test.serial('region info, config and MMIO widths through the VFIO regions', (t) => {
  const h = vm.openDevice(EDU_BDF!, { detachHostDriver: true });
  try {
    const r0 = vm.getRegionInfo(h, 0);
    t.true(r0.present);
    t.is(r0.kind, 'mem32');
    t.is(r0.regionSize, 1n << 20n);
    for (const r of [1, 2, 3, 4, 5, 6]) t.false(vm.getRegionInfo(h, r).present, `region ${r}`);
    t.is(vm.cfgRead(h, PCI_VENDOR_ID, 2), 0x1234);
    t.is(vm.cfgRead(h, PCI_VENDOR_ID, 4), 0x11e8_1234);
    t.is(vm.cfgRead(h, PCI_VENDOR_ID + 1, 1), 0x12);
    vm.powerStateChange(h, PCIRAW_POWER.ON);
    const cmd = vm.cfgRead(h, PCI_COMMAND, 2);
    vm.cfgWrite(h, PCI_COMMAND, 2, cmd | 0x2);
    t.is(vm.mmioRead(h, r0.regionStart, 4), 0x0100_00ed);
    vm.mmioWrite(h, r0.regionStart + 0x88n, 8, 0x1_2345_6789n);
    t.is(vm.mmioRead(h, r0.regionStart + 0x88n, 8), 0x1_2345_6789n);
    t.regex(
      code(() => vm.mmioRead(h, r0.regionStart + (1n << 20n), 4)),
      /VERR_OUT_OF_RANGE/,
    );
    t.regex(
      code(() => vm.cfgWrite(h, 0x10, 4, 0)),
      /VERR_ACCESS_DENIED/,
    );
  } finally {
    vm.closeDevice(h);
  }
});

test.serial('MAP_REGION of BAR0: ring 3 mmaps the VFIO device fd, a zero-copy view that agrees with MMIO; UNMAP_REGION and close withdraw it', (t) => {
  const h = vm.openDevice(EDU_BDF!, { detachHostDriver: true });
  let closed = false;
  try {
    vm.powerStateChange(h, PCIRAW_POWER.ON);
    vm.cfgWrite(h, PCI_COMMAND, 2, vm.cfgRead(h, PCI_COMMAND, 2) | 0x2);
    const m = vm.mapRegion(h, 0);
    t.false(m.sab instanceof SharedArrayBuffer, 'a device mapping, not a SharedArrayBuffer');
    t.is(m.sab.byteLength, 1 << 20);
    // edu accepts 4- and 8-byte accesses only: a Uint32Array loads and stores 4 bytes at once
    // (a DataView may go byte by byte, which QEMU's edu answers with 0).
    const u32 = new Uint32Array(m.sab);
    t.is(u32[0], 0x0100_00ed, 'identification through the view');
    const v = 0x1234_5678;
    u32[1] = v;
    t.is(u32[1], ~v >>> 0, 'liveness through the view');
    t.is(vm.mmioRead(h, m.start + 4n, 4), ~v >>> 0, 'the view write seen by MMIO_READ');
    vm.mmioWrite(h, m.start + 4n, 4, 0xa5a5_0000);
    t.is(u32[1], 0x5a5a_ffff, 'an MMIO_WRITE seen through the view');
    vm.unmapRegion(m);
    t.is(u32[0], 0, 'after UNMAP_REGION the view no longer reaches the device');
    t.is(vm.mmioRead(h, m.start, 4), 0x0100_00ed);
    // A mapping still held at CLOSE_DEVICE is withdrawn first, so the device is released and rebound.
    const m2 = vm.mapRegion(h, 0);
    const u32b = new Uint32Array(m2.sab);
    t.is(u32b[0], 0x0100_00ed);
    vm.closeDevice(h);
    closed = true;
    t.is(u32b[0], 0, 'after CLOSE_DEVICE the view no longer reaches the device');
    t.is(driverOf(EDU_BDF!), 'uio_pci_generic', 'close released the VFIO device and rebound the host driver');
  } finally {
    if (!closed) vm.closeDevice(h);
  }
});

test.serial('the differential edu sequence through VFIO (INTx, MSI, DMA via the IOMMU, IOMMU fault)', (t) => {
  const h = vm.openDevice(EDU_BDF!, { detachHostDriver: true });
  try {
    vm.powerStateChange(h, PCIRAW_POWER.ON);
    vm.registerIrqHandler(h, 11);
    const obs = observeEdu(vm, h);
    if (process.env.RAWPCI_VFIO_RESULTS) writeFileSync(`${process.env.RAWPCI_VFIO_RESULTS}/edu-observations.json`, `${JSON.stringify(obs, null, 2)}\n`);
    t.is(obs.id, 0x0100_00ed);
    t.is(obs.factorial[12], 479_001_600);
    t.deepEqual(
      obs.irqs.map((i) => i.kind),
      ['intx', 'msi', 'intx', 'intx', 'intx'],
    );
    t.true(obs.dma.equal);
    t.deepEqual(obs.iommuFault, { reported: true, ramUnchanged: true, deviceAlive: true });
  } finally {
    vm.closeDevice(h);
  }
});

test.serial('power RESET: VFIO_DEVICE_RESET when the device has a reset method, else a clear VERR_DEV_IO_ERROR; device alive', (t) => {
  const h = vm.openDevice(EDU_BDF!, { detachHostDriver: true });
  try {
    vm.powerStateChange(h, PCIRAW_POWER.ON);
    const edu = new EduDriver(vm, h);
    edu.enable();
    const method = (() => {
      try {
        return readFileSync(`/sys/bus/pci/devices/${EDU_BDF}/reset_method`, 'utf8').trim();
      } catch {
        return '';
      }
    })();
    const r = code(() => vm.powerStateChange(h, PCIRAW_POWER.RESET));
    if (method) t.is(r, 'success');
    else t.regex(r, /VERR_DEV_IO_ERROR/);
    edu.enable();
    t.is(edu.id(), 0x0100_00ed);
    t.is(edu.read(EDU.LIVENESS) >>> 0, edu.read(EDU.LIVENESS) >>> 0);
    t.log(`reset_method '${method || 'none'}': RESET gave ${r}`);
  } finally {
    vm.closeDevice(h);
  }
});
