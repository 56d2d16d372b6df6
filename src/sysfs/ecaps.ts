// Extended capability dispatch and the structural decoders, as lspci -vv prints them: ports of pciutils 3.9.0 ls-ecaps.c show_ext_caps (the switch), cap_dsn, cap_evendor, cap_dvsec, cap_vc, cap_rclink, cap_rcec, cap_rebar and cap_doe.

import {
  PCI_DOE_CAP,
  PCI_DOE_CAP_INT_SUP,
  PCI_DOE_CTRL,
  PCI_DOE_CTRL_INT_EN,
  PCI_DOE_STATUS,
  PCI_DOE_STATUS_BUSY,
  PCI_DOE_STATUS_DATA_OBJECT_READY,
  PCI_DOE_STATUS_INT_STATUS,
  PCI_DVSEC_HEADER1,
  PCI_DVSEC_HEADER2,
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
  PCI_RCEC_BUSN,
  PCI_RCEC_BUSN_REG_VER,
  PCI_RCEC_RCIEP_BITMAP,
  PCI_VNDR_HEADER,
} from '../../shared/linux/pci-regs.js';
import { BITS, ecapBody, FLAG, hex, TABLE } from './cap-format.js';
import type { CapabilityInfo, CapContext } from './caps.js';
import { capDvsecCxl, PCI_DVSEC_VENDOR_ID_CXL } from './ecaps-cxl.js';
import {
  capAcs,
  capAer,
  capAri,
  capAts,
  capDpc,
  capL1pm,
  capLtr,
  capMulticast,
  capPasid,
  capPri,
  capPtm,
  capSecondary,
  capSriov,
  capTph,
  type ExtCapDecoder,
} from './ecaps-pcie.js';
import {
  PCI_EXT_CAP_ID_FRS,
  PCI_EXT_CAP_ID_HIER_ID,
  PCI_EXT_CAP_ID_LMR,
  PCI_EXT_CAP_ID_LNR,
  PCI_EXT_CAP_ID_M_PCIE,
  PCI_EXT_CAP_ID_NPEM,
  PCI_EXT_CAP_ID_RTR,
  PCI_EXT_CAP_ID_VF_REBAR,
  PCI_RCLINK_ESD,
  PCI_RCLINK_LINK_ADDR,
  PCI_RCLINK_LINK_DESC,
  PCI_RCLINK_LINK_SIZE,
  PCI_RCLINK_LINK1,
  PCI_VC_PORT_CTRL,
  PCI_VC_PORT_REG1,
  PCI_VC_PORT_REG2,
  PCI_VC_PORT_STATUS,
  PCI_VC_RES_CAP,
} from './pciutils-header.js';

/**
 * DOE status bit lspci tests for "Error": pciutils 3.9.0 defines PCI_DOE_STS_ERROR as 0x3 (busy or
 * interrupt), not the spec's bit 2 (Linux PCI_DOE_STATUS_ERROR); kept so the output matches lspci.
 */
const LSPCI_DOE_STS_ERROR = 0x3;

/** Capabilities lspci names without decoding (it prints the name and ` <?>`). */
const NAME_ONLY: Record<number, string> = {
  0: 'Null',
  [PCI_EXT_CAP_ID_PWR]: 'Power Budgeting <?>',
  [PCI_EXT_CAP_ID_RCILC]: 'Root Complex Internal Link <?>',
  [PCI_EXT_CAP_ID_MFVC]: 'Multi-Function Virtual Channel <?>',
  [PCI_EXT_CAP_ID_RCRB]: 'Root Complex Register Block <?>',
  [PCI_EXT_CAP_ID_MRIOV]: 'Multi-Root I/O Virtualization <?>',
  [PCI_EXT_CAP_ID_DPA]: 'Dynamic Power Allocation <?>',
  [PCI_EXT_CAP_ID_PMUX]: 'Protocol Multiplexing <?>',
  [PCI_EXT_CAP_ID_LNR]: 'LN Requester <?>',
  [PCI_EXT_CAP_ID_M_PCIE]: 'PCI Express over M_PHY <?>',
  [PCI_EXT_CAP_ID_FRS]: 'FRS Queueing <?>',
  [PCI_EXT_CAP_ID_RTR]: 'Readiness Time Reporting <?>',
  [PCI_EXT_CAP_ID_DLF]: 'Data Link Feature <?>',
  [PCI_EXT_CAP_ID_PL_16GT]: 'Physical Layer 16.0 GT/s <?>',
  [PCI_EXT_CAP_ID_LMR]: 'Lane Margining at the Receiver <?>',
  [PCI_EXT_CAP_ID_HIER_ID]: 'Hierarchy ID <?>',
  [PCI_EXT_CAP_ID_NPEM]: 'Native PCIe Enclosure Management <?>',
};

