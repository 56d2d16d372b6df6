// `rawpci vm`: boots a guest OS in the v86 emulator with rawpci devices on its PCI bus (ring 0 in this process, the guest's serial console on the terminal).
//
// The VM process of the mission: v86 (guest CPU, RAM, PIC, serial) + a GuestPciBus of PciFront
// devices put on v86's bus by attachToV86 + a RawPciClient whose DMA lane serves ring 0's DMA
// from v86's guest memory (docs/dma.md). The guest ends the VM with its exit status by writing
// one byte to port 0xf4 ({@link VM_EXIT_PORT}, as QEMU's isa-debug-exit), or with status 0 by
// rebooting.

import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { Ring0Service } from '../../r0/service.js';
import { RawPciClient } from '../../r3/client.js';
import { GuestPciBus } from '../../r3/guest/guest-bus.js';
import { PciFront } from '../../r3/guest/pci-front.js';
import { attachToV86, type V86Bridge, type V86Cpu, type V86PortEntry, v86Pirq } from '../../r3/guest/v86.js';
import type { Bdf } from '../../shared/bdf.js';
import { PCI_INTERRUPT_PIN } from '../../shared/linux/pci-regs.js';
import { PCIRAW_MEMINFO, PCIRAW_POWER, type PciRawDevHandle } from '../../shared/protocol.js';

/** The guest writes its exit status (one byte) here to end the VM (QEMU's isa-debug-exit port). */
export const VM_EXIT_PORT = 0xf4;
/** Exit status of `rawpci vm` when `--timeout` passed first (as timeout(1)). */
export const VM_EXIT_TIMEOUT = 124;
/** Guest RAM in MiB when `--memory` is not given. v86 loads the initrd at 64 MiB, so RAM must be larger than 64 MiB + the initrd. */
export const VM_DEFAULT_MEMORY_MIB = 192;
/** The kernel command line every guest gets (V86.md); `--append` adds to it. */
export const VM_BASE_CMDLINE = 'console=ttyS0 tsc=reliable mitigations=off nowatchdog audit=0 iomem=relaxed';
/** The command that fetches Debian's i386 guest kernel and busybox into the guest cache. */
export const FETCH_GUEST_COMMAND = 'npm run fetch:guest';

/** A device to put on the guest's bus: its host BDF and, optionally, the guest slot (0..31). */
export interface VmDevice {
  bdf: Bdf;
  slot?: number;
}

/** Options of {@link runV86Vm} (the `rawpci vm` command line). */
export interface V86VmOptions {
  /** Host devices to project; each gets a PciFront on the guest bus. */
  devices: VmDevice[];
  /** `sim` (default) or `vfio`. On vfio a device must already be bound to vfio-pci (`rawpci attach`): the VM never detaches a host driver itself. */
  host?: 'sim' | 'vfio';
  inventory?: string;
  sysfsRoot?: string;
  /**
   * Connect to a running `rawpci serve` on this unix socket instead of starting ring 0 in this
   * process (docs/serve.md): the VM then needs no privileges; ring 0's policy decides what it may
   * open. `host` and `inventory` are then ring 0's business (host 'sim' still means "detach the
   * simulated host driver on open").
   */
  socket?: string;
  /** bzImage path (default: the guest cache's, see {@link guestCacheFiles}). */
  kernel?: string;
  /** initrd path (default: the guest cache's). */
  initrd?: string;
  /** Added to {@link VM_BASE_CMDLINE}. */
  append?: string;
  /** Guest RAM in MiB (default {@link VM_DEFAULT_MEMORY_MIB}). */
  memoryMib?: number;
  /** Seconds before the VM is stopped with status {@link VM_EXIT_TIMEOUT} (default: none). */
  timeoutSec?: number;
  /** Directory with SeaBIOS's bios.bin and vgabios-stdvga.bin (default: /usr/share/seabios, then the guest cache's). */
  biosDir?: string;
  /** Where the guest's serial output goes (default process.stdout). */
  console?: (bytes: Uint8Array) => void;
  /** Where the VM's own messages go (default process.stderr). */
  log?: (line: string) => void;
  /** Forward the terminal's keystrokes to the guest's serial port (default: when stdin is a TTY). */
  interactive?: boolean;
}

