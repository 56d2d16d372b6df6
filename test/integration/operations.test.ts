// Every raw PCI operation through the pool, the channel and the simulated host: valid, bad handle, another session's handle, bad width, out of range.
import test from 'ava';
import type { Ring0Service } from '../../r0/service.js';
import type { RawPciClient } from '../../r3/client.js';
import { Bdf } from '../../shared/bdf.js';
import { PCIRAWR0_DO as DO, PCIRAW_IRQ_KIND, PCIRAW_POWER } from '../../shared/protocol.js';
import { VBoxStatus as S, statusName } from '../../shared/status.js';
import { connectVm, EDU, openOn, startService, TESTDEV } from '../helpers/ring0.js';

let service: Ring0Service;
let a: RawPciClient;
let b: RawPciClient;
let edu: number;
let td: number;
let eduBar0: bigint;
let tdPort: number;
let tdMem: { start: bigint; size: bigint };

test.before(async () => {
  service = await startService();
  a = await connectVm(service);
  b = await connectVm(service);
  edu = openOn(a, EDU);
  td = openOn(a, TESTDEV);
  eduBar0 = a.getRegionInfo(edu, 0).regionStart;
  tdPort = Number(a.getRegionInfo(td, 0).regionStart);
  const m = a.getRegionInfo(td, 2);
  tdMem = { start: m.regionStart, size: m.regionSize };
});

test.after.always(async () => {
  await a?.close();
  await b?.close();
  await service?.close();
});

type Params = Record<string, unknown>;
interface Row {
  op: keyof typeof DO;
  /** Target for the valid request ('edu' | 'td' | 0). */
  target: 'edu' | 'td' | 0;
  valid: () => Params;
  /** Bad width params and the expected status, when the operation has a width. */
  badWidth?: () => Params;
  /** Out-of-range params and the expected status. */
  outOfRange?: [() => Params, number];
  /** Restores state after the valid request (so the table can run in any order). */
  after?: () => void;
  /** Status the valid request must give (default VINF_SUCCESS). */
  validRc?: number;
}

const rows: Row[] = [
  {
    op: 'GET_REGION_INFO',
    target: 'edu',
    valid: () => ({ region: 0 }),
    outOfRange: [() => ({ region: 7 }), S.VERR_INVALID_PARAMETER],
  },
  {
    op: 'PIO_READ',
    target: 'td',
    valid: () => ({ port: tdPort, cb: 4 }),
    badWidth: () => ({ port: tdPort, cb: 3 }),
    outOfRange: [() => ({ port: tdPort + 0x100, cb: 1 }), S.VERR_OUT_OF_RANGE],
  },
  {
    op: 'PIO_WRITE',
    target: 'td',
    valid: () => ({ port: tdPort + 4, cb: 4, value: 0x1234 }),
    badWidth: () => ({ port: tdPort + 4, cb: 8, value: 1 }),
    outOfRange: [() => ({ port: tdPort + 0xff, cb: 2, value: 1 }), S.VERR_OUT_OF_RANGE],
  },
  {
    op: 'MMIO_READ',
    target: 'edu',
    valid: () => ({ address: eduBar0, cb: 4 }),
    badWidth: () => ({ address: eduBar0, cb: 3 }),
    outOfRange: [() => ({ address: eduBar0 + 0x10_0000n, cb: 4 }), S.VERR_OUT_OF_RANGE],
  },
  {
    op: 'MMIO_WRITE',
    target: 'td',
    valid: () => ({ address: tdMem.start + 8n, value: { cb: 8, u: 0x1122_3344_5566_7788n } }),
    badWidth: () => ({ address: tdMem.start, value: { cb: 16, u: 1 } }),
    outOfRange: [() => ({ address: tdMem.start + tdMem.size - 4n, value: { cb: 8, u: 1n } }), S.VERR_OUT_OF_RANGE],
  },
  {
    op: 'PCICFG_READ',
    target: 'edu',
    valid: () => ({ offset: 0, cb: 4 }),
    badWidth: () => ({ offset: 0, cb: 8 }),
    outOfRange: [() => ({ offset: 256, cb: 4 }), S.VERR_OUT_OF_RANGE],
  },
  {
    op: 'PCICFG_WRITE',
    target: 'edu',
    valid: () => ({ offset: 0x3c, value: { cb: 1, u: 11 } }),
    badWidth: () => ({ offset: 0x3c, value: { cb: 3, u: 1 } }),
    outOfRange: [() => ({ offset: 0xfe, value: { cb: 4, u: 0 } }), S.VERR_OUT_OF_RANGE],
  },
  {
    op: 'REGISTER_R0_IRQ_HANDLER',
    target: 'edu',
    valid: () => ({ guestIrq: 5 }),
    outOfRange: [() => ({ guestIrq: -1 }), S.VERR_INVALID_PARAMETER],
    after: () => a.rawSync(DO.UNREGISTER_R0_IRQ_HANDLER, edu, { hostIrq: 11 }),
  },
  {
    op: 'UNREGISTER_R0_IRQ_HANDLER',
    target: 'td',
    valid: () => {
      a.registerIrqHandler(td, 7);
      return { hostIrq: 10 };
    },
    outOfRange: [
      () => {
        a.registerIrqHandler(td, 7);
        return { hostIrq: 99 };
      },
      S.VERR_INVALID_PARAMETER,
    ],
    after: () => a.rawSync(DO.UNREGISTER_R0_IRQ_HANDLER, td, { hostIrq: 10 }),
  },
  {
    op: 'POWER_STATE_CHANGE',
    target: 'edu',
    valid: () => ({ state: PCIRAW_POWER.RESET }),
    outOfRange: [() => ({ state: 9 }), S.VERR_INVALID_PARAMETER],
    after: () => a.cfgWrite(edu, 4, 2, 0x7),
  },
  {
    op: 'MAP_REGION',
    target: 'td',
    valid: () => ({ startAddress: tdMem.start, regionSize: tdMem.size, region: 2, flags: 0 }),
    outOfRange: [() => ({ startAddress: tdMem.start, regionSize: tdMem.size * 2n, region: 2, flags: 0 }), S.VERR_INVALID_PARAMETER],
  },
  {
    op: 'UNMAP_REGION',
    target: 'td',
    valid: () => {
      const m = a.mapRegion(td, 2);
      return { startAddress: m.start, regionSize: m.size, mapId: m.mapId, region: 2 };
    },
    outOfRange: [() => ({ startAddress: tdMem.start, regionSize: tdMem.size, mapId: 0x7fff_ffff, region: 2 }), S.VERR_NOT_FOUND],
  },
  {
    op: 'ACK_IRQ',
    target: 'edu',
    valid: () => ({ kind: PCIRAW_IRQ_KIND.INTX }),
    outOfRange: [() => ({ kind: 'nmi' }), S.VERR_INVALID_PARAMETER],
  },
  {
    op: 'GET_IRQ',
    target: 'edu',
    valid: () => ({ timeoutMs: 0 }),
    validRc: S.VERR_TIMEOUT, // nothing pending: polled, answered at once
    outOfRange: [() => ({ timeoutMs: -5 }), S.VERR_INVALID_PARAMETER],
  },
];

