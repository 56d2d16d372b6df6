// The per-VM IOMMU domain: mapping rules, translation, and DMA that is whole or nothing.
import { fc, testProp } from '@fast-check/ava';
import test from 'ava';
import { IOVA_MAX, IommuDomain, type IommuMapping } from '../../r0/iommu.js';
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

// ---- the top of the IOVA space ---------------------------------------------------------------

const TWO_64 = 1n << 64n;
const TOP_PAGE = TWO_64 - 4096n;

test('a 100-byte DMA at 2^64-50 with only the top IOVA page mapped is refused whole, read and write, with a fault below 2^64 that says it crosses 2^64', (t) => {
  const d = new IommuDomain(1, ram());
  t.is(d.map(0n, TOP_PAGE, 4096n).rc, 0);
  d.ram.fill(0x5a);
  const before = d.ram.slice();
  const dest = new Uint8Array(100).fill(0x11);
  t.false(d.read(TWO_64 - 50n, dest));
  t.true(
    dest.every((b) => b === 0x11),
    'dest untouched',
  );
  t.false(d.write(TWO_64 - 50n, new Uint8Array(100).fill(0xab)));
  t.deepEqual(d.ram, before, 'RAM untouched');
  t.is(d.faults.length, 2);
  for (const [i, f] of d.faults.entries()) {
    t.like(f, { iova: TWO_64 - 50n, size: 100, write: i === 1 });
    t.true(f.iova >= 0n && f.iova <= IOVA_MAX);
    t.regex(f.reason, /2\^64/);
  }
  t.is(d.translate(TWO_64 - 50n, 100), undefined);
});

test('a mapping that ends exactly at 2^64 serves DMA inside it, up to and including byte 2^64-1', (t) => {
  const d = new IommuDomain(1, ram());
  t.is(d.map(0x3000n, TWO_64 - 0x2000n, 0x2000n).rc, 0);
  t.is(d.translate(IOVA_MAX, 1), 0x4fff);
  t.is(d.translate(TWO_64 - 50n, 50), 0x5000 - 50);
  t.is(d.translate(TWO_64 - 50n, 51), undefined);
  t.true(d.write(TWO_64 - 100n, new Uint8Array(100).fill(0xcd)));
  t.true(d.ram.subarray(0x5000 - 100, 0x5000).every((b) => b === 0xcd));
  const back = new Uint8Array(100);
  t.true(d.read(TWO_64 - 100n, back));
  t.true(back.every((b) => b === 0xcd));
  t.deepEqual(d.faults, []);
  // Unmapping the last page of it works and leaves the rest.
  t.is(d.unmap(0x4000n, TOP_PAGE, 4096n).rc, 0);
  t.deepEqual(d.mappings(), [{ iova: TWO_64 - 0x2000n, ramOffset: 0x3000n, size: 0x1000n }]);
  t.is(d.unmap(0x3000n, TWO_64 - 0x2000n, 0x1000n).rc, 0);
  t.deepEqual(d.mappings(), []);
});

test('a range that crosses 2^64 with a hole below 2^64 faults at the hole', (t) => {
  const d = new IommuDomain(1, ram());
  d.map(0n, TOP_PAGE - 0x2000n, 0x1000n); // 2^64-0x3000 .. 2^64-0x2001; the next page is a hole
  d.map(0x1000n, TOP_PAGE, 0x1000n);
  t.false(d.write(TOP_PAGE - 0x2000n, new Uint8Array(0x4000)));
  t.like(d.faults.at(-1), { iova: TOP_PAGE - 0x1000n, reason: 'not mapped; the range also crosses 2^64' });
});

test('mapping and unmapping refuse non-bigints, negatives and ranges past 2^64 or past guest RAM with VERR_INVALID_PARAMETER', (t) => {
  const d = new IommuDomain(1, ram());
  const bad: [unknown, unknown, unknown][] = [
    [0, 0n, 4096n],
    [0n, '4096', 4096n],
    [0n, 0n, 4096],
    [0n, undefined, 4096n],
    [0n, null, 4096n],
    [0n, 1.5, 4096n],
    [-4096n, 0n, 4096n],
    [0n, -4096n, 4096n],
    [0n, 0n, -4096n],
    [0n, TWO_64, 4096n],
    [0n, TOP_PAGE, 8192n],
    [0n, 1n << 100n, 4096n],
    [0n, 0n, 1n << 100n],
    [1n << 100n, 0n, 4096n],
    [BigInt(1 << 20), 0n, 4096n],
  ];
  for (const [ramOffset, iova, size] of bad) {
    const args = [ramOffset, iova, size] as unknown as [bigint, bigint, bigint];
    t.is(d.map(...args).rc, VBoxStatus.VERR_INVALID_PARAMETER, `map(${String(ramOffset)}, ${String(iova)}, ${String(size)})`);
    t.is(d.unmap(...args).rc, VBoxStatus.VERR_INVALID_PARAMETER, `unmap(${String(ramOffset)}, ${String(iova)}, ${String(size)})`);
  }
  t.deepEqual(d.mappings(), []);
});

