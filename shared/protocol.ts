// The raw PCI contract shared by both rings: operations, flags and one parameter block per operation (rawpci.h).
//
// Like VirtualBox's include/VBox/rawpci.h this one file holds the whole contract. Each parameter
// block lists its fields as `in` (ring 3 fills them) and `out` (ring 0 fills them in the answer).
// Numbers the header defines keep its values; operations rawpci.h names only as structures or
// callbacks (the RAWPCIFACTORY per-VM hooks, FNRAWPCICONTIGPHYSMEMINFO, IRQ delivery) get
// numbers from 32 up so they can never collide with a later header's enum.
//
// One exchange runs the other way, ring 0 to ring 3: DMA into guest memory ring 0 cannot map (a
// VMM that connected with `guestMemory`). It is not a request frame but the channel's DMA lane
// (shared/channel-layout.ts DmaLane, DMA_OP = vfio-user's DMA_READ 11 / DMA_WRITE 12; docs/dma.md).

/** Version of this protocol. A ring 3 speaking another version gets VERR_VERSION_MISMATCH. */
export const PCIRAW_PROTOCOL_VERSION = 0x0001_0000;

/** Magic word of every request frame ('RPCI'), like SUPVMMR0REQHDR.u32Magic. */
export const PCIRAW_REQ_MAGIC = 0x4943_5052;

/**
 * PCIRAWR0OPERATION: the operations ring 0 performs. 0..13 are rawpci.h's enum, in its order;
 * 32.. are the operations a working ring 3 needs that rawpci.h names only as structures.
 */
export const PCIRAWR0_DO = {
  OPEN_DEVICE: 0,
  CLOSE_DEVICE: 1,
  GET_REGION_INFO: 2,
  MAP_REGION: 3,
  UNMAP_REGION: 4,
  PIO_WRITE: 5,
  PIO_READ: 6,
  MMIO_WRITE: 7,
  MMIO_READ: 8,
  PCICFG_WRITE: 9,
  PCICFG_READ: 10,
  REGISTER_R0_IRQ_HANDLER: 11,
  UNREGISTER_R0_IRQ_HANDLER: 12,
  POWER_STATE_CHANGE: 13,
  /** RAWPCIFACTORY::pfnInitVm: create the VM's IOMMU domain. */
  INIT_VM: 32,
  /** RAWPCIFACTORY::pfnDeinitVm: destroy the VM's IOMMU domain. */
  DEINIT_VM: 33,
  /** FNRAWPCICONTIGPHYSMEMINFO: map or unmap guest RAM in the VM's IOMMU domain. */
  CONTIG_MEM_INFO: 34,
  /** Wait for the next interrupt (or IOMMU fault) queued by the ring-0 ISR. */
  GET_IRQ: 35,
  /** Acknowledge an interrupt: a level INTx line is unmasked again. */
  ACK_IRQ: 36,
  /**
   * rawpci's own, not in rawpci.h: up to {@link PCIRAW_BATCH_MAX} data-plane accesses
   * ({@link PCIRAW_BATCH_OPS}) in one request and one doorbell, performed in order and answered
   * in order, each with its own status. Params `{ accesses: [op, target, params][] }`; answer
   * `{ answers: ([0] | [0, value] | [rc, msg])[] }` (flat, so a batch encodes cheaply).
   */
  BATCH: 64,
} as const;

/** Most accesses one BATCH request may carry. */
export const PCIRAW_BATCH_MAX = 64;

/** The operations a BATCH may carry: the small data-plane ones (never one that parks, maps, opens or closes). */
export const PCIRAW_BATCH_OPS: ReadonlySet<number> = new Set([
  PCIRAWR0_DO.PIO_READ,
  PCIRAWR0_DO.PIO_WRITE,
  PCIRAWR0_DO.MMIO_READ,
  PCIRAWR0_DO.MMIO_WRITE,
  PCIRAWR0_DO.PCICFG_READ,
  PCIRAWR0_DO.PCICFG_WRITE,
  PCIRAWR0_DO.ACK_IRQ,
]);

