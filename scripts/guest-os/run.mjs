#!/usr/bin/env node
// The guest-OS test tier (`npm run test:guest-os`, issue 11 item 4): Debian's unmodified i386 kernel with a busybox initramfs boots in v86 through `rawpci vm` on the simulated host, and drives edu and the testdev with its own drivers.
//
// Steps: fetch what is missing (fetch.mjs), build the tier's initramfs (initramfs.mjs, /init =
// init.sh), run `node bin/rawpci.js vm` with edu (host 0000:00:04.0) and the testdev (0000:00:05.0),
// tee its console into .guest-cache/results/console.log (stderr into vm-stderr.log), then:
// count the guest's `guest: PASS|FAIL` lines, and check on the host what the guest cannot see:
// its config space against the device's (`rawpci show -xxxx`, the first GUEST_CONFIG_SIZE bytes,
// outside the fields PciFront and the guest's own writes change: GUEST_WRITTEN_CONFIG), the DMA faults ring 0 reported to ring 3,
// the VM's exit status against the guest's verdict, and lspci's text in the log. Prints every
// check and ends with one line `N passed, N failed`; exits 1 on any failure or when no check ran.
//
// Usage: node scripts/guest-os/run.mjs [--timeout SECONDS]   (needs `npm run -s build` first)

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DebianError } from '../lib/debian.mjs';
import { cacheDir, checkout, fetchGuest } from './fetch.mjs';
import { buildInitramfs } from './initramfs.mjs';

const t0 = Date.now();
const secs = () => ((Date.now() - t0) / 1000).toFixed(1);
const log = (msg) => console.error(`[guest-os tier +${secs()}s] ${msg}`);
const args = process.argv.slice(2);
const timeoutAt = args.indexOf('--timeout');
/** Seconds the VM may run before rawpci vm stops it (exit 124). */
const timeoutS = timeoutAt >= 0 ? Number(args[timeoutAt + 1]) : 150;
if (!(timeoutS > 0)) die(`--timeout ${args[timeoutAt + 1]}: give a number of seconds above 0`);
/** Guest RAM in MiB; DMA_OUTSIDE must lie above it and inside edu's 28-bit DMA mask (docs/edu.md "DMA"). */
const MEMORY_MIB = 192;
/** A bus address outside the VM's IOMMU domain (ring 0 maps only guest RAM): 240 MiB. */
const DMA_OUTSIDE = 0x0f00_0000;
/** The host functions put on the guest bus: edu and the testdev of the simulated host's default inventory. */
const DEVICES = { edu: '0000:00:04.0', testdev: '0000:00:05.0' };

