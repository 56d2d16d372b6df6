// What a PCI region is, in the one vocabulary the hosts, the simulated models, the protocol's clients and PciFront share.

/**
 * The address space a region decodes (PCI Local Bus spec 3.0, 6.2.5.1 and 6.2.5.2):
 * - `'io'`: an I/O BAR (ports);
 * - `'mem24'`: a 32-bit memory BAR that must sit below 1 MiB (PCI_BASE_ADDRESS_MEM_TYPE_1M,
 *   legacy; hosts report such a BAR as `'mem32'`, only a guest's view of the BAR tells it apart);
 * - `'mem32'`, `'mem64'`: a memory BAR decoding 32 or 64 address bits (a 64-bit BAR takes two
 *   BAR registers, its index and index + 1);
 * - `'rom'`: the expansion ROM (PCI_ROM_ADDRESS), region index PCIRAW_REGION.ROM.
 *
 * Region indices are PCIRAW_REGION's (shared/protocol.ts): 0..5 the BARs, 6 the ROM, the same
 * numbering as vfio.h's VFIO_PCI_BAR0_REGION_INDEX .. VFIO_PCI_ROM_REGION_INDEX.
 */
export type PciRegionKind = 'io' | 'mem24' | 'mem32' | 'mem64' | 'rom';

/** The kind of a base address register (every region kind but the ROM). */
export type PciBarKind = Exclude<PciRegionKind, 'rom'>;
