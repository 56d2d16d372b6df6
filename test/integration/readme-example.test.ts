// The README's API example, line for line, does what its comments say.
import test from 'ava';
import { PCIRAW_POWER, RawPciClient, type RawPciError, Ring0Service } from '../../src/index.js';

test('the README example prints 10000ed, an INTx event and VERR_OUT_OF_RANGE', async (t) => {
  process.env.RAWPCI_LOG ??= 'silent';
  const ring0 = await Ring0Service.start();
  const vm = await RawPciClient.connect(ring0, { guestRamBytes: 16 << 20 });
  vm.initVm();
  vm.contigMemInfo(0n, 0n, BigInt(16 << 20));

  const edu = vm.openDevice('0000:00:04.0', { detachHostDriver: true });
  vm.powerStateChange(edu, PCIRAW_POWER.ON);
  vm.cfgWrite(edu, 0x04, 2, 0x6);
  const bar0 = vm.getRegionInfo(edu, 0).regionStart;
  t.is(vm.mmioRead(edu, bar0, 4).toString(16), '10000ed');

  vm.registerIrqHandler(edu, 11);
  vm.mmioWrite(edu, bar0 + 0x60n, 4, 1);
  t.like(vm.getIrq(1000, edu), { kind: 'intx', guestIrq: 11 });

  let code = '';
  try {
    vm.pioRead(edu, 0x3f8, 1);
  } catch (e) {
    code = (e as RawPciError).code;
  }
  t.is(code, 'VERR_OUT_OF_RANGE');
  await vm.close();
  await ring0.close();
});
