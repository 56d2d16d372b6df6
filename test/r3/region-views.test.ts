// RegionViews and the device fds of MAP_REGION: an fd that came over rawpci serve's socket is this process's copy and is closed once mmapped or dropped; ring 0's own fd (in-process) is never closed by ring 3.
import { closeSync, fstatSync } from 'node:fs';
import test from 'ava';
import type { RegionInfo } from '../../r3/client.js';
import { RegionViews } from '../../r3/region-views.js';
import { xproc } from '../../shared/xproc.js';

const info = { region: 0, regionStart: 0xfe000000n, regionSize: 4096 } as unknown as RegionInfo;
const isOpen = (fd: number) => {
  try {
    fstatSync(fd);
    return true;
  } catch {
    return false;
  }
};
const source = (msgs: unknown[]) => ({ receive: () => msgs.shift() });

test('a device fd received over the socket is closed once mmapped; the view still reads the file', (t) => {
  const x = xproc();
  const fd = x.memfdCreate('bar0', 4096, false);
  new Uint32Array(x.mapShared(fd, 4096))[0] = 0x010000ed;
  const views = new RegionViews(source([{ type: 'map', mapId: 1, fd, offset: 0n, size: 4096, owned: true }]), () => t.fail('nothing withdrawn'));
  const m = views.mapped(1, info, 1);
  t.false(isOpen(fd), 'the received fd was closed');
  t.is(m.view.getUint32(0, true), 0x010000ed);
  views.releaseDeviceMaps();
});

test('a device fd of ring 0 in the same process is left open; a received one dropped before it was mapped is closed', (t) => {
  const own = xproc().memfdCreate('own', 4096, false);
  const got = xproc().memfdCreate('got', 4096, false);
  const views = new RegionViews(
    source([
      { type: 'map', mapId: 2, fd: got, offset: 0n, size: 4096, owned: true },
      { type: 'map', mapId: 1, fd: own, offset: 0n, size: 4096 },
    ]),
    () => {},
  );
  views.mapped(1, info, 1); // drains both messages (2 arrives first)
  t.true(isOpen(own), "ring 0's fd stays open");
  t.true(isOpen(got), 'not mapped yet: kept');
  views.releaseDeviceMaps();
  t.false(isOpen(got), 'dropped unmapped at close: closed');
  t.true(isOpen(own));
  closeSync(own);
});
