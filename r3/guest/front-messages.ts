// PciFront's interrupt messages: host MSI/MSI-X vectors translated to the guest's programmed messages, pending bits while masked, and the host capability programmed with PciFront's own message (PCI Local Bus spec 3.0, 6.8).
//
// The host device's messages only tell which vector fired: ring 3 programs the host capability
// with one address and data = vector. Each host event becomes the message the guest programmed
// for that vector, after the guest's per-vector and function masks; an MSI is a memory write,
// so nothing is sent while the guest has bus mastering off (6.8).

import {
  PCI_MSI_ADDRESS_HI,
  PCI_MSI_ADDRESS_LO,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_ENABLE,
  PCI_MSI_FLAGS_QSIZE,
  PCI_MSIX_ENTRY_SIZE,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE,
} from '../../shared/linux/pci-regs.js';
import { childLogger } from '../../shared/log.js';
import { msixEntryDwords } from '../../shared/pci/msix.js';
import type { PciRawDevHandle } from '../../shared/protocol.js';
import type { VirtualBar } from './bars.js';
import type { VirtualMsi, VirtualMsix } from './msi.js';
import type { PciFrontHost } from './pci-front-host.js';

const log = childLogger({ ring: 3, part: 'pci-front' });

/** Interrupt counters of a PciFront (messages sent, held pending, dropped). */
export interface FrontMessageStats {
  msiSent: number;
  msiPending: number;
  msiDropped: number;
}

/** What {@link FrontMessages} needs of its PciFront: the host, the guest's bus mastering, the link and the INTx state. */
export interface FrontMessagesPort {
  readonly name: string;
  readonly host: PciFrontHost;
  readonly handle: PciRawDevHandle;
  readonly bars: ReadonlyMap<number, VirtualBar>;
  readonly stats: FrontMessageStats;
  /** The guest's PCI_COMMAND_MASTER. */
  busMaster(): boolean;
  /** Sends one message to the guest (counts it). */
  send(address: bigint, data: number, kind: 'msi' | 'msix', vector: number): void;
  /** Config write to the host (failures logged). */
  hostCfgWrite(offset: number, len: number, value: number): void;
  /** Logs a host failure. */
  failed(what: string, e: unknown, answer: number): number;
  /** The guest enabled MSI or MSI-X: INTx stops (6.8.1.3). */
  messagesEnabled(): void;
  /** Re-evaluates the INTx output. */
  updateIntx(): void;
}

/**
 * MSI and MSI-X delivery of one PciFront. `msi`/`msix` are its virtual capabilities (either may
 * be absent); `hostMsiAddress` the address programmed into the host's capability (bus address).
 * Never throws: host failures go to `port.failed`.
 */
export class FrontMessages {
  readonly #front: FrontMessagesPort;
  readonly #msi: VirtualMsi | undefined;
  readonly #msix: VirtualMsix | undefined;
  readonly #hostMsiAddress: bigint;

  constructor(port: FrontMessagesPort, msi: VirtualMsi | undefined, msix: VirtualMsix | undefined, hostMsiAddress: bigint) {
    this.#front = port;
    this.#msi = msi;
    this.#msix = msix;
    this.#hostMsiAddress = hostMsiAddress;
  }

  /** A host MSI vector `v`: the guest's message for it, a pending bit while masked, or dropped (MSI disabled, vector not enabled, bus mastering off). */
  hostMsi(v: number): void {
    const msi = this.#msi;
    if (!msi?.enabled || v >= msi.vectorsEnabled || !this.#front.busMaster()) {
      this.#front.stats.msiDropped++;
      log.debug(`${this.#front.name}: MSI vector ${v} dropped (guest MSI ${msi?.enabled ? 'enabled' : 'disabled'}, bus master ${this.#front.busMaster()})`);
      return;
    }
    if (msi.mask & (1 << v)) {
      this.#front.stats.msiPending++;
      msi.setPending(v, true);
      return;
    }
    const m = msi.message(v);
    this.#front.send(m.address, m.data, 'msi', v);
  }

  /** A host MSI-X vector `v`: the guest's table entry, a PBA bit while masked, or dropped. */
  hostMsix(v: number): void {
    const msix = this.#msix;
    if (!msix?.enabled || v >= msix.tableSize) {
      this.#front.stats.msiDropped++;
      log.debug(`${this.#front.name}: MSI-X vector ${v} dropped (guest MSI-X disabled or vector out of range)`);
      return;
    }
    const e = msix.entry(v);
    if (e.masked || msix.functionMasked) {
      this.#front.stats.msiPending++;
      msix.setPending(v, true);
      return;
    }
    if (!this.#front.busMaster()) {
      this.#front.stats.msiDropped++;
      return;
    }
    this.#front.send(e.address, e.data, 'msix', v);
  }

