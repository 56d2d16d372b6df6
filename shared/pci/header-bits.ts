// Which bits of the type 0 header's command and status registers software may change (PCI Local Bus spec 3.0, 6.2.2 and 6.2.3): one copy for the simulated devices and PciFront.

import {
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_COMMAND_PARITY,
  PCI_COMMAND_SERR,
  PCI_STATUS_DETECTED_PARITY,
  PCI_STATUS_PARITY,
  PCI_STATUS_REC_MASTER_ABORT,
  PCI_STATUS_REC_TARGET_ABORT,
  PCI_STATUS_SIG_SYSTEM_ERROR,
  PCI_STATUS_SIG_TARGET_ABORT,
} from '../linux/pci-regs.js';

/**
 * Command register (PCI_COMMAND, 16 bits) bits a guest may set: I/O and memory decode, bus
 * mastering, parity and SERR# response, INTx disable (PCI Local Bus spec 3.0, 6.2.2). QEMU 7.2's
 * pci_init_wmask (hw/pci/pci.c) makes the same bits writable except PARITY, which the spec
 * defines as read/write and we keep. The other bits read 0 (libvfio-user consumes bits the same way).
 */
export const PCI_COMMAND_WRITABLE = PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_PARITY | PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE;

/**
 * Status register (PCI_STATUS, 16 bits) bits that are write-1-to-clear: the error bits (parity,
 * target and master aborts, SERR#, detected parity; PCI Local Bus spec 3.0, 6.2.3). The rest of
 * the status register is read-only.
 */
export const PCI_STATUS_W1C =
  PCI_STATUS_PARITY |
  PCI_STATUS_SIG_TARGET_ABORT |
  PCI_STATUS_REC_TARGET_ABORT |
  PCI_STATUS_REC_MASTER_ABORT |
  PCI_STATUS_SIG_SYSTEM_ERROR |
  PCI_STATUS_DETECTED_PARITY;
