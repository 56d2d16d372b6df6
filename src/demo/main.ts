// `rawpci demo`: a VM drives edu and the testdev through ring 0, step by step, and reports pass/fail, operation counts and latencies.

import { createHash } from 'node:crypto';
import { createColors } from 'picocolors';
import { Ring0Service } from '../../r0/service.js';
import { RawPciClient } from '../../r3/client.js';
import { RawPciError } from '../../r3/errors.js';
import {
  PCI_COMMAND,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_MSIX_ENTRY_SIZE,
  PCI_MSIX_FLAGS,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_ROM_ADDRESS,
} from '../../shared/linux/pci-regs.js';
import { msixEntryDwords } from '../../shared/pci/msix.js';
import { PCIRAW_IRQ_KIND, PCIRAW_MEMINFO, PCIRAW_POWER, PCIRAW_REGION } from '../../shared/protocol.js';
import { EDU, EduDriver } from '../drivers/edu.js';
import { runGuestDemo } from './guest.js';
import { checkDemoTargets, type DemoTargetOptions, demoSource, demoTargets } from './identity.js';

/** Options of {@link runDemo} (the `rawpci demo` command line). */
export interface DemoOptions extends DemoTargetOptions {
  /** `sim` (default) or `vfio`. */
  host: string;
  /** BDF of edu: default 0000:00:04.0 on the simulated host; required on vfio. */
  device?: string;
  /** BDF of the testdev: default 0000:00:05.0 on the simulated host; on vfio driven only when given. */
  testdev?: string;
  /** Inventory JSON for the simulated host. */
  inventory?: string;
  /** vfio host: the directory that stands for /sys (default /sys), for the ID check and for ring 0. */
  sysfsRoot?: string;
  /** Also run the guest driver: it sees only a guest PCI bus (0xCF8/0xCFC) with edu and the testdev projected by PciFront. */
  guest?: boolean;
  /** Print one JSON report instead of text. */
  json?: boolean;
}

/** One step of the report. */
export interface DemoStep {
  name: string;
  ok: boolean;
  detail: string;
  ms: number;
}

/** The demo's report (also its `--json` output). */
export interface DemoReport {
  host: string;
  ok: boolean;
  steps: DemoStep[];
  opCounts: Record<string, number>;
  latencyUs: Record<string, { count: number; p50: number; p99: number }>;
}

/** Colour only on a terminal (picocolors alone also colours when CI is set). */
const pc = createColors(!!process.stdout.isTTY && !('NO_COLOR' in process.env));

const GUEST_RAM = 16 << 20;
const SRC = 0x10_000n;
const DST = 0x20_000n;
const UNMAPPED = 0x0800_0000n; // 128 MiB: inside edu's 28-bit DMA mask, outside the 16 MiB mapped

/**
 * Runs the demo and returns the process exit code: 0 when every step passed, 1 otherwise.
 * First, before ring 0 starts, it reads the vendor and device IDs of every device it will drive
 * (sysfs on vfio, the inventory on sim; see ./identity.ts) and throws DemoUsageError (options to
 * fix: e.g. vfio without `device`) or DemoDeviceError (a device that is missing or not edu or the
 * testdev) with nothing started or opened. After that it never throws: a failure becomes a
 * failed step with its cause.
 */
