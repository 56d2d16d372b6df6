import { PCI_MSI_ADDRESS_HI, PCI_MSI_ADDRESS_LO, PCI_MSI_FLAGS, PCI_MSI_FLAGS_64BIT, PCI_MSI_FLAGS_ENABLE } from '../../shared/linux/pci-regs.js';
import {
  EFD_CLOEXEC,
  EFD_NONBLOCK,
  VFIO_DEVICE_GET_IRQ_INFO,
  VFIO_DEVICE_SET_IRQS,
  VFIO_IRQ_INFO,
  VFIO_IRQ_SET,
  VFIO_PCI_INTX_IRQ_INDEX,
  VFIO_PCI_MSI_IRQ_INDEX,
} from '../../shared/linux/vfio-abi.js';
import { VFIO_IRQ_SET_ACTION_TRIGGER, VFIO_IRQ_SET_ACTION_UNMASK, VFIO_IRQ_SET_DATA_EVENTFD, VFIO_IRQ_SET_DATA_NONE } from '../../shared/linux/vfio-consts.js';
import { msiLayout } from '../../shared/msi-layout.js';

import type { HostDeviceEvents } from '../host.js';
import * as libc from './libc.js';

/** How often ring 0 polls eventfds while a device has interrupts armed, in ms. */
export const VFIO_IRQ_POLL_MS = 1;

/** Config reads the MSI logic needs (the device's own readConfig). */
type ConfigReader = (offset: number, data: Uint8Array) => boolean;

/**
 * The interrupts of one open VFIO device (device fd `fd`), delivered through `events`. Methods
 * never throw: a failed SET_IRQS is logged through `events.log` and leaves the previous state.
 */
export class VfioIrqs {
  readonly #fd: number;
  readonly #events: HostDeviceEvents;
  readonly #readConfig: ConfigReader;
  /** Config offset of the MSI capability, 0 when the device has none. */
  readonly msiCap: number;
  #intxFd = -1;
  #msiFd = -1;
  #msi: { address: bigint; data: number } | undefined;
  #closed = false;
  readonly #u64 = new Uint8Array(8);

  /** Arms INTx when the device has it; `msiCap` is the MSI capability's offset (0: none). */
  constructor(fd: number, events: HostDeviceEvents, readConfig: ConfigReader, msiCap: number) {
    this.#fd = fd;
    this.#events = events;
    this.#readConfig = readConfig;
    this.msiCap = msiCap;
    this.#armIntx();
  }

  /** Whether an eventfd is armed (ring 0 then polls every {@link VFIO_IRQ_POLL_MS}). */
  get armed(): boolean {
    return this.#intxFd >= 0 || this.#msiFd >= 0;
  }

  /** Whether INTx is armed. */
  get intxArmed(): boolean {
    return this.#intxFd >= 0;
  }

