// Capability decoding: walk the standard and extended capability lists and print them as lspci -vv does.

import {
  PCI_CAP_FLAGS,
  PCI_CAP_ID_AF,
  PCI_CAP_ID_AGP,
  PCI_CAP_ID_AGP3,
  PCI_CAP_ID_CCRC,
  PCI_CAP_ID_CHSWP,
  PCI_CAP_ID_DBG,
  PCI_CAP_ID_EA,
  PCI_CAP_ID_EXP,
  PCI_CAP_ID_HT,
  PCI_CAP_ID_MSI,
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_PCIX,
  PCI_CAP_ID_PM,
  PCI_CAP_ID_SATA,
  PCI_CAP_ID_SECDEV,
  PCI_CAP_ID_SHPC,
  PCI_CAP_ID_SLOTID,
  PCI_CAP_ID_SSVID,
  PCI_CAP_ID_VNDR,
  PCI_CAP_ID_VPD,
  PCI_CAP_LIST_ID,
  PCI_CAP_LIST_NEXT,
  PCI_CFG_SPACE_SIZE,
  PCI_DEVICE_ID,
  PCI_EXP_FLAGS_TYPE,
  PCI_MSI_ADDRESS_HI,
  PCI_MSI_ADDRESS_LO,
  PCI_MSI_FLAGS_64BIT,
  PCI_MSI_FLAGS_ENABLE,
  PCI_MSI_FLAGS_MASKBIT,
  PCI_MSI_FLAGS_QMASK,
  PCI_MSI_FLAGS_QSIZE,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
  PCI_MSIX_FLAGS_QSIZE,
  PCI_MSIX_PBA,
  PCI_MSIX_PBA_BIR,
  PCI_MSIX_TABLE,
  PCI_MSIX_TABLE_BIR,
  PCI_PM_BPCC_ENABLE,
  PCI_PM_CAP_AUX_POWER,
  PCI_PM_CAP_D1,
  PCI_PM_CAP_D2,
  PCI_PM_CAP_DSI,
  PCI_PM_CAP_PME_CLOCK,
  PCI_PM_CAP_PME_D0,
  PCI_PM_CAP_PME_D1,
  PCI_PM_CAP_PME_D2,
  PCI_PM_CAP_VER_MASK,
  PCI_PM_CTRL,
  PCI_PM_CTRL_DATA_SCALE_MASK,
  PCI_PM_CTRL_DATA_SEL_MASK,
  PCI_PM_CTRL_NO_SOFT_RESET,
  PCI_PM_CTRL_PME_ENABLE,
  PCI_PM_CTRL_PME_STATUS,
  PCI_PM_CTRL_STATE_MASK,
  PCI_PM_PPB_B2_B3,
  PCI_PM_PPB_EXTENSIONS,
  PCI_PM_SIZEOF,
  PCI_SSVID_DEVICE_ID,
  PCI_SSVID_VENDOR_ID,
  PCI_STATUS,
  PCI_STATUS_CAP_LIST,
  PCI_VENDOR_ID,
} from '../../shared/linux/pci-regs.js';
import { msiLayout } from '../../shared/msi-layout.js';
import { FLAG, hex } from './cap-format.js';
import { capAf, capAgp, capEa, capPcix, capSataHba } from './caps-conventional.js';
import { capExpress } from './caps-express.js';
import { capHt } from './caps-ht.js';
import type { ConfigView } from './config-view.js';
import { decodeExtCap } from './ecaps.js';

/** PME from D3hot / D3cold (PCI PM spec 1.2, 3.2.3 PMC bits 14 and 15); not exported by pci_regs.h under these names. */
export const PCI_PM_CAP_PME_D3hot = 0x4000;
export const PCI_PM_CAP_PME_D3cold = 0x8000;

