// Memory that ring 0 may hand to a VM in another process: a SharedArrayBuffer over a sealed memfd whose fd travels over the socket (SCM_RIGHTS).
//
// In one process a SharedArrayBuffer is shared by posting it. `rawpci serve` turns this on in
// its ring-0 workers (before the simulated host builds its devices): device memory that
// MAP_REGION maps into ring 3 (the testdev's BAR2) is then allocated here, and the fd found by
// {@link shareableFd} goes to the VM with the view. Off (the default), plain SharedArrayBuffers.

import { xproc } from './xproc.js';

let enabled = false;
/** The memfd behind each shareable buffer of this thread. */
const fds = new WeakMap<SharedArrayBuffer, number>();

/** Makes {@link allocShareable} use memfds from now on, in this thread (throws when the addon is not built). */
export function enableShareableMemory(): void {
  xproc();
  enabled = true;
}

/**
 * `bytes` of zeroed shared memory (`name` shows in /proc/PID/fd): a sealed memfd mapping when
 * enabled, else a plain SharedArrayBuffer. Throws the addon's Error (errno `code`) when the
 * memfd cannot be made.
 */
export function allocShareable(bytes: number, name: string): SharedArrayBuffer {
  if (!enabled) return new SharedArrayBuffer(bytes);
  const x = xproc();
  const fd = x.memfdCreate(name, bytes, true);
  const sab = x.mapShared(fd, bytes);
  fds.set(sab, fd);
  return sab;
}

/** The memfd behind `sab` when {@link allocShareable} made it as a memfd, else undefined. */
export function shareableFd(sab: SharedArrayBuffer): number | undefined {
  return fds.get(sab);
}
