// VirtualBox status codes (include/iprt/err.h, include/VBox/err.h) used by the raw PCI protocol.

/**
 * VBox status codes with their real names and numbers (iprt/err.h). Success is `rc >= 0`
 * (RT_SUCCESS); every failure is negative. Ring 0 answers every request with one of these.
 */
export const VBoxStatus = {
  VINF_SUCCESS: 0,
  VERR_GENERAL_FAILURE: -1,
  VERR_INVALID_PARAMETER: -2,
  VERR_INVALID_MAGIC: -3,
  VERR_INVALID_HANDLE: -4,
  VERR_INVALID_POINTER: -6,
  VERR_NO_MEMORY: -8,
  VERR_PERMISSION_DENIED: -10,
  VERR_VERSION_MISMATCH: -11,
  VERR_NOT_IMPLEMENTED: -12,
  VERR_INVALID_FLAGS: -13,
  VERR_WRONG_ORDER: -22,
  VERR_INVALID_FUNCTION: -36,
  VERR_NOT_SUPPORTED: -37,
  VERR_ACCESS_DENIED: -38,
  VERR_INTERRUPTED: -39,
  VERR_TIMEOUT: -40,
  VERR_BUFFER_OVERFLOW: -41,
  VERR_TOO_MUCH_DATA: -42,
  VERR_STATE_CHANGED: -48,
  VERR_TRY_AGAIN: -52,
  VERR_PARSE_ERROR: -53,
  VERR_OUT_OF_RANGE: -54,
  VERR_NOT_FOUND: -78,
  VERR_INVALID_STATE: -79,
  VERR_OUT_OF_RESOURCES: -80,
  VERR_FILE_NOT_FOUND: -102,
  VERR_PATH_NOT_FOUND: -103,
  VERR_ALREADY_EXISTS: -105,
  VERR_RESOURCE_BUSY: -138,
  VERR_INTERNAL_ERROR: -225,
  VERR_DEV_IO_ERROR: -250,
  VERR_IO_BAD_LENGTH: -255,
  VERR_NO_DATA: -304,
  VERR_SEM_DESTROYED: -363,
} as const;

/** A VBox status name, e.g. `'VERR_INVALID_HANDLE'`. */
export type VBoxStatusName = keyof typeof VBoxStatus;

/** Shorthands for the codes used most (same numbers as {@link VBoxStatus}). */
export const {
  VINF_SUCCESS,
  VERR_GENERAL_FAILURE,
  VERR_INVALID_PARAMETER,
  VERR_INVALID_HANDLE,
  VERR_VERSION_MISMATCH,
  VERR_INVALID_FLAGS,
  VERR_NOT_SUPPORTED,
  VERR_ACCESS_DENIED,
  VERR_TIMEOUT,
  VERR_BUFFER_OVERFLOW,
  VERR_TOO_MUCH_DATA,
  VERR_PARSE_ERROR,
  VERR_OUT_OF_RANGE,
  VERR_NOT_FOUND,
  VERR_INVALID_STATE,
  VERR_OUT_OF_RESOURCES,
  VERR_ALREADY_EXISTS,
  VERR_RESOURCE_BUSY,
  VERR_INTERNAL_ERROR,
  VERR_DEV_IO_ERROR,
  VERR_IO_BAD_LENGTH,
  VERR_NO_DATA,
  VERR_SEM_DESTROYED,
  VERR_PERMISSION_DENIED,
  VERR_INVALID_MAGIC,
} = VBoxStatus;

const namesByRc = new Map<number, VBoxStatusName>(Object.entries(VBoxStatus).map(([name, rc]) => [rc, name as VBoxStatusName]));

/** RT_SUCCESS: true when `rc` is a success or informational status (>= 0). */
export function rtSuccess(rc: number): boolean {
  return rc >= 0;
}

/** RT_FAILURE: true when `rc` is an error status (< 0). */
export function rtFailure(rc: number): boolean {
  return rc < 0;
}

/**
 * The VBox name of a status code (`-4` gives `'VERR_INVALID_HANDLE'`); an unknown code gives
 * `'VERR_UNKNOWN(<rc>)'` so a message always names something.
 */
export function statusName(rc: number): string {
  return namesByRc.get(rc) ?? `VERR_UNKNOWN(${rc})`;
}
