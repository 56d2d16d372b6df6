// Child process of the parallel-attach test: one `rawpci attach BDF` against a fake tree of nicFleet(N), the fake kernel as its writer.

import { FakeKernel, nicFleet, openFakeSysfs, runCli } from './fake-sysfs.js';

const [root, state, count, bdf] = process.argv.slice(2) as [string, string, string, string];
const kernel = new FakeKernel(openFakeSysfs(root, nicFleet(Number(count))));
const r = await runCli(['attach', bdf, '--sysfs-root', root, '--state', state], { makeWriter: () => kernel });
process.stdout.write(r.stdout);
process.stderr.write(r.stderr);
process.exitCode = r.code;
