// The accesses of one PCI function, as every layer that performs them spells them: ring 0's host devices (sim and VFIO) and the simulated models.

/**
 * The six accesses of a PCI function (Palacios' vmm_host_dev.h hooks: config, I/O and memory,
 * each read and write). `offset` is in bytes: into config space (0..configSize-1) for
 * readConfig/writeConfig, into the region `region` (a PCIRAW_REGION index: 0..5 a BAR, 6 the
 * expansion ROM) otherwise. `data.length` is the access width in bytes (1, 2 or 4; 8 for
 * memory), little-endian. Each returns false when the access itself failed (ring 0 answers
 * VERR_DEV_IO_ERROR); callers check regions, bounds and widths before calling.
 */
export interface PciFunctionAccess {
  /** Reads config space at `offset` into `data`. */
  readConfig(offset: number, data: Uint8Array): boolean;
  /** Writes `data` to config space at `offset`; read-only bits keep their value. */
  writeConfig(offset: number, data: Uint8Array): boolean;
  /** Reads `data.length` bytes at `offset` of I/O region `region`. */
  readIo(region: number, offset: number, data: Uint8Array): boolean;
  /** Writes `data` at `offset` of I/O region `region`. */
  writeIo(region: number, offset: number, data: Uint8Array): boolean;
  /** Reads `data.length` bytes at `offset` of memory region `region` (or the ROM). */
  readMem(region: number, offset: number, data: Uint8Array): boolean;
  /** Writes `data` at `offset` of memory region `region`. */
  writeMem(region: number, offset: number, data: Uint8Array): boolean;
}
