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
  PCI_EXP_DEVCAP,
  PCI_EXP_DEVCAP_ATN_BUT,
  PCI_EXP_DEVCAP_ATN_IND,
  PCI_EXP_DEVCAP_EXT_TAG,
  PCI_EXP_DEVCAP_FLR,
  PCI_EXP_DEVCAP_L0S,
  PCI_EXP_DEVCAP_L1,
  PCI_EXP_DEVCAP_PAYLOAD,
  PCI_EXP_DEVCAP_PHANTOM,
  PCI_EXP_DEVCAP_PWR_IND,
  PCI_EXP_DEVCAP_PWR_SCL,
  PCI_EXP_DEVCAP_PWR_VAL,
  PCI_EXP_DEVCAP_RBER,
  PCI_EXP_DEVCTL,
  PCI_EXP_DEVCTL_AUX_PME,
  PCI_EXP_DEVCTL_BCR_FLR,
  PCI_EXP_DEVCTL_CERE,
  PCI_EXP_DEVCTL_EXT_TAG,
  PCI_EXP_DEVCTL_FERE,
  PCI_EXP_DEVCTL_NFERE,
  PCI_EXP_DEVCTL_NOSNOOP_EN,
  PCI_EXP_DEVCTL_PAYLOAD,
  PCI_EXP_DEVCTL_PHANTOM,
  PCI_EXP_DEVCTL_READRQ,
  PCI_EXP_DEVCTL_RELAX_EN,
  PCI_EXP_DEVCTL_URRE,
  PCI_EXP_DEVSTA,
  PCI_EXP_DEVSTA_AUXPD,
  PCI_EXP_DEVSTA_CED,
  PCI_EXP_DEVSTA_FED,
  PCI_EXP_DEVSTA_NFED,
  PCI_EXP_DEVSTA_TRPND,
  PCI_EXP_DEVSTA_URD,
  PCI_EXP_FLAGS_IRQ,
  PCI_EXP_FLAGS_SLOT,
  PCI_EXP_FLAGS_TYPE,
  PCI_EXP_FLAGS_VERS,
  PCI_EXP_LNKCAP,
  PCI_EXP_LNKCAP_ASPMS,
  PCI_EXP_LNKCAP_CLKPM,
  PCI_EXP_LNKCAP_DLLLARC,
  PCI_EXP_LNKCAP_L0SEL,
  PCI_EXP_LNKCAP_L1EL,
  PCI_EXP_LNKCAP_LBNC,
  PCI_EXP_LNKCAP_MLW,
  PCI_EXP_LNKCAP_SDERC,
  PCI_EXP_LNKCAP_SLS,
  PCI_EXP_LNKCTL,
  PCI_EXP_LNKCTL_ASPMC,
  PCI_EXP_LNKCTL_CCC,
  PCI_EXP_LNKCTL_CLKREQ_EN,
  PCI_EXP_LNKCTL_ES,
  PCI_EXP_LNKCTL_HAWD,
  PCI_EXP_LNKCTL_LABIE,
  PCI_EXP_LNKCTL_LBMIE,
  PCI_EXP_LNKCTL_LD,
  PCI_EXP_LNKCTL_RCB,
  PCI_EXP_LNKSTA,
  PCI_EXP_LNKSTA_CLS,
  PCI_EXP_LNKSTA_DLLLA,
  PCI_EXP_LNKSTA_LABS,
  PCI_EXP_LNKSTA_LBMS,
  PCI_EXP_LNKSTA_LT,
  PCI_EXP_LNKSTA_NLW,
  PCI_EXP_LNKSTA_SLC,
  PCI_EXP_TYPE_DOWNSTREAM,
  PCI_EXP_TYPE_ENDPOINT,
  PCI_EXP_TYPE_LEG_END,
  PCI_EXP_TYPE_PCI_BRIDGE,
  PCI_EXP_TYPE_PCIE_BRIDGE,
  PCI_EXP_TYPE_RC_EC,
  PCI_EXP_TYPE_RC_END,
  PCI_EXP_TYPE_ROOT_PORT,
  PCI_EXP_TYPE_UPSTREAM,
  PCI_EXT_CAP_DSN_SIZEOF,
  PCI_EXT_CAP_ID_ACS,
  PCI_EXT_CAP_ID_ARI,
  PCI_EXT_CAP_ID_ATS,
  PCI_EXT_CAP_ID_DLF,
  PCI_EXT_CAP_ID_DOE,
  PCI_EXT_CAP_ID_DPA,
  PCI_EXT_CAP_ID_DPC,
  PCI_EXT_CAP_ID_DSN,
  PCI_EXT_CAP_ID_DVSEC,
  PCI_EXT_CAP_ID_ERR,
  PCI_EXT_CAP_ID_L1SS,
  PCI_EXT_CAP_ID_LTR,
  PCI_EXT_CAP_ID_MCAST,
  PCI_EXT_CAP_ID_MFVC,
  PCI_EXT_CAP_ID_MRIOV,
  PCI_EXT_CAP_ID_PASID,
  PCI_EXT_CAP_ID_PL_16GT,
  PCI_EXT_CAP_ID_PMUX,
  PCI_EXT_CAP_ID_PRI,
  PCI_EXT_CAP_ID_PTM,
  PCI_EXT_CAP_ID_PWR,
  PCI_EXT_CAP_ID_RCEC,
  PCI_EXT_CAP_ID_RCILC,
  PCI_EXT_CAP_ID_RCLD,
  PCI_EXT_CAP_ID_RCRB,
  PCI_EXT_CAP_ID_REBAR,
  PCI_EXT_CAP_ID_SECPCI,
  PCI_EXT_CAP_ID_SRIOV,
  PCI_EXT_CAP_ID_TPH,
  PCI_EXT_CAP_ID_VC,
  PCI_EXT_CAP_ID_VC9,
  PCI_EXT_CAP_ID_VNDR,
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
import type { ConfigView } from './config-view.js';

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
  /** Names the subsystem for an SSVID capability. */
  formatSubsystem(subVendor: number, subDevice: number): string;
}

