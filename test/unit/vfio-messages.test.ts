// The VFIO host's failure messages name the cause and the fix, and the kernel's IOMMU fault lines are parsed (no device is touched: nothing here opens /dev/vfio).

import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { parseIommuFault } from '../../r0/vfio/faults.js';
import { VfioHost } from '../../r0/vfio/host.js';

test('a missing /dev/vfio/vfio says to load vfio-pci and turn the IOMMU on', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'rawpci-novfio-'));
  const e = t.throws(() => VfioHost.create({ host: 'vfio' }, undefined as never, { devVfio: dir }));
  t.regex(e!.message, /vfio.*missing.*modprobe vfio-pci.*intel_iommu=on/);
});

test('a device without an IOMMU group is refused with how to enable the IOMMU', (t) => {
  const host = new VfioHost({ sysfsRoot: mkdtempSync(join(tmpdir(), 'rawpci-sys-')) });
  const f = host.assignable({
    bdf: { toString: () => '0000:03:00.0' } as never,
    driver: null,
    iommuGroup: null,
    vendor: 1,
    device: 2,
    classCode: 0x020000,
    irq: 0,
    description: '',
  });
  t.regex(f!.msg, /no IOMMU group.*intel_iommu=on or amd_iommu=on/);
});

test('Intel DMAR fault lines parse into device, IOVA and direction', (t) => {
  const line = '3,1234,56,-;DMAR: [DMA Write NO_PASID] Request device [00:04.0] fault addr 0x8000000 [fault reason 0x05] PTE Write access is not set';
  t.deepEqual(parseIommuFault(line), { device: '00:04.0', iova: 0x800_0000n, write: true, reason: 'PTE Write access is not set' });
  t.is(parseIommuFault('DMAR: [DMA Read NO_PASID] Request device [03:00.1] fault addr 0x1000 [fault reason 0x06] PTE Read access is not set')?.write, false);
});

test('AMD-Vi IO_PAGE_FAULT lines parse too; other lines give undefined', (t) => {
  const f = parseIommuFault('AMD-Vi: Event logged [IO_PAGE_FAULT device=03:00.0 domain=0x000e address=0xfffd0000 flags=0x0030]');
  t.deepEqual(f, { device: '03:00.0', iova: 0xfffd_0000n, write: true, reason: 'AMD-Vi IO_PAGE_FAULT' });
  t.is(parseIommuFault('virtio_net virtio0 eth0: renamed'), undefined);
});