/** One of {@link PCIRAWR0_DO}'s values. */
export type PciRawOp = (typeof PCIRAWR0_DO)[keyof typeof PCIRAWR0_DO];
/** One of {@link PCIRAWR0_DO}'s names, e.g. `'PIO_READ'`. */
export type PciRawOpName = keyof typeof PCIRAWR0_DO;

const opNames = new Map<number, PciRawOpName>(Object.entries(PCIRAWR0_DO).map(([name, op]) => [op, name as PciRawOpName]));

/** The name of an operation number, or `undefined` for a number that is no operation. */
export function opName(op: number): PciRawOpName | undefined {
  return opNames.get(op);
}

/** PCIRAWPOWERSTATE (rawpci.h), plus RESET (a function-level reset of the device). */
export const PCIRAW_POWER = { ON: 0, OFF: 1, SUSPEND: 2, RESUME: 3, RESET: 4 } as const;
/** One of {@link PCIRAW_POWER}'s values. */
export type PciRawPowerState = (typeof PCIRAW_POWER)[keyof typeof PCIRAW_POWER];

/** PCIRAWDRIVERFLAGS (rawpci.h): flags of OPEN_DEVICE. */
export const PCIRAWDRIVERRFLAG = {
  /** Detach the device from its host driver while it is open; rebind it on close. */
  DETACH_HOST_DRIVER: 1 << 0,
} as const;

/** PCIRAWADDRESSSPACE (rawpci.h): flags of a region, matching PCIADDRESSSPACE in pci.h. */
export const PCIRAW_ADDRESS_SPACE = { MEM: 0x00, IO: 0x01, BAR32: 0x00, BAR64: 0x04, MEM_PREFETCH: 0x08 } as const;

/** PCIRAWMEMINFOACTION (rawpci.h): what CONTIG_MEM_INFO does. */
export const PCIRAW_MEMINFO = { MAP: 0, UNMAP: 1 } as const;
/** One of {@link PCIRAW_MEMINFO}'s values. */
export type PciRawMemInfoAction = (typeof PCIRAW_MEMINFO)[keyof typeof PCIRAW_MEMINFO];

/** VM capabilities returned by POWER_STATE_CHANGE (out `caps`). */
export const PCIRAW_CAPS = {
  /** The VM's DMA goes through an IOMMU domain (only mapped guest RAM is reachable). */
  IOMMU: 1 << 0,
} as const;

/**
 * Region indices. 0..5 are the BARs (PCI Local Bus spec 3.0, 6.2.5.1), 6 the expansion ROM
 * (6.2.5.2); the numbering matches VFIO's (VFIO_PCI_BAR0_REGION_INDEX..VFIO_PCI_ROM_REGION_INDEX).
 */
export const PCIRAW_REGION = {
  BAR0: 0,
  BAR5: 5,
  ROM: 6,
  /** Number of regions GET_REGION_INFO answers for (0..6). */
  COUNT: 7,
} as const;

/** Interrupt kinds delivered by GET_IRQ. `fault` is an IOMMU fault report, not an interrupt. */
export const PCIRAW_IRQ_KIND = { INTX: 'intx', MSI: 'msi', MSIX: 'msix', FAULT: 'fault' } as const;
/** One of {@link PCIRAW_IRQ_KIND}'s values. */
export type PciRawIrqKind = (typeof PCIRAW_IRQ_KIND)[keyof typeof PCIRAW_IRQ_KIND];

/** Device handle (PCIRAWDEVHANDLE): an unsigned 32-bit capability valid in one session only. */
export type PciRawDevHandle = number;

/**
 * PCIRAWMEMLOC: a value that carries its own width. `cb` is 1, 2, 4 or 8 bytes; `u` is a
 * number for 1, 2 and 4 (unsigned) and a bigint for 8.
 */
export type PciRawMemLoc = { cb: 1 | 2 | 4; u: number } | { cb: 8; u: bigint };

/** PCIRAWREQOPENDEVICE. */
export interface PciRawReqOpenDevice {
  /** in: PCI address `domain << 16 | bus << 8 | device << 3 | function` (see shared/bdf.ts). */
  pciAddress: number;
  /** in: PCIRAWDRIVERRFLAG bits. */
  flags: number;
}
/** Out of OPEN_DEVICE. */
export interface PciRawOutOpenDevice {
  /** out: the new device handle, valid in this session only. */
  device: PciRawDevHandle;
}