test('a DMA with an IOVA outside 0..2^64-1, or of no bytes, is refused and its fault IOVA is still inside 0..2^64-1', (t) => {
  const d = new IommuDomain(1, ram());
  d.map(0n, 0n, 0x1000n);
  d.map(0x1000n, TOP_PAGE, 0x1000n);
  const cases: [unknown, RegExp][] = [
    [-1n, /not in 0\.\.2\^64-1/],
    [TWO_64, /not in 0\.\.2\^64-1/],
    [TWO_64 + 10n, /not in 0\.\.2\^64-1/],
    [16, /not in 0\.\.2\^64-1/],
    [undefined, /not in 0\.\.2\^64-1/],
  ];
  for (const [iova, reason] of cases) {
    t.false(d.read(iova as bigint, new Uint8Array(4)));
    t.false(d.write(iova as bigint, new Uint8Array(4)));
    t.is(d.translate(iova as bigint, 4), undefined);
    for (const f of d.faults.slice(-2)) {
      t.true(f.iova >= 0n && f.iova <= IOVA_MAX, `fault for ${String(iova)}`);
      t.regex(f.reason, reason);
    }
  }
  t.false(d.read(0n, new Uint8Array(0)));
  t.like(d.faults.at(-1), { iova: 0n, size: 0, reason: 'empty DMA' });
  t.is(d.translate(0n, 1.5), undefined);
  t.is(d.translate(0n, Number.NaN), undefined);
});

// ---- where a refused DMA faults -----------------------------------------------------------------

test('the first unmapped byte is found across several mappings, through holes and RAM-discontiguous neighbours', (t) => {
  const d = new IommuDomain(1, ram());
  // IOVA 0x0000-0x2fff -> RAM 0x0000 (contiguous), 0x3000-0x3fff -> RAM 0x8000 (discontiguous
  // neighbour), hole 0x4000-0x4fff, 0x5000-0x5fff -> RAM 0x5000, hole from 0x6000.
  d.map(0n, 0n, 0x2000n);
  d.map(0x2000n, 0x2000n, 0x1000n);
  d.map(0x8000n, 0x3000n, 0x1000n);
  d.map(0x5000n, 0x5000n, 0x1000n);
  const src = new Uint8Array(0x100);
  const faultAt = (iova: bigint, size: number) => {
    t.false(d.write(iova, new Uint8Array(size)));
    return d.faults.at(-1);
  };
  t.like(faultAt(0x100n, 0x4000), { iova: 0x4000n, reason: 'not mapped' });
  t.like(faultAt(0x3f00n, 0x200), { iova: 0x4000n, reason: 'not mapped' });
  t.like(faultAt(0x4800n, 0x10), { iova: 0x4800n, reason: 'not mapped' });
  t.like(faultAt(0x5f00n, 0x200), { iova: 0x6000n, reason: 'not mapped' });
  t.like(faultAt(0x10_0000n, 1), { iova: 0x10_0000n, reason: 'not mapped' });
  // Fully mapped but not contiguous in guest RAM: the fault names where RAM stops following.
  t.like(faultAt(0x2f00n, 0x200), { iova: 0x3000n, reason: 'not contiguous in guest RAM' });
  // A contiguous span across the first two mappings works.
  t.true(d.write(0x1f80n, src));
  t.true(d.ram.every((b) => b === 0));
});

test('the first unmapped byte is exact even megabytes into a DMA', (t) => {
  const d = new IommuDomain(1, new Uint8Array(4 << 20));
  d.map(0n, 0n, 3n << 20n);
  const start = performance.now();
  t.false(d.read(0x100n, new Uint8Array(4 << 20)));
  t.like(d.faults.at(-1), { iova: 3n << 20n, reason: 'not mapped' });
  t.true(performance.now() - start < 1000, 'a walk over the mappings, not a loop over the bytes');
});

// ---- property: read and write against a byte-by-byte reference ----------------------------------

const PROP_RAM = 0x10000; // 16 pages
const PAGE = 4096n;