/** One decoded capability: where it is, what it is, and lspci's text for it (first line plus detail lines). */
export interface CapabilityInfo {
  /** Config-space byte offset of the capability header. */
  offset: number;
  /** Capability ID (PCI_CAP_ID_* or PCI_EXT_CAP_ID_*). */
  id: number;
  /** True for a PCI Express extended capability (offset >= 0x100). */
  extended: boolean;
  /** Extended capability version (header bits 16..19). */
  version?: number;
  /** lspci's first line after `[xx] ` (e.g. `MSI: Enable+ Count=1/1 Maskable- 64bit+`). */
  summary: string;
  /** lspci -vv's detail lines, without their leading tabs. */
  details: string[];
  /** Decoded fields for scripts (only for PM, MSI, MSI-X, PCI Express). */
  fields?: Record<string, unknown>;
}

/** What a capability decoder needs to know about the device beyond config space. */
export interface CapContext {
  cfg: ConfigView;
  /** Verbosity: 1 = lspci -v, 2 = -vv, 3 = -vvv. */
  verbose: number;
  /** Device number and function (LnkCap2 is reserved on non-zero functions of endpoints). */
  device: number;
  fn: number;
  /** Some BAR (sysfs `resource`, else config space) is a memory BAR (ls-caps.c device_has_memory_space_bar; DevCap2 AtomicOps lines). */
  hasMemoryBar?: boolean;
  /** Names the subsystem for an SSVID capability. */
  formatSubsystem(subVendor: number, subDevice: number): string;
}

/**
 * Walks the capability list starting at the pointer at `ptrOffset` (PCI_CAPABILITY_LIST, or
 * PCI_CB_CAPABILITY_LIST for CardBus), then the extended list at 0x100 when a PCI Express or
 * PCI-X capability was seen and 4 KiB is readable (lspci show_caps / show_ext_caps).
 * Returns lspci's lines (with leading tabs) and the structured list.
 */
export function decodeCapabilities(ctx: CapContext, ptrOffset: number): { lines: string[]; caps: CapabilityInfo[] } {
  const { cfg } = ctx;
  const lines: string[] = [];
  const caps: CapabilityInfo[] = [];
  let canHaveExt = false;
  let expType = -1;
  if (cfg.word(PCI_STATUS) & PCI_STATUS_CAP_LIST) {
    const seen = new Set<number>();
    let where = cfg.byte(ptrOffset) & ~3;
    while (where) {
      if (!cfg.has(where, 4)) {
        lines.push('\tCapabilities: <access denied>');
        break;
      }
      const id = cfg.byte(where + PCI_CAP_LIST_ID);
      const next = cfg.byte(where + PCI_CAP_LIST_NEXT) & ~3;
      const cap = cfg.word(where + PCI_CAP_FLAGS);
      const prefix = `\tCapabilities: [${hex(where, 2)}] `;
      if (seen.has(where)) {
        lines.push(`${prefix}<chain looped>`);
        break;
      }
      seen.add(where);
      if (id === 0xff) {
        lines.push(`${prefix}<chain broken>`);
        break;
      }
      const info = decodeStdCap(ctx, where, id, cap);
      if (id === PCI_CAP_ID_EXP) {
        canHaveExt = true;
        expType = (cap & PCI_EXP_FLAGS_TYPE) >> 4;
      }
      if (id === PCI_CAP_ID_PCIX) canHaveExt = true;
      caps.push(info);
      lines.push(prefix + info.summary, ...info.details.map((d) => `\t\t${d}`));
      where = next;
    }
  }
  if (canHaveExt) {
    const ext = decodeExtCaps(ctx, expType);
    lines.push(...ext.lines);
    caps.push(...ext.caps);
  }
  return { lines, caps };
}