/** PCIRAWREQCLOSEDEVICE. */
export interface PciRawReqCloseDevice {
  /** in: reserved, must be 0. */
  flags: number;
}

/** PCIRAWREQGETREGIONINFO. */
export interface PciRawReqGetRegionInfo {
  /** in: region index 0..6 ({@link PCIRAW_REGION}). */
  region: number;
}
/** Out of GET_REGION_INFO. */
export interface PciRawOutGetRegionInfo {
  /** out: host physical address (memory) or first port (I/O) of the region. */
  regionStart: bigint;
  /** out: size in bytes (ports for I/O); 0 when absent. */
  regionSize: bigint;
  /** out: whether the device implements the region. */
  present: boolean;
  /** out: PCIRAW_ADDRESS_SPACE bits. */
  flags: number;
}

/** PCIRAWREQMAPREGION. */
export interface PciRawReqMapRegion {
  /** in: region start as GET_REGION_INFO returned it. */
  startAddress: bigint;
  /** in: bytes to map; must be the whole region. */
  regionSize: bigint;
  /** in: region index. */
  region: number;
  /** in: reserved, must be 0. */
  flags: number;
}
/** Out of MAP_REGION. */
export interface PciRawOutMapRegion {
  /**
   * out: id of the ring-3 view (the pvAddressR3 of rawpci.h). The view itself, a
   * SharedArrayBuffer onto the device memory, arrives on the connection's control port.
   */
  mapId: number;
}

/** PCIRAWREQUNMAPREGION. */
export interface PciRawReqUnmapRegion {
  /** in: as given to MAP_REGION. */
  startAddress: bigint;
  /** in: as given to MAP_REGION. */
  regionSize: bigint;
  /** in: the mapping id MAP_REGION returned. */
  mapId: number;
  /** in: region index. */
  region: number;
}

/** PCIRAWREQPIOWRITE. */
export interface PciRawReqPioWrite {
  /** in: I/O port (0..0xffff). */
  port: number;
  /** in: width in bytes: 1, 2 or 4. */
  cb: number;
  /** in: value (unsigned, `cb` bytes wide). */
  value: number;
}
/** PCIRAWREQPIOREAD. */
export interface PciRawReqPioRead {
  /** in: I/O port (0..0xffff). */
  port: number;
  /** in: width in bytes: 1, 2 or 4. */
  cb: number;
}
/** Out of PIO_READ. */
export interface PciRawOutValue32 {
  /** out: the value read, unsigned, `cb` bytes wide. */
  value: number;
}

/** PCIRAWREQMMIOWRITE. */
export interface PciRawReqMmioWrite {
  /** in: host physical address inside one of the device's memory BARs. */
  address: bigint;
  /** in: value and width. */
  value: PciRawMemLoc;
}
/** PCIRAWREQMMIOREAD. */
export interface PciRawReqMmioRead {
  /** in: host physical address inside one of the device's memory BARs. */
  address: bigint;
  /** in: width in bytes: 1, 2, 4 or 8. */
  cb: number;
}
/** Out of MMIO_READ and PCICFG_READ. */
export interface PciRawOutMemLoc {
  /** out: the value read, with its width. */
  value: PciRawMemLoc;
}

/** PCIRAWREQPCICFGWRITE. */
export interface PciRawReqPciCfgWrite {
  /** in: byte offset in config space (0..255, or 0..4095 for PCI Express). */
  offset: number;
  /** in: value and width (1, 2 or 4 bytes; naturally aligned). */
  value: PciRawMemLoc;
}
/** PCIRAWREQPCICFGREAD. */
export interface PciRawReqPciCfgRead {
  /** in: byte offset in config space. */
  offset: number;
  /** in: width in bytes: 1, 2 or 4. */
  cb: number;
}

