// SysfsWriter: the one seam through which rawpci changes driver bindings in sysfs (real, dry-run, or a test's fake kernel), for the CLI and ring 0 alike.

import { writeFileSync } from 'node:fs';

/** One write to a sysfs attribute: the path and the exact bytes (as text). */
export interface SysfsWrite {
  path: string;
  value: string;
}

/**
 * Writes sysfs attributes. The real kernel reacts to these writes (unbind drops the driver link,
 * driver_override + drivers_probe binds the override driver); a test's fake implements the same
 * reactions on a fake tree. Errors are thrown as Error naming the path and the errno.
 */
export interface SysfsWriter {
  /** True when writes only get recorded (`--dry-run`). */
  readonly dryRun: boolean;
  write(path: string, value: string): void;
}

/** Plain writes, one write(2) per attribute, as `echo value > path` does. */
export class RealSysfsWriter implements SysfsWriter {
  readonly dryRun = false;

  write(path: string, value: string): void {
    try {
      writeFileSync(path, value);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? String(e);
      const hint =
        code === 'EACCES' || code === 'EPERM'
          ? 'run as root'
          : code === 'ENODEV' || code === 'ENOENT'
            ? 'check the device exists (rawpci list) and its driver is loaded (modprobe)'
            : "see dmesg for the kernel's reason";
      throw new Error(`writing '${value.trim()}' to ${path} failed (${code}): ${hint}`);
    }
  }
}

/** Records writes without making them (`--dry-run`). */
export class DryRunSysfsWriter implements SysfsWriter {
  readonly dryRun = true;
  readonly log: SysfsWrite[] = [];

  write(path: string, value: string): void {
    this.log.push({ path, value });
  }
}

/** `echo 'value' > path`, the shell form of one write (for --dry-run output). */
export function describeWrite(w: SysfsWrite): string {
  const v = w.value.replace(/\n$/, '');
  return `echo '${v.replace(/'/g, "'\\''")}' > ${w.path}`;
}
