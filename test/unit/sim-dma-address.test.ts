// The simulated-device base class never hands the host a DMA address outside 0..2^64-1: a model whose own arithmetic overflowed is logged and refused.
import test from 'ava';
import { ConfigSpace } from '../../r0/sim/config-space.js';
import { SimPciFunction } from '../../r0/sim/models/base.js';
import { PCI_COMMAND, PCI_COMMAND_MASTER } from '../../shared/linux/pci-regs.js';
import { cfgWrite, FakeSimHost } from '../helpers/fake-sim-host.js';

/** A model that DMAs wherever it is told (as a model computing base + index * stride might). */
class DmaAnywhere extends SimPciFunction {
  readonly model = 'dma-anywhere';
  constructor() {
    super(new ConfigSpace({ vendorId: 0x1234, deviceId: 0x0001, revision: 0, classCode: 0 }));
  }
  read(iova: bigint, n: number): boolean {
    return this.dmaRead(iova, new Uint8Array(n));
  }
  write(iova: bigint, n: number): boolean {
    return this.dmaWrite(iova, new Uint8Array(n));
  }
  protected resetState(): void {}
}

test('a model DMA at an address outside 0..2^64-1 is refused and logged without reaching the host', (t) => {
  const dev = new DmaAnywhere();
  const host = new FakeSimHost();
  dev.open(host);
  cfgWrite(dev, PCI_COMMAND, 2, PCI_COMMAND_MASTER);
  let calls = 0;
  host.dmaRead = host.dmaWrite = () => {
    calls++;
    return true;
  };
  for (const iova of [1n << 64n, (1n << 64n) + 4096n, -1n, 4096 as unknown as bigint]) {
    t.false(dev.read(iova, 4), `read at ${String(iova)}`);
    t.false(dev.write(iova, 4), `write at ${String(iova)}`);
  }
  t.is(calls, 0, 'the host never saw one');
  t.is(host.logs.filter((l) => l.includes('not in 0..2^64-1')).length, 8);
  // The last bus address is a bus address: that one goes to the host (whose IOMMU decides).
  t.true(dev.read((1n << 64n) - 1n, 1));
  t.is(calls, 1);
});