/** Device Serial Number (PCIe base spec 6.0, 7.9.3; ls-ecaps.c cap_dsn). */
const capDsn: ExtCapDecoder = (ctx, where, info) => {
  const { cfg } = ctx;
  if (!cfg.has(where + 4, 8)) return;
  const lo = cfg.long(where + 4);
  const hi = cfg.long(where + 8);
  const b = [hi >>> 24, (hi >>> 16) & 0xff, (hi >>> 8) & 0xff, hi & 0xff, lo >>> 24, (lo >>> 16) & 0xff, (lo >>> 8) & 0xff, lo & 0xff];
  info.summary = `Device Serial Number ${b.map((x) => hex(x, 2)).join('-')}`;
};

/** Vendor-Specific Extended Capability header (PCIe base spec 6.0, 7.9.5; ls-ecaps.c cap_evendor). */
const capEvendor: ExtCapDecoder = (ctx, where, info) => {
  const { cfg } = ctx;
  if (!cfg.has(where + PCI_VNDR_HEADER, 4)) {
    info.summary = 'Vendor Specific Information: <unreadable>';
    return;
  }
  const h = cfg.long(where + PCI_VNDR_HEADER);
  info.summary = `Vendor Specific Information: ID=${hex(BITS(h, 0, 16), 4)} Rev=${BITS(h, 16, 4)} Len=${hex(BITS(h, 20, 12), 3)} <?>`;
};

/** Designated Vendor-Specific header (PCIe base spec 6.0, 7.9.6; ls-ecaps.c cap_dvsec); CXL bodies go to ecaps-cxl.ts. */
const capDvsec: ExtCapDecoder = (ctx, where, info) => {
  const { cfg } = ctx;
  if (!cfg.has(where + PCI_DVSEC_HEADER1, 8)) {
    info.summary = 'Designated Vendor-Specific: <unreadable>';
    return;
  }
  const h = cfg.long(where + PCI_DVSEC_HEADER1);
  const vendor = BITS(h, 0, 16);
  const rev = BITS(h, 16, 4);
  const len = BITS(h, 20, 12);
  const id = cfg.long(where + PCI_DVSEC_HEADER2) & 0xffff;
  info.summary = `Designated Vendor-Specific: Vendor=${hex(vendor, 4)} ID=${hex(id, 4)} Rev=${rev} Len=${len}`;
  if (vendor === PCI_DVSEC_VENDOR_ID_CXL && len >= 16) {
    info.summary += ': CXL';
    capDvsecCxl(ctx, id, rev, where, len, info);
  } else info.summary += ' <?>';
};

const VC_ARB = ['Fixed', 'WRR32', 'WRR64', 'WRR128', '??4', '??5', '??6', '??7'];
const VC_RES_ARB = ['Fixed', 'WRR32', 'WRR64', 'WRR128', 'TWRR128', 'WRR256', '??6', '??7'];

/** The arbitration flags lspci lists: every named one, and a `??N` one only when its bit is set. */
function arbList(names: readonly string[], bits: number): string {
  let s = '';
  names.forEach((n, i) => {
    if (n[0] !== '?' || bits & (1 << i)) s += `${i ? ' ' : '\t'}${n}${FLAG(bits, 1 << i)}`;
  });
  return s;
}

