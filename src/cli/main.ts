// The rawpci admin CLI: list, show, attach, detach, status (and demo), built on commander.

import Table from 'cli-table3';
import { Command, CommanderError, Option } from 'commander';
import { createColors } from 'picocolors';
import { Bdf } from '../../shared/bdf.js';
import { isBridge, SIM_RING0_DRIVER } from '../../shared/sysfs/binding.js';
import { emptyFilter, matchFilter, parseIdFilter, parseSlotFilter } from '../../shared/sysfs/filter.js';
import type { PciSource } from '../../shared/sysfs/source.js';
import { SYSFS_ROOT_DEFAULT, SysfsPciSource } from '../../shared/sysfs/sysfs-source.js';
import { DryRunSysfsWriter, describeWrite, RealSysfsWriter } from '../../shared/sysfs/writer.js';
import { AttachError, type AttachTarget, attachSysfs, detachSysfs, forgetAttachment, parseAttachTarget, restoreSysfs } from '../sysfs/attach.js';
import { deviceLines, formatListing, hexDumpLines, type LspciOptions, verboseDecode } from '../sysfs/lspci-format.js';
import { machineLines } from '../sysfs/machine.js';
import { type AttachmentRecord, isPersistent, loadState, loadStates, sameAttachment, withState } from '../sysfs/state.js';
import { formatTree, sysfsParents } from '../sysfs/tree.js';
import type { V86VmOptions } from '../vm/v86-vm.js';
import {
  addDisplayOptions,
  addSourceOptions,
  type CliIo,
  type DisplayFlags,
  defaultIo,
  deviceJson,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  idsFor,
  increase,
  json,
  loadModules,
  loadRecords,
  makeSource,
  packageVersion,
  parseBdfArg,
  pathsFor,
  recordsFor,
  resolveDisplay,
  type SourceOptions,
  STATE_OPTION_HELP,
  statePathsOf,
  UsageError,
  useColor,
} from './common.js';
import { addServeCommands, SOCKET_OPTION_HELP, socketBinding, socketStatus } from './serve.js';

export { type CliIo, deviceJson, EXIT_FAILURE, EXIT_OK, EXIT_USAGE, UsageError, useColor } from './common.js';

/**
 * Builds the commander program. Actions store their exit code in `result.code`; errors they
 * throw are turned into exit codes by {@link main}.
 */