  /** Reads the eventfds and delivers what fired. */
  poll(): void {
    if (this.#intxFd >= 0 && libc.read(this.#intxFd, this.#u64) === 8) this.#events.intx(true);
    if (this.#msiFd >= 0 && libc.read(this.#msiFd, this.#u64) === 8) {
      const n = Number(new DataView(this.#u64.buffer).getBigUint64(0, true));
      const m = this.#msi ?? { address: 0n, data: 0 };
      for (let i = 0; i < n; i++) this.#events.msi('msi', 0, m.address, m.data);
    }
  }

  /** ACK_IRQ for INTx: the line is considered low until the kernel signals again after the unmask. */
  ackIntx(): void {
    // The kernel masked INTx when it fired (VFIO_IRQ_INFO_AUTOMASKED); ring 3 handled it.
    this.#events.intx(false);
    this.#setIrqs(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK, 1, undefined);
  }

  /** A config write of `data` at `offset` succeeded: follow the MSI capability when it overlaps. */
  configWritten(offset: number, data: Uint8Array): void {
    const c = this.msiCap;
    if (c && offset < c + 24 && c < offset + data.length) this.#msiChanged(offset, data);
  }

  /** After a device reset: MSI off (back to INTx), INTx unmasked. */
  afterReset(): void {
    if (this.#msiFd >= 0) this.disableMsi();
    if (this.#intxFd >= 0) this.ackIntx();
  }

  /** MSI off; INTx armed again unless closed. */
  disableMsi(): void {
    if (this.#msiFd < 0) return;
    this.#setIrqs(VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, undefined);
    libc.close(this.#msiFd);
    this.#msiFd = -1;
    if (!this.#closed) this.#armIntx();
  }

  /** Stops every interrupt and closes the eventfds (idempotent). */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.disableMsi();
    this.#setIrqs(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, undefined);
    for (const fd of [this.#intxFd, this.#msiFd]) libc.close(fd);
    this.#intxFd = this.#msiFd = -1;
  }

  #irqCount(index: number): number {
    const L = VFIO_IRQ_INFO;
    const { bytes: b, dv } = libc.vfioArg(L.SIZE);
    dv.setUint32(L.index, index, true);
    try {
      libc.ioctl(this.#fd, VFIO_DEVICE_GET_IRQ_INFO, b, 'VFIO_DEVICE_GET_IRQ_INFO');
    } catch {
      return 0;
    }
    return dv.getUint32(L.count, true);
  }

  /** VFIO_DEVICE_SET_IRQS for vector 0 of `index`; `eventfd` when DATA_EVENTFD. False on failure (logged). */
  #setIrqs(index: number, flags: number, count: number, eventfd: number | undefined): boolean {
    const L = VFIO_IRQ_SET;
    const size = L.SIZE + (eventfd === undefined ? 0 : 4);
    const { bytes: b, dv } = libc.vfioArg(size);
    dv.setUint32(L.flags, flags, true);
    dv.setUint32(L.index, index, true);
    dv.setUint32(L.start, 0, true);
    dv.setUint32(L.count, count, true);
    if (eventfd !== undefined) dv.setInt32(L.data, eventfd, true);
    try {
      libc.ioctl(this.#fd, VFIO_DEVICE_SET_IRQS, b, `VFIO_DEVICE_SET_IRQS index ${index}`);
      return true;
    } catch (e) {
      this.#events.log(`${(e as Error).message}`);
      return false;
    }
  }

  #armIntx(): void {
    if (this.#intxFd >= 0 || this.#irqCount(VFIO_PCI_INTX_IRQ_INDEX) === 0) return;
    const fd = libc.eventfd(EFD_NONBLOCK | EFD_CLOEXEC);
    if (this.#setIrqs(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 1, fd)) this.#intxFd = fd;
    else libc.close(fd);
  }

  #disarmIntx(): void {
    if (this.#intxFd < 0) return;
    this.#setIrqs(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, undefined);
    libc.close(this.#intxFd);
    this.#intxFd = -1;
    this.#events.intx(false);
  }

  /**
   * The guest wrote into the MSI capability: follow its enable bit and message. The enable bit is
   * taken from the written bytes: vfio-pci clears it in its virtual copy until MSI is enabled by
   * ioctl (vfio_msi_config_write), so reading it back would always say disabled.
   */
  #msiChanged(offset: number, written: Uint8Array): void {
    const c = this.msiCap;
    const b = new Uint8Array(4);
    this.#readConfig(c + PCI_MSI_FLAGS, b.subarray(0, 2));
    let flags = b[0]! | (b[1]! << 8);
    const at = c + PCI_MSI_FLAGS - offset;
    const wroteFlags = at >= 0 && at < written.length;
    if (wroteFlags) flags = (flags & ~PCI_MSI_FLAGS_ENABLE) | (written[at]! & PCI_MSI_FLAGS_ENABLE);
    const is64 = (flags & PCI_MSI_FLAGS_64BIT) !== 0;
    const u32 = (off: number) => {
      this.#readConfig(off, b);
      return new DataView(b.buffer).getUint32(0, true);
    };
    const lo = u32(c + PCI_MSI_ADDRESS_LO);
    const hi = is64 ? u32(c + PCI_MSI_ADDRESS_HI) : 0;
    const data = u32(c + msiLayout(flags).data) & 0xffff;
    this.#msi = { address: (BigInt(hi) << 32n) | BigInt(lo), data };
    const enabled = (flags & PCI_MSI_FLAGS_ENABLE) !== 0;
    if (!wroteFlags) return;
    if (enabled && this.#msiFd < 0) {
      // One interrupt index at a time: INTx off, then MSI on (QEMU's vfio_msi_enable order).
      this.#disarmIntx();
      const fd = libc.eventfd(EFD_NONBLOCK | EFD_CLOEXEC);
      if (this.#setIrqs(VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 1, fd)) this.#msiFd = fd;
      else {
        libc.close(fd);
        this.#armIntx();
      }
    } else if (!enabled && this.#msiFd >= 0) this.disableMsi();
  }
}
