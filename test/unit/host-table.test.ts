// The process-wide ownership table: a device has one owner, an IOMMU group one VM, and a dead worker's session is released whole.
import test from 'ava';
import { HostTable } from '../../r0/host-table.js';

test('a device claimed by one session reports that owner to every other claim, and to its own second claim', (t) => {
  const table = HostTable.create(8);
  // claim answers 0 when it took the device, else the owner: to session 2, then to session 1's own second claim.
  t.deepEqual([table.claim(0x20, 1), table.claim(0x20, 2), table.claim(0x20, 1)], [0, 1, 1]);
  t.is(table.owner(0x20), 1);
  t.false(table.release(0x20, 2));
  t.true(table.release(0x20, 1));
  t.is(table.claim(0x20, 2), 0);
});

test('an IOMMU group is held by one session, which may claim it again for another function', (t) => {
  const table = HostTable.create(8);
  // claimGroup answers 0 when it took the group, else the holder: to session 1's second claim, then to session 2.
  t.deepEqual([table.claimGroup(7, 1), table.claimGroup(7, 1), table.claimGroup(7, 2)], [0, 1, 1]);
  t.is(table.groupOwner(7), 1);
  // Group numbers and PCI addresses are separate key spaces.
  t.is(table.claim(7, 2), 0);
  t.true(table.releaseGroup(7, 1));
  t.is(table.claimGroup(7, 2), 0);
});

test("releaseSession frees every device and group of a session and nobody else's", (t) => {
  const table = HostTable.create(8);
  table.claim(0x20, 1);
  table.claim(0x28, 1);
  table.claim(0x30, 2);
  table.claimGroup(3, 1);
  table.claimGroup(4, 2);
  t.deepEqual(table.releaseSession(1).sort(), [0x20, 0x28]);
  t.is(table.owner(0x20), 0);
  t.is(table.owner(0x28), 0);
  t.is(table.groupOwner(3), 0);
  t.is(table.owner(0x30), 2);
  t.is(table.groupOwner(4), 2);
});

test('a full table answers -1, never a wrong owner', (t) => {
  const table = HostTable.create(2);
  t.is(table.claim(1, 1), 0);
  t.is(table.claim(2, 1), 0);
  t.is(table.claim(3, 1), -1);
  t.is(table.claimGroup(9, 1), 0);
});