const targetOf = (r: Row) => (r.target === 'edu' ? edu : r.target === 'td' ? td : 0);
const expectRc = (t: { is: (a: unknown, b: unknown, m?: string) => void }, got: { rc: number; msg?: string }, want: number, what: string) =>
  t.is(statusName(got.rc), statusName(want), `${what}: ${got.msg ?? ''}`);

for (const row of rows) {
  test.serial(`${row.op} with a valid request succeeds`, (t) => {
    const ans = a.rawSync(DO[row.op], targetOf(row), row.valid());
    expectRc(t, ans, row.validRc ?? S.VINF_SUCCESS, row.op);
    row.after?.();
  });
  test.serial(`${row.op} with a handle that was never issued answers VERR_INVALID_HANDLE`, (t) => {
    const ans = a.rawSync(DO[row.op], 0x0bad_f00d, row.outOfRange ? row.outOfRange[0]() : row.valid());
    expectRc(t, ans, S.VERR_INVALID_HANDLE, row.op);
    row.after?.();
  });
  test.serial(`${row.op} with another session's handle answers VERR_INVALID_HANDLE`, (t) => {
    const ans = b.rawSync(DO[row.op], targetOf(row), row.op === 'UNREGISTER_R0_IRQ_HANDLER' || row.op === 'UNMAP_REGION' ? { hostIrq: 10 } : row.valid());
    expectRc(t, ans, S.VERR_INVALID_HANDLE, row.op);
    row.after?.();
  });
  if (row.badWidth) {
    const badWidth = row.badWidth;
    test.serial(`${row.op} with a bad width answers VERR_INVALID_PARAMETER`, (t) => {
      expectRc(t, a.rawSync(DO[row.op], targetOf(row), badWidth()), S.VERR_INVALID_PARAMETER, row.op);
    });
  }
  if (row.outOfRange) {
    const [params, rc] = row.outOfRange;
    test.serial(`${row.op} out of range answers ${statusName(rc)}`, (t) => {
      expectRc(t, a.rawSync(DO[row.op], targetOf(row), params()), rc, row.op);
      row.after?.();
    });
  }
}

test.serial('OPEN_DEVICE of a free device succeeds, of an absent one answers VERR_NOT_FOUND, with unknown flags VERR_INVALID_FLAGS', (t) => {
  const c = a.rawSync(DO.OPEN_DEVICE, 0, { pciAddress: Bdf.parse('0000:00:09.0').pciAddress, flags: 0 });
  expectRc(t, c, S.VERR_NOT_FOUND, 'absent');
  t.regex(c.msg ?? '', /rawpci list --host sim/);
  expectRc(t, a.rawSync(DO.OPEN_DEVICE, 0, { pciAddress: Bdf.parse(EDU).pciAddress, flags: 0x80 }), S.VERR_INVALID_FLAGS, 'flags');
  expectRc(t, a.rawSync(DO.OPEN_DEVICE, 7, { pciAddress: Bdf.parse(EDU).pciAddress, flags: 1 }), S.VERR_INVALID_PARAMETER, 'target');
  expectRc(t, a.rawSync(DO.OPEN_DEVICE, 0, { pciAddress: -1, flags: 1 }), S.VERR_INVALID_PARAMETER, 'address');
});