function decodeStdCap(ctx: CapContext, where: number, id: number, cap: number): CapabilityInfo {
  const info: CapabilityInfo = { offset: where, id, extended: false, summary: '', details: [] };
  const { cfg, verbose } = ctx;
  switch (id) {
    case 0:
      info.summary = 'Null';
      break;
    case PCI_CAP_ID_PM:
      capPm(ctx, where, cap, info);
      break;
    case PCI_CAP_ID_AGP:
      capAgp(ctx, where, cap, info);
      break;
    case PCI_CAP_ID_VPD:
      info.summary = 'Vital Product Data';
      if (verbose > 1) info.details.push('Not readable');
      break;
    case PCI_CAP_ID_SLOTID: {
      const esr = cap & 0xff;
      info.summary = `Slot ID: ${esr & 0x1f} slots, First${FLAG(esr, 0x20)}, chassis ${hex(cap >> 8, 2)}`;
      break;
    }
    case PCI_CAP_ID_MSI:
      capMsi(ctx, where, cap, info);
      break;
    case PCI_CAP_ID_CHSWP:
      info.summary = 'CompactPCI hot-swap <?>';
      break;
    case PCI_CAP_ID_PCIX:
      capPcix(ctx, where, info);
      break;
    case PCI_CAP_ID_HT:
      capHt(ctx, where, cap, info);
      break;
    case PCI_CAP_ID_VNDR:
      capVendor(ctx, where, cap, info);
      break;
    case PCI_CAP_ID_DBG:
      info.summary = `Debug port: BAR=${cap >> 13} offset=${hex(cap & 0x1fff, 4)}`;
      break;
    case PCI_CAP_ID_CCRC:
      info.summary = 'CompactPCI central resource control <?>';
      break;
    case PCI_CAP_ID_SHPC:
      info.summary = 'Hot-plug capable';
      break;
    case PCI_CAP_ID_SSVID:
      if (cfg.has(where, 8)) info.summary = `Subsystem: ${ctx.formatSubsystem(cfg.word(where + PCI_SSVID_VENDOR_ID), cfg.word(where + PCI_SSVID_DEVICE_ID))}`;
      break;
    case PCI_CAP_ID_AGP3:
      info.summary = 'AGP3 <?>';
      break;
    case PCI_CAP_ID_SECDEV:
      info.summary = 'Secure device <?>';
      break;
    case PCI_CAP_ID_EXP:
      capExpress(ctx, where, cap, info);
      break;
    case PCI_CAP_ID_MSIX:
      capMsix(ctx, where, cap, info);
      break;
    case PCI_CAP_ID_SATA:
      capSataHba(ctx, where, cap, info);
      break;
    case PCI_CAP_ID_AF:
      capAf(ctx, where, info);
      break;
    case PCI_CAP_ID_EA:
      capEa(ctx, where, cap, info);
      break;
    default:
      // printf("Capability ID %#02x [%04x]"): %#02x prints 0x prefix, minimum width 2 includes it.
      info.summary = `Capability ID ${id === 0 ? '0' : `0x${id.toString(16)}`} [${hex(cap, 4)}]`;
  }
  return info;
}

/** Power Management (PCI PM spec 1.2, 3.2; lspci cap_pm). */
function capPm(ctx: CapContext, where: number, cap: number, info: CapabilityInfo): void {
  const { cfg } = ctx;
  const auxCurrent = [0, 55, 100, 160, 220, 270, 320, 375];
  info.summary = `Power Management version ${cap & PCI_PM_CAP_VER_MASK}`;
  info.fields = {
    version: cap & PCI_PM_CAP_VER_MASK,
    d1: !!(cap & PCI_PM_CAP_D1),
    d2: !!(cap & PCI_PM_CAP_D2),
    auxCurrentMa: auxCurrent[(cap & PCI_PM_CAP_AUX_POWER) >> 6],
  };
  if (ctx.verbose < 2) return;
  info.details.push(
    `Flags: PMEClk${FLAG(cap, PCI_PM_CAP_PME_CLOCK)} DSI${FLAG(cap, PCI_PM_CAP_DSI)} D1${FLAG(cap, PCI_PM_CAP_D1)} D2${FLAG(cap, PCI_PM_CAP_D2)} AuxCurrent=${auxCurrent[(cap & PCI_PM_CAP_AUX_POWER) >> 6]}mA PME(D0${FLAG(cap, PCI_PM_CAP_PME_D0)},D1${FLAG(cap, PCI_PM_CAP_PME_D1)},D2${FLAG(cap, PCI_PM_CAP_PME_D2)},D3hot${FLAG(cap, PCI_PM_CAP_PME_D3hot)},D3cold${FLAG(cap, PCI_PM_CAP_PME_D3cold)})`,
  );
  if (!cfg.has(where + PCI_PM_CTRL, PCI_PM_SIZEOF - PCI_PM_CTRL)) return;
  const t = cfg.word(where + PCI_PM_CTRL);
  info.fields.powerState = `D${t & PCI_PM_CTRL_STATE_MASK}`;
  info.details.push(
    `Status: D${t & PCI_PM_CTRL_STATE_MASK} NoSoftRst${FLAG(t, PCI_PM_CTRL_NO_SOFT_RESET)} PME-Enable${FLAG(t, PCI_PM_CTRL_PME_ENABLE)} DSel=${(t & PCI_PM_CTRL_DATA_SEL_MASK) >> 9} DScale=${(t & PCI_PM_CTRL_DATA_SCALE_MASK) >> 13} PME${FLAG(t, PCI_PM_CTRL_PME_STATUS)}`,
  );
  const b = cfg.byte(where + PCI_PM_PPB_EXTENSIONS);
  if (b) info.details.push(`Bridge: PM${FLAG(b, PCI_PM_BPCC_ENABLE)} B3${FLAG(~b, PCI_PM_PPB_B2_B3)}`);
}