export function buildProgram(io: CliIo = defaultIo(), result: { code: number } = { code: EXIT_OK }): Command {
  const c = createColors(useColor(io));
  const program = new Command('rawpci');
  program
    .description('raw PCI pass-through: list host PCI devices and hand them to a VM (sysfs/VFIO or the simulated host)')
    .version(packageVersion(), '-V, --version', 'print the version')
    .showHelpAfterError('(add --help for usage)')
    .configureOutput({ writeOut: (s) => io.stdout(s), writeErr: (s) => io.stderr(s) })
    .exitOverride();

  addDisplayOptions(
    addSourceOptions(
      program
        .command('list')
        .description(
          "list PCI devices as lspci does; with none of lspci's display options (-n, -v, -k, -D, -m, -t, -P, -b) what `lspci -nn -D -k` prints, with any of them what lspci prints with exactly those",
        )
        .option('-s <slot>', "lspci's slot filter: [[[[domain]:]bus]:][slot][.[func]]")
        .option('-d <id>', "lspci's ID filter: [vendor]:[device][:class[:prog-if]]")
        .option('-t, --tree', 'the bus tree (lspci -t; -tv adds names)', increase, 0)
        .option('--iommu', 'add an `IOMMU group:` line per device')
        .option('--attachments', "add rawpci's attachment state per device")
        .option('--json', 'print JSON for scripts'),
      { ids: true, state: true },
    ),
  ).action(async (o: SourceOptions & DisplayFlags & { s?: string; d?: string; iommu?: boolean; attachments?: boolean; json?: boolean }) => {
    const filter = emptyFilter();
    try {
      if (o.s !== undefined) parseSlotFilter(filter, o.s);
      if (o.d !== undefined) parseIdFilter(filter, o.d);
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const d = resolveDisplay(o, 'list');
    if (o.tree) {
      const bad = [
        o.kernel && '-k',
        o.domains && '-D',
        o.machine && '-m',
        o.hex && '-x',
        o.path && '-P',
        o.iommu && '--iommu',
        o.attachments && '--attachments',
        o.json && '--json',
      ].filter(Boolean);
      if (bad.length) throw new UsageError(`-t prints the bus tree only: ${bad.join(', ')} cannot be combined with it (lspci ignores them there)`);
      if (o.numeric && !o.verbose) throw new UsageError('-n changes names, and -t prints names only with -v: write -tvn or -tvnn, or drop -n');
    }
    if (o.json && d.explicit) throw new UsageError('--json prints every field with names and numbers: drop -n, -v, -k, -D, -m, -P, -b and -x');
    if ((o.iommu || o.attachments) && (d.verbose || d.machine || o.hex))
      throw new UsageError('--iommu and --attachments add lines to the terse listing: drop -v, -m and -x, or use --json');
    const { records: all, source } = await loadRecords(o);
    const records = all.filter((r) => matchFilter(filter, r));
    const ids = idsFor(io, o, d);
    const modules = loadModules(o, d);
    if (o.tree) {
      const parents = source instanceof SysfsPciSource && !o.busCentric ? sysfsParents(source, all) : new Map<string, string>();
      io.stdout(formatTree(all, ids, { verbose: d.verbose, mode: d.mode, filter: o.s !== undefined || o.d !== undefined ? filter : undefined }, parents));
      return;
    }
    const wantState = o.attachments || o.json;
    const state = { version: 1 as const, attachments: wantState ? loadStates(statePathsOf(io, o.state).read) : [] };
    if (o.json) {
      json(
        io,
        records.map((r) => deviceJson(r, ids, source && recordsFor(source, state, r), modules)),
      );
      return;
    }
    const opts = { ...d.opts, modules, paths: pathsFor(o, all, source) };
    const anyDomain = all.some((r) => r.bdf.domain !== 0);
    if (d.machine) {
      const lines = records.flatMap((r) => machineLines(r, ids, { ...opts, machine: d.machine, domainsRequested: d.opts.domains }));
      io.stdout(lines.length ? `${lines.join('\n')}\n` : '');
      return;
    }
    if (!o.iommu && !o.attachments) {
      io.stdout(formatListing(records, ids, opts, anyDomain));
      return;
    }
    let out = '';
    for (const r of records) {
      out += formatListing([r], ids, opts, anyDomain);
      if (o.iommu) out += `\tIOMMU group: ${r.iommuGroup ?? '(none)'}\n`;
      if (o.attachments) {
        const a = source && recordsFor(source, state, r);
        out += a
          ? `\t${c.green('rawpci: attached')}${a.guest ? ` as guest ${a.guest}` : ''} (was ${a.originalDriver ?? 'unbound'})\n`
          : '\trawpci: not attached\n';
      }
    }
    io.stdout(out);
  });

  addDisplayOptions(
    addSourceOptions(
      program
        .command('show')
        .description(
          "decode one device as lspci does; with none of lspci's display options (-n, -v, -k, -D, -m, -P, -b) what `lspci -vv -nn -D -k` prints (header, BARs, ROM, interrupt, capabilities), with any of them what lspci prints with exactly those",
        )
        .argument('<bdf>', 'PCI address, DDDD:BB:DD.F or BB:DD.F')
        .option('--json', 'print JSON for scripts'),
      { ids: true, state: true },
    ),
  ).action(async (bdfText: string, o: SourceOptions & DisplayFlags & { json?: boolean }) => {
    const bdf = parseBdfArg(bdfText);
    const d = resolveDisplay(o, 'show');
    if (o.json && (o.numeric || o.verbose || o.kernel || o.domains || o.machine || o.path || o.busCentric))
      throw new UsageError('--json prints every field with names and numbers: drop -n, -v, -k, -D, -m, -P and -b (-x adds the dump)');
    const { records: all, source, description } = await loadRecords(o);
    const rec = all.find((r) => r.bdf.equals(bdf));
    if (!rec) throw new Error(`no PCI device at ${bdf} in ${description}: \`rawpci list\` shows the devices there`);
    const ids = idsFor(io, o, d);
    const modules = loadModules(o, d);
    const opts: LspciOptions = { ...d.opts, modules, paths: pathsFor(o, all, source) };
    const domains = opts.domains || all.some((r) => r.bdf.domain !== 0);
    if (o.json) {
      const decode = verboseDecode(rec, ids, { ...opts, verbose: 2 }, true);
      const state = { version: 1 as const, attachments: loadStates(statePathsOf(io, o.state).read) };
      json(io, {
        ...deviceJson(rec, ids, source && recordsFor(source, state, rec), modules),
        headerType: decode.headerType,
        command: decode.command,
        status: decode.status,
        interruptPin: decode.interruptPin ? String.fromCharCode(64 + decode.interruptPin) : null,
        bars: decode.bars,
        rom: decode.rom ?? null,
        capabilities: decode.capabilities,
        configSize: rec.config.length,
        ...(o.hex ? { hexDump: hexDumpLines(rec, o.hex) } : {}),
        lspci: decode.lines,
      });
      return;
    }
    const lines = d.machine ? machineLines(rec, ids, { ...opts, machine: d.machine, domainsRequested: d.opts.domains }) : deviceLines(rec, ids, opts, domains);
    io.stdout(lines.length ? `${lines.join('\n')}\n` : '');
  });

  addSourceOptions(
    program
      .command('attach')
      .description(
        'hand devices to a VM: check their IOMMU groups are viable for the set, unbind their drivers, bind vfio-pci (driver_override), record them (restored at boot unless --nosave); a failed bind rolls the set back',
      )
      .argument(
        '<device...>',
        "host PCI addresses (0000:03:00.0, 03:00.0 or libvirt's pci_0000_03_00_0), each optionally host@guest as VBoxManage --pciattach writes it (03:00.0@01:05.0)",
      )
      .option('--group', "attach every function of each device's IOMMU group (a GPU and its HDMI audio function together); bridges stay on pcieport")
      .option('--guest <addr>', 'guest PCI address to record (BB:DD.F); one device only')
      .option('--driver <name>', 'driver to bind on Linux', 'vfio-pci')
      .option('--nosave', 'do not re-apply this attachment at boot (driverctl --nosave): `rawpci restore` forgets it once it has ended')
      .option('--dry-run', 'print every sysfs write and make none')
      .option('--socket <path>', `change the running rawpci serve's simulated host instead (with --host sim): ${SOCKET_OPTION_HELP}`)
      .option('--json', 'print JSON for scripts'),
    { state: true },
  ).action(
    async (
      targetTexts: string[],
      o: SourceOptions & { group?: boolean; guest?: string; driver: string; nosave?: boolean; dryRun?: boolean; json?: boolean; socket?: string },
    ) => {
      if (o.socket !== undefined) {
        if (o.host !== 'sim') throw new UsageError('attach --socket changes the simulated bindings of a running ring 0: give --host sim');
        return socketBinding(io, o.socket, 'attach', targetTexts, !!o.json);
      }
      if (o.guest !== undefined && targetTexts.length > 1)
        throw new UsageError(`--guest names the guest address of one device, and ${targetTexts.length} were given: write host@guest for each instead`);
      let targets: AttachTarget[];
      try {
        targets = targetTexts.map((t) => parseAttachTarget(t, o.guest));
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      const statePath = statePathsOf(io, o.state).write;
      const source = await makeSource(o);
      if (source.kind === 'sim') {
        const records: AttachmentRecord[] = [];
        for (const t of targets) records.push(await attachSim(source, t.host, t.guest, statePath, !!o.dryRun, !o.nosave));
        if (o.json) json(io, { dryRun: !!o.dryRun, devices: records.map((record) => ({ record, alreadyAttached: false, writes: [] })), writes: [] });
        else
          for (const r of records)
            io.stdout(`${o.dryRun ? 'would attach' : 'attached'} ${r.bdf} (simulated host) to rawpci's ring 0${r.guest ? ` as guest ${r.guest}` : ''}\n`);
        return;
      }
      const writer = o.dryRun ? new DryRunSysfsWriter() : (io.makeWriter?.() ?? new RealSysfsWriter());
      const res = await attachSysfs({
        source: source as SysfsPciSource,
        writer,
        statePath,
        driver: o.driver,
        targets,
        group: !!o.group,
        persistent: !o.nosave,
      });
      if (o.json) {
        json(io, { dryRun: !!o.dryRun, stateFile: statePath, devices: res.devices, writes: res.writes });
        return;
      }
      let out = '';
      if (o.dryRun) out += `# dry run: rawpci would make these writes (and record ${res.devices.map((d) => d.record.bdf).join(', ')} in ${statePath}):\n`;
      for (const w of res.writes) out += `${describeWrite(w)}\n`;
      for (const d of res.devices) {
        const r = d.record;
        if (d.alreadyAttached) out += `${r.bdf} is already attached (bound to ${r.driver})\n`;
        else if (!o.dryRun)
          out += `${c.green('attached')} ${r.bdf} to ${r.driver} (was ${r.originalDriver ?? 'unbound'})${r.guest ? ` as guest ${r.guest}` : ''}${o.nosave ? ' (not restored at boot: --nosave)' : ''}\n`;
      }
      io.stdout(out);
    },
  );

  addSourceOptions(
    program
      .command('detach')
      .description('give devices back to the host: unbind vfio-pci, clear driver_override, rebind the recorded driver, forget them')
      .argument('<device...>', "host PCI addresses (0000:03:00.0, 03:00.0 or libvirt's pci_0000_03_00_0)")
      .option('--group', "detach every recorded function of each device's IOMMU group")
      .option('--dry-run', 'print every sysfs write and make none')
      .option('--forget', 'only remove the records; touch no device')
      .option('--socket <path>', `change the running rawpci serve's simulated host instead (with --host sim): ${SOCKET_OPTION_HELP}`)
      .option('--json', 'print JSON for scripts'),
    { state: true },
  ).action(async (bdfTexts: string[], o: SourceOptions & { group?: boolean; dryRun?: boolean; forget?: boolean; json?: boolean; socket?: string }) => {
    if (o.socket !== undefined) {
      if (o.host !== 'sim') throw new UsageError('detach --socket changes the simulated bindings of a running ring 0: give --host sim');
      return socketBinding(io, o.socket, 'detach', bdfTexts, !!o.json);
    }
    const bdfs = bdfTexts.map((t) => parseBdfArg(t.split('@')[0]!));
    const statePath = statePathsOf(io, o.state).write;
    const source = await makeSource(o);
    if (o.forget || source.kind === 'sim') {
      const keys = bdfs.map((bdf) => ({ bdf: bdf.toString(), host: source.kind, ...(source instanceof SysfsPciSource ? { sysfsRoot: source.root } : {}) }));
      const state = loadState(statePath);
      const records = keys.map((key) => {
        const existing = state.attachments.find((a) => sameAttachment(a, key));
        if (!existing)
          throw new AttachError(
            'NOT_ATTACHED',
            `no attachment of ${key.bdf} is recorded in ${statePath}: nothing to detach (\`rawpci status\` lists attachments)`,
          );
        return existing;
      });
      if (!o.dryRun) for (const key of keys) await forgetAttachment(statePath, key);
      if (o.json) json(io, { dryRun: !!o.dryRun, devices: records.map((record) => ({ record, writes: [] })), writes: [] });
      else
        for (const r of records)
          io.stdout(`${o.dryRun ? 'would forget' : o.forget ? 'forgot' : 'detached'} ${r.bdf}${source.kind === 'sim' ? ' (simulated host)' : ''}\n`);
      return;
    }
    const writer = o.dryRun ? new DryRunSysfsWriter() : (io.makeWriter?.() ?? new RealSysfsWriter());
    const res = await detachSysfs({ source: source as SysfsPciSource, writer, statePath, bdfs, group: !!o.group });
    if (o.json) {
      json(io, { dryRun: !!o.dryRun, devices: res.map((d) => ({ ...d, boundTo: d.boundTo ?? null })), writes: res.flatMap((d) => d.writes) });
      return;
    }
    let out = o.dryRun ? `# dry run: rawpci would make these writes (and remove ${res.map((d) => d.record.bdf).join(', ')} from ${statePath}):\n` : '';
    for (const d of res) for (const w of d.writes) out += `${describeWrite(w)}\n`;
    if (!o.dryRun)
      for (const d of res)
        out += `${c.green('detached')} ${d.record.bdf}: now ${d.boundTo ? `bound to ${d.boundTo}` : 'unbound'}${d.record.originalDriver && d.boundTo !== d.record.originalDriver ? c.yellow(` (expected ${d.record.originalDriver})`) : ''}\n`;
    io.stdout(out);
  });

  program
    .command('restore')
    .description(
      're-apply the saved attachments (run at boot by contrib/rawpci-restore.service): bind each saved device not on its driver again, a whole IOMMU group at a time; exit 1 when one could not be',
    )
    .option('--sysfs-root <dir>', 'another sysfs tree: DIR stands for /sys')
    .option('--state <file>', STATE_OPTION_HELP)
    .option('--dry-run', 'print every sysfs write and make none')
    .option('--json', 'print JSON for scripts')
    .action(async (o: { sysfsRoot?: string; state?: string; dryRun?: boolean; json?: boolean }) => {
      const statePath = statePathsOf(io, o.state).write;
      const source = new SysfsPciSource(o.sysfsRoot ?? SYSFS_ROOT_DEFAULT);
      const writer = o.dryRun ? new DryRunSysfsWriter() : (io.makeWriter?.() ?? new RealSysfsWriter());
      const res = await restoreSysfs({ source, writer, statePath });
      if (res.some((r) => r.outcome === 'failed')) result.code = EXIT_FAILURE;
      if (o.json) {
        json(io, { dryRun: !!o.dryRun, stateFile: statePath, devices: res });
        return;
      }
      if (!res.length) {
        io.stdout(`no attachments of ${source.description} saved in ${statePath}: nothing to restore\n`);
        return;
      }
      let out = o.dryRun ? '# dry run: rawpci would make these writes:\n' : '';
      for (const r of res) for (const w of r.writes) out += `${describeWrite(w)}\n`;
      const say = {
        restored: o.dryRun ? 'would restore' : c.green('restored'),
        already: 'already attached',
        forgotten: o.dryRun ? 'would forget' : 'forgot',
        failed: c.red('failed'),
      };
      for (const r of res)
        out += `${say[r.outcome]} ${r.bdf}${r.outcome === 'forgotten' ? ' (attached with --nosave; that attachment has ended)' : ''}${r.message ? `: ${r.message}` : ''}\n`;
      io.stdout(out);
    });

  program
    .command('status')
    .description('show recorded attachments and whether each device is still bound as recorded (exit 1 when one is not)')
    .option('--state <file>', STATE_OPTION_HELP)
    .option('--socket <path>', `list the live sessions of a running rawpci serve instead: ${SOCKET_OPTION_HELP}`)
    .option('--json', 'print JSON for scripts')
    .action(async (o: { state?: string; json?: boolean; socket?: string }) => {
      if (o.socket !== undefined) return socketStatus(io, o.socket, !!o.json);
      const paths = statePathsOf(io, o.state);
      const records = loadStates(paths.read);
      const rows = [];
      for (const a of records) {
        let boundTo: string | null = null;
        let present = true;
        if (a.host === 'sysfs') {
          const rec = await new SysfsPciSource(a.sysfsRoot ?? SYSFS_ROOT_DEFAULT).get(Bdf.parse(a.bdf));
          present = !!rec;
          boundTo = rec?.driver ?? null;
        } else boundTo = a.driver;
        rows.push({ ...a, persistent: isPersistent(a), present, boundTo, asRecorded: present && boundTo === a.driver });
      }
      if (rows.some((r) => !r.asRecorded)) result.code = EXIT_FAILURE;
      if (o.json) {
        json(io, { stateFile: paths.write, stateFiles: paths.read, attachments: rows });
        return;
      }
      if (!rows.length) {
        io.stdout(`no attachments recorded (${[...new Set(paths.read)].join(', ')})\n`);
        return;
      }
      const table = new Table({
        head: ['device', 'host', 'guest', 'group', 'original driver', 'bound to', 'as recorded', 'at boot'],
        style: { head: useColor(io) ? ['cyan'] : [], border: useColor(io) ? ['grey'] : [] },
      });
      for (const r of rows)
        table.push([
          r.bdf,
          r.host === 'sysfs' && r.sysfsRoot && r.sysfsRoot !== SYSFS_ROOT_DEFAULT ? `sysfs (${r.sysfsRoot})` : r.host,
          r.guest ?? '-',
          r.iommuGroup ?? '-',
          r.originalDriver ?? '(none)',
          r.present ? (r.boundTo ?? '(none)') : '(device gone)',
          r.asRecorded ? c.green('yes') : c.red('no'),
          r.persistent ? 'restored' : 'no (--nosave)',
        ]);
      io.stdout(`${table.toString()}\n`);
    });

  addServeCommands(program, io, result);

  program
    .command('demo')
    .description(
      'run the end-to-end demo (ring 0 + ring 3 + edu and the testdev) on the simulated host or VFIO; the vendor and device IDs of every device are checked, read-only, before any is opened',
    )
    .addOption(new Option('--host <host>', 'which host').choices(['sim', 'vfio']).default('sim'))
    .option('--device <bdf>', 'the edu function to drive (1234:11e8); default 0000:00:04.0 on sim, required on vfio')
    .option('--testdev <bdf>', 'the rawpci-testdev function to drive (1234:5250); default 0000:00:05.0 on sim, skipped on vfio unless given')
    .option('--inventory <file>', 'simulated host inventory (JSON)')
    .option('--sysfs-root <dir>', 'vfio host: the directory that stands for /sys (default /sys), for the ID check and for ring 0')
    .option('--guest', 'also run the guest-side part')
    .option('--os', "boot Linux in the v86 emulator and watch it find and drive edu (fetches Debian's i386 kernel on first use)")
    .option('--json', 'print JSON for scripts')
    .action(
      async (o: { host: string; device?: string; testdev?: string; inventory?: string; sysfsRoot?: string; guest?: boolean; os?: boolean; json?: boolean }) => {
        if (o.os) {
          if (o.host !== 'sim') throw new UsageError('--os runs on the simulated host: for a real device use `rawpci vm --host vfio --device BDF`');
          if (o.guest || o.json || o.sysfsRoot) throw new UsageError('--os is its own demo: drop --guest, --json and --sysfs-root');
          const { runOsDemo } = await import('../demo/os.js');
          const { VmUsageError } = await import('../vm/v86-vm.js');
          try {
            result.code = await runOsDemo({
              ...(o.device ? { device: o.device } : {}),
              ...(o.testdev ? { testdev: o.testdev } : {}),
              ...(o.inventory ? { inventory: o.inventory } : {}),
            });
          } catch (e) {
            if (e instanceof VmUsageError) throw new UsageError(e.message);
            throw e;
          }
          return;
        }
        const { runDemo } = await import('../demo/main.js');
        const { DemoUsageError } = await import('../demo/identity.js');
        try {
          result.code = await runDemo(o);
        } catch (e) {
          if (e instanceof DemoUsageError) throw new UsageError(e.message);
          throw e;
        }
      },
    );

  program
    .command('vm')
    .description(
      "boot a guest OS in the v86 emulator with rawpci devices on its PCI bus: SeaBIOS assigns their BARs, the guest's serial console is on this terminal, and the guest's exit status (a byte written to port 0xf4) is rawpci's",
    )
    .option(
      '--device <bdf[@slot]>',
      'a host device to put on the guest bus, at guest slot 3..31 if given (repeatable; default on sim: 0000:00:04.0 and 0000:00:05.0)',
      collect,
      [],
    )
    .addOption(new Option('--host <host>', 'which host').choices(['sim', 'vfio']).default('sim'))
    .option('--inventory <file>', 'simulated host inventory (JSON)')
    .option('--sysfs-root <dir>', 'vfio host: the directory that stands for /sys (default /sys)')
    .option('--socket <path>', 'use the ring 0 of a running `rawpci serve` on this socket instead of one in this process (the VM needs no privileges)')
    .option('--kernel <file>', "the guest's i386 bzImage (default: the one `npm run fetch:guest` fetched)")
    .option('--initrd <file>', "the guest's initramfs (default: the fetched one, with --kernel: none)")
    .option('--append <text>', `added to the kernel command line ("${'console=ttyS0 ...'}")`)
    .option('--memory <MiB>', 'guest RAM in MiB, above 64 + the initrd (default 192)', (v) => parsePositive(v, '--memory'))
    .option('--timeout <seconds>', 'stop the guest after this long with status 124', (v) => parsePositive(v, '--timeout'))
    .option('--bios <dir>', "directory with SeaBIOS's bios.bin and vgabios-stdvga.bin (default /usr/share/seabios, then the fetched one)")
    .action(
      async (
        o: Pick<V86VmOptions, 'inventory' | 'sysfsRoot' | 'socket' | 'kernel' | 'initrd' | 'append'> & {
          device: string[];
          host: 'sim' | 'vfio';
          memory?: number;
          timeout?: number;
          bios?: string;
        },
      ) => {
        const { runV86Vm, VmUsageError } = await import('../vm/v86-vm.js');
        const specs = o.device.length ? o.device : o.host === 'sim' ? ['0000:00:04.0', '0000:00:05.0'] : [];
        const devices = specs.map((spec) => {
          const [bdf, slot, extra] = spec.split('@');
          if (extra !== undefined) throw new UsageError(`--device ${spec}: expected BDF or BDF@SLOT`);
          const s = slot === undefined ? undefined : Number(slot);
          if (s !== undefined && (!/^\d+$/.test(slot!) || s < 1 || s > 31))
            throw new UsageError(`--device ${spec}: slot '${slot}' must be a number 1..31 (decimal)`);
          return { bdf: parseBdfArg(bdf!), ...(s !== undefined ? { slot: s } : {}) };
        });
        try {
          // Commander sets only the options given; the names that differ are mapped.
          const { device: _device, memory, timeout, bios, ...same } = o;
          result.code = await runV86Vm({
            ...same,
            devices,
            ...(memory ? { memoryMib: memory } : {}),
            ...(timeout ? { timeoutSec: timeout } : {}),
            ...(bios ? { biosDir: bios } : {}),
          });
        } catch (e) {
          if (e instanceof VmUsageError) throw new UsageError(e.message);
          throw e;
        }
      },
    );

  return program;
}

/** Commander collector for repeatable options. */
function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Parses a positive integer option value or throws UsageError naming the option. */
function parsePositive(v: string, name: string): number {
  if (!/^\d+$/.test(v) || Number(v) <= 0) throw new UsageError(`${name} ${v}: expected a positive integer`);
  return Number(v);
}

/**
 * Attaches a device of the simulated host: checks it exists and is not a bridge, records it in
 * the state file bound to rawpci's ring 0 (`rawpci`); no sysfs writes.
 */
async function attachSim(
  source: PciSource,
  bdf: Bdf,
  guest: Bdf | undefined,
  statePath: string,
  dryRun: boolean,
  persistent: boolean,
): Promise<AttachmentRecord> {
  const rec = await source.get(bdf);
  if (!rec) throw new AttachError('NOT_FOUND', `no device at ${bdf} on the simulated host: \`rawpci list --host sim\` shows its inventory`);
  if (isBridge(rec)) throw new AttachError('BRIDGE', `${bdf} is a bridge: bridges cannot be passed through; attach the endpoint behind it instead`);
  const record: AttachmentRecord = {
    bdf: bdf.toString(),
    host: 'sim',
    ...(guest ? { guest: guest.toShortString() } : {}),
    originalDriver: rec.driver ?? null,
    driver: SIM_RING0_DRIVER,
    iommuGroup: rec.iommuGroup ?? null,
    attachedAt: new Date().toISOString(),
    persistent,
  };
  if (!dryRun)
    await withState(statePath, async (state) => {
      state.attachments = state.attachments.filter((a) => !sameAttachment(a, record)).concat(record);
      return { value: undefined, save: true };
    });
  return record;
}

/**
 * Runs the CLI on `argv` (process.argv form: node, script, args...) and returns the exit code:
 * 0 ok, 1 failure (message on stderr naming cause and fix), 2 usage.
 */
export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const result = { code: EXIT_OK };
  const program = buildProgram(io, result);
  if (argv.length <= 2) {
    io.stderr(program.helpInformation());
    return EXIT_USAGE;
  }
  try {
    await program.parseAsync(argv);
    return result.code;
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return EXIT_OK;
      return EXIT_USAGE;
    }
    if (e instanceof UsageError) {
      io.stderr(`rawpci: ${e.message}\n`);
      return EXIT_USAGE;
    }
    io.stderr(`rawpci: ${(e as Error).message ?? String(e)}\n`);
    return EXIT_FAILURE;
  }
}
