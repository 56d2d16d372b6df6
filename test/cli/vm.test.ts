// `rawpci vm`'s command line: what it refuses, before anything starts, and how it says so (the guest boots in the guest-OS tier, npm run test:guest-os).

import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { runCli } from '../helpers/fake-sysfs.js';

const emptyCache = join(tmpdir(), `rawpci-no-guest-${process.pid}`);
const fakeKernel = join(tmpdir(), `rawpci-fake-bzimage-${process.pid}`);
writeFileSync(fakeKernel, 'not a kernel');
// The guest cache the vm looks in by default: empty here, whatever this machine has fetched.
process.env.RAWPCI_GUEST_CACHE = emptyCache;

for (const [args, re] of [
  [[], /no guest kernel: give --kernel FILE .* or run 'npm run fetch:guest' once to fetch Debian's i386 kernel and busybox/],
  [['--kernel', '/nonexistent/bzImage'], /--kernel \/nonexistent\/bzImage: no such file/],
  [['--kernel', fakeKernel, '--initrd', '/nonexistent/initrd'], /--initrd \/nonexistent\/initrd: no such file/],
  [['--kernel', fakeKernel, '--bios', '/nonexistent'], /--bios \/nonexistent: no bios\.bin and vgabios-stdvga\.bin there/],
  [['--kernel', fakeKernel, '--memory', '64'], /--memory 64: must be an integer of MiB above 64/],
  [['--kernel', fakeKernel, '--memory', 'lots'], /--memory lots: expected a positive integer/],
  [['--kernel', fakeKernel, '--device', '0000:00:04.0@40'], /slot '40' must be a number 1\.\.31/],
  [['--kernel', fakeKernel, '--device', 'zz:zz'], /zz:zz/],
  [['--kernel', fakeKernel, '--device', '00:04.0', '--device', '0000:00:04.0'], /--device 0000:00:04\.0 given twice/],
] as const) {
  test(`rawpci vm ${args.join(' ').replace(fakeKernel, 'BZIMAGE') || '(no kernel at hand)'} is a usage error saying what to do`, async (t) => {
    const r = await runCli(['vm', ...args]);
    t.is(r.code, 2, r.stdout + r.stderr);
    t.regex(r.stderr, re);
  });
}