const FLAG = (x: number, y: number): string => ((x & y) !== 0 ? '+' : '-');

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
      info.summary = `AGP version ${(cap >> 4) & 0x0f}.${cap & 0x0f}`;
      info.details.push('(AGP details not decoded by rawpci: use lspci -vv)');
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
      info.summary = 'PCI-X non-bridge device';
      info.details.push('(PCI-X details not decoded by rawpci: use lspci -vv)');
      break;
    case PCI_CAP_ID_HT:
      info.summary = 'HyperTransport';
      info.details.push('(HyperTransport details not decoded by rawpci: use lspci -vv)');
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
      info.summary = 'SATA HBA';
      break;
    case PCI_CAP_ID_AF:
      info.summary = 'PCI Advanced Features';
      break;
    case PCI_CAP_ID_EA:
      info.summary = 'Enhanced Allocation (EA)';
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

const EXP_TYPE_NAMES: Record<number, string> = {
  [PCI_EXP_TYPE_ENDPOINT]: 'Endpoint',
  [PCI_EXP_TYPE_LEG_END]: 'Legacy Endpoint',
  [PCI_EXP_TYPE_UPSTREAM]: 'Upstream Port',
  [PCI_EXP_TYPE_PCI_BRIDGE]: 'PCI-Express to PCI/PCI-X Bridge',
  [PCI_EXP_TYPE_RC_END]: 'Root Complex Integrated Endpoint',
  [PCI_EXP_TYPE_RC_EC]: 'Root Complex Event Collector',
};

/**
 * PCI Express capability (PCIe base spec 4.0, 7.5.3; lspci cap_express): type line, DevCap,
 * DevCtl, DevSta, LnkCap, LnkCtl, LnkSta. Slot, root and the version-2 registers (DevCap2 and
 * on) are not decoded: a detail line says so.
 */
