// Real VFIO in the QEMU guest: rawpci serve runs as root, the VM as nobody (granted edu by the policy); SIGKILL of the VM mid-DMA puts edu back on uio_pci_generic, measured, and a second VM opens it.

import { readlinkSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import test from 'ava';
import { RawPciClient } from '../../r3/client.js';
import { PCIRAW_POWER } from '../../shared/protocol.js';
import { adminRequest } from '../../src/cli/serve.js';
import { serveDir, spawnVm, startServe } from '../helpers/serve-child.js';

const EDU_BDF = process.env.RAWPCI_VFIO_EDU;

const driverOf = (bdf: string) => {
  try {
    return basename(readlinkSync(`/sys/bus/pci/devices/${bdf}/driver`));
  } catch {
    return null;
  }
};

test('SIGKILL of an unprivileged VM mid-DMA: ring 0 (root) rebinds edu to uio_pci_generic, and a second VM opens it', async (t) => {
  if (!EDU_BDF) throw new Error('RAWPCI_VFIO_EDU is not set: this test runs inside the QEMU guest of npm run test:vfio');
  const d = serveDir();
  t.teardown(d.cleanup);
  const policy = join(d.dir, 'policy.json');
  writeFileSync(policy, JSON.stringify({ version: 1, rules: [{ users: [65534], slot: EDU_BDF }] }));
  const serve = await startServe(d.dir, ['--host', 'vfio', '--policy', policy]);
  t.teardown(() => serve.stop());
  t.is(driverOf(EDU_BDF), 'uio_pci_generic');
  const vm = spawnVm({ socket: serve.socket, mode: 'busy', bdf: EDU_BDF, vcpus: 2, parked: null }, { uid: 65534, gid: 65534 });
  const { session } = (await vm.waitFor('connected', 120_000)) as { session: number };
  await vm.waitFor('dma-running', 120_000);
  t.is(driverOf(EDU_BDF), 'vfio-pci');
  const t0 = performance.now();
  const killedAt = Date.now();
  vm.proc.kill('SIGKILL');
  let rebound = Number.NaN;
  while (performance.now() - t0 < 20_000) {
    if (driverOf(EDU_BDF) === 'uio_pci_generic') {
      rebound = performance.now() - t0;
      break;
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  const st = (await adminRequest(serve.socket, 'status', {}, 60_000)).data as {
    cleanups: { session: number; why: string; ms: number; noticedAt: number; devices: { bdf: string; steps: Record<string, number> }[] }[];
  };
  const rec = st.cleanups.find((c) => c.session === session);
  t.log(
    `edu back on uio_pci_generic ${rebound.toFixed(1)} ms after SIGKILL; ring 0 noticed the death (${rec?.why}) ${rec ? rec.noticedAt - killedAt : '?'} ms after kill(); its cleanup ${rec?.ms.toFixed(1)} ms (TCG: JS runs ~12x slower than on the host)`,
  );
  t.log(`ring 0's close steps (ms): ${JSON.stringify(rec?.devices)}`);
  t.false(Number.isNaN(rebound), 'edu was rebound to uio_pci_generic');
  t.truthy(rec);
  t.is(rec?.why, 'died', "the VM's liveness futex, not its socket's close, told ring 0");
  const next = await RawPciClient.connect(`unix:${serve.socket}`, { guestRamBytes: 4 << 20, startTimeoutMs: 60_000, timeoutMs: 30_000 });
  const h = next.openDevice(EDU_BDF, { detachHostDriver: true });
  next.powerStateChange(h, PCIRAW_POWER.ON);
  next.cfgWrite(h, 0x04, 2, 0x2);
  t.is(next.mmioRead(h, next.getRegionInfo(h, 0).regionStart, 4), 0x010000ed);
  // The floor, in this guest: the same fixed-order close with nobody dying (a clean close), kill() to rebound above minus this is what the death costs.
  const c0 = performance.now();
  await next.close();
  const cleanMs = performance.now() - c0;
  t.is(driverOf(EDU_BDF), 'uio_pci_generic');
  const after = (await adminRequest(serve.socket, 'status', {}, 60_000)).data as typeof st;
  const bye = after.cleanups.find((c) => c.session === next.session);
  t.is(bye?.why, 'bye');
  t.log(
    `the same close with nobody dying (a clean close): ${cleanMs.toFixed(1)} ms from close() to rebound; ring 0's cleanup ${bye?.ms.toFixed(1)} ms, steps (ms): ${JSON.stringify(bye?.devices)}`,
  );
});
