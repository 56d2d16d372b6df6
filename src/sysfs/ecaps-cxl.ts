// CXL Designated Vendor-Specific capabilities (CXL 3.0, 8.1) as lspci -vv prints them: ports of pciutils 3.9.0 ls-ecaps.c cap_dvsec_cxl and its dvsec_cxl_* helpers.

import { BITS, FLAG, hex, hexBig } from './cap-format.js';
import type { CapabilityInfo, CapContext } from './caps.js';
import {
  PCI_CXL_DEV_CAP,
  PCI_CXL_DEV_CAP2,
  PCI_CXL_DEV_CTRL,
  PCI_CXL_DEV_LEN,
  PCI_CXL_DEV_RANGE1_SIZE_HI,
  PCI_CXL_DEV_RANGE2_SIZE_HI,
  PCI_CXL_DEV_STATUS,
  PCI_CXL_DEV_STATUS2,
  PCI_CXL_FB_MOD_TS_DATA,
  PCI_CXL_FB_PORT_CAP,
  PCI_CXL_FB_PORT_CAP2,
  PCI_CXL_FB_PORT_CTRL,
  PCI_CXL_FB_PORT_CTRL2,
  PCI_CXL_FB_PORT_STATUS,
  PCI_CXL_FB_PORT_STATUS2,
  PCI_CXL_FUN_MAP_REG_0,
  PCI_CXL_GPF_DEV_PHASE2_DUR,
  PCI_CXL_GPF_DEV_PHASE2_POW,
  PCI_CXL_GPF_PORT_PHASE1_CTRL,
  PCI_CXL_GPF_PORT_PHASE2_CTRL,
  PCI_CXL_MLD_MAX_LD,
  PCI_CXL_MLD_NUM_LD,
  PCI_CXL_PORT_ALT_BUS_BASE,
  PCI_CXL_PORT_ALT_BUS_LIMIT,
  PCI_CXL_PORT_ALT_MEM_BASE,
  PCI_CXL_PORT_ALT_MEM_LIMIT,
  PCI_CXL_PORT_CTRL,
  PCI_CXL_PORT_EXT_LEN,
  PCI_CXL_PORT_EXT_STATUS,
  PCI_CXL_RL_BLOCK1_LO,
} from './pciutils-header.js';

/** DVSEC Vendor ID the CXL consortium uses (CXL 3.0, 8.1.1; pciutils PCI_DVSEC_VENDOR_ID_CXL). */
export const PCI_DVSEC_VENDOR_ID_CXL = 0x1e98;

/** One HDM range of the CXL device DVSEC (ls-ecaps.c cxl_range). */
function cxlRange(base: bigint, size: bigint, n: number): string[] {
  const interleave = [0, 256, 4096, 512, 1024, 2048, 8192, 16384];
  const type = ['Volatile', 'Non-volatile', 'CDAT'];
  const cls = ['DRAM', 'Storage', 'CDAT'];
  const w = Number(size & 0xffffn);
  const sz = size & ~0x0fff_ffffn;
  return [
    `Range${n}: ${hexBig(base, 16)}-${hexBig(base + sz - 1n, 16)}`,
    // lspci indexes its tables without a bound check; reserved encodings print as <?> here.
    `\tValid${FLAG(w, 1)} Active${FLAG(w, 2)} Type=${type[BITS(w, 2, 3)] ?? '<?>'} Class=${cls[BITS(w, 5, 3)] ?? '<?>'} interleave=${interleave[BITS(w, 8, 5)] ?? '<?>'} timeout=${1 << (BITS(w, 13, 3) * 2)}s`,
  ];
}

const long64HiLo = (ctx: CapContext, offset: number) => (BigInt(ctx.cfg.long(offset)) << 32n) | BigInt(ctx.cfg.long(offset + 4));