/** PCIRAWREQREGISTERR0IRQHANDLER. */
export interface PciRawReqRegisterR0IrqHandler {
  /** in: the guest IRQ every event of this device is tagged with. */
  guestIrq: number;
}
/** Out of REGISTER_R0_IRQ_HANDLER. */
export interface PciRawOutRegisterR0IrqHandler {
  /** out: the host IRQ of the device (its INTx line on the host). */
  hostIrq: number;
}
/** PCIRAWREQUNREGISTERR0IRQHANDLER. */
export interface PciRawReqUnregisterR0IrqHandler {
  /** in: the host IRQ REGISTER_R0_IRQ_HANDLER returned. */
  hostIrq: number;
}

/** PCIRAWREQPOWERSTATECHANGE. */
export interface PciRawReqPowerStateChange {
  /** in: one of {@link PCIRAW_POWER}. */
  state: number;
}
/** Out of POWER_STATE_CHANGE. */
export interface PciRawOutPowerStateChange {
  /** out: {@link PCIRAW_CAPS} bits of the VM. */
  caps: number;
}

/** Parameters of INIT_VM (none; the VM is the session). */
export type PciRawReqInitVm = Record<string, never>;
/** Out of INIT_VM. */
export interface PciRawOutInitVm {
  /** out: id of the VM's new IOMMU domain. */
  domain: number;
}

/** FNRAWPCICONTIGPHYSMEMINFO's arguments. */
export interface PciRawReqContigMemInfo {
  /** in: byte offset of the range in the VM's guest RAM (the host side of the mapping). */
  hostStart: bigint;
  /** in: bus address (IOVA) devices use for the range: the guest-physical address. */
  guestStart: bigint;
  /** in: bytes; a multiple of 4096, as are both starts. */
  size: bigint;
  /** in: {@link PCIRAW_MEMINFO}. */
  action: number;
}

/** Parameters of GET_IRQ. Target handle 0 means any device of the session. */
export interface PciRawReqGetIrq {
  /** in: how long ring 0 may hold the request, in milliseconds (0 = poll). */
  timeoutMs: number;
}
/** One interrupt (or IOMMU fault) as ring 0 delivers it. */
export interface PciRawIrqEvent {
  /** Kind of event. */
  kind: PciRawIrqKind;
  /** Handle of the device that raised it. */
  device: PciRawDevHandle;
  /** Guest IRQ given at REGISTER_R0_IRQ_HANDLER (-1 when none is registered: faults only). */
  guestIrq: number;
  /** Host IRQ of the device. */
  hostIrq: number;
  /** MSI/MSI-X vector (0 for INTx and faults). */
  vector: number;
  /** MSI/MSI-X message address, or the faulting IOVA for a fault. */
  address: bigint;
  /** MSI/MSI-X message data (0 otherwise). */
  data: number;
  /** For faults: what happened, e.g. `'DMA write of 4095 bytes at IOVA 0xdead000 not mapped'`. */
  detail?: string;
  /**
   * When ring 0 queued the event (the device model raised the interrupt, or the IOMMU refused
   * the DMA): nanoseconds of CLOCK_MONOTONIC (`process.hrtime.bigint()` as a number), the same
   * clock in every thread and process of the host, for measuring delivery latency.
   */
  timeNs: number;
}
/** Out of GET_IRQ. */
export interface PciRawOutGetIrq {
  /** out: the oldest pending event. */
  irq: PciRawIrqEvent;
  /** out: events still pending after this one. */
  pending: number;
}

/** Parameters of ACK_IRQ. */
export interface PciRawReqAckIrq {
  /** in: the kind acknowledged; for `intx` the masked line is unmasked. */
  kind: PciRawIrqKind;
}

