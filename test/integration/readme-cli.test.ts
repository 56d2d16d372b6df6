// Every `rawpci` command the README's CLI sections show runs as written (flags included), in order, on a fake host that has the devices they name.
//
// The host tree, the PCI ID file and the state file are the only additions: `--sysfs-root`,
// `--pci-ids` and `--state` point the commands at a fake sysfs tree with a fake kernel behind
// its driver files, so nothing touches this machine's devices. `sudo` is dropped (tests run as
// the user CI runs them as). The `rawpci demo [...]` line is a usage synopsis, not a command.

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import test from 'ava';
import { buildFakeSysfs, type FakeDevice, FakeKernel, lspciOnTree, runCli, standardDevices, writeFixtureIds } from '../helpers/fake-sysfs.js';

const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** The `rawpci` lines of the sh blocks under `## The CLI` (up to the next `## ` section). */
function readmeCommands(): string[][] {
  const section = readme.slice(readme.indexOf('## The CLI'), readme.indexOf('\n## ', readme.indexOf('## The CLI') + 3));
  const out: string[][] = [];
  for (const block of section.matchAll(/```sh\n([\s\S]*?)```/g)) {
    for (const raw of block[1]!.split('\n')) {
      const line = raw
        .replace(/#.*$/, '')
        .trim()
        .replace(/^sudo /, '');
      if (!line.startsWith('rawpci ') || line.includes('[')) continue;
      out.push(line.split(/\s+/).slice(1));
    }
  }
  return out;
}

/** The README's devices: edu at 00:04.0, a GPU and its audio function in one group at 03:00.x, a NIC at 04:00.0. */
function readmeHost(): FakeDevice[] {
  const fn = (bdf: string, classCode: number, driver: string, group: number): FakeDevice => ({
    bdf,
    vendor: 0x10de,
    device: 0x1000 + Number(bdf.slice(-1)),
    classCode,
    driver,
    defaultDriver: driver,
    iommuGroup: group,
    bars: [{ kind: 'mem32', address: 0xf000_0000n + BigInt(group) * 0x100_0000n, size: 0x100_0000n }],
  });
  return [
    ...standardDevices().filter((d) => !/^0000:0[34]:/.test(d.bdf) && d.bdf !== '0000:00:04.0'),
    { bdf: '0000:00:04.0', vendor: 0x1234, device: 0x11e8, classCode: 0x00ff00, revision: 0x10, iommuGroup: 14 },
    fn('0000:03:00.0', 0x030000, 'nouveau', 13),
    fn('0000:03:00.1', 0x040300, 'snd_hda_intel', 13),
    { ...fn('0000:04:00.0', 0x020000, 'e1000e', 12), vendor: 0x8086, device: 0x10d3 },
  ];
}

test('every rawpci command of the README CLI sections runs as written and exits 0', async (t) => {
  const fake = buildFakeSysfs(readmeHost(), ['vfio-pci', 'nouveau', 'snd_hda_intel', 'e1000e']);
  const kernel = new FakeKernel(fake);
  const ids = writeFixtureIds();
  const dir = mkdtempSync(join(tmpdir(), 'rawpci-readme-'));
  const state = join(dir, 'attachments.json');
  // `list -F dump.txt` reads a dump in the working directory, made as the README says (lspci -x).
  writeFileSync(join(dir, 'dump.txt'), lspciOnTree(fake.root, ids, ['-x', '-D']));
  const cwd = process.cwd();
  process.chdir(dir);
  const commands = readmeCommands();
  try {
    t.true(commands.length >= 15, `found ${commands.length} commands`);
    for (const args of commands) {
      const hostless = args.includes('-F') || args.includes('--host') || args[0] === 'status';
      const extra = [...(hostless ? [] : ['--sysfs-root', fake.root]), ...(args[0] === 'list' || args[0] === 'show' ? ['--pci-ids', ids] : ['--state', state])];
      const r = await runCli([...args, ...extra], { makeWriter: () => kernel, env: { ...process.env, RAWPCI_STATE: state } });
      t.is(r.code, 0, `rawpci ${args.join(' ')}: ${r.stderr}`);
    }
  } finally {
    process.chdir(cwd);
    fake.remove();
  }
});
