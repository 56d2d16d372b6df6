// A ring-3 driver for QEMU's edu device over rawpci: the one edu sequence shared by the demo, the tests and the VFIO check.

import type { RawPciClient } from '../../r3/client.js';
import {
  EDU_DMA_DIR_TO_RAM,
  EDU_DMA_IRQ,
  EDU_DMA_RUN,
  EDU_DMA_START,
  EDU_IRQ_DMA,
  EDU_IRQ_FACT,
  EDU_REG,
  EDU_STATUS_COMPUTING,
  EDU_STATUS_IRQFACT,
} from '../../shared/devices/edu.js';
import {
  PCI_CAP_ID_MSI,
  PCI_COMMAND,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_MSI_ADDRESS_HI,
  PCI_MSI_ADDRESS_LO,
  PCI_MSI_DATA_64,
  PCI_MSI_FLAGS,
  PCI_MSI_FLAGS_ENABLE,
} from '../../shared/linux/pci-regs.js';
import { findCapability } from '../../shared/pci/capabilities.js';
import { PCIRAW_IRQ_KIND, type PciRawDevHandle, type PciRawIrqEvent } from '../../shared/protocol.js';

/** edu's BAR0 registers and bits (docs/edu.md), under short names for driver code. */
export const EDU = {
  ...EDU_REG,
  /** Device address of the 4096-byte DMA buffer. */
  DMA_BUF: EDU_DMA_START,
  STATUS_COMPUTING: EDU_STATUS_COMPUTING,
  STATUS_IRQFACT: EDU_STATUS_IRQFACT,
  IRQ_FACT: EDU_IRQ_FACT,
  IRQ_DMA: EDU_IRQ_DMA,
  CMD_START: EDU_DMA_RUN,
  CMD_TO_RAM: EDU_DMA_DIR_TO_RAM,
  CMD_IRQ: EDU_DMA_IRQ,
} as const;

/** How a driver waits for completion. */
export type EduWait = 'intx' | 'msi' | 'poll';

/** The MSI message the driver programs (any address/data works: ring 0 reports what the device sent). */
export const EDU_MSI_ADDRESS = 0xfee0_0000n;
export const EDU_MSI_DATA = 0x4021;

/**
 * Drives one open edu through a {@link RawPciClient}: BAR0 by MMIO, the MSI capability by config
 * writes, interrupts by GET_IRQ/ACK_IRQ. Every method throws RawPciError on a ring-0 failure and
 * Error when the device does not do what docs/edu.md says within `timeoutMs`.
 */
export class EduDriver {
  readonly client: RawPciClient;
  readonly handle: PciRawDevHandle;
  /** Host physical address of BAR0. */
  readonly bar0: bigint;
  readonly timeoutMs: number;
  /** Offset of the MSI capability, found by walking the capability list. */
  readonly msiCap: number;
  /** Interrupt events seen (for reports). */
  readonly events: PciRawIrqEvent[] = [];

  constructor(client: RawPciClient, handle: PciRawDevHandle, timeoutMs = 5000) {
    this.client = client;
    this.handle = handle;
    this.timeoutMs = timeoutMs;
    const info = client.getRegionInfo(handle, 0);
    if (!info.present || info.kind === 'io') throw new Error('edu BAR0 must be a memory BAR');
    this.bar0 = info.regionStart;
    this.msiCap = this.#findCap(PCI_CAP_ID_MSI);
  }

  /** 32-bit read of BAR0 register `reg`. */
  read(reg: number): number {
    return this.client.mmioRead(this.handle, this.bar0 + BigInt(reg), 4);
  }

  /** 32-bit write of BAR0 register `reg`. */
  write(reg: number, value: number): void {
    this.client.mmioWrite(this.handle, this.bar0 + BigInt(reg), 4, value >>> 0);
  }

  /** 64-bit write of a DMA register. */
  write64(reg: number, value: bigint): void {
    this.client.mmioWrite(this.handle, this.bar0 + BigInt(reg), 8, value);
  }

  /** Sets memory decode and bus mastering; INTx enabled unless `intxDisabled`. */
  enable(intxDisabled = false): void {
    const cmd = this.client.cfgRead(this.handle, PCI_COMMAND, 2);
    let v = cmd | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER;
    v = intxDisabled ? v | PCI_COMMAND_INTX_DISABLE : v & ~PCI_COMMAND_INTX_DISABLE;
    this.client.cfgWrite(this.handle, PCI_COMMAND, 2, v);
  }

