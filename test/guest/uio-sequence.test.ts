// PciFront under uio_pci_generic's INTx sequence as the v86 bridge drives it (every guest access while a line is asserted is its end of interrupt): each raise must reach the guest line.

import test from 'ava';
import { EDU_REG, EduDevice } from '../../r0/sim/models/edu.js';
import { PCI_BASE_ADDRESS_0, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_MEMORY, PCI_STATUS_INTERRUPT } from '../../shared/linux/pci-regs.js';
import { rig } from './helpers/rig.js';

const EDU_BAR = 0xe000_0000n;

test('uio_pci_generic sequence: mask in the handler, acknowledge, unmask; every raise asserts the guest line again', (t) => {
  const r = rig(new EduDevice());
  r.cfgWrite(PCI_BASE_ADDRESS_0, 4, Number(EDU_BAR));
  r.cfgWrite(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
  const line = r.bus.functions()[0]!.line;
  // The v86 bridge: an access while the line is up counts as the EOI; the event loop delivers host events.
  const resample = () => {
    if (r.bus.lineLevel(line)) r.bus.endOfInterrupt(line);
    r.host.deliver(r.bus);
  };
  const cfgRead = (at: number, len: 1 | 2 | 4) => {
    const v = r.cfgRead(at, len);
    resample();
    return v;
  };
  const cfgWrite = (at: number, len: 1 | 2 | 4, v: number) => {
    r.cfgWrite(at, len, v);
    resample();
  };
  const mmioWrite = (reg: number, v: number) => {
    r.bus.mmioWrite(EDU_BAR + BigInt(reg), 4, v);
    resample();
  };
  const seen: number[] = [];
  for (let i = 0; i < 3; i++) {
    mmioWrite(EDU_REG.IRQ_RAISE, 0x4000);
    r.host.deliver(r.bus);
    seen.push(r.bus.lineLevel(line) ? 1 : 0);
    if (!r.bus.lineLevel(line)) continue;
    // uio_pci_generic's handler: pci_check_and_mask_intx reads command+status, sets INTx disable.
    const cmdStatus = cfgRead(PCI_COMMAND, 4);
    if ((cmdStatus >>> 16) & PCI_STATUS_INTERRUPT) cfgWrite(PCI_COMMAND, 2, (cmdStatus & 0xffff) | PCI_COMMAND_INTX_DISABLE);
    // The program: acknowledge at the device, then write 1 to /dev/uio0 (pci_intx: clear INTx disable).
    mmioWrite(EDU_REG.IRQ_ACK, 0x4000);
    const cmd = cfgRead(PCI_COMMAND, 2);
    cfgWrite(PCI_COMMAND, 2, cmd & ~PCI_COMMAND_INTX_DISABLE);
    t.false(r.bus.lineLevel(line), `raise ${i}: no level left after acknowledge and unmask`);
  }
  t.deepEqual(seen, [1, 1, 1], 'every raise reached the guest line');
});
