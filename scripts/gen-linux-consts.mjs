#!/usr/bin/env node
// Generates shared/linux/*.ts from Linux UAPI headers (pci_regs.h, vfio.h): constants only, no logic.
// Usage: node scripts/gen-linux-consts.mjs [/usr/include/linux]
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? '/usr/include/linux';

/** Evaluates a C constant expression made of literals, already-known names, shifts, | & ~ + - and parens. */
function evaluate(expr, known) {
  let js = expr
    .replace(/\/\*.*?\*\//g, '')
    .replace(/\b(0x[0-9a-fA-F]+|\d+)[uUlL]*\b/g, '$1')
    .replace(/\b_BITUL\((\d+)\)/g, '(1 << $1)')
    .trim();
  if (!js) return undefined;
  let unknown = false;
  js = js.replace(/\b[A-Za-z_]\w*\b/g, (name) => {
    if (name in known) return `(${known[name]})`;
    unknown = true;
    return name;
  });
  if (unknown || /[^\s\d()xa-fA-F|&~<>+\-*]/.test(js)) return undefined;
  try {
    const v = Function(`"use strict"; return (${js});`)();
    if (typeof v !== 'number' || !Number.isFinite(v)) return undefined;
    return v < 0 && !expr.includes('-') ? v >>> 0 : v;
  } catch {
    return undefined;
  }
}

function generate(header, prefixes, out, title) {
  const text = readFileSync(join(dir, header), 'utf8').replace(/\\\n/g, ' ');
  const known = {};
  const lines = [`// ${title}: constants generated from linux/${header} by scripts/gen-linux-consts.mjs. Do not edit.`, ''];
  for (const m of text.matchAll(/^#define\s+([A-Z_][A-Z0-9_]*)\s+(.+?)\s*(?:\/\*(.*?)\*\/)?\s*$/gm)) {
    const [, name, raw, comment] = m;
    if (!prefixes.some((p) => name.startsWith(p))) continue;
    const v = evaluate(raw, known);
    if (v === undefined) continue;
    known[name] = v;
    const lit = v >= 10 || v < 0 ? `0x${(v >>> 0).toString(16)}` : String(v);
    const doc = comment?.trim() ? `/** ${comment.trim().replace(/\*\//g, '')} */\n` : '';
    lines.push(`${doc}export const ${name} = ${v < 0 ? v : lit};`);
  }
  writeFileSync(out, `${lines.join('\n')}\n`);
  console.log(`${out}: ${Object.keys(known).length} constants`);
}

generate('pci_regs.h', ['PCI_'], 'shared/linux/pci-regs.ts', 'PCI configuration space layout (pci_regs.h)');
generate('vfio.h', ['VFIO_'], 'shared/linux/vfio-consts.ts', 'VFIO user API numbers (vfio.h)');
