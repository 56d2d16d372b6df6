// PciFront under uio_pci_generic's INTx sequence as the v86 bridge drives it (config writes and BAR accesses while a line is asserted are its end of interrupt; config reads are not): each raise reaches the guest line, and no stale level is raised when the guest clears INTx disable.

import test from 'ava';
import { EDU_REG, EduDevice } from '../../r0/sim/models/edu.js';
import { PCI_BASE_ADDRESS_0, PCI_COMMAND, PCI_COMMAND_INTX_DISABLE, PCI_COMMAND_MEMORY, PCI_STATUS_INTERRUPT } from '../../shared/linux/pci-regs.js';
import { rig } from './helpers/rig.js';

const EDU_BAR = 0xe000_0000n;

test('uio_pci_generic sequence: every raise reaches the guest line, and clearing INTx disable after the acknowledge raises no stale level', (t) => {
  const r = rig(new EduDevice());
  r.cfgWrite(PCI_BASE_ADDRESS_0, 4, Number(EDU_BAR));
  r.cfgWrite(PCI_COMMAND, 2, PCI_COMMAND_MEMORY);
  const line = r.bus.functions()[0]!.line;
  // The v86 bridge (r3/guest/v86.ts): a config write or BAR access while the line is up counts
  // as the EOI, after the access; a config read does not. Host events arrive from the event loop.
  const changes: boolean[] = [];
  const resample = () => {
    if (r.bus.lineLevel(line)) r.bus.endOfInterrupt(line);
    r.host.deliver(r.bus);
  };
  const cfgRead = (at: number, len: 1 | 2 | 4) => r.cfgRead(at, len);
  const cfgWrite = (at: number, len: 1 | 2 | 4, v: number) => {
    const levels = r.sink.changes.length;
    r.cfgWrite(at, len, v);
    for (const [, level] of r.sink.changes.slice(levels)) changes.push(level);
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
    // The program: acknowledge at the device, then clear INTx disable through config (uio-howto).
    mmioWrite(EDU_REG.IRQ_ACK, 0x4000);
    const cmd = cfgRead(PCI_COMMAND, 2);
    changes.length = 0;
    cfgWrite(PCI_COMMAND, 2, cmd & ~PCI_COMMAND_INTX_DISABLE);
    t.deepEqual(changes, [], `raise ${i}: clearing INTx disable after the acknowledge raised no stale level`);
    t.false(r.bus.lineLevel(line), `raise ${i}: no level left after acknowledge and unmask`);
  }
  t.deepEqual(seen, [1, 1, 1], 'every raise reached the guest line');
});