function capExpress(ctx: CapContext, where: number, cap: number, info: CapabilityInfo): void {
  const { cfg, verbose } = ctx;
  const type = (cap & PCI_EXP_FLAGS_TYPE) >> 4;
  const version = cap & PCI_EXP_FLAGS_VERS;
  let slot = false;
  let link = true;
  let name: string;
  switch (type) {
    case PCI_EXP_TYPE_ROOT_PORT:
      slot = (cap & PCI_EXP_FLAGS_SLOT) !== 0;
      name = `Root Port (Slot${FLAG(cap, PCI_EXP_FLAGS_SLOT)})`;
      break;
    case PCI_EXP_TYPE_DOWNSTREAM:
      slot = (cap & PCI_EXP_FLAGS_SLOT) !== 0;
      name = `Downstream Port (Slot${FLAG(cap, PCI_EXP_FLAGS_SLOT)})`;
      break;
    case PCI_EXP_TYPE_PCIE_BRIDGE:
      slot = (cap & PCI_EXP_FLAGS_SLOT) !== 0;
      name = `PCI/PCI-X to PCI-Express Bridge (Slot${FLAG(cap, PCI_EXP_FLAGS_SLOT)})`;
      break;
    case PCI_EXP_TYPE_RC_END:
    case PCI_EXP_TYPE_RC_EC:
      link = false;
      name = EXP_TYPE_NAMES[type]!;
      break;
    default:
      name = EXP_TYPE_NAMES[type] ?? `Unknown type ${type}`;
  }
  const msg = (cap & PCI_EXP_FLAGS_IRQ) >> 9;
  info.summary = `Express ${verbose >= 2 ? `(v${version}) ` : ''}${name}, MSI ${hex(msg, 2)}`;
  info.fields = { version, type, typeName: name, interruptMessage: msg };
  if (verbose < 2) return;
  let size = slot ? 24 : 16;
  if (type === PCI_EXP_TYPE_ROOT_PORT || type === PCI_EXP_TYPE_RC_EC) size = 32;
  if (!cfg.has(where + PCI_EXP_DEVCAP, size)) return;
  expressDev(cfg, where, type, info);
  if (link) expressLink(cfg, where, type, info);
  if (slot || type === PCI_EXP_TYPE_ROOT_PORT || type === PCI_EXP_TYPE_RC_EC || version >= 2) {
    info.details.push('(slot, root and PCIe v2 registers not decoded by rawpci: use lspci -vv)');
  }
}

const latencyL0s = (v: number) => ['<64ns', '<128ns', '<256ns', '<512ns', '<1us', '<2us', '<4us', 'unlimited'][v]!;
const latencyL1 = (v: number) => ['<1us', '<2us', '<4us', '<8us', '<16us', '<32us', '<64us', 'unlimited'][v]!;

function showPowerLimit(value: number, scale: number): string {
  if (scale === 0 && value === 0xff) return '>600W';
  let v = value;
  if (scale === 0 && v >= 0xf0 && v <= 0xfe) v = 250 + 25 * (v - 0xf0);
  // printf("%gW", value * float scale): %g with 6 significant digits.
  const scales = [1.0, 0.1, 0.01, 0.001];
  return `${formatG(v * Math.fround(scales[scale]!))}W`;
}

/** C's %g (precision 6) for the small positive values lspci prints. */
function formatG(x: number): string {
  if (x === 0) return '0';
  const exp = Math.floor(Math.log10(Math.abs(x)));
  if (exp < -4 || exp >= 6)
    return x
      .toExponential(5)
      .replace(/\.?0+e/, 'e')
      .replace(/e([+-])(\d)$/, 'e$10$2');
  return Number(x.toPrecision(6)).toString();
}

