// Kernel modules for a device's modalias, looked up in modules.alias the way libkmod does (lspci -k's `Kernel modules:` line).

import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { join } from 'node:path';

/** The running kernel's modules directory, /lib/modules/$(uname -r) (libkmod's default dirname). */
export function defaultModulesDir(kernelRelease: string = release()): string {
  return join('/lib/modules', kernelRelease);
}

/**
 * fnmatch(3) with flags 0, as libkmod matches an alias pattern against a modalias: `*` any run
 * (slashes too), `?` one character, `[...]` a set (`!` or `^` negates, `a-z` ranges), `\` quotes
 * the next character.
 */
export function fnmatch(pattern: string, s: string): boolean {
  const match = (p: number, i: number): boolean => {
    while (p < pattern.length) {
      const c = pattern[p]!;
      if (c === '*') {
        while (pattern[p] === '*') p++;
        if (p === pattern.length) return true;
        for (let k = i; k <= s.length; k++) if (match(p, k)) return true;
        return false;
      }
      if (i >= s.length) return false;
      if (c === '?') {
        p++;
        i++;
        continue;
      }
      if (c === '[') {
        const end = bracketEnd(pattern, p);
        if (end > 0) {
          if (!inSet(pattern.slice(p + 1, end), s[i]!)) return false;
          p = end + 1;
          i++;
          continue;
        }
      }
      let lit = c;
      if (c === '\\' && p + 1 < pattern.length) lit = pattern[++p]!;
      if (lit !== s[i]) return false;
      p++;
      i++;
    }
    return i === s.length;
  };
  return match(0, 0);
}

/** Index of the `]` closing the set opened at `open`, or -1 (then `[` is literal, as in glibc). */
function bracketEnd(p: string, open: number): number {
  let k = open + 1;
  if (p[k] === '!' || p[k] === '^') k++;
  if (p[k] === ']') k++;
  for (; k < p.length; k++) if (p[k] === ']') return k;
  return -1;
}

function inSet(set: string, ch: string): boolean {
  let k = 0;
  let neg = false;
  if (set[0] === '!' || set[0] === '^') {
    neg = true;
    k = 1;
  }
  let hit = false;
  for (; k < set.length; k++) {
    let lo = set[k]!;
    if (lo === '\\' && k + 1 < set.length) lo = set[++k]!;
    if (set[k + 1] === '-' && k + 2 < set.length) {
      let hi = set[k + 2]!;
      k += 2;
      if (hi === '\\' && k + 1 < set.length) hi = set[++k]!;
      if (ch >= lo && ch <= hi) hit = true;
    } else if (ch === lo) hit = true;
  }
  return hit !== neg;
}

/** libkmod's modname_normalize: `-` becomes `_`. */
function normalizeName(name: string): string {
  return name.replace(/-/g, '_');
}

/**
 * The alias tables of one modules directory: modules.alias (`alias PATTERN MODULE` lines, as
 * depmod writes them, modules in depmod's order) and the built-in modules' aliases from
 * modules.builtin.modinfo (NUL-separated `module.alias=PATTERN` records). libkmod's lookup
 * order for a modalias: modules.alias first; the built-in aliases only when it matched nothing.
 * Aliases in modprobe.d configuration are not read.
 */
export class KernelModules {
  readonly dir: string;
  private readonly aliases: [pattern: string, module: string][];
  private readonly builtin: [pattern: string, module: string][];

  private constructor(dir: string, aliases: [string, string][], builtin: [string, string][]) {
    this.dir = dir;
    this.aliases = aliases;
    this.builtin = builtin;
  }

  /**
   * Reads `dir` (default: the running kernel's). Undefined when it has no modules.alias (lspci
   * then prints no `Kernel modules:` lines either).
   */
  static load(dir: string = defaultModulesDir()): KernelModules | undefined {
    let text: string;
    try {
      text = readFileSync(join(dir, 'modules.alias'), 'utf8');
    } catch {
      return undefined;
    }
    const aliases: [string, string][] = [];
    for (const line of text.split('\n')) {
      const f = line.trim().split(/\s+/);
      if (f[0] === 'alias' && f.length >= 3) aliases.push([f[1]!, normalizeName(f[2]!)]);
    }
    const builtin: [string, string][] = [];
    try {
      for (const rec of readFileSync(join(dir, 'modules.builtin.modinfo'), 'latin1').split('\0')) {
        const m = /^([^.=]+)\.alias=(.*)$/s.exec(rec);
        if (m) builtin.push([m[2]!, normalizeName(m[1]!)]);
      }
    } catch {}
    return new KernelModules(dir, aliases, builtin);
  }

  /** Module names whose aliases match `modalias`, each once, in the tables' order (what lspci prints). */
  lookup(modalias: string): string[] {
    const find = (table: [string, string][]) => [...new Set(table.filter(([p]) => fnmatch(p, modalias)).map(([, m]) => m))];
    const found = find(this.aliases);
    return found.length ? found : find(this.builtin);
  }
}