/** CXL device DVSEC, ID 0 (ls-ecaps.c dvsec_cxl_device). */
function cxlDevice(ctx: CapContext, rev: number, where: number, len: number, d: string[]): void {
  const { cfg } = ctx;
  if (len < PCI_CXL_DEV_LEN || rev < 1) return;
  let w = cfg.word(where + PCI_CXL_DEV_CAP);
  d.push(`CXLCap:\tCache${FLAG(w, 1)} IO${FLAG(w, 2)} Mem${FLAG(w, 4)} Mem HW Init${FLAG(w, 8)} HDMCount ${BITS(w, 4, 2)} Viral${FLAG(w, 0x4000)}`);
  w = cfg.word(where + PCI_CXL_DEV_CTRL);
  d.push(
    `CXLCtl:\tCache${FLAG(w, 1)} IO${FLAG(w, 2)} Mem${FLAG(w, 4)} Cache SF Cov ${BITS(w, 3, 5)} Cache SF Gran ${BITS(w, 8, 3)} Cache Clean${FLAG(w, 0x800)} Viral${FLAG(w, 0x4000)}`,
  );
  d.push(`CXLSta:\tViral${FLAG(cfg.word(where + PCI_CXL_DEV_STATUS), 0x4000)}`);
  w = cfg.word(where + PCI_CXL_DEV_STATUS2);
  d.push(`CXLSta2:\tResetComplete${FLAG(w, 2)} ResetError${FLAG(w, 4)} PMComplete${FLAG(w, 0x8000)}`);
  w = cfg.word(where + PCI_CXL_DEV_CAP2);
  const unit = BITS(w, 0, 4);
  const size = BITS(w, 8, 8);
  if (unit === 2) d.push(`Cache Size: ${hex(size * (1 << 20), 8)}`);
  else if (unit === 1) d.push(`Cache Size: ${hex(size * (64 << 10), 8)}`);
  else if (unit === 0) d.push('Cache Size Not Reported');
  else d.push(`Cache Size: ${size} of unknown unit size (${unit})`);
  for (const [n, at] of [
    [1, PCI_CXL_DEV_RANGE1_SIZE_HI],
    [2, PCI_CXL_DEV_RANGE2_SIZE_HI],
  ] as const) {
    d.push(...cxlRange(long64HiLo(ctx, where + at + 8), long64HiLo(ctx, where + at), n));
  }
}

/** CXL extensions DVSEC for ports, ID 3 (ls-ecaps.c dvsec_cxl_port). */
function cxlPort(ctx: CapContext, where: number, len: number, d: string[]): void {
  const { cfg } = ctx;
  if (len < PCI_CXL_PORT_EXT_LEN) return;
  // lspci tests the status word against the register offset 0x0a (PCI_CXL_PORT_EXT_STATUS), not bit 0; kept to match it.
  d.push(`CXLPortSta:\tPMComplete${FLAG(cfg.word(where + PCI_CXL_PORT_EXT_STATUS), PCI_CXL_PORT_EXT_STATUS)}`);
  const w = cfg.word(where + PCI_CXL_PORT_CTRL);
  d.push(`CXLPortCtl:\tUnmaskSBR${FLAG(w, 1)} UnmaskLinkDisable${FLAG(w, 2)} AltMem${FLAG(w, 4)} AltBME${FLAG(w, 8)} ViralEnable${FLAG(w, 0x4000)}`);
  d.push(`AlternateBus:\t${hex(cfg.byte(where + PCI_CXL_PORT_ALT_BUS_BASE), 2)}-${hex(cfg.byte(where + PCI_CXL_PORT_ALT_BUS_LIMIT), 2)}`);
  d.push(`AlternateBus:\t${hex(cfg.word(where + PCI_CXL_PORT_ALT_MEM_BASE), 4)}-${hex(cfg.word(where + PCI_CXL_PORT_ALT_MEM_LIMIT), 4)}`);
}

/** CXL register locator DVSEC, ID 8 (ls-ecaps.c dvsec_cxl_register_locator). */
function cxlRegisterLocator(ctx: CapContext, where: number, len: number, d: string[]): void {
  const names = ['empty', 'component registers', 'BAR virtualization', 'CXL device registers', 'CPMU registers'];
  for (let i = 0; ; i++) {
    const pos = where + PCI_CXL_RL_BLOCK1_LO + 8 * i;
    if (pos + 7 >= where + len) break;
    const lo = ctx.cfg.long(pos);
    const hi = ctx.cfg.long(pos + 4);
    const id = BITS(lo, 8, 8);
    if (!id) continue;
    const base = (BigInt(BITS(lo, 16, 16)) << 16n) | (BigInt(hi) << 32n);
    const name = names[id] ?? (id === 0xff ? 'vendor-specific' : '<?>');
    d.push(`Block${i + 1}: BIR: bar${BITS(lo, 0, 3)}, ID: ${name}, offset: ${hexBig(base, 16)}`);
  }
}

/** A GPF time (base, scale) in lspci's words: `N us|ms|s|<?>`, with a warning line for a reserved scale. */
function gpfTime(w: number, d: string[]): string {
  const base = BITS(w, 0, 4);
  const scale = BITS(w, 8, 4);
  let t: number;
  if (scale === 2 || scale === 5) t = base * 100;
  else if (scale === 1 || scale === 4 || scale === 7) t = base * 10;
  else if (scale === 0 || scale === 3 || scale === 6) t = base;
  else {
    d.push(`Reserved time scale encoding ${scale.toString(16)}`);
    t = base;
  }
  return `${t}${scale < 3 ? 'us' : scale < 6 ? 'ms' : scale === 6 ? 's' : '<?>'}`;
}