/** A problem with the command line or the files it names: the CLI prints it and exits 2. */
export class VmUsageError extends Error {}

/** The package's root directory (where .guest-cache lives). */
export function packageRoot(): string {
  let dir = dirname(new URL(import.meta.url).pathname);
  while (!existsSync(join(dir, 'package.json'))) dir = dirname(dir);
  return dir;
}

/** The guest cache the fetch script fills (`.guest-cache/` in the package; RAWPCI_GUEST_CACHE overrides). */
export function guestCacheDir(): string {
  return resolve(process.env.RAWPCI_GUEST_CACHE ?? join(packageRoot(), '.guest-cache'));
}

/**
 * What the fetch script left in the guest cache (its manifest `guest.json`: kernel, initrd and
 * seabios paths), or an empty object when it has not run.
 */
export function guestCacheFiles(): { kernel?: string; initrd?: string; seabios?: string } {
  const manifest = join(guestCacheDir(), 'guest.json');
  if (!existsSync(manifest)) return {};
  try {
    return JSON.parse(readFileSync(manifest, 'utf8'));
  } catch {
    return {};
  }
}

function readBuffer(path: string): ArrayBuffer {
  const b = readFileSync(path);
  return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
}

/** Finds SeaBIOS (bios.bin + vgabios-stdvga.bin) or throws VmUsageError saying how to get it. */
export function findSeaBios(explicit?: string): { bios: string; vgaBios: string } {
  const dirs = explicit ? [explicit] : ['/usr/share/seabios', guestCacheFiles().seabios, join(guestCacheDir(), 'seabios', 'usr', 'share', 'seabios')];
  for (const d of dirs) {
    if (d && existsSync(join(d, 'bios.bin')) && existsSync(join(d, 'vgabios-stdvga.bin')))
      return { bios: join(d, 'bios.bin'), vgaBios: join(d, 'vgabios-stdvga.bin') };
  }
  throw new VmUsageError(
    explicit
      ? `--bios ${explicit}: no bios.bin and vgabios-stdvga.bin there (SeaBIOS, Debian package seabios)`
      : `no SeaBIOS found (bios.bin and vgabios-stdvga.bin in /usr/share/seabios): 'apt-get install seabios', or '${FETCH_GUEST_COMMAND}', which unpacks it into ${guestCacheDir()}`,
  );
}

/**
 * Chooses guest slots for devices without one: free slots (not v86's, not taken) from 3 up,
 * preferring those whose PIRQ ({@link v86Pirq}; SeaBIOS routes PIRQA..D to IRQs 10, 10, 11, 11) is not the
 * IRQ of a v86 device that has an INTx pin, so no line is shared with v86's own devices (a
 * lower by one would lower it for both).
 */
export function chooseSlots(cpu: V86Cpu, wanted: (number | undefined)[], pins: number[]): number[] {
  const pci = cpu.devices.pci;
  const seabiosIrq = [10, 10, 11, 11];
  const v86Irqs = new Set<number>();
  for (let devfn = 0; devfn < 256; devfn++) {
    const space = pci.device_spaces[devfn];
    if (!space) continue;
    const pin = (space[PCI_INTERRUPT_PIN >> 2]! >>> 8) & 0xff;
    if (pin >= 1 && pin <= 4) v86Irqs.add(seabiosIrq[v86Pirq(devfn >> 3, pin)]!);
  }
  const taken = new Set<number>();
  for (let s = 0; s < 32; s++) if (pci.device_spaces[s << 3]) taken.add(s);
  for (const s of wanted) if (s !== undefined) taken.add(s);
  return wanted.map((s, i) => {
    if (s !== undefined) return s;
    const free = [...Array(29).keys()].map((k) => k + 3).filter((c) => !taken.has(c));
    const pin = pins[i] ?? 0;
    const best = free.find((c) => pin < 1 || pin > 4 || !v86Irqs.has(seabiosIrq[v86Pirq(c, pin)]!)) ?? free[0];
    if (best === undefined) throw new VmUsageError('no free slot left on the guest bus (v86 has one bus of 32 slots)');
    taken.add(best);
    return best;
  });
}

