// The process-wide ownership table: a device has one owner, an IOMMU group one VM, and a dead worker's session is released whole.
import test from 'ava';
import { HostTable } from '../../r0/host-table.js';

test('a device claimed by one session reports that owner to every other claim, and to its own second claim', (t) => {
  const table = HostTable.create(8);
  // devices.claim answers 0 when it took the device, else the owner: to session 2, then to session 1's own second claim.
  t.deepEqual([table.devices.claim(0x20, 1), table.devices.claim(0x20, 2), table.devices.claim(0x20, 1)], [0, 1, 1]);
  t.is(table.devices.owner(0x20), 1);
  t.false(table.devices.release(0x20, 2));
  t.true(table.devices.release(0x20, 1));
  t.is(table.devices.claim(0x20, 2), 0);
});

test('an IOMMU group is held by one session, which may claim it again for another function', (t) => {
  const table = HostTable.create(8);
  // groups.claim answers 0 when it took the group, else the holder: to session 1's second claim, then to session 2.
  t.deepEqual([table.groups.claim(7, 1), table.groups.claim(7, 1), table.groups.claim(7, 2)], [0, 1, 1]);
  t.is(table.groups.owner(7), 1);
  // Group numbers and PCI addresses are separate key spaces.
  t.is(table.devices.claim(7, 2), 0);
  t.true(table.groups.release(7, 1));
  t.is(table.groups.claim(7, 2), 0);
});

test("releaseSession frees every device and group of a session and nobody else's", (t) => {
  const table = HostTable.create(8);
  table.devices.claim(0x20, 1);
  table.devices.claim(0x28, 1);
  table.devices.claim(0x30, 2);
  table.groups.claim(3, 1);
  table.groups.claim(4, 2);
  t.deepEqual(table.releaseSession(1).sort(), [0x20, 0x28]);
  t.is(table.devices.owner(0x20), 0);
  t.is(table.devices.owner(0x28), 0);
  t.is(table.groups.owner(3), 0);
  t.is(table.devices.owner(0x30), 2);
  t.is(table.groups.owner(4), 2);
});

test('a full table answers -1, never a wrong owner', (t) => {
  const table = HostTable.create(2);
  t.is(table.devices.claim(1, 1), 0);
  t.is(table.devices.claim(2, 1), 0);
  t.is(table.devices.claim(3, 1), -1);
  t.is(table.groups.claim(9, 1), 0);
});