/** MSI (PCI Local Bus spec 3.0, 6.8.1; lspci cap_msi). */
function capMsi(ctx: CapContext, where: number, cap: number, info: CapabilityInfo): void {
  const { cfg } = ctx;
  const is64 = (cap & PCI_MSI_FLAGS_64BIT) !== 0;
  const maskable = (cap & PCI_MSI_FLAGS_MASKBIT) !== 0;
  info.summary = `MSI: Enable${FLAG(cap, PCI_MSI_FLAGS_ENABLE)} Count=${1 << ((cap & PCI_MSI_FLAGS_QSIZE) >> 4)}/${1 << ((cap & PCI_MSI_FLAGS_QMASK) >> 1)} Maskable${FLAG(cap, PCI_MSI_FLAGS_MASKBIT)} 64bit${FLAG(cap, PCI_MSI_FLAGS_64BIT)}`;
  info.fields = {
    enabled: !!(cap & PCI_MSI_FLAGS_ENABLE),
    vectorsEnabled: 1 << ((cap & PCI_MSI_FLAGS_QSIZE) >> 4),
    vectorsCapable: 1 << ((cap & PCI_MSI_FLAGS_QMASK) >> 1),
    maskable,
    is64,
  };
  if (ctx.verbose < 2) return;
  const layout = msiLayout(cap);
  if (!cfg.has(where + PCI_MSI_ADDRESS_LO, layout.data + 2 - PCI_MSI_ADDRESS_LO)) return;
  const hi = is64 ? hex(cfg.long(where + PCI_MSI_ADDRESS_HI), 8) : '';
  const data = cfg.word(where + layout.data);
  info.details.push(`Address: ${hi}${hex(cfg.long(where + PCI_MSI_ADDRESS_LO), 8)}  Data: ${hex(data, 4)}`);
  if (maskable) {
    const m = where + layout.mask;
    const p = where + layout.pending;
    if (!cfg.has(m, 8)) return;
    info.details.push(`Masking: ${hex(cfg.long(m), 8)}  Pending: ${hex(cfg.long(p), 8)}`);
  }
}