export async function runDemo(opts: DemoOptions): Promise<number> {
  const host = (opts.host ?? 'sim') as 'sim' | 'vfio';
  const targets = demoTargets(opts);
  const checkStart = performance.now();
  const checked = await checkDemoTargets(targets, await demoSource(opts), opts);
  const checkMs = performance.now() - checkStart;
  const eduBdf = targets.find((t) => t.role === 'edu')!.bdf.toString();
  const testdevBdf = targets.find((t) => t.role === 'testdev')?.bdf.toString();
  // Guest mistakes and IOMMU faults are logged at warn; the demo reports them itself.
  process.env.RAWPCI_LOG ??= 'error';
  const steps: DemoStep[] = [];
  const say = (s: DemoStep) => {
    steps.push(s);
    if (!opts.json) {
      const mark = s.ok ? pc.green('PASS') : pc.red('FAIL');
      console.log(`${mark} ${s.name.padEnd(44)} ${pc.dim(`${s.ms.toFixed(1).padStart(7)} ms`)}  ${s.detail}`);
    }
  };
  const step = async (name: string, fn: () => string | Promise<string>): Promise<boolean> => {
    const t = performance.now();
    try {
      const detail = await fn();
      say({ name, ok: true, detail, ms: performance.now() - t });
      return true;
    } catch (e) {
      const detail = e instanceof RawPciError ? `${e.code}: ${e.message}` : (e as Error).message;
      say({ name, ok: false, detail, ms: performance.now() - t });
      return false;
    }
  };
  const expect = (cond: boolean, msg: string) => {
    if (!cond) throw new Error(msg);
  };

  if (!opts.json) console.log(pc.bold(`rawpci demo: a VM drives PCI devices through ring 0 (${host} host)\n`));
  say({ name: 'check the IDs of the devices to drive', ok: true, detail: checked, ms: checkMs });
  let service: Ring0Service | undefined;
  let vm: RawPciClient | undefined;
  try {
    const ok = await step('start ring 0 and connect a VM', async () => {
      service = await Ring0Service.start({
        host,
        ...(opts.inventory ? { inventory: opts.inventory } : {}),
        ...(opts.sysfsRoot ? { sysfsRoot: opts.sysfsRoot } : {}),
      });
      vm = await RawPciClient.connect(service, { guestRamBytes: GUEST_RAM, recordLatency: true });
      hosts.set(vm, host);
      const domain = vm.initVm();
      vm.contigMemInfo(0n, 0n, BigInt(GUEST_RAM), PCIRAW_MEMINFO.MAP);
      return `session ${vm.session}, IOMMU domain ${domain}, ${GUEST_RAM >> 20} MiB of guest RAM mapped at IOVA 0`;
    });
    if (ok && vm) await driveEdu(vm, eduBdf, step, expect);
    if (ok && vm && testdevBdf) await driveTestdev(vm, testdevBdf, step, expect);
    if (opts.guest && ok && vm && testdevBdf) await runGuestDemo(vm, step, { edu: eduBdf, testdev: testdevBdf });
  } finally {
    const client = vm;
    if (client) {
      await step('disconnect the VM (ring 0 ends the session)', async () => {
        await client.close();
        return 'session ended: devices closed, host drivers rebound';
      });
    }
    await service?.close();
  }

  const report: DemoReport = {
    host,
    ok: steps.every((s) => s.ok),
    steps,
    opCounts: vm?.opCounts ?? {},
    latencyUs: vm?.latency() ?? {},
  };
  if (opts.json) console.log(JSON.stringify(report, null, 2));
  else printSummary(report);
  return report.ok ? 0 : 1;
}

type Step = (name: string, fn: () => string | Promise<string>) => Promise<boolean>;
type Expect = (cond: boolean, msg: string) => void;

/** The host a demo VM's ring 0 drives (set by runDemo). */
const hosts = new WeakMap<RawPciClient, string>();
const hostOf = (vm: RawPciClient) => hosts.get(vm) ?? 'sim';

