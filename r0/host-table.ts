// The process-wide ring-0 table every worker shares: session and domain ids, and which session owns which host device and which IOMMU group.
//
// Ring 0 is a pool of worker threads, but a host device may be open in one VM at a time, and an
// IOMMU group belongs to one VM (VFIO puts a group in one container: its functions cannot be
// split between VMs); VERR_RESOURCE_BUSY otherwise. The owners are therefore kept in shared
// memory and claimed with compare-and-swap, so two workers opening the same BDF or the same
// group cannot both win. Ring 3 never sees this table.

/** Int32 word indices of the table header. */
export const HostTableHdr = { NEXT_SESSION: 0, NEXT_DOMAIN: 1, CAPACITY: 2 } as const;

const HDR_WORDS = 4;
/** Which part of the table an entry is in. */
type Part = 'device' | 'group';
const ENTRY_WORDS = 4;
/** Entry word: pciAddress + 1 (0 = empty entry). */
const E_KEY = 0;
/** Entry word: owning session id (0 = free). */
const E_OWNER = 1;
/** Entry word: 1 while the host driver is detached by rawpci (simulated host bookkeeping). */
const E_DETACHED = 2;

/**
 * One part of the ownership table (devices or IOMMU groups), each entry owned by at most one
 * session. Lock-free: claims are compare-and-swap on shared memory, so two workers cannot both win.
 */
export interface OwnerMap {
  /** Claims `id` for `session`: 0 when `session` got it now, else the owning session id; -1 when the table is full. */
  claim(id: number, session: number): number;
  /** Releases `id` if `session` owns it. Returns true when it did. */
  release(id: number, session: number): boolean;
  /** The session owning `id`, 0 when free. */
  owner(id: number): number;
}

/** Default number of devices the table can track. */
export const HOST_TABLE_CAPACITY = 512;

/**
 * Shared ownership table: `capacity` device entries, then `capacity` IOMMU-group entries. Create
 * it once in the process that starts ring 0 ({@link HostTable.create}) and hand its `sab` to
 * every worker ({@link HostTable.attach}).
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
    const sab = new SharedArrayBuffer((HDR_WORDS + 2 * capacity * ENTRY_WORDS) * 4);
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
   * Device owners, keyed by PCI address (domain << 16 | bus << 8 | devfn). A device has one
   * owner and one handle: a claim by its owner answers the owner, not 0.
   */
  readonly devices: OwnerMap = {
    claim: (pciAddress, session) => this.#claim('device', pciAddress, session),
    release: (pciAddress, session) => this.#release('device', pciAddress, session),
    owner: (pciAddress) => this.#owner('device', pciAddress),
  };

  /**
   * IOMMU group holders, keyed by group number (a key space separate from PCI addresses). The
   * holder may claim its group again for another function of it (the answer is then itself).
   */
  readonly groups: OwnerMap = {
    claim: (group, session) => this.#claim('group', group, session),
    release: (group, session) => this.#release('group', group, session),
    owner: (group) => this.#owner('group', group),
  };

  #claim(part: Part, id: number, session: number): number {
    const e = this.#entry(part, id, true);
    return e < 0 ? -1 : Atomics.compareExchange(this.#i32, e + E_OWNER, 0, session);
  }

  #release(part: Part, id: number, session: number): boolean {
    const e = this.#entry(part, id, false);
    return e >= 0 && Atomics.compareExchange(this.#i32, e + E_OWNER, session, 0) === session;
  }

  #owner(part: Part, id: number): number {
    const e = this.#entry(part, id, false);
    return e < 0 ? 0 : Atomics.load(this.#i32, e + E_OWNER);
  }

  /**
   * Releases every device and group `session` owns (its worker is gone and cannot close them).
   * Returns the PCI addresses of the devices it released.
   */
  releaseSession(session: number): number[] {
    const released: number[] = [];
    for (const part of ['device', 'group'] as const) {
      for (let i = 0; i < this.#capacity; i++) {
        const e = this.#base(part) + i * ENTRY_WORDS;
        const key = Atomics.load(this.#i32, e + E_KEY);
        if (key === 0 || Atomics.load(this.#i32, e + E_OWNER) !== session) continue;
        if (Atomics.compareExchange(this.#i32, e + E_OWNER, session, 0) === session && part === 'device') released.push((key - 1) >>> 0);
      }
    }
    return released;
  }

  /** The PCI addresses of the devices `session` owns now (for `rawpci status`). */
  devicesOf(session: number): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.#capacity; i++) {
      const e = this.#base('device') + i * ENTRY_WORDS;
      const key = Atomics.load(this.#i32, e + E_KEY);
      if (key !== 0 && Atomics.load(this.#i32, e + E_OWNER) === session) out.push((key - 1) >>> 0);
    }
    return out;
  }

  /** Whether rawpci detached the host driver of `pciAddress` (simulated host). */
  isDetached(pciAddress: number): boolean {
    const e = this.#entry('device', pciAddress, false);
    return e >= 0 && Atomics.load(this.#i32, e + E_DETACHED) === 1;
  }

  /** Records that the host driver of `pciAddress` is detached (true) or bound again (false). */
  setDetached(pciAddress: number, detached: boolean): void {
    const e = this.#entry('device', pciAddress, true);
    if (e >= 0) Atomics.store(this.#i32, e + E_DETACHED, detached ? 1 : 0);
  }

  /** First word of a part's entries. */
  #base(part: Part): number {
    return part === 'device' ? HDR_WORDS : HDR_WORDS + this.#capacity * ENTRY_WORDS;
  }

  /** Index of the entry of `id` (a PCI address or a group number) in `part` (open addressing, linear probing), -1 if absent/full. */
  #entry(part: Part, id: number, create: boolean): number {
    const key = ((id >>> 0) + 1) | 0;
    const cap = this.#capacity;
    const base = this.#base(part);
    let i = (Math.imul(id >>> 0, 0x9e37_79b1) >>> 0) % cap;
    for (let n = 0; n < cap; n++, i = (i + 1) % cap) {
      const e = base + i * ENTRY_WORDS;
      const k = Atomics.load(this.#i32, e + E_KEY);
      if (k === key) return e;
      if (k === 0) {
        if (!create) return -1;
        const prev = Atomics.compareExchange(this.#i32, e + E_KEY, 0, key);
        if (prev === 0 || prev === key) return e;
      }
    }
    return -1;
  }
}