/** CXL flex bus port DVSEC, ID 7 (ls-ecaps.c dvsec_cxl_flex_bus). */
function cxlFlexBus(ctx: CapContext, where: number, rev: number, d: string[]): void {
  const { cfg } = ctx;
  if (rev < 1) {
    d.push(`Revision ${rev} not supported`);
    return;
  }
  const flit = (w: number) => (rev > 1 ? ` 256BFlit${FLAG(w, 0x2000)} PBRFlit${FLAG(w, 0x4000)}` : '');
  let w = cfg.word(where + PCI_CXL_FB_PORT_CAP);
  d.push(`FBCap:\tCache${FLAG(w, 1)} IO${FLAG(w, 2)} Mem${FLAG(w, 4)} 68BFlit${FLAG(w, 0x20)} MltLogDev${FLAG(w, 0x40)}${flit(w)}`);
  w = cfg.word(where + PCI_CXL_FB_PORT_CTRL);
  d.push(
    `FBCtl:\tCache${FLAG(w, 1)} IO${FLAG(w, 2)} Mem${FLAG(w, 4)} SynHdrByp${FLAG(w, 8)} DrftBuf${FLAG(w, 0x10)} 68BFlit${FLAG(w, 0x20)} MltLogDev${FLAG(w, 0x40)} RCD${FLAG(w, 0x80)} Retimer1${FLAG(w, 0x100)} Retimer2${FLAG(w, 0x200)}${flit(w)}`,
  );
  w = cfg.word(where + PCI_CXL_FB_PORT_STATUS);
  d.push(
    `FBSta:\tCache${FLAG(w, 1)} IO${FLAG(w, 2)} Mem${FLAG(w, 4)} SynHdrByp${FLAG(w, 8)} DrftBuf${FLAG(w, 0x10)} 68BFlit${FLAG(w, 0x20)} MltLogDev${FLAG(w, 0x40)}${flit(w)}`,
  );
  d.push(`FBModTS:\tReceived FB Data: ${hex(BITS(cfg.long(where + PCI_CXL_FB_MOD_TS_DATA), 0, 24), 6)}`);
  if (rev > 1) {
    d.push(`FBCap2:\tNOPHint${FLAG(cfg.long(where + PCI_CXL_FB_PORT_CAP2), 1)}`);
    d.push(`FBCtl2:\tNOPHint${FLAG(cfg.long(where + PCI_CXL_FB_PORT_CTRL2), 1)}`);
    d.push(`FBSta2:\tNOPHintInfo: ${BITS(cfg.long(where + PCI_CXL_FB_PORT_STATUS2), 0, 2).toString(16)}`);
  }
}

/**
 * The body of a CXL DVSEC with DVSEC ID `id` and revision `rev` (`len` bytes at `where`), as
 * ls-ecaps.c cap_dvsec_cxl prints it at -vv: device (0), function map (2), port extensions (3),
 * GPF port (4) and device (5), flex bus port (7), register locator (8), MLD (9).
 */
export function capDvsecCxl(ctx: CapContext, id: number, rev: number, where: number, len: number, info: CapabilityInfo): void {
  const { cfg } = ctx;
  if (ctx.verbose < 2 || !cfg.has(where, len)) return;
  const d = info.details;
  switch (id) {
    case 0:
      cxlDevice(ctx, rev, where, len, d);
      break;
    case 2:
      // lspci reads each function map register as a word (the low 16 bits) and prints it as %08x.
      for (let i = 0; i < 8; i++) d.push(`FuncMap ${i}: ${hex(cfg.word(where + PCI_CXL_FUN_MAP_REG_0 + 4 * i), 8)}`);
      break;
    case 3:
      cxlPort(ctx, where, len, d);
      break;
    case 4: {
      const t1 = gpfTime(cfg.word(where + PCI_CXL_GPF_PORT_PHASE1_CTRL), d);
      d.push(`GPF Phase 1 Timeout: ${t1}`);
      const t2 = gpfTime(cfg.word(where + PCI_CXL_GPF_PORT_PHASE2_CTRL), d);
      d.push(`GPF Phase 2 Timeout: ${t2}`);
      break;
    }
    case 5: {
      const t = gpfTime(cfg.word(where + PCI_CXL_GPF_DEV_PHASE2_DUR), d);
      d.push(`GPF Phase 2 Duration: ${t}`);
      d.push(`GPF Phase 2 Power: ${cfg.long(where + PCI_CXL_GPF_DEV_PHASE2_POW)}mW`);
      break;
    }
    case 7:
      cxlFlexBus(ctx, where, rev, d);
      break;
    case 8:
      cxlRegisterLocator(ctx, where, len, d);
      break;
    case 9: {
      const w = cfg.word(where + PCI_CXL_MLD_NUM_LD);
      if (w && w <= PCI_CXL_MLD_MAX_LD) d.push(`NumLogDevs: ${w}`);
      break;
    }
    default:
      d.push(`Unknown ID ${hex(id, 4)}`);
  }
}