async function driveEdu(vm: RawPciClient, bdf: string, step: Step, expect: Expect): Promise<void> {
  let h = 0;
  let edu!: EduDriver;
  if (
    !(await step(`open edu ${bdf} (DETACH_HOST_DRIVER)`, () => {
      h = vm.openDevice(bdf, { detachHostDriver: true });
      return `handle 0x${h.toString(16)}`;
    }))
  )
    return;
  await step('region info of every region', () => {
    const lines = [];
    for (let r = 0; r <= 6; r++) {
      const i = vm.getRegionInfo(h, r);
      if (i.present)
        lines.push(
          `${r === PCIRAW_REGION.ROM ? 'ROM' : `BAR${r}`} ${i.kind}${i.prefetchable ? ' prefetchable' : ''} 0x${i.regionStart.toString(16)} size ${i.regionSize}`,
        );
    }
    expect(lines.length === 1 && lines[0]!.startsWith('BAR0 mem32'), `edu has one 32-bit memory BAR, got ${lines.join('; ')}`);
    return lines.join('; ');
  });
  await step('power on, IRQ handler, decode + bus master', () => {
    const caps = vm.powerStateChange(h, PCIRAW_POWER.ON);
    const hostIrq = vm.registerIrqHandler(h, 11);
    edu = new EduDriver(vm, h);
    edu.enable();
    return `caps 0x${caps.toString(16)} (IOMMU), host IRQ ${hostIrq}, MSI capability at 0x${edu.msiCap.toString(16)}`;
  });
  await step('identification reads 0x010000ed', () => {
    const id = edu.id();
    expect(id === 0x0100_00ed, `read 0x${id.toString(16)}`);
    return `0x${id.toString(16).padStart(8, '0')}`;
  });
  await step('liveness stores the bitwise NOT', () => {
    const v = edu.liveness(0x1234_5678);
    expect(v === ~0x1234_5678 >>> 0, `read 0x${v.toString(16)}`);
    return `wrote 0x12345678, read 0x${v.toString(16)}`;
  });
  await step('10! with a completion interrupt over INTx', () => {
    const r = edu.factorial(10, 'intx');
    expect(r.value === 3_628_800, `got ${r.value}`);
    return `${r.value} (INTx, guest IRQ ${r.irq?.guestIrq}, acked)`;
  });
  await step('12! with a completion interrupt over MSI', () => {
    edu.setMsi(true);
    const r = edu.factorial(12, 'msi');
    edu.setMsi(false);
    expect(r.value === 479_001_600, `got ${r.value}`);
    return `${r.value} (MSI address 0x${r.irq?.address.toString(16)} data 0x${r.irq?.data.toString(16)})`;
  });
  await step('4095-byte DMA round trip through the IOMMU', () => {
    const src = vm.ram.subarray(Number(SRC), Number(SRC) + 4095);
    for (let i = 0; i < src.length; i++) src[i] = (i * 7 + 13) & 0xff;
    vm.ram.fill(0, Number(DST), Number(DST) + 4095);
    edu.dma(SRC, 0, 4095, false, 'intx');
    edu.dma(DST, 0, 4095, true, 'intx');
    const dst = vm.ram.subarray(Number(DST), Number(DST) + 4095);
    const same = Buffer.compare(Buffer.from(src), Buffer.from(dst)) === 0;
    expect(same, 'the bytes that came back differ');
    return `RAM 0x${SRC.toString(16)} -> device buffer -> RAM 0x${DST.toString(16)}: 4095 bytes equal`;
  });
  await step('DMA to an unmapped IOVA is refused, RAM untouched', () => {
    const before = createHash('sha256').update(vm.ram).digest('hex');
    const cmd = EDU.CMD_START | EDU.CMD_TO_RAM;
    edu.write64(EDU.DMA_SRC, BigInt(EDU.DMA_BUF));
    edu.write64(EDU.DMA_DST, UNMAPPED);
    edu.write64(EDU.DMA_COUNT, 256n);
    edu.write(EDU.DMA_CMD, cmd);
    const ev = vm.getIrq(5000, h);
    expect(ev?.kind === PCIRAW_IRQ_KIND.FAULT, `expected an IOMMU fault report, got ${ev?.kind ?? 'nothing'}`);
    const deadline = performance.now() + 2000;
    while (edu.read(EDU.DMA_CMD) & EDU.CMD_START) expect(performance.now() < deadline, 'DMA never finished after the fault');
    const after = createHash('sha256').update(vm.ram).digest('hex');
    expect(before === after, 'guest RAM changed');
    expect(edu.id() === 0x0100_00ed, 'device stopped answering after the fault');
    return `fault at IOVA 0x${ev!.address.toString(16)} reported; guest RAM sha256 unchanged; device alive`;
  });
  await step('suspend: no access, IRQ or DMA; resume keeps state', async () => {
    edu.write(EDU.LIVENESS, 0xa5a5_0000);
    edu.write(EDU.STATUS, EDU.STATUS_IRQFACT);
    edu.write(EDU.FACTORIAL, 5);
    vm.powerStateChange(h, PCIRAW_POWER.SUSPEND);
    let refused = '';
    try {
      edu.id();
    } catch (e) {
      refused = (e as RawPciError).code;
    }
    expect(refused === 'VERR_INVALID_STATE', `MMIO while suspended gave ${refused || 'success'}`);
    const early = vm.getIrq(50, h);
    expect(early === undefined, `an interrupt arrived while suspended (${early?.kind})`);
    let dmaRefused = '';
    try {
      vm.cfgWrite(h, PCI_COMMAND, 2, 0);
    } catch (e) {
      dmaRefused = (e as RawPciError).code;
    }
    expect(dmaRefused === 'VERR_INVALID_STATE', `config write while suspended gave ${dmaRefused || 'success'}`);
    vm.powerStateChange(h, PCIRAW_POWER.RESUME);
    const ev = edu.waitIrq('intx', EDU.IRQ_FACT);
    const fact = edu.read(EDU.FACTORIAL);
    const live = edu.read(EDU.LIVENESS);
    expect(fact === 120 && live === ~0xa5a5_0000 >>> 0, `after resume: factorial ${fact}, liveness 0x${live.toString(16)}`);
    return `MMIO refused (VERR_INVALID_STATE), no IRQ in 50 ms; after resume 5! = ${fact} via ${ev.kind}, liveness kept`;
  });
  await step('power cycle resets the device', () => {
    vm.powerStateChange(h, PCIRAW_POWER.OFF);
    vm.powerStateChange(h, PCIRAW_POWER.ON);
    edu.enable();
    const live = edu.read(EDU.LIVENESS);
    const fact = edu.read(EDU.FACTORIAL);
    if (hostOf(vm) === 'vfio') {
      // QEMU 7.2's edu has no reset handler (and on q35's root bus no FLR, PM or bus reset): its
      // registers survive; what must hold is that the device still answers after the cycle.
      expect(edu.id() === 0x0100_00ed, 'device stopped answering after the power cycle');
      return `OFF then ON: device answers; registers kept (liveness 0x${live.toString(16)}, factorial ${fact}): QEMU's edu has no reset handler`;
    }
    expect(live === 0 && fact === 0, `liveness 0x${live.toString(16)}, factorial ${fact} after the cycle`);
    return 'OFF then ON: registers back to zero (our model resets; QEMU edu has no reset handler)';
  });
  await step('close edu; its host driver is rebound', () => {
    vm.closeDevice(h);
    let code = '';
    try {
      vm.closeDevice(vm.openDevice(bdf));
    } catch (e) {
      code = (e as RawPciError).code;
    }
    expect(code === 'VERR_RESOURCE_BUSY', `open without DETACH_HOST_DRIVER gave ${code || 'success'}`);
    return 'reopening without DETACH_HOST_DRIVER is refused (VERR_RESOURCE_BUSY): the host driver is back';
  });
}

