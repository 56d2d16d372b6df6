// The per-VM IOMMU domain: mapping rules, translation, and DMA that is whole or nothing.
import test from 'ava';
import { IommuDomain } from '../../r0/iommu.js';
import { VBoxStatus } from '../../shared/status.js';

const ram = () => new Uint8Array(1 << 20);

test('a mapped range translates to its guest RAM offset, byte by byte', (t) => {
  const d = new IommuDomain(1, ram());
  t.is(d.map(0x2000n, 0x10_0000n, 0x3000n).rc, 0);
  t.is(d.translate(0x10_0000n, 1), 0x2000);
  t.is(d.translate(0x10_2fffn, 1), 0x4fff);
  t.is(d.translate(0x10_2fffn, 2), undefined);
  t.is(d.translate(0xf_ffffn, 1), undefined);
});

test('unaligned, empty, overlapping and out-of-RAM mappings are refused with statuses', (t) => {
  const d = new IommuDomain(1, ram());
  t.is(d.map(1n, 0n, 4096n).rc, VBoxStatus.VERR_INVALID_PARAMETER);
  t.is(d.map(0n, 0n, 0n).rc, VBoxStatus.VERR_INVALID_PARAMETER);
  t.is(d.map(0n, 0n, 2n << 20n).rc, VBoxStatus.VERR_INVALID_PARAMETER);
  t.is(d.map(0n, 0n, 8192n).rc, 0);
  t.is(d.map(0x4000n, 0x1000n, 4096n).rc, VBoxStatus.VERR_ALREADY_EXISTS);
});

test('a DMA write to a partly unmapped range writes nothing and records a fault', (t) => {
  const d = new IommuDomain(1, ram());
  d.map(0n, 0n, 4096n);
  const src = new Uint8Array(100).fill(0xab);
  t.false(d.write(4096n - 50n, src));
  t.true(d.ram.every((b) => b === 0));
  t.like(d.faults.at(-1), { iova: 4096n, write: true, reason: 'not mapped' });
  t.true(d.write(100n, src));
  t.is(d.ram[100], 0xab);
});

test('a DMA spanning two adjacent mappings works only when they are contiguous in RAM', (t) => {
  const d = new IommuDomain(1, ram());
  d.map(0n, 0n, 4096n);
  d.map(4096n, 4096n, 4096n);
  t.is(d.translate(4000n, 200), 4000);
  const e = new IommuDomain(2, ram());
  e.map(0n, 0n, 4096n);
  e.map(0x10000n, 4096n, 4096n);
  t.is(e.translate(4000n, 200), undefined);
});

test('unmapping cuts a hole and later DMA there faults', (t) => {
  const d = new IommuDomain(1, ram());
  d.map(0n, 0n, 3n * 4096n);
  t.is(d.unmap(4096n, 4096n, 4096n).rc, 0);
  t.is(d.mappings().length, 2);
  t.false(d.read(4096n, new Uint8Array(1)));
  t.true(d.read(0n, new Uint8Array(1)));
  t.is(d.unmap(4096n, 4096n, 4096n).rc, VBoxStatus.VERR_NOT_FOUND);
});