test.serial('CLOSE_DEVICE closes once; the handle is then invalid in its own session too', (t) => {
  a.closeDevice(td);
  const h = b.openDevice(TESTDEV, { detachHostDriver: true });
  expectRc(t, a.rawSync(DO.CLOSE_DEVICE, h, { flags: 0 }), S.VERR_INVALID_HANDLE, 'other session');
  expectRc(t, b.rawSync(DO.CLOSE_DEVICE, h, { flags: 0 }), S.VINF_SUCCESS, 'close');
  expectRc(t, b.rawSync(DO.CLOSE_DEVICE, h, { flags: 0 }), S.VERR_INVALID_HANDLE, 'again');
  td = openOn(a, TESTDEV);
});

test.serial('INIT_VM twice answers VERR_ALREADY_EXISTS; DEINIT_VM then INIT_VM works', (t) => {
  expectRc(t, a.rawSync(DO.INIT_VM, 0, {}), S.VERR_ALREADY_EXISTS, 'twice');
  expectRc(t, a.rawSync(DO.INIT_VM, edu, {}), S.VERR_INVALID_PARAMETER, 'with a handle');
  expectRc(t, b.rawSync(DO.DEINIT_VM, 0, {}), S.VINF_SUCCESS, 'deinit');
  expectRc(t, b.rawSync(DO.DEINIT_VM, 0, {}), S.VERR_INVALID_STATE, 'deinit twice');
  expectRc(t, b.rawSync(DO.INIT_VM, 0, {}), S.VINF_SUCCESS, 'init again');
});

test.serial('CONTIG_MEM_INFO refuses unaligned, oversized, overlapping and unknown actions', (t) => {
  expectRc(t, b.rawSync(DO.CONTIG_MEM_INFO, 0, { hostStart: 0n, guestStart: 0x4000_0000n, size: 0x1000n, action: 0 }), S.VINF_SUCCESS, 'map');
  expectRc(t, b.rawSync(DO.CONTIG_MEM_INFO, 0, { hostStart: 0n, guestStart: 0x4000_0000n, size: 0x1000n, action: 0 }), S.VERR_ALREADY_EXISTS, 'overlap');
  expectRc(t, b.rawSync(DO.CONTIG_MEM_INFO, 0, { hostStart: 1n, guestStart: 0n, size: 0x1000n, action: 0 }), S.VERR_INVALID_PARAMETER, 'unaligned');
  expectRc(t, b.rawSync(DO.CONTIG_MEM_INFO, 0, { hostStart: 0n, guestStart: 0n, size: 1n << 40n, action: 0 }), S.VERR_INVALID_PARAMETER, 'too big');
  expectRc(t, b.rawSync(DO.CONTIG_MEM_INFO, 0, { hostStart: 0n, guestStart: 0n, size: 0x1000n, action: 7 }), S.VERR_INVALID_PARAMETER, 'action');
  expectRc(t, b.rawSync(DO.CONTIG_MEM_INFO, 0, { hostStart: 0, guestStart: 0, size: 4096, action: 0 }), S.VERR_INVALID_PARAMETER, 'numbers, not bigints');
  expectRc(t, b.rawSync(DO.CONTIG_MEM_INFO, 0, { hostStart: 0n, guestStart: 0x4000_0000n, size: 0x1000n, action: 1 }), S.VINF_SUCCESS, 'unmap');
});

test.serial('an unknown operation answers VERR_NOT_SUPPORTED and a host BAR write VERR_ACCESS_DENIED', (t) => {
  expectRc(t, a.rawSync(99, edu, {}), S.VERR_NOT_SUPPORTED, 'op 99');
  expectRc(t, a.rawSync(99, 0, {}), S.VERR_NOT_SUPPORTED, 'op 99 no handle');
  expectRc(t, a.rawSync(DO.PCICFG_WRITE, edu, { offset: 0x10, value: { cb: 4, u: 0xffff_ffff } }), S.VERR_ACCESS_DENIED, 'BAR0');
  expectRc(t, a.rawSync(DO.MMIO_WRITE, td, { address: a.getRegionInfo(td, 6).regionStart, value: { cb: 4, u: 1 } }), S.VERR_ACCESS_DENIED, 'ROM');
  expectRc(t, a.rawSync(DO.MAP_REGION, edu, { startAddress: eduBar0, regionSize: 0x10_0000n, region: 0, flags: 0 }), S.VERR_NOT_SUPPORTED, 'trapped BAR');
});

test.serial('after every bad request ring 0 still serves valid ones', (t) => {
  t.is(a.mmioRead(edu, eduBar0, 4), 0x0100_00ed);
  t.is(a.pioRead(td, tdPort, 4), 0x5250_0001);
});
