// The npm package is complete: `npm pack` ships what the README links to, a LICENSE and the entry points, and no compiled tests or build-info files.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import test from 'ava';

const root = new URL('../../../', import.meta.url);

/** Paths `npm pack --dry-run --json` would put in the tarball (scripts skipped: the build already ran for the tests). */
function packedPaths(): string[] {
  const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const [pack] = JSON.parse(out) as { files: { path: string }[] }[];
  return pack!.files.map((f) => f.path);
}

const files = packedPaths();
const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as Record<string, unknown>;

test('npm pack ships every local file the README links to', (t) => {
  const readme = readFileSync(new URL('README.md', root), 'utf8');
  const links = [...readme.matchAll(/\]\(([^)#\s]+)/g)].map((m) => m[1]!).filter((l) => !/^[a-z]+:/.test(l));
  t.true(links.length > 0);
  for (const l of links) t.true(files.includes(l.replace(/^\.\//, '')), `${l} is linked from the README but not packed`);
});

test('npm pack ships the LICENSE, the README, the systemd unit the README installs and the entry points package.json names', (t) => {
  for (const f of [
    'LICENSE',
    'README.md',
    'package.json',
    'contrib/rawpci-restore.service',
    'bin/rawpci.js',
    'dist/src/index.js',
    'dist/src/index.d.ts',
    'dist/src/cli/main.js',
  ])
    t.true(files.includes(f), `${f} is not packed`);
});

test('npm pack ships no compiled tests and no tsbuildinfo', (t) => {
  t.deepEqual(
    files.filter((f) => f.startsWith('dist/test/') || f.startsWith('test/') || f.endsWith('.tsbuildinfo')),
    [],
  );
});

test('package.json names the repository, the homepage and the MIT licence the LICENSE file grants', (t) => {
  t.like(pkg, { license: 'MIT' });
  t.regex(String((pkg.repository as { url?: string } | undefined)?.url), /^git\+https:\/\//);
  t.regex(String(pkg.homepage), /^https:\/\//);
  t.regex(readFileSync(new URL('LICENSE', root), 'utf8'), /^MIT License\n\nCopyright \(c\) \d{4} the rawpci authors\n/);
});
