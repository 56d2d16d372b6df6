// A refused frame never changes the device: a thread flipping a posted frame's bytes while ring 0 reads it cannot make ring 0 validate one request and perform another.

import test from 'ava';
import { SLOT_HEADER_WORDS, slotOffset } from '../../shared/channel-layout.js';
import { ReqHeader } from '../../shared/codec.js';
import { PCIRAWR0_DO } from '../../shared/protocol.js';
import { EDU as EDU_REGS } from '../../src/drivers/edu.js';
import { channelOf, frameFor, postRawFrameAt } from '../helpers/raw-channel.js';
import { connectVm, EDU, openOn, startService } from '../helpers/ring0.js';
import { startHostile, stopWord } from './helpers/threads.js';

test('with a thread flipping the session byte of a posted MMIO write, every refused write left the register unchanged and every accepted one set it', async (t) => {
  const service = await startService();
  const vm = await connectVm(service);
  const stop = stopWord();
  const slot = 40;
  try {
    const h = openOn(vm, EDU);
    const bar = vm.getRegionInfo(h, 0).regionStart;
    const liveness = bar + BigInt(EDU_REGS.LIVENESS);
    // The byte of the frame's session field: the right session, or one ring 0 refuses.
    const at = slotOffset(slot, 4096) + SLOT_HEADER_WORDS * 4 + ReqHeader.SESSION;
    const flipper = await startHostile({ mode: 'flip', channel: channelOf(vm), stop, byteOffset: at, a: vm.session & 0xff, b: (vm.session + 1) & 0xff });
    let accepted = 0;
    let refused = 0;
    const wrong: string[] = [];
    let expect = vm.mmioRead(h, liveness, 4);
    for (let i = 0; i < 2000; i++) {
      const value = (0x1000_0000 + i) >>> 0;
      const a = postRawFrameAt(channelOf(vm), slot, frameFor(vm.session, PCIRAWR0_DO.MMIO_WRITE, h, { address: liveness, value: { cb: 4, u: value } }));
      const now = vm.mmioRead(h, liveness, 4);
      if (a?.rc === 0) {
        accepted++;
        expect = ~value >>> 0;
      } else refused++;
      if (now !== expect) wrong.push(`write ${i} answered ${a?.rc}: register 0x${now.toString(16)}, expected 0x${expect.toString(16)}`);
    }
    t.deepEqual(wrong.slice(0, 5), []);
    t.true(accepted > 0 && refused > 0, `accepted ${accepted}, refused ${refused}: both outcomes must occur`);
    t.log(`2000 posted MMIO writes under a flipping session byte: ${accepted} accepted (register set), ${refused} refused (register unchanged)`);
    await flipper.stop();
    t.true((flipper.reports.at(-1)?.writes ?? 0) > 1000);
  } finally {
    Atomics.store(new Int32Array(stop), 0, 1);
    await vm.close();
    await service.close();
  }
});