  /** Programs and enables (or disables) MSI: 64-bit address EDU_MSI_ADDRESS, data EDU_MSI_DATA. */
  setMsi(enabled: boolean): void {
    const c = this.msiCap;
    if (enabled) {
      this.client.cfgWrite(this.handle, c + PCI_MSI_ADDRESS_LO, 4, Number(EDU_MSI_ADDRESS & 0xffff_ffffn));
      this.client.cfgWrite(this.handle, c + PCI_MSI_ADDRESS_HI, 4, Number(EDU_MSI_ADDRESS >> 32n));
      this.client.cfgWrite(this.handle, c + PCI_MSI_DATA_64, 2, EDU_MSI_DATA);
    }
    const flags = this.client.cfgRead(this.handle, c + PCI_MSI_FLAGS, 2);
    this.client.cfgWrite(this.handle, c + PCI_MSI_FLAGS, 2, enabled ? flags | PCI_MSI_FLAGS_ENABLE : flags & ~PCI_MSI_FLAGS_ENABLE);
  }

  /** Identification register (0x010000ed for edu 1.0). */
  id(): number {
    return this.read(EDU.ID);
  }

  /** Liveness check: writes `v`, returns what reads back (edu stores ~v). */
  liveness(v: number): number {
    this.write(EDU.LIVENESS, v);
    return this.read(EDU.LIVENESS);
  }

  /**
   * Computes n! on the device. `wait`: `intx` or `msi` (completion interrupt, IRQFACT set) or
   * `poll` (status bit COMPUTING). Returns the result and the interrupt event, if any.
   */
  factorial(n: number, wait: EduWait): { value: number; irq?: PciRawIrqEvent } {
    this.write(EDU.STATUS, wait === 'poll' ? 0 : EDU.STATUS_IRQFACT);
    this.write(EDU.FACTORIAL, n);
    let irq: PciRawIrqEvent | undefined;
    if (wait === 'poll') this.#poll(() => (this.read(EDU.STATUS) & EDU.STATUS_COMPUTING) === 0, 'factorial');
    else irq = this.waitIrq(wait, EDU.IRQ_FACT);
    return irq ? { value: this.read(EDU.FACTORIAL), irq } : { value: this.read(EDU.FACTORIAL) };
  }

  /**
   * One DMA transfer of `count` bytes. `toRam` false: guest RAM at bus address `ram` to the device
   * buffer at `bufOffset`; true: the other way. Waits as `wait` says and returns the event.
   */
  dma(ram: bigint, bufOffset: number, count: number, toRam: boolean, wait: EduWait): PciRawIrqEvent | undefined {
    const dev = BigInt(EDU.DMA_BUF + bufOffset);
    this.write64(EDU.DMA_SRC, toRam ? dev : ram);
    this.write64(EDU.DMA_DST, toRam ? ram : dev);
    this.write64(EDU.DMA_COUNT, BigInt(count));
    this.write(EDU.DMA_CMD, EDU.CMD_START | (toRam ? EDU.CMD_TO_RAM : 0) | (wait === 'poll' ? 0 : EDU.CMD_IRQ));
    if (wait === 'poll') {
      this.#poll(() => (this.read(EDU.DMA_CMD) & EDU.CMD_START) === 0, 'DMA');
      return undefined;
    }
    return this.waitIrq(wait, EDU.IRQ_DMA);
  }

  /**
   * Waits for the device's interrupt of `kind`, checks the cause bits `cause` are set in the
   * interrupt status, acknowledges them on the device (0x64) and, for INTx, in ring 0.
   */
  waitIrq(kind: 'intx' | 'msi', cause: number): PciRawIrqEvent {
    const want = kind === 'intx' ? PCIRAW_IRQ_KIND.INTX : PCIRAW_IRQ_KIND.MSI;
    const deadline = performance.now() + this.timeoutMs;
    for (;;) {
      const left = Math.max(0, Math.ceil(deadline - performance.now()));
      const ev = this.client.getIrq(left, this.handle);
      if (!ev) throw new Error(`no ${kind} interrupt within ${this.timeoutMs} ms (cause 0x${cause.toString(16)} expected)`);
      this.events.push(ev);
      if (ev.kind !== want) {
        if (ev.kind === PCIRAW_IRQ_KIND.FAULT) throw new Error(`IOMMU fault instead of ${kind}: ${ev.detail ?? ''}`);
        continue;
      }
      const status = this.read(EDU.IRQ_STATUS);
      if ((status & cause) !== cause) throw new Error(`${kind} arrived but interrupt status is 0x${status.toString(16)}, not 0x${cause.toString(16)}`);
      this.write(EDU.IRQ_ACK, status);
      if (kind === 'intx') this.client.ackIrq(this.handle, PCIRAW_IRQ_KIND.INTX);
      return ev;
    }
  }

  #poll(done: () => boolean, what: string): void {
    const deadline = performance.now() + this.timeoutMs;
    while (!done()) {
      if (performance.now() > deadline) throw new Error(`${what} did not complete within ${this.timeoutMs} ms`);
    }
  }

  #findCap(id: number): number {
    return findCapability((offset, width) => this.client.cfgRead(this.handle, offset, width), id) ?? 0;
  }
}
