// Formatting a value ring 3 sent for an error message, without running anything it carries (no toString, valueOf or getters of its own).

/**
 * A short, safe description of `v` for a message: numbers, bigints (with `n`), booleans, null
 * and undefined as they are; strings quoted (cut at 40 characters); arrays, binary, dates and
 * maps by their kind only. Never throws and never calls a method of `v`: a parameter map from
 * ring 3 may hold keys such as `toString` or `valueOf` that `String(v)` would trip over.
 */
export function show(v: unknown): string {
  switch (typeof v) {
    case 'number':
      return Object.is(v, -0) ? '-0' : `${v}`;
    case 'bigint':
      return `${v}n`;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return 'undefined';
    case 'string':
      return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v);
    case 'object':
      if (v === null) return 'null';
      if (Array.isArray(v)) return `an array of ${v.length}`;
      if (ArrayBuffer.isView(v)) return `${v.byteLength} bytes of binary`;
      if (v instanceof Date) return 'a date';
      return 'a map';
    default:
      return `a ${typeof v}`;
  }
}