function expressDev(cfg: ConfigView, where: number, type: number, info: CapabilityInfo): void {
  const t = cfg.long(where + PCI_EXP_DEVCAP);
  const isEp = type === PCI_EXP_TYPE_ENDPOINT || type === PCI_EXP_TYPE_LEG_END;
  let s = `DevCap:\tMaxPayload ${128 << (t & PCI_EXP_DEVCAP_PAYLOAD)} bytes, PhantFunc ${(1 << ((t & PCI_EXP_DEVCAP_PHANTOM) >> 3)) - 1}`;
  if (isEp) s += `, Latency L0s ${latencyL0s((t & PCI_EXP_DEVCAP_L0S) >> 6)}, L1 ${latencyL1((t & PCI_EXP_DEVCAP_L1) >> 9)}`;
  info.details.push(s);
  s = `\tExtTag${FLAG(t, PCI_EXP_DEVCAP_EXT_TAG)}`;
  if (isEp || type === PCI_EXP_TYPE_UPSTREAM || type === PCI_EXP_TYPE_PCI_BRIDGE)
    s += ` AttnBtn${FLAG(t, PCI_EXP_DEVCAP_ATN_BUT)} AttnInd${FLAG(t, PCI_EXP_DEVCAP_ATN_IND)} PwrInd${FLAG(t, PCI_EXP_DEVCAP_PWR_IND)}`;
  s += ` RBE${FLAG(t, PCI_EXP_DEVCAP_RBER)}`;
  const flrType = isEp || type === PCI_EXP_TYPE_RC_END;
  if (flrType) s += ` FLReset${FLAG(t, PCI_EXP_DEVCAP_FLR)}`;
  if (type === PCI_EXP_TYPE_ENDPOINT || type === PCI_EXP_TYPE_UPSTREAM || type === PCI_EXP_TYPE_PCI_BRIDGE)
    s += ` SlotPowerLimit ${showPowerLimit((t & PCI_EXP_DEVCAP_PWR_VAL) >> 18, (t & PCI_EXP_DEVCAP_PWR_SCL) >> 26)}`;
  info.details.push(s);
  const w = cfg.word(where + PCI_EXP_DEVCTL);
  info.details.push(
    `DevCtl:\tCorrErr${FLAG(w, PCI_EXP_DEVCTL_CERE)} NonFatalErr${FLAG(w, PCI_EXP_DEVCTL_NFERE)} FatalErr${FLAG(w, PCI_EXP_DEVCTL_FERE)} UnsupReq${FLAG(w, PCI_EXP_DEVCTL_URRE)}`,
  );
  s = `\tRlxdOrd${FLAG(w, PCI_EXP_DEVCTL_RELAX_EN)} ExtTag${FLAG(w, PCI_EXP_DEVCTL_EXT_TAG)} PhantFunc${FLAG(w, PCI_EXP_DEVCTL_PHANTOM)} AuxPwr${FLAG(w, PCI_EXP_DEVCTL_AUX_PME)} NoSnoop${FLAG(w, PCI_EXP_DEVCTL_NOSNOOP_EN)}`;
  // Bit 15 is Bridge Configuration Retry Enable on a PCIe-to-PCI bridge and Initiate FLR on an endpoint.
  if (type === PCI_EXP_TYPE_PCI_BRIDGE) s += ` BrConfRtry${FLAG(w, PCI_EXP_DEVCTL_BCR_FLR)}`;
  if (flrType && t & PCI_EXP_DEVCAP_FLR) s += ` FLReset${FLAG(w, PCI_EXP_DEVCTL_BCR_FLR)}`;
  info.details.push(s);
  info.details.push(`\tMaxPayload ${128 << ((w & PCI_EXP_DEVCTL_PAYLOAD) >> 5)} bytes, MaxReadReq ${128 << ((w & PCI_EXP_DEVCTL_READRQ) >> 12)} bytes`);
  const st = cfg.word(where + PCI_EXP_DEVSTA);
  info.details.push(
    `DevSta:\tCorrErr${FLAG(st, PCI_EXP_DEVSTA_CED)} NonFatalErr${FLAG(st, PCI_EXP_DEVSTA_NFED)} FatalErr${FLAG(st, PCI_EXP_DEVSTA_FED)} UnsupReq${FLAG(st, PCI_EXP_DEVSTA_URD)} AuxPwr${FLAG(st, PCI_EXP_DEVSTA_AUXPD)} TransPend${FLAG(st, PCI_EXP_DEVSTA_TRPND)}`,
  );
}

const linkSpeed = (s: number) => ['unknown', '2.5GT/s', '5GT/s', '8GT/s', '16GT/s', '32GT/s', '64GT/s'][s] ?? 'unknown';
const aspmSupport = (c: number) => ['not supported', 'L0s', 'L1', 'L0s L1'][c] ?? 'unknown';
const aspmEnabled = (c: number) => ['Disabled', 'L0s Enabled', 'L1 Enabled', 'L0s L1 Enabled'][c]!;
/** ASPM Optionality Compliance (PCIe 3.0, 7.8.6 bit 22); not in pci_regs.h. */
const PCI_EXP_LNKCAP_AOC = 0x400000;

function linkCompare(type: number, sta: number, cap: number): string {
  if (sta > cap) return ' (overdriven)';
  if (sta === cap) return '';
  if (type === PCI_EXP_TYPE_ROOT_PORT || type === PCI_EXP_TYPE_DOWNSTREAM || type === PCI_EXP_TYPE_PCIE_BRIDGE) return '';
  return ' (downgraded)';
}

