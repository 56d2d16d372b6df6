// Pins the protocol numbers and shared-memory indices: changing one breaks every ring 3 in the field.
import test from 'ava';
import { ServeCtl, ServeState } from '../../r0/serve-control.js';
import {
  CHANNEL_LAYOUT_VERSION,
  CTL_WORDS,
  Ctl,
  claimWord,
  DMA_LANE_BYTES,
  DMA_LANE_HEADER_WORDS,
  DMA_OP,
  DmaLane,
  LEASE_TICK_MS,
  ServerState,
  SLOT_HEADER_WORDS,
  SLOT_STATE_BITS,
  Slot,
  SlotState,
  slotState,
  VCPU_LANE_ANS_AT,
  VCPU_LANE_ANS_BYTES,
  VCPU_LANE_BYTES,
  VCPU_LANE_COUNT,
  VCPU_LANE_LEASE_MS,
  VCPU_LANE_REQ_AT,
  VCPU_LANE_REQ_BYTES,
  VcpuLane,
  vcpuLanesOffset,
  withSlotState,
} from '../../shared/channel-layout.js';
import { REQ_HEADER_BYTES, ReqHeader, SHARED_STRUCTURE_COUNT } from '../../shared/codec.js';
import { PCIRAW_ADDRESS_SPACE, PCIRAW_MEMINFO, PCIRAW_POWER, PCIRAW_PROTOCOL_VERSION, PCIRAWDRIVERRFLAG, PCIRAWR0_DO } from '../../shared/protocol.js';
import { VBoxStatus } from '../../shared/status.js';

/** A constant table as `NAME=value` words in declaration order: the form the pins below are written in. */
const pinned = (table: Record<string, number>): string =>
  Object.entries(table)
    .map(([k, v]) => `${k}=${v}`)
    .join(' ');

test('operation numbers 0..13 are rawpci.h PCIRAWR0OPERATION in its order', (t) => {
  t.is(
    pinned(PCIRAWR0_DO),
    'OPEN_DEVICE=0 CLOSE_DEVICE=1 GET_REGION_INFO=2 MAP_REGION=3 UNMAP_REGION=4 PIO_WRITE=5 PIO_READ=6 ' +
      'MMIO_WRITE=7 MMIO_READ=8 PCICFG_WRITE=9 PCICFG_READ=10 REGISTER_R0_IRQ_HANDLER=11 ' +
      'UNREGISTER_R0_IRQ_HANDLER=12 POWER_STATE_CHANGE=13 INIT_VM=32 DEINIT_VM=33 CONTIG_MEM_INFO=34 ' +
      'GET_IRQ=35 ACK_IRQ=36 BATCH=64',
  );
});

test('power states, driver flags, address-space flags and meminfo actions are rawpci.h values', (t) => {
  t.deepEqual(PCIRAW_POWER, { ON: 0, OFF: 1, SUSPEND: 2, RESUME: 3, RESET: 4 });
  t.is(PCIRAWDRIVERRFLAG.DETACH_HOST_DRIVER, 1);
  t.deepEqual(PCIRAW_ADDRESS_SPACE, { MEM: 0, IO: 1, BAR32: 0, BAR64: 4, MEM_PREFETCH: 8 });
  t.deepEqual(PCIRAW_MEMINFO, { MAP: 0, UNMAP: 1 });
  t.is(PCIRAW_PROTOCOL_VERSION, 0x0001_0000);
});

test('VBox status codes carry err.h numbers', (t) => {
  const pinned: Record<string, number> = {
    VINF_SUCCESS: 0,
    VERR_GENERAL_FAILURE: -1,
    VERR_INVALID_PARAMETER: -2,
    VERR_INVALID_MAGIC: -3,
    VERR_INVALID_HANDLE: -4,
    VERR_NO_MEMORY: -8,
    VERR_PERMISSION_DENIED: -10,
    VERR_VERSION_MISMATCH: -11,
    VERR_NOT_IMPLEMENTED: -12,
    VERR_INVALID_FLAGS: -13,
    VERR_NOT_SUPPORTED: -37,
    VERR_ACCESS_DENIED: -38,
    VERR_TIMEOUT: -40,
    VERR_BUFFER_OVERFLOW: -41,
    VERR_PARSE_ERROR: -53,
    VERR_OUT_OF_RANGE: -54,
    VERR_NOT_FOUND: -78,
    VERR_INVALID_STATE: -79,
    VERR_OUT_OF_RESOURCES: -80,
    VERR_ALREADY_EXISTS: -105,
    VERR_RESOURCE_BUSY: -138,
    VERR_INTERNAL_ERROR: -225,
    VERR_DEV_IO_ERROR: -250,
  };
  for (const [name, rc] of Object.entries(pinned)) t.is((VBoxStatus as Record<string, number>)[name], rc, name);
});