/** Virtual Channel (PCIe base spec 6.0, 7.9.1; ls-ecaps.c cap_vc), both IDs 0x2 and 0x9. */
const capVc: ExtCapDecoder = (ctx, where, info) => {
  const { cfg } = ctx;
  if (!ecapBody(ctx, info, 'Virtual Channel', where + 4, 0x1c - 4, true)) return;
  const d = info.details;
  const cr1 = cfg.long(where + PCI_VC_PORT_REG1);
  const cr2 = cfg.long(where + PCI_VC_PORT_REG2);
  const ctrl = cfg.word(where + PCI_VC_PORT_CTRL);
  const status = cfg.word(where + PCI_VC_PORT_STATUS);
  const evcCnt = BITS(cr1, 0, 3);
  d.push(`Caps:\tLPEVC=${BITS(cr1, 4, 3)} RefClk=${TABLE(['100ns'], BITS(cr1, 8, 2))} PATEntryBits=${1 << BITS(cr1, 10, 2)}`);
  d.push(`Arb:${arbList(VC_ARB, cr2)}`);
  d.push(`Ctrl:\tArbSelect=${TABLE(VC_ARB, BITS(ctrl, 1, 3))}`);
  d.push(`Status:\tInProgress${FLAG(status, 1)}`);
  const arbTablePos = BITS(cr2, 24, 8);
  if (arbTablePos) d.push(`Port Arbitration Table [${(where + 16 * arbTablePos).toString(16)}] <?>`);
  for (let i = 0; i <= evcCnt; i++) {
    const pos = where + PCI_VC_RES_CAP + 12 * i;
    if (!cfg.has(pos, 12)) {
      d.push(`VC${i}:\t<unreadable>`);
      continue;
    }
    const rcap = cfg.long(pos);
    const rctrl = cfg.long(pos + 4);
    const rstatus = cfg.word(pos + 10);
    const patPos = BITS(rcap, 24, 8);
    d.push(`VC${i}:\tCaps:\tPATOffset=${hex(patPos, 2)} MaxTimeSlots=${BITS(rcap, 16, 7) + 1} RejSnoopTrans${FLAG(rcap, 1 << 15)}`);
    d.push(`\tArb:${arbList(VC_RES_ARB, rcap)}`);
    d.push(
      `\tCtrl:\tEnable${FLAG(rctrl, 1 << 31)} ID=${BITS(rctrl, 24, 3)} ArbSelect=${TABLE(VC_RES_ARB, BITS(rctrl, 17, 3))} TC/VC=${hex(BITS(rctrl, 0, 8), 2)}`,
    );
    d.push(`\tStatus:\tNegoPending${FLAG(rstatus, 2)} InProgress${FLAG(rstatus, 1)}`);
    if (patPos) d.push('\tPort Arbitration Table <?>');
  }
};

/** Root Complex Link Declaration (PCIe base spec 6.0, 7.9.8; ls-ecaps.c cap_rclink). */
const capRclink: ExtCapDecoder = (ctx, where, info) => {
  const { cfg } = ctx;
  if (!ecapBody(ctx, info, 'Root Complex Link', where + 4, PCI_RCLINK_LINK1 - 4, true)) return;
  const d = info.details;
  const esd = cfg.long(where + PCI_RCLINK_ESD);
  const numLinks = BITS(esd, 8, 8);
  d.push(
    `Desc:\tPortNumber=${hex(BITS(esd, 24, 8), 2)} ComponentID=${hex(BITS(esd, 16, 8), 2)} EltType=${TABLE(['Config', 'Egress', 'Internal'], BITS(esd, 0, 8))}`,
  );
  for (let i = 0; i < numLinks; i++) {
    const pos = where + PCI_RCLINK_LINK1 + i * PCI_RCLINK_LINK_SIZE;
    if (!cfg.has(pos, PCI_RCLINK_LINK_SIZE)) {
      d.push(`Link${i}:\t<unreadable>`);
      return;
    }
    const desc = cfg.long(pos + PCI_RCLINK_LINK_DESC);
    const lo = cfg.long(pos + PCI_RCLINK_LINK_ADDR);
    const hi = cfg.long(pos + PCI_RCLINK_LINK_ADDR + 4);
    d.push(
      `Link${i}:\tDesc:\tTargetPort=${hex(BITS(desc, 24, 8), 2)} TargetComponent=${hex(BITS(desc, 16, 8), 2)} AssocRCRB${FLAG(desc, 4)} LinkType=${desc & 2 ? 'Config' : 'MemMapped'} LinkValid${FLAG(desc, 1)}`,
    );
    if (desc & 2) {
      const n = lo & 7 || 8;
      d.push(`\tAddr:\t${hex(BITS(lo, 20, n), 2)}:${hex(BITS(lo, 15, 5), 2)}.${BITS(lo, 12, 3)}  CfgSpace=${hex(hi, 8)}${hex(lo, 8)}`);
    } else d.push(`\tAddr:\t${hex(hi, 8)}${hex(lo, 8)}`);
  }
};

