// The process-wide ring-0 table every worker shares: session and domain ids, and which session owns which host device.
//
// Ring 0 is a pool of worker threads, but a host device may be open in one VM at a time
// (VERR_RESOURCE_BUSY otherwise). The owner of each device is therefore kept in shared memory
// and claimed with compare-and-swap, so two workers opening the same BDF cannot both win.

/** Int32 word indices of the table header. */
export const HostTableHdr = {
  NEXT_SESSION: 0,
  NEXT_DOMAIN: 1,
  CAPACITY: 2,
} as const;

const HDR_WORDS = 4;
const ENTRY_WORDS = 4;
/** Entry word: pciAddress + 1 (0 = empty entry). */
const E_KEY = 0;
/** Entry word: owning session id (0 = free). */
const E_OWNER = 1;
/** Entry word: 1 while the host driver is detached by rawpci (simulated host bookkeeping). */
const E_DETACHED = 2;

/** Default number of devices the table can track. */
export const HOST_TABLE_CAPACITY = 512;

/**
 * Shared ownership table. Create it once in the process that starts ring 0
 * ({@link HostTable.create}) and hand its `sab` to every worker ({@link HostTable.attach}).
 */
export class HostTable {
  readonly sab: SharedArrayBuffer;
  readonly #i32: Int32Array;
  readonly #capacity: number;

  private constructor(sab: SharedArrayBuffer) {
    this.sab = sab;
    this.#i32 = new Int32Array(sab);
    this.#capacity = this.#i32[HostTableHdr.CAPACITY]!;
  }

  /** A new, empty table for `capacity` devices. */
  static create(capacity = HOST_TABLE_CAPACITY): HostTable {
    const sab = new SharedArrayBuffer((HDR_WORDS + capacity * ENTRY_WORDS) * 4);
    const i32 = new Int32Array(sab);
    i32[HostTableHdr.NEXT_SESSION] = 1;
    i32[HostTableHdr.NEXT_DOMAIN] = 1;
    i32[HostTableHdr.CAPACITY] = capacity;
    return new HostTable(sab);
  }

  /** Views an existing table (in a worker). */
  static attach(sab: SharedArrayBuffer): HostTable {
    return new HostTable(sab);
  }

  /** A new session id, unique in the process (1, 2, ...). */
  nextSessionId(): number {
    return Atomics.add(this.#i32, HostTableHdr.NEXT_SESSION, 1);
  }

  /** A new IOMMU domain id, unique in the process. */
  nextDomainId(): number {
    return Atomics.add(this.#i32, HostTableHdr.NEXT_DOMAIN, 1);
  }

  /**
   * Claims device `pciAddress` for `session`. Returns 0 on success (or when `session` owns it
   * already), else the owning session id. Returns -1 when the table is full.
   */
  claim(pciAddress: number, session: number): number {
    const e = this.#entry(pciAddress, true);
    if (e < 0) return -1;
    const prev = Atomics.compareExchange(this.#i32, e + E_OWNER, 0, session);
    return prev === 0 || prev === session ? 0 : prev;
  }

  /** Releases device `pciAddress` if `session` owns it. Returns true when it did. */
  release(pciAddress: number, session: number): boolean {
    const e = this.#entry(pciAddress, false);
    if (e < 0) return false;
    return Atomics.compareExchange(this.#i32, e + E_OWNER, session, 0) === session;
  }

  /** The session owning `pciAddress`, 0 when free. */
  owner(pciAddress: number): number {
    const e = this.#entry(pciAddress, false);
    return e < 0 ? 0 : Atomics.load(this.#i32, e + E_OWNER);
  }

  /** Whether rawpci detached the host driver of `pciAddress` (simulated host). */
  isDetached(pciAddress: number): boolean {
    const e = this.#entry(pciAddress, false);
    return e >= 0 && Atomics.load(this.#i32, e + E_DETACHED) === 1;
  }

  /** Records that the host driver of `pciAddress` is detached (true) or bound again (false). */
  setDetached(pciAddress: number, detached: boolean): void {
    const e = this.#entry(pciAddress, true);
    if (e >= 0) Atomics.store(this.#i32, e + E_DETACHED, detached ? 1 : 0);
  }

  /** Index of the entry of `pciAddress` (open addressing, linear probing), -1 if absent/full. */
  #entry(pciAddress: number, create: boolean): number {
    const key = (pciAddress >>> 0) + 1;
    const cap = this.#capacity;
    let i = (Math.imul(pciAddress >>> 0, 0x9e37_79b1) >>> 0) % cap;
    for (let n = 0; n < cap; n++, i = (i + 1) % cap) {
      const e = HDR_WORDS + i * ENTRY_WORDS;
      const k = Atomics.load(this.#i32, e + E_KEY);
      if (k === (key | 0)) return e;
      if (k === 0) {
        if (!create) return -1;
        const prev = Atomics.compareExchange(this.#i32, e + E_KEY, 0, key | 0);
        if (prev === 0 || prev === (key | 0)) return e;
      }
    }
    return -1;
  }
}