test('channel control block and slot header indices are pinned', (t) => {
  t.is(CHANNEL_LAYOUT_VERSION, 5);
  t.is(CTL_WORDS, 64);
  t.is(SLOT_HEADER_WORDS, 8);
  t.is(
    pinned(Ctl),
    'MAGIC=0 LAYOUT=1 SLOT_COUNT=2 SLOT_BYTES=3 DOORBELL=4 SERVER_STATE=5 SERVER_SLEEPING=6 SESSION=7 ' +
      'ANSWERED=8 SLEEPS=9 SERVER_SPIN_US=10 POSTED_MASK=16',
  );
  t.deepEqual(Slot, { STATE: 0, REQ_LEN: 1, ANS_LEN: 2, WAITER: 3, TOKEN: 4 });
  t.deepEqual(SlotState, { FREE: 0, CLAIMED: 1, POSTED: 2, TAKEN: 3, DONE: 4, ABANDONED: 5 });
  t.deepEqual(ServerState, { NOT_STARTED: 0, RUNNING: 1, STOP_REQUESTED: 2, STOPPED: 3 });
  t.is(pinned(DmaLane), 'BELL=0 REQ_SEQ=1 REQ_OP=2 REQ_ADDR_LO=3 REQ_ADDR_HI=4 REQ_LEN=5 ANS_SEQ=6 ANS_STATUS=7 ANS_LEN=8');
  t.deepEqual(DMA_OP, { READ: 11, WRITE: 12 });
  t.is(DMA_LANE_HEADER_WORDS, 16);
  t.is(DMA_LANE_BYTES, 32768);
  // The state word: state in the low 3 bits, the caller's lease (4-ms ticks) above.
  t.is(SLOT_STATE_BITS, 3);
  t.is(LEASE_TICK_MS, 4);
  t.is(slotState(claimWord(400)), SlotState.CLAIMED);
  t.is(claimWord(400) >>> SLOT_STATE_BITS, 100);
  t.is(withSlotState(claimWord(400), SlotState.DONE) >>> SLOT_STATE_BITS, 100);
});

test('vCPU lane indices and sizes are pinned', (t) => {
  t.is(pinned(VcpuLane), 'REQ_SEQ=0 REQ_LEN=1 OWNER=240 ANS_SEQ=16 ANS_LEN=17 WAITER=18');
  t.deepEqual(
    [VCPU_LANE_COUNT, VCPU_LANE_BYTES, VCPU_LANE_REQ_AT, VCPU_LANE_REQ_BYTES, VCPU_LANE_ANS_AT, VCPU_LANE_ANS_BYTES, VCPU_LANE_LEASE_MS],
    [16, 1024, 8, 56, 76, 884, 1000],
  );
  // The request line, the answer line and the lease line are separate 64-byte lines.
  t.is(Math.floor((VcpuLane.REQ_LEN * 4) / 64), 0);
  t.is(Math.floor((VCPU_LANE_REQ_AT + VCPU_LANE_REQ_BYTES - 1) / 64), 0);
  t.is(Math.floor((VcpuLane.ANS_SEQ * 4) / 64), 1);
  t.true(VcpuLane.OWNER * 4 >= VCPU_LANE_ANS_AT + VCPU_LANE_ANS_BYTES && (VcpuLane.OWNER * 4) % 64 === 0);
  t.is(vcpuLanesOffset(64, 4096) % 64, 0);
  t.is(vcpuLanesOffset(3, 264) % 64, 0);
});

test("ring 0's private serve control block indices are pinned", (t) => {
  t.deepEqual(ServeCtl, { STOP: 0, STATE: 1, BUSY: 2, THREAD_ID: 3, GIVEN_UP: 4, ANSWERED: 5, IRQS: 6, FAULTS: 7 });
  t.deepEqual(ServeState, { NOT_STARTED: 0, RUNNING: 1, STOPPED: 2 });
});

test('request header layout and the shared msgpackr structure count are pinned', (t) => {
  t.is(REQ_HEADER_BYTES, 16);
  t.deepEqual(ReqHeader, { MAGIC: 0, VERSION: 4, SIZE: 8, SESSION: 12 });
  t.is(SHARED_STRUCTURE_COUNT, 27);
});
