// npm's `install` step: builds native/xproc.cc (the cross-process addon of `rawpci serve`) with node-gyp, and never fails the install.
//
// Without the addon everything in-process works (Ring0Service, the CLI, the tests that do not
// cross processes); `rawpci serve` and `RawPciClient.connect('unix:PATH')` then say how to build
// it (`npm run build:addon`). node-gyp comes with npm (npm_config_node_gyp); Node's headers are
// taken from `npm config get nodedir` (/usr on these machines: ENVIRONMENT.md), never downloaded
// when they are there.

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
let gyp = process.env.npm_config_node_gyp;
if (!gyp || !existsSync(gyp)) {
  try {
    gyp = join(
      dirname(require.resolve('npm/package.json', { paths: [dirname(process.execPath), '/usr/lib/node_modules'] })),
      'node_modules/node-gyp/bin/node-gyp.js',
    );
  } catch {
    gyp = '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js';
  }
}
const args = [gyp, 'rebuild'];
if (!process.env.npm_config_nodedir && existsSync('/usr/include/node/node.h')) args.push('--nodedir=/usr');
const r = existsSync(gyp) ? spawnSync(process.execPath, args, { stdio: 'inherit' }) : { status: 1, error: new Error(`node-gyp not found at ${gyp}`) };
if (r.status !== 0) {
  console.warn(
    `rawpci: the native addon (native/xproc.cc) was not built${r.error ? ` (${r.error.message})` : ''}: in-process ring 0 works; rawpci serve and unix: connections need it (install python3, make, g++ and Node's headers, then npm run build:addon)`,
  );
}
process.exit(0);