/** Fails the tier before any guest check ran, with the cause. */
function die(msg) {
  console.error(`guest-os tier FAILED: ${msg}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

/**
 * Config-space bytes the guest's view may differ in from the device's, by design, each with why:
 * the guest's own writes (SeaBIOS programs BARs, the command register and the interrupt line;
 * the checks' writes come after the dump) and what PciFront virtualises (BARs answered from its
 * own copy, r3/guest/pci-front.ts). Ranges are [first, last] byte offsets (PCI Local Bus spec
 * 3.0, 6.1 for the header layout).
 */
export const GUEST_WRITTEN_CONFIG = [
  { from: 0x04, to: 0x05, why: 'PCI_COMMAND: SeaBIOS enables I/O and memory decode (and SERR) on the guest side' },
  { from: 0x10, to: 0x27, why: 'PCI_BASE_ADDRESS_0..5: guest addresses SeaBIOS assigned, virtualised by PciFront (the host keeps its own)' },
  { from: 0x30, to: 0x33, why: 'PCI_ROM_ADDRESS: guest address, virtualised by PciFront' },
  { from: 0x3c, to: 0x3c, why: 'PCI_INTERRUPT_LINE: the ISA IRQ SeaBIOS routed the guest slot to' },
];

/**
 * How much config space the guest can read: 256 bytes. v86 has only configuration mechanism #1
 * (ports 0xCF8/0xCFC, PCI Local Bus spec 3.0, 3.2.2.3.2) and no ECAM/MCFG, so Linux never sees a
 * PCI Express function's extended config space (0x100-0xfff, the testdev's VSEC): the comparison
 * stops here, and the tier checks that the guest saw exactly this much.
 */
export const GUEST_CONFIG_SIZE = 256;

/**
 * Config bytes from a hex dump: every match of `re` gives the row's offset (hex) in group `off`
 * and its bytes (hex pairs separated by spaces) in group `hex`.
 */
function dumpBytes(text, re) {
  const bytes = [];
  for (const m of text.matchAll(re)) {
    const off = Number.parseInt(m.groups.off, 16);
    for (const [i, b] of m.groups.hex.trim().split(' ').entries()) bytes[off + i] = Number.parseInt(b, 16);
  }
  return bytes;
}
/** The device's dump: lines `OFF: b0 ... b15` (rawpci show -xxxx, lspci's format). */
const parseHostDump = (text) => dumpBytes(text, /^(?<off>[0-9a-f]{2,3}): (?<hex>(?:[0-9a-f]{2} ?){16})$/gm);
/** The guest's dump of one guest BDF: its `guest: CONFIG BDF OFF b0 ...` lines (init.sh). */
const parseGuestDump = (text, bdf) =>
  dumpBytes(text, new RegExp(`^guest: CONFIG ${bdf.replace(/\./g, '\\.')} (?<off>[0-9a-f]+) (?<hex>(?:[0-9a-f]{2} ?)+)$`, 'gm'));

/** Differences between the guest's and the device's config space outside GUEST_WRITTEN_CONFIG, as `0xOFF guest GG device DD` strings. */
function configDiffs(guest, host) {
  const allowed = (o) => GUEST_WRITTEN_CONFIG.some((r) => o >= r.from && o <= r.to);
  const diffs = [];
  for (let o = 0; o < Math.max(guest.length, host.length); o++) {
    if (allowed(o) || guest[o] === host[o]) continue;
    diffs.push(
      `0x${o.toString(16).padStart(3, '0')} guest ${guest[o]?.toString(16).padStart(2, '0') ?? '--'} device ${host[o]?.toString(16).padStart(2, '0') ?? '--'}`,
    );
  }
  return diffs;
}

/** Runs the VM, echoing its console and messages, and returns its exit code with both texts. */
async function runVm(kernel, initrd, bios, results) {
  const vmArgs = [
    join(checkout, 'bin', 'rawpci.js'),
    'vm',
    '--host',
    'sim',
    ...Object.values(DEVICES).flatMap((d) => ['--device', d]),
    '--kernel',
    kernel,
    '--initrd',
    initrd,
    '--append',
    `quiet rawpci.dma_outside=0x${DMA_OUTSIDE.toString(16)}`,
    '--memory',
    String(MEMORY_MIB),
    '--timeout',
    String(timeoutS),
    '--bios',
    bios,
  ];
  log(`node ${vmArgs.join(' ')}`);
  const child = spawn(process.execPath, vmArgs, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, RAWPCI_LOG: process.env.RAWPCI_LOG ?? 'error' } });
  const out = [];
  const err = [];
  child.stdout.on('data', (b) => {
    process.stdout.write(b);
    out.push(b);
  });
  child.stderr.on('data', (b) => {
    process.stderr.write(b);
    err.push(b);
  });
  const code = await new Promise((res) => child.on('close', (c, sig) => res(c ?? (sig ? 128 : 1))));
  const console_ = Buffer.concat(out).toString('latin1');
  const stderr = Buffer.concat(err).toString('utf8');
  writeFileSync(join(results, 'console.log'), console_);
  writeFileSync(join(results, 'vm-stderr.log'), stderr);
  return { code, console: console_.replace(/\r/g, ''), stderr };
}

// ---- main ----
process.on('uncaughtException', (e) => {
  if (e instanceof DebianError) die(e.message);
  throw e;
});
if (!existsSync(join(checkout, 'dist', 'src', 'cli', 'main.js'))) die(`${checkout}/dist is not built: run 'npm run -s build' first`);
const g = fetchGuest({ log });
const initrd = buildInitramfs(g, { guest: 'tier' });
const results = join(cacheDir, 'results');
rmSync(results, { recursive: true, force: true });
mkdirSync(results, { recursive: true });
log(`guest ready: ${g.kpkg}, initramfs ${initrd}`);
const vm = await runVm(g.vmlinuz, initrd, g.bios, results);
log(`rawpci vm exited with ${vm.code}`);

/** Every check of the tier: the guest's, then the host's. */
const checks = [];
for (const m of vm.console.matchAll(/^guest: (PASS|FAIL) (\S+?)(?:: (.*))?$/gm)) checks.push({ name: `guest ${m[2]}`, ok: m[1] === 'PASS', why: m[3] ?? '' });
const guestFails = checks.filter((c) => !c.ok).length;
const host = (name, ok, why) => checks.push({ name: `host ${name}`, ok, why });

host('vm-finished', vm.code !== 124, `rawpci vm timed out after ${timeoutS} s (exit 124)`);
const verdict = /^rawpci-guest: exit (\d+)$/m.exec(vm.console);
host(
  'vm-exit-status-is-guest-verdict',
  verdict !== null && Number(verdict[1]) === vm.code && vm.code === guestFails,
  `guest said ${verdict?.[1] ?? 'nothing'}, ${guestFails} FAIL lines, rawpci vm exited ${vm.code}`,
);

// Config space: the guest's dump against the device's own, by the slot mapping the VM printed.
for (const [what, hostBdf] of Object.entries(DEVICES)) {
  const guestBdf = new RegExp(`^rawpci vm: ${hostBdf} \\(sim\\) -> guest (\\S+)$`, 'm').exec(vm.stderr)?.[1];
  const show = spawnSync(process.execPath, [join(checkout, 'bin', 'rawpci.js'), 'show', '--host', 'sim', '-xxxx', hostBdf], { encoding: 'utf8' });
  const device = parseHostDump(show.stdout ?? '');
  const guest = guestBdf ? parseGuestDump(vm.console, `0000:${guestBdf}`) : [];
  writeFileSync(join(results, `config-${what}-device.txt`), show.stdout ?? '');
  const diffs = configDiffs(guest, device.slice(0, GUEST_CONFIG_SIZE));
  host(
    `config-space-${what}-matches-device`,
    guest.length === GUEST_CONFIG_SIZE && device.length >= GUEST_CONFIG_SIZE && diffs.length === 0,
    !guestBdf
      ? `rawpci vm named no guest slot for ${hostBdf}`
      : `${guest.length} guest bytes, ${device.length} device bytes; ${diffs.length} differ outside the guest-written fields: ${diffs.slice(0, 8).join(', ')}`,
  );
}

// DMA outside the domain: ring 0 refused it and reported it to ring 3 (rawpci vm prints faults).
const outside = `0x${DMA_OUTSIDE.toString(16)}`;
const faults = vm.stderr.split('\n').filter((l) => l.startsWith('rawpci vm: fault') && l.includes(outside));
host(
  'dma-outside-domain-fault-reported-to-ring3',
  faults.some((l) => /read/.test(l)) && faults.some((l) => /write/.test(l)),
  `expected a read and a write fault at ${outside} on stderr, saw ${faults.length}`,
);

const lspci = /^guest: LSPCI-BEGIN$([\s\S]*?)^guest: LSPCI-END$/m.exec(vm.console)?.[1] ?? '';
writeFileSync(join(results, 'lspci-vv.txt'), lspci);
host(
  'guest-lspci-vv-in-log',
  /\[1234:11e8\]/.test(lspci) && /\[1234:5250\]/.test(lspci) && /Region 0:/.test(lspci),
  'no lspci -vv -nn text for both devices between LSPCI-BEGIN and LSPCI-END',
);

// The README's commands for this VM, as a newcomer runs them: `rawpci demo --os` (the first
// demo: it uses the default guest fetch:guest built), then the same guest through a ring 0 in its
// own process (`rawpci serve` + `rawpci vm --socket`), the VM process holding no ring 0 of its own.
/** Runs `node bin/rawpci.js ...args` and returns its exit code and output; killed after `timeoutS`. */
async function rawpci(cliArgs, { quiet = false } = {}) {
  const child = spawn(process.execPath, [join(checkout, 'bin', 'rawpci.js'), ...cliArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, RAWPCI_LOG: process.env.RAWPCI_LOG ?? 'error' },
  });
  const out = [];
  for (const s of [child.stdout, child.stderr])
    s.on('data', (b) => {
      if (!quiet) process.stdout.write(b);
      out.push(b);
    });
  const killer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
  const code = await new Promise((res) => child.on('close', (c, sig) => res(c ?? (sig ? 128 : 1))));
  clearTimeout(killer);
  return { code, text: Buffer.concat(out).toString('latin1').replace(/\r/g, '') };
}
const demoPasses = (text) => (text.match(/^guest: PASS /gm) ?? []).length;
log("rawpci demo --os (the README's first demo)");
const demo = await rawpci(['demo', '--os']);
writeFileSync(join(results, 'demo-os.log'), demo.text);
host(
  'readme-demo-os-linux-drives-edu',
  demo.code === 0 && demoPasses(demo.text) === 4 && !/^guest: FAIL/m.test(demo.text),
  `exit ${demo.code}, ${demoPasses(demo.text)} of 4 guest checks passed`,
);
const sock = join(results, 'ring0.sock');
log(`rawpci serve --socket ${sock}, then rawpci vm --socket ${sock}`);
const serve = spawn(process.execPath, [join(checkout, 'bin', 'rawpci.js'), 'serve', '--socket', sock], { stdio: ['ignore', 'pipe', 'pipe'] });
const serveLog = [];
serve.stdout.on('data', (b) => serveLog.push(b));
serve.stderr.on('data', (b) => serveLog.push(b));
for (let i = 0; i < 100 && !existsSync(sock); i++) await new Promise((r) => setTimeout(r, 100));
const viaServe = await rawpci(['vm', '--socket', sock, '--append', 'rawpci.demo quiet loglevel=3', '--timeout', String(timeoutS)]);
serve.kill('SIGTERM');
await new Promise((r) => serve.on('close', r));
const served = Buffer.concat(serveLog).toString('utf8');
writeFileSync(join(results, 'vm-socket.log'), `${viaServe.text}\n--- rawpci serve ---\n${served}`);
host(
  'vm-through-rawpci-serve-linux-drives-edu',
  viaServe.code === 0 && demoPasses(viaServe.text) === 4 && /connected to rawpci serve/.test(viaServe.text),
  `exit ${viaServe.code}, ${demoPasses(viaServe.text)} of 4 guest checks passed`,
);
host(
  'rawpci-serve-closed-the-vm-session-in-order',
  /ended \(bye\): devices closed in the fixed order/.test(served),
  "rawpci serve logged no ordered close of the VM's session",
);

// `npx rawpci vm` as the README shows it: the default guest's shell on a terminal. script(1)
// gives it a pty; the "user" types once the shell's banner is there; `exit 7` ends the VM with 7.
if (existsSync('/usr/bin/script')) {
  log('npx rawpci vm on a terminal (script(1) pty): typing `echo typed-$((6*7)); exit 7` at the shell');
  const term = spawn('script', ['-qefc', `${process.execPath} ${join(checkout, 'bin', 'rawpci.js')} vm --timeout ${timeoutS}`, '/dev/null'], {
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, RAWPCI_LOG: process.env.RAWPCI_LOG ?? 'error' },
  });
  let seen = '';
  let typed = false;
  for (const st of [term.stdout, term.stderr])
    st.on('data', (b) => {
      seen += b.toString('latin1');
      if (!typed && seen.includes("'exit' (or 'exit N') ends the VM")) {
        typed = true;
        setTimeout(() => term.stdin.write('echo typed-$((6*7)); exit 7\r'), 500);
      }
    });
  const killer = setTimeout(() => term.kill('SIGKILL'), timeoutS * 1000);
  const code = await new Promise((res) => term.on('close', (c, sig) => res(c ?? (sig ? 128 : 1))));
  clearTimeout(killer);
  writeFileSync(join(results, 'vm-terminal.log'), seen);
  host(
    'readme-rawpci-vm-shell-on-the-terminal',
    code === 7 && /typed-42/.test(seen),
    `exit ${code} (expected 7), typed command ${/typed-42/.test(seen) ? 'ran' : 'did not run'}`,
  );
} else host('readme-rawpci-vm-shell-on-the-terminal', false, 'script(1) (util-linux) is missing: cannot give rawpci vm a terminal');

console.log('\nguest-os tier checks:');
for (const c of checks) console.log(`${c.ok ? 'PASS' : 'FAIL'} ${c.name}${c.ok ? '' : `: ${c.why}`}`);
for (const m of vm.console.matchAll(/^guest: MEASURE (\S+) (\S+)$/gm)) console.log(`measured ${m[1]} = ${m[2]}`);
console.log(
  `config bytes the guest may see differently (by design): ${GUEST_WRITTEN_CONFIG.map((r) => `0x${r.from.toString(16)}-0x${r.to.toString(16)} ${r.why.split(':')[0]}`).join('; ')}`,
);
const passed = checks.filter((c) => c.ok).length;
const failed = checks.length - passed;
log(`tier took ${secs()} s; console in ${join(results, 'console.log')}`);
const guestRan = checks.some((c) => c.name.startsWith('guest '));
console.log(`${passed} passed, ${guestRan ? failed : Math.max(failed, 1)} failed`);
process.exit(failed || !guestRan ? 1 : 0);