/** Root Complex Event Collector Endpoint Association (PCIe base spec 6.0, 7.9.10; ls-ecaps.c cap_rcec); -vvv spells out empty fields. */
const capRcec: ExtCapDecoder = (ctx, where, info) => {
  const { cfg, verbose } = ctx;
  info.summary = 'Root Complex Event Collector Endpoint Association';
  if (verbose < 2 || !cfg.has(where, 12)) return;
  const capVer = BITS(cfg.long(where), 16, 4);
  const bmap = cfg.long(where + PCI_RCEC_RCIEP_BITMAP);
  let s = 'RCiEPBitmap: ';
  if (bmap) {
    s += 'RCiEP at Device(s):';
    let prevMatched = false;
    let adj = 0;
    let prevDev = 0;
    for (let dev = 0; dev < 32; dev++) {
      if (BITS(bmap, dev, 1)) {
        if (!adj) s += `${prevMatched ? ',' : ''} ${dev}`;
        adj++;
        prevDev = dev;
        prevMatched = true;
      } else {
        if (adj > 1) s += `-${prevDev}`;
        adj = 0;
      }
    }
  } else s += verbose > 2 ? '00000000 [none]' : '[none]';
  info.details.push(s);
  if (capVer < PCI_RCEC_BUSN_REG_VER) return;
  const busn = cfg.long(where + PCI_RCEC_BUSN);
  const last = BITS(busn, 16, 8);
  const next = BITS(busn, 8, 8);
  if (last === 0 && next === 0xff) info.details.push(`AssociatedBusNumbers: ${verbose > 2 ? 'ff-00 [none]' : '[none]'}`);
  else info.details.push(`AssociatedBusNumbers: ${hex(next, 2)}-${hex(last, 2)}`);
};

/** A resizable BAR size (log2 of MB) as lspci prints it: ` 256MB`, ` 8GB`. */
function rebarSize(ld2: number): string {
  if (ld2 >= 0 && ld2 < 10) return ` ${1 << ld2}MB`;
  if (ld2 >= 10 && ld2 < 20) return ` ${1 << (ld2 - 10)}GB`;
  if (ld2 >= 20 && ld2 < 30) return ` ${1 << (ld2 - 20)}TB`;
  if (ld2 >= 30 && ld2 < 40) return ` ${1 << (ld2 - 30)}PB`;
  if (ld2 >= 40 && ld2 < 44) return ` ${1 << (ld2 - 40)}EB`;
  return ' <unknown>';
}

/** Physical and VF Resizable BAR (PCIe base spec 6.0, 7.8.6 and 9.3.7.5; ls-ecaps.c cap_rebar). */
function capRebar(virtual: boolean): ExtCapDecoder {
  return (ctx, start, info) => {
    const { cfg } = ctx;
    info.summary = `${virtual ? 'Virtual' : 'Physical'} Resizable BAR`;
    if (ctx.verbose < 2) return;
    let where = start;
    let numBars = 1;
    for (let n = 0; n < numBars; n++) {
      where += 4;
      if (!cfg.has(where, 8)) {
        info.details.push('<unreadable>');
        return;
      }
      const sizes = cfg.long(where) >>> 4;
      where += 4;
      const ctl = cfg.long(where);
      const ext = BITS(ctl, 16, 16);
      if (n === 0) {
        numBars = BITS(ctl, 5, 3);
        if (numBars < 1 || numBars > 6) {
          info.details.push(`<error in resizable BAR: num_bars=${numBars} is out of specification>`);
          break;
        }
      }
      let s = `BAR ${BITS(ctl, 0, 3)}: current size:${rebarSize(BITS(ctl, 8, 6))}`;
      if (sizes || ext) {
        s += ', supported:';
        for (let i = 0; i < 28; i++) if (sizes & (1 << i)) s += rebarSize(i);
        for (let i = 0; i < 16; i++) if (ext & (1 << i)) s += rebarSize(i + 28);
      }
      info.details.push(s);
    }
  };
}

