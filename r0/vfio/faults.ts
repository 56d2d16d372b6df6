// Kernel IOMMU fault reports for VFIO devices: the DMAR (Intel VT-d) and AMD-Vi records Linux prints to its log, parsed and matched to a device.

import type { Bdf } from '../../shared/bdf.js';
import { O_CLOEXEC, O_NONBLOCK, O_RDONLY, SEEK_END } from '../../shared/linux/vfio-abi.js';

import * as libc from './libc.js';

/** An IOMMU fault record as Linux prints it (Intel DMAR or AMD-Vi), for one device. */
export interface KernelIommuFault {
  /** `bb:dd.f` of the requester. */
  device: string;
  iova: bigint;
  write: boolean;
  reason: string;
}

/**
 * Parses one kernel log line into an IOMMU fault, or undefined. Understands Intel's
 * `DMAR: [DMA Write NO_PASID] Request device [00:04.0] fault addr 0x8000000 [fault reason 0x05]
 * PTE Write access is not set` (drivers/iommu/intel/dmar.c) and AMD's `AMD-Vi: Event logged
 * [IO_PAGE_FAULT domain=0x0000 address=0x8000000 flags=0x0030]` with `device=00:04.0`.
 */
export function parseIommuFault(line: string): KernelIommuFault | undefined {
  const intel =
    /\[DMA (Read|Write)[^\]]*\] Request device \[([0-9a-f]{2}:[0-9a-f]{2}\.[0-7])\] fault addr 0x([0-9a-f]+)(?: \[fault reason 0x[0-9a-f]+\] ?(.*))?/i.exec(
      line,
    );
  if (intel)
    return {
      device: intel[2]!.toLowerCase(),
      iova: BigInt(`0x${intel[3]}`),
      write: intel[1] === 'Write',
      reason: (intel[4] ?? 'DMAR fault').trim() || 'DMAR fault',
    };
  const amd = /IO_PAGE_FAULT device=(?:[0-9a-f]{4}:)?([0-9a-f]{2}:[0-9a-f]{2}\.[0-7]) domain=0x[0-9a-f]+ address=0x([0-9a-f]+) flags=0x([0-9a-f]+)/i.exec(line);
  if (amd)
    return { device: amd[1]!.toLowerCase(), iova: BigInt(`0x${amd[2]}`), write: (Number.parseInt(amd[3]!, 16) & 0x20) !== 0, reason: 'AMD-Vi IO_PAGE_FAULT' };
  return undefined;
}

/**
 * Reads the kernel's IOMMU fault records for one device from /dev/kmsg (non-blocking, from the
 * end of the log at open) and reports each as `report(iova, write, reason)`. Without root or
 * /dev/kmsg nothing is reported (the device still works; its faults are then not seen).
 */
export class KmsgFaultReader {
  readonly #device: string;
  readonly #report: (iova: bigint, write: boolean, reason: string) => void;
  readonly #buf = new Uint8Array(8192);
  #fd = -1;

  /** `bdf`: the device whose records are reported (matched as `bb:dd.f`, as the kernel prints it). */
  constructor(bdf: Bdf, report: (iova: bigint, write: boolean, reason: string) => void) {
    this.#device = bdf.toShortString();
    this.#report = report;
    try {
      this.#fd = libc.open('/dev/kmsg', O_RDONLY | O_NONBLOCK | O_CLOEXEC);
      libc.lseek(this.#fd, 0, SEEK_END);
    } catch {
      this.#fd = -1; // not root, or no /dev/kmsg: faults are then not reported
    }
  }

  /** Reads up to 64 new records; reports the device's IOMMU faults among them. */
  poll(): void {
    if (this.#fd < 0) return;
    for (let n = 0; n < 64; n++) {
      const len = libc.read(this.#fd, this.#buf);
      if (len <= 0) return; // -EAGAIN: nothing new; -EPIPE: overwritten records, next read resyncs
      const f = parseIommuFault(new TextDecoder().decode(this.#buf.subarray(0, len)));
      if (f && f.device === this.#device) this.#report(f.iova, f.write, `the host IOMMU blocked it (${f.reason})`);
    }
  }

  /** Closes /dev/kmsg (idempotent). */
  close(): void {
    if (this.#fd >= 0) libc.close(this.#fd);
    this.#fd = -1;
  }
}
