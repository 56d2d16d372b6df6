// Ring 0's private control block: the journal keeps what a worker holds (fds, mappings, detached drivers) so the service can release it, and the reaper does.
import test from 'ava';
import { HostTable } from '../../r0/host-table.js';
import { releaseWorkerResources } from '../../r0/reaper.js';
import { JOURNAL_RECORDS, ServeControl, ServeState, workerResources } from '../../r0/serve-control.js';

test('journal records of every kind read back as written, and forgotten ones are gone', (t) => {
  const c = ServeControl.create();
  c.record({ kind: 'fd', fd: 17 });
  c.record({ kind: 'map', address: 0x7f12_3456_7000n, len: 2 ** 33 + 4096 });
  c.record({ kind: 'device', pciAddress: 0xffff_0428, driver: 'snd_hda_intel' });
  c.record({ kind: 'device', pciAddress: 0x20, driver: null });
  t.deepEqual(c.entries(), [
    { kind: 'fd', fd: 17 },
    { kind: 'map', address: 0x7f12_3456_7000n, len: 2 ** 33 + 4096 },
    { kind: 'device', pciAddress: 0xffff_0428, driver: 'snd_hda_intel' },
    { kind: 'device', pciAddress: 0x20, driver: null },
  ]);
  t.true(c.forget({ kind: 'fd', fd: 17 }));
  t.false(c.forget({ kind: 'fd', fd: 17 }));
  t.true(c.forget({ kind: 'map', address: 0x7f12_3456_7000n, len: 0 }));
  t.true(c.forget({ kind: 'device', pciAddress: 0xffff_0428, driver: null }));
  t.deepEqual(c.entries(), [{ kind: 'device', pciAddress: 0x20, driver: null }]);
});

test(`a full journal (${JOURNAL_RECORDS} records) refuses the next record instead of overwriting one`, (t) => {
  const c = ServeControl.create();
  for (let i = 0; i < JOURNAL_RECORDS; i++) t.not(c.record({ kind: 'fd', fd: i }), -1);
  t.is(c.record({ kind: 'fd', fd: 99_999 }), -1);
  t.is(c.entries().length, JOURNAL_RECORDS);
});

test('a serve control block starts only once, and not at all after a stop request', (t) => {
  const c = ServeControl.create();
  t.true(c.start(5));
  t.is(c.state, ServeState.RUNNING);
  t.is(c.threadId, 5);
  t.false(c.start(6));
  const d = ServeControl.create();
  d.requestStop();
  t.false(d.start(7));
  t.is(d.state, ServeState.STOPPED);
  t.true(d.giveUp());
  t.false(d.giveUp());
  t.true(d.givenUp);
});

test("a worker's resources held before a serve task are replayed into its journal, and released ones leave it", (t) => {
  workerResources.addFd(41);
  const c = ServeControl.create();
  workerResources.attach(c);
  workerResources.addDetached(0x28, 'edu');
  t.deepEqual(c.entries(), [
    { kind: 'fd', fd: 41 },
    { kind: 'device', pciAddress: 0x28, driver: 'edu' },
  ]);
  workerResources.removeDetached(0x28);
  workerResources.removeFd(41);
  t.deepEqual(c.entries(), []);
  workerResources.detach();
});

test("releasing a dead worker's journal on the simulated host marks its detached devices bound again", async (t) => {
  const table = HostTable.create(8);
  table.setDetached(0x20, true);
  table.setDetached(0x28, true);
  const problems = await releaseWorkerResources([{ kind: 'device', pciAddress: 0x20, driver: 'edu' }], { host: 'sim' }, table);
  t.deepEqual(problems, []);
  t.false(table.isDetached(0x20));
  t.true(table.isDetached(0x28));
});