/** MSI-X (PCI Local Bus spec 3.0, 6.8.2; lspci cap_msix). */
function capMsix(ctx: CapContext, where: number, cap: number, info: CapabilityInfo): void {
  const { cfg } = ctx;
  info.summary = `MSI-X: Enable${FLAG(cap, PCI_MSIX_FLAGS_ENABLE)} Count=${(cap & PCI_MSIX_FLAGS_QSIZE) + 1} Masked${FLAG(cap, PCI_MSIX_FLAGS_MASKALL)}`;
  info.fields = { enabled: !!(cap & PCI_MSIX_FLAGS_ENABLE), tableSize: (cap & PCI_MSIX_FLAGS_QSIZE) + 1, functionMasked: !!(cap & PCI_MSIX_FLAGS_MASKALL) };
  if (!cfg.has(where + PCI_MSIX_TABLE, 8)) return;
  const table = cfg.long(where + PCI_MSIX_TABLE);
  const pba = cfg.long(where + PCI_MSIX_PBA);
  Object.assign(info.fields, {
    tableBar: table & PCI_MSIX_TABLE_BIR,
    tableOffset: (table & ~PCI_MSIX_TABLE_BIR) >>> 0,
    pbaBar: pba & PCI_MSIX_PBA_BIR,
    pbaOffset: (pba & ~PCI_MSIX_PBA_BIR) >>> 0,
  });
  if (ctx.verbose < 2) return;
  info.details.push(`Vector table: BAR=${table & PCI_MSIX_TABLE_BIR} offset=${hex((table & ~PCI_MSIX_TABLE_BIR) >>> 0, 8)}`);
  info.details.push(`PBA: BAR=${pba & PCI_MSIX_PBA_BIR} offset=${hex((pba & ~PCI_MSIX_PBA_BIR) >>> 0, 8)}`);
}

/** Vendor-specific capability (PCI 3.0, 6.7 and Appendix H; lspci show_vendor_caps with its virtio decoder). */
function capVendor(ctx: CapContext, where: number, cap: number, info: CapabilityInfo): void {
  const { cfg } = ctx;
  const length = cap & 0xff;
  const type = (cap >> 8) & 0xff;
  info.summary = 'Vendor Specific Information: ';
  const vendor = cfg.word(PCI_VENDOR_ID);
  const device = cfg.word(PCI_DEVICE_ID);
  if (vendor === 0x1af4 && device >= 0x1000 && device <= 0x107f && length >= 16 && cfg.has(where, length)) {
    const tname = ['<unknown>', 'CommonCfg', 'Notify', 'ISR', 'DeviceCfg'][type] ?? '<unknown>';
    info.summary += `VirtIO: ${tname}`;
    if (ctx.verbose < 2) return;
    let d = `BAR=${cfg.byte(where + 4)} offset=${hex(cfg.long(where + 8), 8)} size=${hex(cfg.long(where + 12), 8)}`;
    if (type === 2 && length >= 20) d += ` multiplier=${hex(cfg.long(where + 16), 8)}`;
    info.details.push(d);
    return;
  }
  info.summary += `Len=${hex(length, 2)} <?>`;
}

/**
 * Walks the extended capability list at 0x100 as lspci show_ext_caps does (PCIe base spec 6.0, 7.6):
 * lspci's own walk, not shared/pci/capabilities.ts's, because lspci follows any non-zero next
 * pointer and prints `<chain looped>` where Linux's walker stops silently. Each entry is decoded by
 * ecaps.ts for the function's PCI Express port type `expType`.
 */
function decodeExtCaps(ctx: CapContext, expType: number): { lines: string[]; caps: CapabilityInfo[] } {
  const { cfg, verbose } = ctx;
  const lines: string[] = [];
  const caps: CapabilityInfo[] = [];
  const seen = new Set<number>();
  let where = PCI_CFG_SPACE_SIZE;
  do {
    if (!cfg.has(where, 4)) break;
    const header = cfg.long(where);
    if (!header || header === 0xffffffff) break;
    const id = header & 0xffff;
    const version = (header >>> 16) & 0xf;
    const prefix = `\tCapabilities: [${hex(where, 3)}${verbose > 1 ? ` v${version}` : ''}] `;
    if (seen.has(where)) {
      lines.push(`${prefix}<chain looped>`);
      break;
    }
    seen.add(where);
    const info: CapabilityInfo = { offset: where, id, extended: true, version, summary: '', details: [] };
    decodeExtCap(ctx, where, id, expType, info);
    caps.push(info);
    lines.push(prefix + info.summary, ...info.details.map((d) => `\t\t${d}`));
    where = (header >>> 20) & ~3;
  } while (where);
  return { lines, caps };
}