async function driveTestdev(vm: RawPciClient, bdf: string, step: Step, expect: Expect): Promise<void> {
  let h = 0;
  if (
    !(await step(`open testdev ${bdf}`, () => {
      h = vm.openDevice(bdf, { detachHostDriver: true });
      vm.powerStateChange(h, PCIRAW_POWER.ON);
      vm.registerIrqHandler(h, 10);
      const cmd = vm.cfgRead(h, PCI_COMMAND, 2);
      vm.cfgWrite(h, PCI_COMMAND, 2, cmd | PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
      const kinds = [0, 2, 4, 6]
        .map((r) => vm.getRegionInfo(h, r))
        .map((i) => `${i.region === PCIRAW_REGION.ROM ? 'ROM' : `BAR${i.region}`} ${i.kind}${i.prefetchable ? '+pf' : ''}`);
      return `handle 0x${h.toString(16)}; ${kinds.join(', ')}`;
    }))
  )
    return;
  const io = vm.getRegionInfo(h, 0);
  const port = Number(io.regionStart);
  await step('PIO: ID and scratch register', () => {
    const id = vm.pioRead(h, port, 4);
    expect(id === 0x5250_0001, `ID 0x${id.toString(16)}`);
    vm.pioWrite(h, port + 4, 4, 0xcafe_f00d);
    const b = vm.pioRead(h, port + 5, 1);
    const v = vm.pioRead(h, port + 4, 4);
    expect(v === 0xcafe_f00d && b === 0xf0, `scratch 0x${v.toString(16)}, byte 0x${b.toString(16)}`);
    return `ports 0x${port.toString(16)}+: ID 0x${id.toString(16)}, scratch 0x${v.toString(16)}`;
  });
  await step('20000 synchronous PIO reads (vCPU-style, warm)', () => {
    const n = 20_000;
    const lat = new Float64Array(n);
    const t0 = performance.now();
    for (let i = 0; i < n; i++) {
      const t = performance.now();
      if (vm.pioRead(h, port, 4) !== 0x5250_0001) throw new Error(`read ${i} returned a wrong ID`);
      lat[i] = performance.now() - t;
    }
    const total = performance.now() - t0;
    lat.sort();
    const us = (q: number) => (lat[Math.min(n - 1, Math.floor(q * n))]! * 1000).toFixed(2);
    return `${Math.round((n / total) * 1000).toLocaleString('en-US')} reads/s, round trip p50 ${us(0.5)} µs, p99 ${us(0.99)} µs`;
  });
  await step('64-bit prefetchable BAR mapped into ring 3', () => {
    const m = vm.mapRegion(h, 2);
    m.view.setBigUint64(0x100, 0x0123_4567_89ab_cdefn, true);
    const viaMmio = vm.mmioRead(h, m.start + 0x100n, 8);
    vm.mmioWrite(h, m.start + 0x200n, 4, 0xfeed_beef);
    const viaView = m.view.getUint32(0x200, true);
    expect(viaMmio === 0x0123_4567_89ab_cdefn && viaView === 0xfeed_beef, 'view and MMIO disagree');
    const n = 100_000;
    const t = performance.now();
    for (let i = 0; i < n; i++) m.view.setUint32((i * 4) & 0xffff, i, true);
    const ns = ((performance.now() - t) * 1e6) / n;
    vm.unmapRegion(m);
    return `view write seen by MMIO_READ and back; ${m.size >> 10n} KiB at 0x${m.start.toString(16)}, ${ns.toFixed(1)} ns per direct access`;
  });
  await step('expansion ROM signature 0x55 0xAA and PCIR', () => {
    const rom = vm.getRegionInfo(h, 6);
    const sig = vm.mmioRead(h, rom.regionStart, 2);
    const ptr = vm.mmioRead(h, rom.regionStart + 0x18n, 2);
    const pcir = vm.mmioRead(h, rom.regionStart + BigInt(ptr), 4);
    expect(sig === 0xaa55, `signature 0x${sig.toString(16)}`);
    expect(pcir === 0x5249_4350, `data structure 0x${pcir.toString(16)}`);
    const romBar = vm.cfgRead(h, PCI_ROM_ADDRESS, 4);
    return `55 AA at 0x${rom.regionStart.toString(16)}, "PCIR" at +0x${ptr.toString(16)}, ROM BAR 0x${romBar.toString(16)}`;
  });
  await step('MSI-X vector 3 through the doorbell', () => {
    const msix = vm.getRegionInfo(h, 4);
    const entry = msix.regionStart + 3n * BigInt(PCI_MSIX_ENTRY_SIZE);
    for (const [i, dword] of msixEntryDwords({ address: 0xfee0_1000n, data: 0x4053, masked: false }).entries())
      vm.mmioWrite(h, entry + BigInt(4 * i), 4, dword);
    const cap = 0x50;
    const flags = vm.cfgRead(h, cap + PCI_MSIX_FLAGS, 2);
    vm.cfgWrite(h, cap + PCI_MSIX_FLAGS, 2, flags | PCI_MSIX_FLAGS_ENABLE);
    vm.pioWrite(h, port + 8, 4, 3);
    const ev = vm.getIrq(5000, h);
    expect(
      ev?.kind === PCIRAW_IRQ_KIND.MSIX && ev.vector === 3 && ev.data === 0x4053 && ev.address === 0xfee0_1000n,
      `got ${JSON.stringify(ev, (_, v) => (typeof v === 'bigint' ? `0x${v.toString(16)}` : v))}`,
    );
    vm.pioWrite(h, port + 0xc, 4, 1 << 3);
    return `MSI-X vector ${ev!.vector}: address 0x${ev!.address.toString(16)} data 0x${ev!.data.toString(16)}`;
  });
  await step('close testdev', () => {
    vm.closeDevice(h);
    return 'closed';
  });
}

function printSummary(r: DemoReport): void {
  const passed = r.steps.filter((s) => s.ok).length;
  console.log('');
  console.log(pc.bold('operations (count, round trip p50 / p99 in µs):'));
  const names = Object.keys(r.opCounts).sort();
  for (const n of names) {
    const l = r.latencyUs[n];
    const lat = l ? `${l.p50.toFixed(1).padStart(8)} / ${l.p99.toFixed(1).padStart(8)}` : '';
    console.log(`  ${n.padEnd(26)} ${String(r.opCounts[n]).padStart(6)}  ${lat}`);
  }
  console.log('');
  const line = `${passed} of ${r.steps.length} steps passed`;
  console.log(r.ok ? pc.green(pc.bold(line)) : pc.red(pc.bold(`${line}: the demo FAILED`)));
}