interface V86Instance {
  v86: { cpu: V86Cpu & { io: { ports: V86PortEntry[] }; reboot_internal(): void } };
  add_listener(event: string, fn: (arg: unknown) => void): void;
  run(): Promise<void>;
  stop(): Promise<void>;
  destroy(): Promise<void>;
  read_memory(offset: number, length: number): Uint8Array;
  write_memory(blob: Uint8Array, offset: number): void;
  serial0_send(text: string): void;
}

/**
 * Boots the guest and returns the process exit status: the byte the guest wrote to
 * {@link VM_EXIT_PORT}, 0 when it rebooted, {@link VM_EXIT_TIMEOUT} on timeout. Throws
 * VmUsageError before anything starts (no kernel, no BIOS, memory too small, a device given
 * twice) and RawPciError when ring 0 refuses a device (not found, not bound to vfio-pci on vfio,
 * another VM's).
 */
export async function runV86Vm(o: V86VmOptions): Promise<number> {
  const log = o.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const out = o.console ?? ((b: Uint8Array) => process.stdout.write(b));
  const cache = guestCacheFiles();
  const kernel = o.kernel ?? cache.kernel;
  const initrd = o.initrd ?? (o.kernel ? undefined : cache.initrd);
  if (!kernel || !existsSync(kernel)) {
    throw new VmUsageError(
      kernel
        ? `--kernel ${kernel}: no such file`
        : `no guest kernel: give --kernel FILE (an i386 bzImage) and --initrd FILE, or run '${FETCH_GUEST_COMMAND}' once to fetch Debian's i386 kernel and busybox into ${guestCacheDir()}`,
    );
  }
  if (initrd && !existsSync(initrd)) throw new VmUsageError(`--initrd ${initrd}: no such file`);
  const bios = findSeaBios(o.biosDir);
  const memoryMib = o.memoryMib ?? VM_DEFAULT_MEMORY_MIB;
  const initrdMib = initrd ? Math.ceil(readFileSync(initrd).byteLength / (1 << 20)) : 0;
  if (!Number.isInteger(memoryMib) || memoryMib <= 64 + initrdMib || memoryMib > 2048) {
    throw new VmUsageError(
      `--memory ${memoryMib}: must be an integer of MiB above 64 + the initrd's ${initrdMib} MiB (v86 loads the initrd at 64 MiB) and at most 2048`,
    );
  }
  const seen = new Set<string>();
  for (const d of o.devices) {
    if (seen.has(d.bdf.toString())) throw new VmUsageError(`--device ${d.bdf} given twice`);
    seen.add(d.bdf.toString());
  }
  const memory = memoryMib << 20;
  const host = o.host ?? 'sim';

  const { V86 } = await import('v86');
  const require = createRequire(import.meta.url);
  const wasm = join(dirname(require.resolve('v86')), 'v86.wasm');
  const emulator = new V86({
    wasm_path: wasm,
    bios: { buffer: readBuffer(bios.bios) },
    vga_bios: { buffer: readBuffer(bios.vgaBios) },
    bzimage: { buffer: readBuffer(kernel) },
    ...(initrd ? { initrd: { buffer: readBuffer(initrd) } } : {}),
    cmdline: `${VM_BASE_CMDLINE}${o.append ? ` ${o.append}` : ''}`,
    memory_size: memory,
    autostart: false,
    disable_keyboard: true,
    disable_mouse: true,
    disable_speaker: true,
  } as unknown as ConstructorParameters<typeof V86>[0]) as unknown as V86Instance;
  await new Promise<void>((res) => emulator.add_listener('emulator-loaded', () => res()));
  const cpu = emulator.v86.cpu;

  let service: Ring0Service | undefined;
  let vm: RawPciClient | undefined;
  let bridge: V86Bridge | undefined;
  let stopIrqs: (() => void) | undefined;
  const handles: PciRawDevHandle[] = [];
  let timer: NodeJS.Timeout | undefined;
  let onKey: ((d: Buffer) => void) | undefined;
  const interactive = o.interactive ?? !!process.stdin.isTTY;
  try {
    const guestMemory = {
      size: memory,
      read: (address: number, length: number) => emulator.read_memory(address, length).slice(),
      write: (address: number, data: Uint8Array) => emulator.write_memory(data, address),
    };
    if (o.socket) {
      vm = await RawPciClient.connect(`unix:${o.socket}`, { guestMemory });
      log(`rawpci vm: connected to rawpci serve at ${o.socket} (session ${vm.session})`);
    } else {
      service = await Ring0Service.start({ host, ...(o.inventory ? { inventory: o.inventory } : {}), ...(o.sysfsRoot ? { sysfsRoot: o.sysfsRoot } : {}) });
      vm = await RawPciClient.connect(service, { guestMemory });
    }
    vm.initVm();
    vm.contigMemInfo(0n, 0n, BigInt(memory), PCIRAW_MEMINFO.MAP);
    const bus = new GuestPciBus({
      sink: {
        setIrqLevel: () => {},
        deliverMsi: () => {},
        fault: (bdf, detail) => log(`rawpci vm: fault ${bdf.toShortString()}: ${detail}`),
      },
    });
    const fronts: PciFront[] = [];
    for (const d of o.devices) {
      const h = vm.openDevice(d.bdf, { detachHostDriver: host === 'sim' });
      handles.push(h);
      vm.powerStateChange(h, PCIRAW_POWER.ON);
      fronts.push(new PciFront(vm, h, { name: d.bdf.toString() }));
    }
    const slots = chooseSlots(
      cpu,
      o.devices.map((d) => d.slot),
      fronts.map((f) => f.configRead(PCI_INTERRUPT_PIN, 1)),
    );
    fronts.forEach((f, i) => {
      const at = bus.attach(f, slots[i]!);
      log(`rawpci vm: ${o.devices[i]!.bdf} (${host}) -> guest ${at.toShortString()}`);
    });
    bridge = attachToV86(emulator as never, bus, { onWarning: (m) => log(`rawpci vm: ${m}`) });
    stopIrqs = bus.connect(vm);

    const status = new Promise<number>((res) => {
      const exitEntry: V86PortEntry = { ...cpu.io.ports[VM_EXIT_PORT]!, write8: (v: number) => res(v & 0xff), device: undefined };
      cpu.io.ports[VM_EXIT_PORT] = exitEntry;
      cpu.reboot_internal = () => {
        log('rawpci vm: the guest rebooted: stopping with status 0');
        res(0);
      };
      if (o.timeoutSec) {
        timer = setTimeout(() => {
          log(`rawpci vm: --timeout ${o.timeoutSec} s passed: stopping the guest`);
          res(VM_EXIT_TIMEOUT);
        }, o.timeoutSec * 1000);
      }
    });
    emulator.add_listener('serial0-output-byte', (b) => out(Uint8Array.of(b as number)));
    if (interactive) {
      process.stdin.setRawMode?.(true);
      onKey = (d: Buffer) => {
        if (d.includes(0x1d)) {
          // Ctrl-]: leave, as telnet and virsh console do.
          cpu.reboot_internal();
          return;
        }
        emulator.serial0_send(d.toString('latin1'));
      };
      process.stdin.on('data', onKey);
      log('rawpci vm: serial console attached (Ctrl-] leaves)');
    }
    await emulator.run();
    const code = await status;
    await emulator.stop();
    return code;
  } finally {
    if (timer) clearTimeout(timer);
    if (onKey) {
      process.stdin.off('data', onKey);
      process.stdin.setRawMode?.(false);
      process.stdin.pause();
    }
    stopIrqs?.();
    bridge?.detach();
    for (const h of handles) {
      try {
        vm?.closeDevice(h);
      } catch {
        // the session's end closes it anyway
      }
    }
    await vm?.close();
    await service?.close();
    await emulator.destroy();
  }
}