function expressLink(cfg: ConfigView, where: number, type: number, info: CapabilityInfo): void {
  const t = cfg.long(where + PCI_EXP_LNKCAP);
  const aspm = (t & PCI_EXP_LNKCAP_ASPMS) >> 10;
  const capSpeed = t & PCI_EXP_LNKCAP_SLS;
  const capWidth = (t & PCI_EXP_LNKCAP_MLW) >> 4;
  let s = `LnkCap:\tPort #${t >>> 24}, Speed ${linkSpeed(capSpeed)}, Width x${capWidth}, ASPM ${aspmSupport(aspm)}`;
  if (aspm) {
    s += ', Exit Latency ';
    if (aspm & 1) s += `L0s ${latencyL0s((t & PCI_EXP_LNKCAP_L0SEL) >> 12)}`;
    if (aspm & 2) s += `${aspm & 1 ? ', ' : ''}L1 ${latencyL1((t & PCI_EXP_LNKCAP_L1EL) >> 15)}`;
  }
  info.details.push(s);
  info.details.push(
    `\tClockPM${FLAG(t, PCI_EXP_LNKCAP_CLKPM)} Surprise${FLAG(t, PCI_EXP_LNKCAP_SDERC)} LLActRep${FLAG(t, PCI_EXP_LNKCAP_DLLLARC)} BwNot${FLAG(t, PCI_EXP_LNKCAP_LBNC)} ASPMOptComp${FLAG(t, PCI_EXP_LNKCAP_AOC)}`,
  );
  const w = cfg.word(where + PCI_EXP_LNKCTL);
  s = `LnkCtl:\tASPM ${aspmEnabled(w & PCI_EXP_LNKCTL_ASPMC)};`;
  if (type === PCI_EXP_TYPE_ROOT_PORT || type === PCI_EXP_TYPE_ENDPOINT || type === PCI_EXP_TYPE_LEG_END || type === PCI_EXP_TYPE_PCI_BRIDGE)
    s += ` RCB ${w & PCI_EXP_LNKCTL_RCB ? 128 : 64} bytes,`;
  s += ` Disabled${FLAG(w, PCI_EXP_LNKCTL_LD)} CommClk${FLAG(w, PCI_EXP_LNKCTL_CCC)}`;
  info.details.push(s);
  info.details.push(
    `\tExtSynch${FLAG(w, PCI_EXP_LNKCTL_ES)} ClockPM${FLAG(w, PCI_EXP_LNKCTL_CLKREQ_EN)} AutWidDis${FLAG(w, PCI_EXP_LNKCTL_HAWD)} BWInt${FLAG(w, PCI_EXP_LNKCTL_LBMIE)} AutBWInt${FLAG(w, PCI_EXP_LNKCTL_LABIE)}`,
  );
  const st = cfg.word(where + PCI_EXP_LNKSTA);
  const staSpeed = st & PCI_EXP_LNKSTA_CLS;
  const staWidth = (st & PCI_EXP_LNKSTA_NLW) >> 4;
  info.details.push(
    `LnkSta:\tSpeed ${linkSpeed(staSpeed)}${linkCompare(type, staSpeed, capSpeed)}, Width x${staWidth}${linkCompare(type, staWidth, capWidth)}`,
  );
  info.details.push(
    `\tTrErr${FLAG(st, 0x400)} Train${FLAG(st, PCI_EXP_LNKSTA_LT)} SlotClk${FLAG(st, PCI_EXP_LNKSTA_SLC)} DLActive${FLAG(st, PCI_EXP_LNKSTA_DLLLA)} BWMgmt${FLAG(st, PCI_EXP_LNKSTA_LBMS)} ABWMgmt${FLAG(st, PCI_EXP_LNKSTA_LABS)}`,
  );
}

