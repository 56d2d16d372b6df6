// Handles are capabilities of one session: guessed handles, and another VM's real ones, are all refused.

import test from 'ava';
import { PCIRAWR0_DO } from '../../shared/protocol.js';
import { VBoxStatus } from '../../shared/status.js';
import { EDU, openOn, TESTDEV, withVms } from '../helpers/ring0.js';

test("200,000 guessed handles and the other VM's real handles are all VERR_INVALID_HANDLE, and the owner still drives its devices", async (t) => {
  await withVms({ vms: 2 }, async ([owner, guesser]) => {
    const edu = openOn(owner, EDU);
    const td = openOn(owner, TESTDEV);
    const bar = owner.getRegionInfo(edu, 0).regionStart;
    const rnd = new Uint32Array(1);
    let refused = 0;
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      crypto.getRandomValues(rnd);
      const handle = i < 2 ? [edu, td][i]! : rnd[0]!;
      const a = guesser.rawSync(PCIRAWR0_DO.MMIO_READ, handle, { address: bar, cb: 4 });
      if (a.rc === VBoxStatus.VERR_INVALID_HANDLE) refused++;
    }
    t.is(refused, n);
    t.is(owner.mmioRead(edu, bar, 4), 0x0100_00ed);
  });
});