  /** Sends the pending MSI-X vectors that are deliverable now (enabled, unmasked, bus master). */
  deliverPendingMsix(): void {
    const msix = this.#msix;
    if (!msix?.enabled || msix.functionMasked || !this.#front.busMaster()) return;
    for (let v = 0; v < msix.tableSize; v++) {
      if (!msix.isPending(v)) continue;
      const e = msix.entry(v);
      if (e.masked) continue;
      msix.setPending(v, false);
      this.#front.send(e.address, e.data, 'msix', v);
    }
  }

  /** Sends the pending MSI vectors that are deliverable now. */
  deliverPendingMsi(): void {
    const msi = this.#msi;
    if (!msi?.enabled || !msi.perVectorMask || !this.#front.busMaster()) return;
    for (let v = 0; v < msi.vectorsEnabled; v++) {
      if (!(msi.pending & (1 << v)) || msi.mask & (1 << v)) continue;
      msi.setPending(v, false);
      const m = msi.message(v);
      this.#front.send(m.address, m.data, 'msi', v);
    }
  }

  /** After a guest write to the MSI capability: clamps Multiple Message Enable, reprograms the host on a change, delivers what became deliverable. */
  afterMsiWrite(wasEnabled: boolean, oldFlags: number): void {
    const msi = this.#msi!;
    msi.clampVectorsEnabled();
    const changed = msi.enabled !== wasEnabled || (msi.enabled && (msi.flags & PCI_MSI_FLAGS_QSIZE) !== (oldFlags & PCI_MSI_FLAGS_QSIZE));
    if (changed) this.#programHostMsi(msi.enabled);
    if (msi.enabled && !wasEnabled) this.#front.messagesEnabled();
    this.deliverPendingMsi();
    this.#front.updateIntx();
  }

  /** After a guest write to the MSI-X capability: reprograms the host on enable/disable, delivers what became deliverable. */
  afterMsixWrite(wasEnabled: boolean, wasMasked: boolean): void {
    const msix = this.#msix!;
    if (msix.enabled !== wasEnabled) this.#programHostMsix(msix.enabled);
    if (msix.enabled && !wasEnabled) this.#front.messagesEnabled();
    if (msix.enabled && (!wasEnabled || (wasMasked && !msix.functionMasked))) this.deliverPendingMsix();
    this.#front.updateIntx();
  }

  /** Programs the host's MSI with PciFront's own message (data = vector) and the guest's vector count. */
  #programHostMsi(enable: boolean): void {
    const msi = this.#msi!;
    const c = msi.offset;
    const flags = (msi.hostFlags & ~(PCI_MSI_FLAGS_ENABLE | PCI_MSI_FLAGS_QSIZE)) | (msi.flags & PCI_MSI_FLAGS_QSIZE);
    if (enable) {
      this.#front.hostCfgWrite(c + PCI_MSI_ADDRESS_LO, 4, Number(this.#hostMsiAddress & 0xffff_fffcn));
      if (msi.is64) this.#front.hostCfgWrite(c + PCI_MSI_ADDRESS_HI, 4, Number((this.#hostMsiAddress >> 32n) & 0xffff_ffffn));
      this.#front.hostCfgWrite(msi.dataOffset, 2, 0);
      if (msi.perVectorMask) this.#front.hostCfgWrite(msi.maskOffset, 4, 0);
    }
    this.#front.hostCfgWrite(c + PCI_MSI_FLAGS, 2, enable ? flags | PCI_MSI_FLAGS_ENABLE : flags);
  }

  /** Programs every host MSI-X entry (PciFront's address, data = vector, unmasked), then the host's enable. */
  #programHostMsix(enable: boolean): void {
    const msix = this.#msix!;
    const bar = this.#front.bars.get(msix.tableBir);
    if (enable && bar) {
      for (let v = 0; v < msix.tableSize; v++) {
        const at = bar.hostStart + BigInt(msix.tableOffset + v * PCI_MSIX_ENTRY_SIZE);
        try {
          const dwords = msixEntryDwords({ address: this.#hostMsiAddress, data: v, masked: false });
          for (let i = 0; i < dwords.length; i++) this.#front.host.mmioWrite(this.#front.handle, at + BigInt(4 * i), 4, dwords[i]!);
        } catch (e) {
          this.#front.failed(`programming host MSI-X entry ${v}`, e, 0);
        }
      }
    }
    this.#front.hostCfgWrite(msix.offset + PCI_MSIX_FLAGS, 2, enable ? PCI_MSIX_FLAGS_ENABLE : 0);
  }
}