/** Maps every operation to its parameter block (in) and answer (out). */
export interface PciRawOpTypes {
  [PCIRAWR0_DO.OPEN_DEVICE]: { in: PciRawReqOpenDevice; out: PciRawOutOpenDevice };
  [PCIRAWR0_DO.CLOSE_DEVICE]: { in: PciRawReqCloseDevice; out: undefined };
  [PCIRAWR0_DO.GET_REGION_INFO]: { in: PciRawReqGetRegionInfo; out: PciRawOutGetRegionInfo };
  [PCIRAWR0_DO.MAP_REGION]: { in: PciRawReqMapRegion; out: PciRawOutMapRegion };
  [PCIRAWR0_DO.UNMAP_REGION]: { in: PciRawReqUnmapRegion; out: undefined };
  [PCIRAWR0_DO.PIO_WRITE]: { in: PciRawReqPioWrite; out: undefined };
  [PCIRAWR0_DO.PIO_READ]: { in: PciRawReqPioRead; out: PciRawOutValue32 };
  [PCIRAWR0_DO.MMIO_WRITE]: { in: PciRawReqMmioWrite; out: undefined };
  [PCIRAWR0_DO.MMIO_READ]: { in: PciRawReqMmioRead; out: PciRawOutMemLoc };
  [PCIRAWR0_DO.PCICFG_WRITE]: { in: PciRawReqPciCfgWrite; out: undefined };
  [PCIRAWR0_DO.PCICFG_READ]: { in: PciRawReqPciCfgRead; out: PciRawOutMemLoc };
  [PCIRAWR0_DO.REGISTER_R0_IRQ_HANDLER]: {
    in: PciRawReqRegisterR0IrqHandler;
    out: PciRawOutRegisterR0IrqHandler;
  };
  [PCIRAWR0_DO.UNREGISTER_R0_IRQ_HANDLER]: { in: PciRawReqUnregisterR0IrqHandler; out: undefined };
  [PCIRAWR0_DO.POWER_STATE_CHANGE]: { in: PciRawReqPowerStateChange; out: PciRawOutPowerStateChange };
  [PCIRAWR0_DO.INIT_VM]: { in: PciRawReqInitVm; out: PciRawOutInitVm };
  [PCIRAWR0_DO.DEINIT_VM]: { in: PciRawReqInitVm; out: undefined };
  [PCIRAWR0_DO.CONTIG_MEM_INFO]: { in: PciRawReqContigMemInfo; out: undefined };
  [PCIRAWR0_DO.GET_IRQ]: { in: PciRawReqGetIrq; out: PciRawOutGetIrq };
  [PCIRAWR0_DO.ACK_IRQ]: { in: PciRawReqAckIrq; out: undefined };
  [PCIRAWR0_DO.BATCH]: { in: PciRawReqBatch; out: PciRawOutBatch };
}

/** BATCH's parameters: the accesses, each `[op, target, params]` of a {@link PCIRAW_BATCH_OPS} operation. */
export interface PciRawReqBatch {
  accesses: [op: number, target: PciRawDevHandle, params: unknown][];
}
/**
 * BATCH's answer: one per access, in order: `[0]` for a write or ACK_IRQ, `[0, value]` for a
 * read (PIO's value, MMIO's and config's PciRawMemLoc.u: a bigint for 8 bytes), `[rc, msg]` for
 * an access ring 0 refused.
 */
export interface PciRawOutBatch {
  answers: ([0] | [0, number | bigint] | [number, string])[];
}

/**
 * PCIRAWSENDREQ: one request. On the wire the header fields (`version`, `size`, `session`)
 * are fixed binary words of the frame (ReqHeader in shared/codec.ts) so that ring 0 checks the version
 * before it decodes anything; `op`, `target` and `params` are the msgpackr-encoded body.
 */
export interface PciRawSendReq<O extends PciRawOp = PciRawOp> {
  /** Header: protocol version ({@link PCIRAW_PROTOCOL_VERSION}). */
  version: number;
  /** Header: byte size of the whole frame (header + body), checked by ring 0. */
  size: number;
  /** Header: session id the request claims; must be the session of the channel it came on. */
  session: number;
  /** Operation ({@link PCIRAWR0_DO}). */
  op: O;
  /** Target device handle (0 for INIT_VM, DEINIT_VM, CONTIG_MEM_INFO, OPEN_DEVICE, GET_IRQ of any device). */
  target: PciRawDevHandle;
  /** The operation's parameter block. */
  params: PciRawOpTypes[O]['in'];
}

/** The answer to a request: a VBox status, the out-parameters on success, a message on failure. */
export interface PciRawAnswer<O extends PciRawOp = PciRawOp> {
  /** VBox status code ({@link VBoxStatus}). */
  rc: number;
  /** Out-parameters (present when `rc >= 0` and the operation has any). */
  out?: PciRawOpTypes[O]['out'];
  /** Why it failed and how to fix it (present on failure when ring 0 knows more than the code). */
  msg?: string;
}