/** Names lspci prints for extended capabilities it has no detail decoder for here (ls-ecaps.c). */
const EXT_CAP_NAMES: Record<number, string> = {
  0: 'Null',
  [PCI_EXT_CAP_ID_ERR]: 'Advanced Error Reporting',
  [PCI_EXT_CAP_ID_VC]: 'Virtual Channel',
  [PCI_EXT_CAP_ID_VC9]: 'Virtual Channel',
  [PCI_EXT_CAP_ID_PWR]: 'Power Budgeting <?>',
  [PCI_EXT_CAP_ID_RCLD]: 'Root Complex Link',
  [PCI_EXT_CAP_ID_RCILC]: 'Root Complex Internal Link <?>',
  [PCI_EXT_CAP_ID_RCEC]: 'Root Complex Event Collector Endpoint Association',
  [PCI_EXT_CAP_ID_MFVC]: 'Multi-Function Virtual Channel <?>',
  [PCI_EXT_CAP_ID_RCRB]: 'Root Complex Register Block <?>',
  [PCI_EXT_CAP_ID_VNDR]: 'Vendor Specific Information',
  [PCI_EXT_CAP_ID_ACS]: 'Access Control Services',
  [PCI_EXT_CAP_ID_ARI]: 'Alternative Routing-ID Interpretation (ARI)',
  [PCI_EXT_CAP_ID_ATS]: 'Address Translation Service (ATS)',
  [PCI_EXT_CAP_ID_SRIOV]: 'Single Root I/O Virtualization (SR-IOV)',
  [PCI_EXT_CAP_ID_MRIOV]: 'Multi-Root I/O Virtualization <?>',
  [PCI_EXT_CAP_ID_MCAST]: 'Multicast',
  [PCI_EXT_CAP_ID_PRI]: 'Page Request Interface (PRI)',
  [PCI_EXT_CAP_ID_REBAR]: 'Physical Resizable BAR',
  [PCI_EXT_CAP_ID_DPA]: 'Dynamic Power Allocation <?>',
  [PCI_EXT_CAP_ID_TPH]: 'Transaction Processing Hints',
  [PCI_EXT_CAP_ID_LTR]: 'Latency Tolerance Reporting',
  [PCI_EXT_CAP_ID_SECPCI]: 'Secondary PCI Express',
  [PCI_EXT_CAP_ID_PMUX]: 'Protocol Multiplexing <?>',
  [PCI_EXT_CAP_ID_PASID]: 'Process Address Space ID (PASID)',
  [PCI_EXT_CAP_ID_DPC]: 'Downstream Port Containment',
  [PCI_EXT_CAP_ID_L1SS]: 'L1 PM Substates',
  [PCI_EXT_CAP_ID_PTM]: 'Precision Time Measurement',
  [PCI_EXT_CAP_ID_DVSEC]: 'Designated Vendor-Specific',
  [PCI_EXT_CAP_ID_DLF]: 'Data Link Feature <?>',
  [PCI_EXT_CAP_ID_PL_16GT]: 'Physical Layer 16.0 GT/s <?>',
  [PCI_EXT_CAP_ID_DOE]: 'Data Object Exchange',
};

/** Extended capability IDs whose lspci output is exactly the name (no detail lines). */
const EXT_CAP_NAME_ONLY = new Set([
  0,
  PCI_EXT_CAP_ID_PWR,
  PCI_EXT_CAP_ID_RCILC,
  PCI_EXT_CAP_ID_MFVC,
  PCI_EXT_CAP_ID_RCRB,
  PCI_EXT_CAP_ID_MRIOV,
  PCI_EXT_CAP_ID_DPA,
  PCI_EXT_CAP_ID_PMUX,
  PCI_EXT_CAP_ID_DLF,
  PCI_EXT_CAP_ID_PL_16GT,
]);

/** Walks the extended capability list at 0x100 (PCIe base spec 4.0, 7.6; lspci show_ext_caps). */
function decodeExtCaps(ctx: CapContext, _expType: number): { lines: string[]; caps: CapabilityInfo[] } {
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
    if (id === PCI_EXT_CAP_ID_DSN && cfg.has(where + 4, PCI_EXT_CAP_DSN_SIZEOF - 4)) {
      const lo = cfg.long(where + 4);
      const hi = cfg.long(where + 8);
      const b = [hi >>> 24, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff];
      info.summary = `Device Serial Number ${b.map((x) => hex(x, 2)).join('-')}`;
    } else if (EXT_CAP_NAMES[id] !== undefined) {
      info.summary = EXT_CAP_NAMES[id]!;
      if (!EXT_CAP_NAME_ONLY.has(id) && verbose > 1) info.details.push('(details not decoded by rawpci: use lspci -vv)');
    } else {
      info.summary = `Extended Capability ID 0x${id.toString(16)}`;
    }
    caps.push(info);
    lines.push(prefix + info.summary, ...info.details.map((d) => `\t\t${d}`));
    where = (header >>> 20) & ~3;
  } while (where);
  return { lines, caps };
}

function hex(v: number, width: number): string {
  return (v >>> 0).toString(16).padStart(width, '0');
}