/** Data Object Exchange (PCIe base spec 6.0, 7.9.24; ls-ecaps.c cap_doe). */
const capDoe: ExtCapDecoder = (ctx, where, info) => {
  const { cfg } = ctx;
  if (!ecapBody(ctx, info, 'Data Object Exchange', where + PCI_DOE_CAP, 0x14)) return;
  let l = cfg.long(where + PCI_DOE_CAP);
  info.details.push(`DOECap: IntSup${FLAG(l, PCI_DOE_CAP_INT_SUP)}`);
  if (l & PCI_DOE_CAP_INT_SUP) info.details.push(`\tInterrupt Message Number ${hex(BITS(l, 1, 11), 3)}`);
  info.details.push(`DOECtl: IntEn${FLAG(cfg.long(where + PCI_DOE_CTRL), PCI_DOE_CTRL_INT_EN)}`);
  l = cfg.long(where + PCI_DOE_STATUS);
  info.details.push(
    `DOESta: Busy${FLAG(l, PCI_DOE_STATUS_BUSY)} IntSta${FLAG(l, PCI_DOE_STATUS_INT_STATUS)} Error${FLAG(l, LSPCI_DOE_STS_ERROR)} ObjectReady${FLAG(l, PCI_DOE_STATUS_DATA_OBJECT_READY)}`,
  );
};

/** The decoder for each extended capability ID lspci decodes (ls-ecaps.c show_ext_caps). */
const DECODERS: Record<number, ExtCapDecoder> = {
  [PCI_EXT_CAP_ID_ERR]: capAer,
  [PCI_EXT_CAP_ID_DPC]: capDpc,
  [PCI_EXT_CAP_ID_VC]: capVc,
  [PCI_EXT_CAP_ID_VC9]: capVc,
  [PCI_EXT_CAP_ID_DSN]: capDsn,
  [PCI_EXT_CAP_ID_RCLD]: capRclink,
  [PCI_EXT_CAP_ID_RCEC]: capRcec,
  [PCI_EXT_CAP_ID_VNDR]: capEvendor,
  [PCI_EXT_CAP_ID_ACS]: capAcs,
  [PCI_EXT_CAP_ID_ARI]: capAri,
  [PCI_EXT_CAP_ID_ATS]: capAts,
  [PCI_EXT_CAP_ID_SRIOV]: capSriov,
  [PCI_EXT_CAP_ID_MCAST]: capMulticast,
  [PCI_EXT_CAP_ID_PRI]: capPri,
  [PCI_EXT_CAP_ID_REBAR]: capRebar(false),
  [PCI_EXT_CAP_ID_TPH]: capTph,
  [PCI_EXT_CAP_ID_LTR]: capLtr,
  [PCI_EXT_CAP_ID_SECPCI]: capSecondary,
  [PCI_EXT_CAP_ID_PASID]: capPasid,
  [PCI_EXT_CAP_ID_L1SS]: capL1pm,
  [PCI_EXT_CAP_ID_PTM]: capPtm,
  [PCI_EXT_CAP_ID_DVSEC]: capDvsec,
  [PCI_EXT_CAP_ID_VF_REBAR]: capRebar(true),
  [PCI_EXT_CAP_ID_DOE]: capDoe,
};

/**
 * Decodes the extended capability with ID `id` at `where` into `info` (summary and -vv detail
 * lines), for a function whose PCI Express port type is `type` (-1 when it has no PCI Express
 * capability). Unknown IDs print as lspci's `Extended Capability ID 0x..`.
 */
export function decodeExtCap(ctx: CapContext, where: number, id: number, type: number, info: CapabilityInfo): void {
  const decoder = DECODERS[id];
  if (decoder) decoder(ctx, where, info, type);
  else info.summary = NAME_ONLY[id] ?? `Extended Capability ID 0x${id.toString(16)}`;
}