/** A page index near 0 or near 2^64 (the two edges of the IOVA space), or anywhere. */
const iovaPage = fc.oneof(
  fc.bigInt({ min: 0n, max: 8n }),
  fc.bigInt({ min: (TWO_64 >> 12n) - 8n, max: (TWO_64 >> 12n) - 1n }),
  fc.bigInt({ min: 0n, max: (TWO_64 >> 12n) - 1n }),
);
const mappingArb = fc.record({ ramPage: fc.bigInt({ min: 0n, max: 15n }), iovaPage, pages: fc.bigInt({ min: 1n, max: 4n }) });
/** A DMA start near 0 or 2^64 (sometimes just outside 0..2^64-1), or anywhere. */
const dmaIova = fc.oneof(
  { weight: 4, arbitrary: fc.bigInt({ min: 0n, max: 0xa000n }) },
  { weight: 4, arbitrary: fc.bigInt({ min: TWO_64 - 0xa000n, max: IOVA_MAX }) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: IOVA_MAX }) },
  { weight: 1, arbitrary: fc.oneof(fc.bigInt({ min: -0x100n, max: -1n }), fc.bigInt({ min: TWO_64, max: TWO_64 + 0x100n })) },
);
const dmaSize = fc.oneof(fc.integer({ min: 0, max: 16 }), fc.integer({ min: 0, max: 0x3100 }));

/** Byte equality of two arrays (Buffer.compare: much faster than deepEqual on 64 KiB). */
const same = (a: Uint8Array, b: Uint8Array) => Buffer.compare(a, b) === 0;

/** Byte-by-byte reference: the RAM offset of a DMA, or undefined; and its first unmapped byte below 2^64. */
function reference(maps: IommuMapping[], iova: bigint, size: number): { off: number | undefined; hole: bigint | undefined } {
  const at = (a: bigint) => maps.find((m) => a >= m.iova && a < m.iova + m.size);
  let off: number | undefined;
  let prev: bigint | undefined;
  let ok = size > 0 && iova >= 0n && iova <= IOVA_MAX;
  let hole: bigint | undefined;
  for (let i = 0n; ok && i < BigInt(size); i++) {
    const a = iova + i;
    if (a > IOVA_MAX) {
      ok = false;
      break;
    }
    const m = at(a);
    if (!m) {
      hole = a;
      ok = false;
      break;
    }
    const o = m.ramOffset + (a - m.iova);
    if (prev !== undefined && o !== prev + 1n) ok = false;
    prev = o;
    off ??= Number(o);
  }
  if (!ok && hole === undefined && size > 0 && iova >= 0n && iova <= IOVA_MAX) {
    for (let i = 0n; i < BigInt(size) && iova + i <= IOVA_MAX; i++) {
      if (!at(iova + i)) {
        hole = iova + i;
        break;
      }
    }
  }
  return { off: ok ? off : undefined, hole };
}

testProp(
  'random DMA near 0 and 2^64 never throws, fails exactly when translate does, changes RAM only on success, and faults inside 0..2^64-1',
  [fc.array(mappingArb, { maxLength: 6 }), fc.array(fc.record({ iova: dmaIova, size: dmaSize, write: fc.boolean() }), { minLength: 1, maxLength: 8 })],
  (t, mappings, dmas) => {
    const d = new IommuDomain(1, new Uint8Array(PROP_RAM));
    for (const m of mappings) d.map(m.ramPage * PAGE, m.iovaPage * PAGE, m.pages * PAGE);
    for (let i = 0; i < PROP_RAM; i++) d.ram[i] = (i * 7) & 0xff;
    for (const dma of dmas) {
      const maps = d.mappings();
      const ref = reference(maps, dma.iova, dma.size);
      const off = d.translate(dma.iova, dma.size);
      t.is(off, ref.off);
      const before = d.ram.slice();
      const faults = d.faults.length;
      const buf = new Uint8Array(dma.size).fill(0xee);
      const ok = dma.write ? d.write(dma.iova, buf) : d.read(dma.iova, buf);
      t.is(ok, off !== undefined);
      if (ok && dma.write) {
        before.set(buf, off!);
        t.true(same(d.ram, before), 'a write changes exactly its bytes');
      } else {
        t.true(same(d.ram, before), 'a read or a refused write leaves RAM alone');
      }
      if (ok && !dma.write) t.true(same(buf, d.ram.subarray(off!, off! + dma.size)), 'a read copies its bytes');
      if (!ok) {
        t.true(
          buf.every((b) => b === 0xee),
          'a refused read leaves the buffer alone',
        );
        t.is(d.faults.length, faults + 1);
        const f = d.faults.at(-1)!;
        t.true(f.iova >= 0n && f.iova <= IOVA_MAX, `fault IOVA 0x${f.iova.toString(16)}`);
        if (ref.hole !== undefined) t.is(f.iova, ref.hole);
        if (dma.size > 0 && dma.iova >= 0n && dma.iova <= IOVA_MAX && dma.iova + BigInt(dma.size) > TWO_64) t.regex(f.reason, /2\^64/);
      }
    }
  },
  { numRuns: 1000 },
);
