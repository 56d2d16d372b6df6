// The benchmark behind `npm run bench`: every path of a small synchronous PIO/MMIO read (channel, pool.run, in-thread, raw SAB ping-pong), throughput and idle CPU, in one run.

import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { Bench } from 'tinybench';
import { HostTable } from '../../r0/host-table.js';
import { Ring0 } from '../../r0/ring0.js';
import { ServeControl } from '../../r0/serve-control.js';
import { Ring0Service } from '../../r0/service.js';
import { SimHost } from '../../r0/sim/host.js';
import { eduFactorial } from '../../r0/sim/models/edu.js';
import { TimerQueue } from '../../r0/timers.js';
import { ChannelClient } from '../../r3/channel.js';
import { type BatchAccess, RawPciClient } from '../../r3/client.js';
import { DmaLaneServer } from '../../r3/dma-server.js';
import { Bdf } from '../../shared/bdf.js';
import { Ctl, createChannel, ServerState } from '../../shared/channel-layout.js';
import { PciRawCodec } from '../../shared/codec.js';
import { EDU_REG, EDU_STATUS_COMPUTING, EDU_STATUS_IRQFACT } from '../../shared/devices/edu.js';
import type { GuestMemoryAccess } from '../../shared/guest-memory.js';
import { PCI_COMMAND, PCI_COMMAND_MASTER, PCI_COMMAND_MEMORY } from '../../shared/linux/pci-regs.js';
import { PCIRAW_POWER, PCIRAWDRIVERRFLAG, PCIRAWR0_DO, type PciRawAnswer, type PciRawMemLoc } from '../../shared/protocol.js';
import { EduDriver } from '../drivers/edu.js';
import type { DmaWorkerData, DmaWorkerResult } from './dma-worker.js';
import type { EchoWorkerData } from './echo-worker.js';
import type { IrqWorkerData } from './irq-worker.js';
import { FRAME_ANS_AT, FRAME_ANS_BYTES, FRAME_REQ_AT, FRAME_REQ_BYTES, PINGPONG_BATCH_AT, PINGPONG_PAUSE, type PingPongWorkerData } from './pingpong-worker.js';
import type { VcpuWorkerData, VcpuWorkerResult } from './vcpu-worker.js';

/** One measurement: round-trip percentiles in microseconds and operations per second. */
export interface BenchResult {
  name: string;
  p50_us: number;
  p99_us: number;
  ops_per_s: number;
  /** Bytes moved per second, where a result moves data (DMA, memcpy): ops_per_s times the bytes of one operation. */
  bytes_per_s?: number;
}

/** What `npm run bench -- --json` prints. */
export interface BenchReport {
  tool: 'rawpci-bench';
  date: string;
  machine: {
    node: string;
    v8: string;
    platform: string;
    arch: string;
    cpus: number;
    cpu_model: string;
    loadavg_1m: number;
    /** CPU that other processes used during the run, in percent of all cores (Linux /proc/stat minus this process); above ~10 the spinning figures are not trustworthy. */
    other_processes_cpu_pct: number | null;
  };
  options: BenchOptions;
  /** One entry per measurement (see {@link DESCRIPTIONS} for what each name measures). */
  results: BenchResult[];
  /** What each result measures, by name. */
  descriptions: Record<string, string>;
  /** CPU used by the whole process (every ring-0 worker, the pool, the main thread) over an idle window after a VM connected and stopped sending, in percent of one core. */
  idle_worker_cpu_pct: number;
  /** Per-thread CPU of that idle window (from /proc/self/task; Linux only), percent of one core. */
  idle_threads: { tid: number; name: string; cpu_pct: number }[];
  /**
   * Ring-0 serve-loop sleeps per 1000 requests during each channel measurement. Near 0 when ring 0
   * and the vCPU spin on separate cores; high when they share one (then every round trip pays a
   * futex wake and a spin budget).
   */
  ring0_sleeps_per_1k: Record<string, number>;
  /** The issue's ratios: pool.run p50 / channel p50 (target >= 20), channel p50 / raw ping-pong p50 (target <= 4). */
  ratios: {
    pool_run_over_channel_p50_pio: number;
    pool_run_over_channel_p50_mmio: number;
    channel_over_raw_pingpong_p50_pio: number;
    channel_over_raw_pingpong_p50_mmio: number;
    /** channel-sync-pio p50 / raw-sab-frame p50: the channel against the floor of a framed round trip in JavaScript. */
    channel_over_raw_frame_p50_pio: number;
    /** channel-sync-pio p50 / raw-sab-pingpong p50 in interleaved rounds (the median of the rounds' ratios): what the hot-path target is judged on. */
    channel_over_raw_pingpong_p50_pio_paired: number;
    /** channel-sync-varied p50 / raw-sab-pingpong p50 in interleaved rounds (target <= 3). */
    varied_over_raw_pingpong_p50_paired: number;
    /** A 64 KiB DMA from shared guest RAM (ring 0 copies): p50 per KiB, microseconds. */
    dma_shared_us_per_kib: number;
    /** A 64 KiB DMA through ring 3 (guestMemory: the DMA lane): p50 per KiB, microseconds. */
    dma_ring3_us_per_kib: number;
    /** What the lane adds: (ring 3 p50 - shared p50) per KiB, microseconds. */
    dma_ring3_extra_us_per_kib: number;
    /** edu DMAs driven by MMIO (16 x 4095 bytes), shared guest RAM: p50 per KiB, microseconds (MMIO round trips dominate). */
    edu_dma_shared_us_per_kib: number;
    /** The same through ring 3. */
    edu_dma_ring3_us_per_kib: number;
    /** cross-process-sync-pio p50 / channel-sync-pio p50 (ring 0 in a `rawpci serve` process vs in this one). */
    cross_process_over_channel_p50_pio: number;
    /** channel-sync-varied p50 / raw-sab-pingpong p50 (target <= 3). */
    varied_over_raw_pingpong_p50: number;
    /** channel-sync-pio p99 / its p50 (target <= 4 on a quiet machine). */
    channel_p99_over_p50_pio: number;
    /** channel-sync-varied p99 / its p50 (target <= 4 on a quiet machine). */
    varied_p99_over_p50: number;
    /** irq-delivery p50 / raw-sab-pingpong p50 (target <= 10). */
    irq_delivery_over_raw_pingpong_p50: number;
    /** channel-batch-32 accesses/s over raw-sab-batch-32 words/s (target >= 0.25). */
    batch_over_raw_batch_ops: number;
    /** dma-64k bytes/s over memcpy-64k bytes/s (target >= 0.5). */
    dma_64k_over_memcpy_bytes_per_s: number;
    /** dma-64k bytes/s over memcpy-64k-shared bytes/s (what bounds it: the copy out of shared memory). */
    dma_64k_over_shared_memcpy_bytes_per_s: number;
  };
  targets: {
    channel_20x_faster_than_pool_run: boolean;
    channel_at_most_4x_raw_pingpong: boolean;
    idle_workers_under_5pct: boolean;
    /** cross-process-sync-pio p50 within 1.3x of channel-sync-pio p50. */
    cross_process_within_1_3x_channel: boolean;
    /** The hot-path issue's targets (its ratios above). */
    channel_pio_at_most_2_5x_raw_pingpong: boolean;
    channel_varied_at_most_3x_raw_pingpong: boolean;
    channel_p99_at_most_4x_p50: boolean;
    irq_delivery_at_most_10x_raw_pingpong: boolean;
    dma_64k_at_least_half_memcpy: boolean;
    /** channel-batch-32 at least 5 M accesses/s and a quarter of raw-sab-batch-32. */
    batch_at_least_5m_and_quarter_raw: boolean;
    idle_workers_under_1pct: boolean;
  };
}

/** Time budgets of a run, in milliseconds. */
export interface BenchOptions {
  /** Measuring time per latency measurement. */
  timeMs: number;
  /** Warm-up time per latency measurement. */
  warmupMs: number;
  /** Measuring time of the throughput measurements (2 vCPUs, 32 in flight). */
  throughputMs: number;
  /** Length of the idle-CPU window. */
  idleMs: number;
  /** Boot the v86 guest for v86-guest-mmio (about 20 s; needs `npm run fetch:guest` once). Default false. */
  guest?: boolean;
}

/** Budgets of a full run (about 40 s on the project's 2-core machines). */
export const FULL_OPTIONS: BenchOptions = { timeMs: 2000, warmupMs: 500, throughputMs: 2000, idleMs: 2000, guest: true };
/** Budgets of `--quick` (about 8 s). */
export const QUICK_OPTIONS: BenchOptions = { timeMs: 300, warmupMs: 150, throughputMs: 400, idleMs: 1000 };

/** What each measurement name means (printed in the table and the JSON). */
export const DESCRIPTIONS: Record<string, string> = {
  'model-direct-pio': 'testdev ioRead called directly on the device model (no handle check, no codec)',
  'in-thread-dispatch-pio': 'Ring0.dispatch of a decoded PIO_READ request (handle + BAR checks + model), no codec',
  'in-thread-codec-pio': 'codec only: encode request, decode request, encode answer, decode answer (no dispatch)',
  'in-thread-pio': 'in-thread call: encode + Ring0.handleFrame (decode, dispatch, encode) + decode answer, no thread hop',
  'in-thread-mmio': 'the same for a 4-byte MMIO read of edu BAR0',
  'raw-sab-pingpong': 'raw SharedArrayBuffer ping-pong with a spinning worker_threads Worker, no codec',
  'raw-sab-frame':
    "raw SharedArrayBuffer round trip of a 48-byte request frame and a 24-byte answer, each in one cache line, copied in and out as ring 0 and ring 3 copy them, nothing decoded: the floor of a vCPU lane's round trip in JavaScript",
  'raw-sab-batch-32':
    'raw SharedArrayBuffer ping-pong of 32 words per hand-over (32 requests written, one ball, 32 answers read): p50/p99 of one batch, ops_per_s counts words (accesses)',
  'memcpy-64k': 'Uint8Array.set of 64 KiB between two ArrayBuffers in this thread: memcpy speed',
  'memcpy-64k-shared':
    "the same copy out of a SharedArrayBuffer, as every DMA from guest RAM is: V8 moves shared memory with relaxed atomic words, not memcpy, so this is JavaScript's floor for dma-64k",
  'channel-sync-varied':
    "a driver-like sequence on edu through the channel, one access per sample: write liveness (varying value), read it back, write a factorial input (varying), poll status until not busy, read the result; factorialDelayMs 0 (the result comes at ring 0's next timer poll)",
  'channel-batch-32':
    'RawPciClient.batch of 32 accesses (testdev PIO and edu MMIO reads alternating) in one BATCH request: p50/p99 of one batch, ops_per_s counts accesses',
  'map-region-read': "a 4-byte load through a MAP_REGION view of the testdev's memory BAR (region 2) at varying offsets: no ring-0 call at all",
  'trapped-mmio-varied': 'the same loads of region 2 trapped: RawPciClient.mmioRead through the channel at the same varying offsets',
  'irq-delivery-sleep': "the same with the client's default spin budget (50 us): the interrupt thread is asleep when the interrupt comes and pays a futex wake",
  'v86-guest-mmio':
    "a guest program in Linux in the v86 VM (rawpci vm, simulated host) reading edu's register 0x00 through an mmap of resource0, 20,000 reads in 50 timed batches: nanoseconds per read as the guest sees them (p50/p99 over the batches' means); ops_per_s from the mean",
  'irq-delivery':
    "edu's factorial-done interrupt, raised by the device model 0.2 ms after a sync MMIO write while the writing thread sleeps, to the VM's interrupt thread returning from its parked GET_IRQ (RawPciClient.attach, sync, spinning up to 1 ms per wait as ring 0 does): per interrupt, from the event's timeNs (ring 0 stamps it as the model raises the line) to the handler's first instruction",
  'channel-echo-pio': 'channel client (encode, post, spin/wait, decode) against a ChannelServer answering a fixed answer (no dispatch)',
  'channel-sync-pio': 'RawPciClient.pioRead (sync) through the shared-memory channel to a piscina ring-0 worker',
  'channel-sync-mmio': 'RawPciClient.mmioRead (sync) of edu BAR0 through the channel',
  'cross-process-sync-pio':
    "the channel-sync-pio read with ring 0 in a spawned `rawpci serve` process: RawPciClient.connect('unix:PATH'), memfd channel, futex wake-ups",
  'pool-run-pio': 'await pool.run({ kind: "call" }) with a PciRawCodec frame, answer decoded',
  'pool-run-mmio': 'the same for the MMIO read',
  'channel-2vcpu-pio': 'two vCPU worker threads (RawPciClient.attach) doing sync PIO reads at once: total ops/s, per-call percentiles',
  'channel-32-inflight-pio': '32 pioReadAsync calls in flight (Promise.all), repeated: total ops/s; p50/p99 of one batch of 32',
  'dma-64k':
    "one 64 KiB DMA read through ring 0's IommuDomain (translate + copy) from shared guest RAM, timed in a ring-0 worker thread; bytes_per_s beside memcpy-64k's",
  'dma-64k-ring3':
    'the same DMA with guest memory only ring 3 can reach: two 32 KiB DMA lane round trips, ring 3 (this thread) spinning in DmaLaneServer.serve as a vCPU in a sync wait does',
  'edu-dma-64k':
    '16 edu DMAs of 4095 bytes (8 from guest RAM, 8 to it; 64 KiB in all) driven by sync MMIO with polling, dmaDelayMs 0, guest RAM shared: ring 0 copies',
  'edu-dma-64k-ring3': 'the same with guestMemory over a plain ArrayBuffer: ring 0 asks ring 3 to copy through the DMA lane, served in the polling calls',
};

const TESTDEV = '0000:00:05.0';
const EDU = '0000:00:04.0';
const TESTDEV_ID = 0x5250_0001;
const EDU_ID = 0x0100_00ed;

/** Progress lines go here (stderr), so `--json` keeps stdout to the one JSON object. */
export type Progress = (line: string) => void;

/**
 * Runs every measurement in one process and returns the report. Throws when a read returns a
 * wrong value (the bench checks what it measures) or a ring-0 call fails.
 */
export async function runBench(options: BenchOptions = FULL_OPTIONS, progress: Progress = () => {}): Promise<BenchReport> {
  process.env.RAWPCI_LOG ??= 'error';
  const results: BenchResult[] = [];
  const sys0 = systemCpu();
  const self0 = process.cpuUsage();
  const sleepsPer1k: Record<string, number> = {};
  const paired = { pio: Number.NaN, varied: Number.NaN };
  const add = (r: BenchResult) => {
    results.push(r);
    progress(`${r.name.padEnd(24)} p50 ${fmt(r.p50_us)} us  p99 ${fmt(r.p99_us)} us  ${Math.round(r.ops_per_s)} ops/s`);
  };

  // ---- in-thread: the Ring0 dispatcher in this thread, no thread hop ----
  {
    const table = HostTable.create();
    const r0 = new Ring0({ backend: SimHost.fromInventory(undefined, table), table, timers: new TimerQueue() });
    const session = r0.createSession(new Uint8Array(new SharedArrayBuffer(1 << 20)));
    const codec = new PciRawCodec();
    const call = (op: number, target: number, params: unknown): PciRawAnswer =>
      codec.decodeAnswer(r0.handleFrame(session, codec.encodeRequestBuffer(session.id, op, target, params))!);
    const td = out(call(PCIRAWR0_DO.OPEN_DEVICE, 0, openParams(TESTDEV)), 'open testdev').device as number;
    const edu = out(call(PCIRAWR0_DO.OPEN_DEVICE, 0, openParams(EDU)), 'open edu').device as number;
    const port = Number(out(call(PCIRAWR0_DO.GET_REGION_INFO, td, { region: 0 }), 'testdev BAR0').regionStart);
    const addr = out(call(PCIRAWR0_DO.GET_REGION_INFO, edu, { region: 0 }), 'edu BAR0').regionStart as bigint;
    const pio = () => out(call(PCIRAWR0_DO.PIO_READ, td, { port, cb: 4 }), 'PIO_READ').value as number;
    const mmio = () => (out(call(PCIRAWR0_DO.MMIO_READ, edu, { address: addr, cb: 4 }), 'MMIO_READ').value as PciRawMemLoc).u as number;
    expect(pio(), TESTDEV_ID, 'in-thread PIO read of testdev ID');
    expect(mmio(), EDU_ID, 'in-thread MMIO read of edu ID');

    // The device model alone (what the host "hardware" costs).
    const dev = session.handles.get(td)!.hostDevice;
    const buf = new Uint8Array(4);
    dev.readIo(0, 0, buf);
    expect(new DataView(buf.buffer).getUint32(0, true), TESTDEV_ID, 'model readIo of testdev ID');
    add(await measure('model-direct-pio', () => dev.readIo(0, 0, buf), options));

    // The dispatcher without the codec: a request decoded once.
    const req = codec.decodeRequest(codec.encodeRequestBuffer(session.id, PCIRAWR0_DO.PIO_READ, td, { port, cb: 4 }));
    if ('rc' in req) throw new Error(`bench request did not decode: ${req.msg}`);
    add(await measure('in-thread-dispatch-pio', () => r0.dispatch(session, req), options));

    // The codec without the dispatcher: both directions, both ends.
    add(
      await measure(
        'in-thread-codec-pio',
        () => {
          codec.decodeRequest(codec.encodeRequestBuffer(session.id, PCIRAWR0_DO.PIO_READ, td, { port, cb: 4 }));
          codec.decodeAnswer(codec.encodeAnswer({ rc: 0, out: { value: TESTDEV_ID } }));
        },
        options,
      ),
    );
    add(await measure('in-thread-pio', pio, options));
    add(await measure('in-thread-mmio', mmio, options));
    r0.endSession(session);
  }

  // ---- raw SharedArrayBuffer ping-pong: the floor of any cross-thread round trip ----
  // The worker stays (parked) for the whole run: the hot-path ratios are measured against it in
  // interleaved rounds (see pairedRatio).
  let idle: { pct: number; threads: BenchReport['idle_threads'] } | undefined;
  const raw = await RawPingPong.start();
  try {
    add(await measure('raw-sab-pingpong', raw.roundTrip, options));
    raw.pause();
    {
      const sab = new SharedArrayBuffer((PINGPONG_BATCH_AT + 2 * BATCH) * 4);
      const i32 = new Int32Array(sab);
      const w = new Worker(new URL('./pingpong-worker.js', import.meta.url), { workerData: { sab, batch: BATCH } satisfies PingPongWorkerData });
      try {
        await waitFor(() => Atomics.load(i32, 1) === 1, 10_000, 'batch ping-pong worker did not start');
        let seq = 0;
        const batch = () => {
          seq += 2;
          for (let k = 0; k < BATCH; k++) i32[PINGPONG_BATCH_AT + k] = seq + k;
          Atomics.store(i32, 0, seq - 1);
          while (Atomics.load(i32, 0) !== seq);
          let sum = 0;
          for (let k = 0; k < BATCH; k++) sum += i32[PINGPONG_BATCH_AT + BATCH + k]!;
          if (sum !== BATCH * seq + (BATCH * (BATCH - 1)) / 2 + BATCH) throw new Error('batch ping-pong answered wrong words');
        };
        const r = await measure('raw-sab-batch-32', batch, options);
        add({ ...r, ops_per_s: r.ops_per_s * BATCH });
      } finally {
        Atomics.store(i32, 0, -1);
        await w.terminate();
      }
    }
    {
      // A framed request and answer with nothing in between: the floor of a vCPU lane's round trip.
      // 1 MiB so the buffer is page-aligned (mmapped), and the request and answer lines are lines.
      const sab = new SharedArrayBuffer(1 << 20);
      const i32 = new Int32Array(sab);
      const w = new Worker(new URL('./pingpong-worker.js', import.meta.url), { workerData: { sab, frame: true } satisfies PingPongWorkerData });
      try {
        await waitFor(() => Atomics.load(i32, 1) === 1, 10_000, 'frame ping-pong worker did not start');
        const req = new Uint8Array(sab, (FRAME_REQ_AT + 1) * 4, FRAME_REQ_BYTES);
        const ans = new Uint8Array(sab, (FRAME_ANS_AT + 1) * 4, FRAME_ANS_BYTES);
        const frame = new Uint8Array(FRAME_REQ_BYTES).fill(3);
        const answer = new Uint8Array(FRAME_ANS_BYTES);
        let seq = 0;
        const rt = () => {
          seq++;
          req.set(frame);
          Atomics.store(i32, FRAME_REQ_AT, seq);
          while (Atomics.load(i32, FRAME_ANS_AT) !== seq);
          answer.set(ans);
        };
        add(await measure('raw-sab-frame', rt, options));
        if (answer[0] !== 4) throw new Error('frame ping-pong answered wrong bytes');
      } finally {
        Atomics.store(i32, FRAME_REQ_AT, -1);
        await w.terminate();
      }
    }
    {
      const src = new Uint8Array(64 << 10).map((_, i) => i);
      const dst = new Uint8Array(64 << 10);
      const r = await measure('memcpy-64k', () => dst.set(src), options);
      add({ ...r, bytes_per_s: r.ops_per_s * (64 << 10) });
      // Guest RAM is a SharedArrayBuffer: V8 copies out of shared memory with relaxed atomic word moves, not memcpy.
      const shared = new Uint8Array(new SharedArrayBuffer(1 << 20)).fill(7);
      const rs = await measure('memcpy-64k-shared', () => dst.set(shared.subarray(0x1000, 0x1000 + (64 << 10))), options);
      add({ ...rs, bytes_per_s: rs.ops_per_s * (64 << 10) });
    }

    // ---- the channel with a ring 0 that does nothing: transport + client codec ----
    {
      const views = createChannel(1);
      const control = ServeControl.create();
      const w = new Worker(new URL('./echo-worker.js', import.meta.url), {
        workerData: { channel: views.sab, value: TESTDEV_ID, control: control.sab } satisfies EchoWorkerData,
      });
      try {
        await waitFor(() => Atomics.load(views.i32, Ctl.SERVER_STATE) !== ServerState.NOT_STARTED, 10_000, 'echo worker did not start');
        const ch = new ChannelClient(views.sab);
        const echo = () => {
          const a = ch.callSync(PCIRAWR0_DO.PIO_READ, 1, { port: 0xc000, cb: 4 });
          if (a.rc !== 0) throw new Error(`echo channel answered rc ${a.rc}: ${a.msg}`);
        };
        add(await measure('channel-echo-pio', echo, options));
      } finally {
        control.requestStop();
        Atomics.add(views.i32, Ctl.DOORBELL, 1);
        Atomics.notify(views.i32, Ctl.DOORBELL);
        await w.terminate();
      }
    }

    // ---- interrupt delivery, on a service of its own (edu raising its interrupt 0.2 ms after the write) ----
    add(await irqDelivery(options, IRQ_SPIN_US));
    add(await irqDelivery(options, IRQ_SLEEP_SPIN_US));

    // ---- the channel: a VM on the ring-0 service ----
    const service = await Ring0Service.start();
    const poolService = await Ring0Service.start({ maxVms: 1 });
    let vm: RawPciClient | undefined;
    try {
      vm = await RawPciClient.connect(service);
      const client = vm;
      const td = client.openDevice(TESTDEV, { detachHostDriver: true });
      const edu = client.openDevice(EDU, { detachHostDriver: true });
      const port = Number(client.getRegionInfo(td, 0).regionStart);
      const addr = client.getRegionInfo(edu, 0).regionStart;
      expect(client.pioRead(td, port, 4), TESTDEV_ID, 'channel PIO read of testdev ID');
      expect(client.mmioRead(edu, addr, 4), EDU_ID, 'channel MMIO read of edu ID');
      const ctl = new Int32Array(client.endpoint().channel);
      const watch = async (name: string, fn: () => Promise<BenchResult>) => {
        const s0 = Atomics.load(ctl, Ctl.SLEEPS);
        const a0 = Atomics.load(ctl, Ctl.ANSWERED);
        add(await fn());
        const answered = Atomics.load(ctl, Ctl.ANSWERED) - a0;
        sleepsPer1k[name] = answered > 0 ? ((Atomics.load(ctl, Ctl.SLEEPS) - s0) * 1000) / answered : 0;
      };
      await watch('channel-sync-pio', () => measure('channel-sync-pio', () => client.pioRead(td, port, 4), options));
      paired.pio = await pairedRatio(raw, () => client.pioRead(td, port, 4), options);
      await watch('channel-sync-mmio', () => measure('channel-sync-mmio', () => client.mmioRead(edu, addr, 4), options));

      // ---- 32 accesses in one BATCH request (one doorbell, one round trip) ----
      {
        const bar0 = client.getRegionInfo(edu, 0).regionStart;
        const accesses: BatchAccess[] = Array.from({ length: BATCH }, (_, k) =>
          k % 2 === 0 ? { op: 'pioRead' as const, handle: td, port, cb: 4 as const } : { op: 'mmioRead' as const, handle: edu, address: bar0, cb: 4 as const },
        );
        const one = () => {
          const r = client.batch(accesses);
          if (r[BATCH - 1]!.rc !== 0 || r[0]!.value !== TESTDEV_ID) throw new Error(`channel-batch-32 answered ${JSON.stringify(r[0])}`);
        };
        const r = await measure('channel-batch-32', one, options);
        await watch('channel-batch-32', async () => ({ ...r, ops_per_s: r.ops_per_s * BATCH }));
      }

      // ---- a read through a MAP_REGION view (the testdev's memory BAR) beside the same read trapped ----
      {
        const bar2 = client.getRegionInfo(td, 2);
        const view = client.mapRegion(td, 2);
        try {
          const words = Math.min(Number(bar2.regionSize), 1 << 16) >>> 2;
          client.mmioWrite(td, bar2.regionStart + 8n, 4, 0x5a5a_1234);
          expect(view.view.getUint32(8, true), 0x5a5a_1234, 'MAP_REGION view sees a trapped write');
          let k = 0;
          add(
            await measure(
              'map-region-read',
              () => {
                k = (k + 7) % words;
                SINK[0]! ^= view.view.getUint32(k << 2, true);
              },
              options,
            ),
          );
          let j = 0;
          await watch('trapped-mmio-varied', () =>
            measure(
              'trapped-mmio-varied',
              () => {
                j = (j + 7) % words;
                SINK[0]! ^= client.mmioRead(td, bar2.regionStart + BigInt(j << 2), 4);
              },
              options,
            ),
          );
        } finally {
          client.unmapRegion(view);
        }
      }

      // ---- the same PIO read with ring 0 in another process: a spawned `rawpci serve` ----
      {
        const serve = await spawnServe();
        try {
          const xvm = await RawPciClient.connect(`unix:${serve.socket}`, { guestRamBytes: 1 << 20 });
          try {
            const xtd = xvm.openDevice(TESTDEV, { detachHostDriver: true });
            const xport = Number(xvm.getRegionInfo(xtd, 0).regionStart);
            expect(xvm.pioRead(xtd, xport, 4), TESTDEV_ID, 'cross-process PIO read of testdev ID');
            const xctl = new Int32Array(xvm.endpoint().channel);
            const s0 = Atomics.load(xctl, Ctl.SLEEPS);
            const r = await measure('cross-process-sync-pio', () => xvm.pioRead(xtd, xport, 4), options);
            add(r);
            const answered = Atomics.load(xctl, Ctl.ANSWERED);
            sleepsPer1k['cross-process-sync-pio'] = answered > 0 ? ((Atomics.load(xctl, Ctl.SLEEPS) - s0) * 1000) / answered : 0;
          } finally {
            await xvm.close();
          }
        } finally {
          await serve.stop();
        }
      }

      // ---- pool.run: one request frame per task, on a separate pool (one worker: the session lives there) ----
      {
        const pool = poolService.pool;
        const ram = new SharedArrayBuffer(1 << 20);
        const session = (await pool.run({ kind: 'open-session', ram })) as number;
        const codec = new PciRawCodec();
        const call = async (op: number, target: number, params: unknown): Promise<PciRawAnswer> =>
          codec.decodeAnswer((await pool.run({ kind: 'call', session, frame: codec.encodeRequestBuffer(session, op, target, params) })) as Uint8Array);
        const ptd = out(await call(PCIRAWR0_DO.OPEN_DEVICE, 0, openParams(TESTDEV)), 'pool open testdev').device as number;
        const pedu = out(await call(PCIRAWR0_DO.OPEN_DEVICE, 0, openParams(EDU)), 'pool open edu').device as number;
        const pio = async () => out(await call(PCIRAWR0_DO.PIO_READ, ptd, { port, cb: 4 }), 'pool PIO_READ').value as number;
        const mmio = async () => (out(await call(PCIRAWR0_DO.MMIO_READ, pedu, { address: addr, cb: 4 }), 'pool MMIO_READ').value as PciRawMemLoc).u as number;
        expect(await pio(), TESTDEV_ID, 'pool.run PIO read of testdev ID');
        expect(await mmio(), EDU_ID, 'pool.run MMIO read of edu ID');
        add(await measure('pool-run-pio', pio, options, true));
        add(await measure('pool-run-mmio', mmio, options, true));
        await pool.run({ kind: 'end-session', session });
      }

      // ---- DMA alone: ring 0's IommuDomain read of 64 KiB, shared vs through the lane ----
      for (const mode of ['shared', 'ring3'] as const) {
        const r = await laneDma(mode, options);
        add({ ...r, bytes_per_s: r.ops_per_s * (64 << 10) });
      }

      // ---- DMA: shared guest RAM vs guest memory only ring 3 can reach (the DMA lane) ----
      {
        const dmaService = await Ring0Service.start({
          inventory: { devices: [{ bdf: EDU, model: 'edu', driver: 'edu', iommuGroup: 3, irq: 11, options: { dmaDelayMs: 0, factorialDelayMs: 0 } }] },
        });
        try {
          {
            const dvm = await RawPciClient.connect(dmaService, { guestRamBytes: DMA_RAM_BYTES });
            try {
              const sequence = driverSequence(dvm);
              add(await measure('channel-sync-varied', sequence, options));
              paired.varied = await pairedRatio(raw, sequence, options);
            } finally {
              await dvm.close();
            }
          }
          const plain = new Uint8Array(new ArrayBuffer(DMA_RAM_BYTES));
          const guestMemory: GuestMemoryAccess = {
            size: DMA_RAM_BYTES,
            read: (a, n) => plain.slice(a, a + n),
            write: (a, d) => plain.set(d, a),
          };
          for (const [name, connect] of [
            ['edu-dma-64k', { guestRamBytes: DMA_RAM_BYTES }],
            ['edu-dma-64k-ring3', { guestMemory }],
          ] as const) {
            const dvm = await RawPciClient.connect(dmaService, connect);
            try {
              const ram = dvm.guestMemory ? plain : dvm.ram;
              const run = dmaRun(dvm, ram);
              add(await measure(name, run, options));
            } finally {
              await dvm.close();
            }
          }
        } finally {
          await dmaService.close();
        }
      }

      // ---- throughput: two vCPU threads of the same VM ----
      await watch('channel-2vcpu-pio', () => twoVcpus(client, td, port, options));

      // ---- throughput: 32 requests in flight (async API) ----
      {
        const batch = async () => {
          const vals = await Promise.all(Array.from({ length: 32 }, () => client.pioReadAsync(td, port, 4)));
          for (const v of vals) if (v !== TESTDEV_ID) throw new Error(`async PIO read 0x${v.toString(16)}, expected 0x${TESTDEV_ID.toString(16)}`);
        };
        const wEnd = performance.now() + options.warmupMs;
        while (performance.now() < wEnd) await batch();
        const samples: number[] = [];
        const t0 = performance.now();
        let t = t0;
        while (t < t0 + options.throughputMs) {
          await batch();
          const t1 = performance.now();
          samples.push((t1 - t) * 1000);
          t = t1;
        }
        samples.sort((a, b) => a - b);
        const result = {
          name: 'channel-32-inflight-pio',
          p50_us: pct(samples, 0.5),
          p99_us: pct(samples, 0.99),
          ops_per_s: (samples.length * 32 * 1000) / (t - t0),
        };
        await watch('channel-32-inflight-pio', async () => result);
      }

      // ---- idle: the VM stays connected but sends nothing ----
      await sleep(300); // past every spin budget (ring 0's 1000 us, the clients' 50 us)
      idle = await idleCpu(options.idleMs);
      progress(`idle CPU over ${options.idleMs} ms: ${idle.pct.toFixed(2)}% of one core`);
    } finally {
      await vm?.close();
      await service.close();
      await poolService.close();
    }

    // ---- a guest in the v86 VM reading an edu register in a loop (only with the guest fetched) ----
    if (options.guest) {
      const r = await v86GuestMmio(progress);
      if (r) add(r);
    } else progress('v86-guest-mmio: not measured (a full run measures it: npm run bench)');
  } finally {
    await raw.stop();
  }

  const get = (n: string) => results.find((r) => r.name === n)!;
  const ratios = {
    pool_run_over_channel_p50_pio: get('pool-run-pio').p50_us / get('channel-sync-pio').p50_us,
    pool_run_over_channel_p50_mmio: get('pool-run-mmio').p50_us / get('channel-sync-mmio').p50_us,
    channel_over_raw_pingpong_p50_pio: get('channel-sync-pio').p50_us / get('raw-sab-pingpong').p50_us,
    channel_over_raw_pingpong_p50_mmio: get('channel-sync-mmio').p50_us / get('raw-sab-pingpong').p50_us,
    channel_over_raw_frame_p50_pio: get('channel-sync-pio').p50_us / get('raw-sab-frame').p50_us,
    channel_over_raw_pingpong_p50_pio_paired: paired.pio,
    varied_over_raw_pingpong_p50_paired: paired.varied,
    dma_shared_us_per_kib: get('dma-64k').p50_us / 64,
    dma_ring3_us_per_kib: get('dma-64k-ring3').p50_us / 64,
    dma_ring3_extra_us_per_kib: (get('dma-64k-ring3').p50_us - get('dma-64k').p50_us) / 64,
    edu_dma_shared_us_per_kib: get('edu-dma-64k').p50_us / EDU_DMA_KIB,
    edu_dma_ring3_us_per_kib: get('edu-dma-64k-ring3').p50_us / EDU_DMA_KIB,
    cross_process_over_channel_p50_pio: get('cross-process-sync-pio').p50_us / get('channel-sync-pio').p50_us,
    varied_over_raw_pingpong_p50: get('channel-sync-varied').p50_us / get('raw-sab-pingpong').p50_us,
    channel_p99_over_p50_pio: get('channel-sync-pio').p99_us / get('channel-sync-pio').p50_us,
    varied_p99_over_p50: get('channel-sync-varied').p99_us / get('channel-sync-varied').p50_us,
    irq_delivery_over_raw_pingpong_p50: get('irq-delivery').p50_us / get('raw-sab-pingpong').p50_us,
    dma_64k_over_memcpy_bytes_per_s: (get('dma-64k').bytes_per_s ?? 0) / (get('memcpy-64k').bytes_per_s ?? 1),
    batch_over_raw_batch_ops: get('channel-batch-32').ops_per_s / get('raw-sab-batch-32').ops_per_s,
    dma_64k_over_shared_memcpy_bytes_per_s: (get('dma-64k').bytes_per_s ?? 0) / (get('memcpy-64k-shared').bytes_per_s ?? 1),
  };
  const c = cpus();
  const sys1 = systemCpu();
  const self = process.cpuUsage(self0);
  let other: number | null = null;
  if (sys0 && sys1) {
    const busy = sys1.busyMs - sys0.busyMs - (self.user + self.system) / 1000;
    const total = sys1.busyMs + sys1.idleMs - sys0.busyMs - sys0.idleMs;
    other = total > 0 ? Math.max(0, (busy * 100) / total) : null;
  }
  return {
    tool: 'rawpci-bench',
    date: new Date().toISOString(),
    machine: {
      node: process.version,
      v8: process.versions.v8,
      platform: process.platform,
      arch: process.arch,
      cpus: c.length,
      cpu_model: c[0]?.model ?? 'unknown',
      loadavg_1m: loadavg()[0] ?? 0,
      other_processes_cpu_pct: other,
    },
    options,
    results,
    descriptions: DESCRIPTIONS,
    idle_worker_cpu_pct: idle.pct,
    idle_threads: idle.threads,
    ring0_sleeps_per_1k: sleepsPer1k,
    ratios,
    targets: {
      channel_20x_faster_than_pool_run: Math.min(ratios.pool_run_over_channel_p50_pio, ratios.pool_run_over_channel_p50_mmio) >= 20,
      channel_at_most_4x_raw_pingpong: Math.max(ratios.channel_over_raw_pingpong_p50_pio, ratios.channel_over_raw_pingpong_p50_mmio) <= 4,
      idle_workers_under_5pct: idle.pct < 5,
      cross_process_within_1_3x_channel: ratios.cross_process_over_channel_p50_pio <= 1.3,
      channel_pio_at_most_2_5x_raw_pingpong: ratios.channel_over_raw_pingpong_p50_pio_paired <= 2.5,
      channel_varied_at_most_3x_raw_pingpong: ratios.varied_over_raw_pingpong_p50_paired <= 3,
      channel_p99_at_most_4x_p50: Math.max(ratios.channel_p99_over_p50_pio, ratios.varied_p99_over_p50) <= 4,
      irq_delivery_at_most_10x_raw_pingpong: ratios.irq_delivery_over_raw_pingpong_p50 <= 10,
      dma_64k_at_least_half_memcpy: ratios.dma_64k_over_memcpy_bytes_per_s >= 0.5,
      batch_at_least_5m_and_quarter_raw: get('channel-batch-32').ops_per_s >= 5e6 && ratios.batch_over_raw_batch_ops >= 0.25,
      idle_workers_under_1pct: idle.pct < 1,
    },
  };
}

/**
 * One 64 KiB DMA read timed in a ring-0 worker thread (src/bench/dma-worker.ts): from shared
 * guest RAM, or through the DMA lane with this thread serving it (spinning, as a vCPU in a
 * synchronous wait). Throws when a DMA failed.
 */
async function laneDma(mode: 'shared' | 'ring3', o: BenchOptions): Promise<BenchResult> {
  const views = createChannel(1);
  const ram = new SharedArrayBuffer(1 << 20);
  const done = new SharedArrayBuffer(4);
  const plain = new Uint8Array(new ArrayBuffer(ram.byteLength));
  const server = new DmaLaneServer(views, { size: plain.length, read: (a, n) => plain.slice(a, a + n), write: (a, d) => plain.set(d, a) });
  const data: DmaWorkerData = { channel: views.sab, ram, mode, bytes: 64 << 10, warmupMs: o.warmupMs, timeMs: o.timeMs, done };
  const w = new Worker(new URL('./dma-worker.js', import.meta.url), { workerData: data });
  const result = new Promise<DmaWorkerResult>((resolve, reject) => {
    w.once('message', resolve);
    w.once('error', reject);
  });
  try {
    if (mode === 'ring3') {
      const flag = new Int32Array(done);
      // Serve until the worker is done; give the event loop a turn now and then (worker errors).
      while (Atomics.load(flag, 0) === 0) {
        const end = performance.now() + 50;
        while (performance.now() < end && Atomics.load(flag, 0) === 0) server.serve();
        await new Promise((r) => setImmediate(r));
      }
    }
    const r = await result;
    if (r.failures) throw new Error(`${r.failures} DMAs of the ${mode} DMA bench failed`);
    return { name: mode === 'shared' ? 'dma-64k' : 'dma-64k-ring3', p50_us: r.p50_us, p99_us: r.p99_us, ops_per_s: r.ops_per_s };
  } finally {
    await w.terminate();
  }
}

/** KiB one DMA sample moves: 16 transfers of 4095 bytes. */
const EDU_DMA_KIB = (16 * 4095) / 1024;

/** Guest RAM of the DMA measurements, in bytes. */
const DMA_RAM_BYTES = 1 << 20;

/**
 * Sets `vm` up for edu DMA (domain over all of guest RAM, edu powered on and bus master) and
 * returns one sample: 8 DMAs of 4095 bytes from guest RAM at 0x10000.. into the device buffer
 * and 8 back to 0x80000.., each checked by its last byte. `ram` is the guest RAM the test sees.
 */
function dmaRun(vm: RawPciClient, ram: Uint8Array): () => void {
  vm.initVm();
  vm.contigMemInfo(0n, 0n, BigInt(DMA_RAM_BYTES));
  const h = vm.openDevice(EDU, { detachHostDriver: true });
  vm.powerStateChange(h, PCIRAW_POWER.ON);
  vm.cfgWrite(h, PCI_COMMAND, 2, vm.cfgRead(h, PCI_COMMAND, 2) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
  const edu = new EduDriver(vm, h);
  const n = 4095;
  for (let i = 0; i < 8; i++) ram.fill(i + 1, 0x10000 + i * 0x1000, 0x10000 + i * 0x1000 + n);
  let k = 0;
  return () => {
    for (let i = 0; i < 8; i++) {
      edu.dma(BigInt(0x10000 + i * 0x1000), 0, n, false, 'poll');
      edu.dma(BigInt(0x80000 + i * 0x1000), 0, n, true, 'poll');
    }
    k = (k + 1) & 7;
    expect(ram[0x80000 + k * 0x1000 + n - 1]!, k + 1, 'edu DMA round trip');
  };
}

/**
 * v86-guest-mmio: boots the default guest of `rawpci vm` with edu (kernel command line
 * `rawpci.bench`: /progs/mmio-loop) and reads the per-batch means the guest prints. Returns
 * undefined, with a progress line saying why, when the guest was never fetched or the run failed.
 */
async function v86GuestMmio(progress: Progress): Promise<BenchResult | undefined> {
  const { guestCacheFiles, packageRoot, runV86Vm } = await import('../vm/v86-vm.js');
  if (!guestCacheFiles().kernel) {
    progress('v86-guest-mmio: not measured (no guest yet: npm run fetch:guest, once)');
    return undefined;
  }
  // Rebuild the default guest's initramfs (seconds): an older one would not know rawpci.bench.
  const fetched = spawnSync(process.execPath, [join(packageRoot(), 'scripts', 'guest-os', 'fetch.mjs')], { stdio: 'ignore' });
  const files = guestCacheFiles();
  if (fetched.status !== 0 || !files.kernel || !files.initrd) {
    progress(`v86-guest-mmio: not measured (scripts/guest-os/fetch.mjs exited ${fetched.status})`);
    return undefined;
  }
  let text = '';
  const decoder = new TextDecoder();
  const rc = await runV86Vm({
    devices: [{ bdf: Bdf.parse(EDU) }],
    host: 'sim',
    kernel: files.kernel,
    initrd: files.initrd,
    append: 'rawpci.bench quiet loglevel=3',
    timeoutSec: 300,
    interactive: false,
    console: (b) => {
      text += decoder.decode(b, { stream: true });
    },
    log: () => {},
  });
  const batches = /guest: MEASURE mmio-batch-ns-per-read (\S+)/.exec(text)?.[1]?.split(',').map(Number);
  const mean = Number(/guest: MEASURE mmio-ns-per-read (\d+)/.exec(text)?.[1]);
  if (rc !== 0 || !batches?.length || !Number.isFinite(mean) || mean <= 0) {
    progress(`v86-guest-mmio: not measured (the guest exited ${rc}${batches ? '' : ', printed no batch timings'})`);
    return undefined;
  }
  batches.sort((a, b) => a - b);
  return { name: 'v86-guest-mmio', p50_us: pct(batches, 0.5) / 1000, p99_us: pct(batches, 0.99) / 1000, ops_per_s: 1e9 / mean };
}

/** Where measured loads go, so the JIT cannot drop them. */
const SINK = new Int32Array(1);

/** irq-delivery: edu's factorial delay, so the interrupt comes while this thread sleeps (ms). */
const FACTORIAL_IRQ_DELAY_MS = 0.2;
/** irq-delivery: the interrupt thread's spin budget per GET_IRQ, in microseconds: ring 0's own (DEFAULT_SERVER_SPIN_US), longer than the gap between two interrupts of the measurement. */
const IRQ_SPIN_US = 1000;
/** irq-delivery-sleep: the client's default spin budget (50 us): the interrupt thread sleeps and pays a futex wake. */
const IRQ_SLEEP_SPIN_US = 50;

/** Words per batch of raw-sab-batch-32. */
const BATCH = 32;

/**
 * A driver-like access sequence on edu (channel-sync-varied), one access per call: write the
 * liveness register with a varying value, read it back (checked: its NOT), write a factorial
 * input (1..12, varying), poll the status register until the computation is done, read the
 * result (checked). Offsets and values vary, so neither side's caches of encoded requests and
 * answers hold for most accesses.
 */
function driverSequence(vm: RawPciClient): () => void {
  const h = vm.openDevice(EDU, { detachHostDriver: true });
  vm.powerStateChange(h, PCIRAW_POWER.ON);
  const edu = new EduDriver(vm, h);
  edu.enable();
  let step = 0;
  let v = 0x1234_5678;
  let n = 1;
  return () => {
    switch (step) {
      case 0:
        v = (Math.imul(v, 1_103_515_245) + 12_345) >>> 0;
        edu.write(EDU_REG.LIVENESS, v);
        step = 1;
        break;
      case 1:
        expect(edu.read(EDU_REG.LIVENESS), ~v >>> 0, 'edu liveness');
        step = 2;
        break;
      case 2:
        n = (n % 12) + 1;
        edu.write(EDU_REG.FACTORIAL, n);
        step = 3;
        break;
      case 3:
        if ((edu.read(EDU_REG.STATUS) & EDU_STATUS_COMPUTING) === 0) step = 4;
        break;
      default:
        expect(edu.read(EDU_REG.FACTORIAL), eduFactorial(n), `edu ${n}!`);
        step = 0;
    }
  };
}

/**
 * irq-delivery: edu's factorial-done interrupt (STATUS bit 7), raised by the device model itself
 * FACTORIAL_IRQ_DELAY_MS after a sync MMIO write, until the VM's interrupt thread
 * (src/bench/irq-worker.ts, parked in a sync GET_IRQ) runs its handler. Each sample is the
 * handler's stamp minus the event's own `timeNs` (ring 0 stamps it when the model raises the
 * line), in microseconds: delivery alone. This thread sleeps meanwhile, as a halted vCPU does:
 * on these 2-core machines a third runnable thread would push the interrupt thread off its core.
 */
async function irqDelivery(o: BenchOptions, spinUs: number): Promise<BenchResult> {
  const service = await Ring0Service.start({
    inventory: { devices: [{ bdf: EDU, model: 'edu', driver: 'edu', iommuGroup: 3, irq: 11, options: { factorialDelayMs: FACTORIAL_IRQ_DELAY_MS } }] },
  });
  const vm = await RawPciClient.connect(service);
  const edu = vm.openDevice(EDU, { detachHostDriver: true });
  const bar0 = vm.getRegionInfo(edu, 0).regionStart;
  new EduDriver(vm, edu).enable();
  const hostIrq = vm.registerIrqHandler(edu, 11);
  vm.mmioWrite(edu, bar0 + BigInt(EDU_REG.STATUS), 4, EDU_STATUS_IRQFACT);
  const sab = new SharedArrayBuffer(24);
  const f64 = new Float64Array(sab, 0, 2);
  const i32 = new Int32Array(sab, 16, 2);
  const w = new Worker(new URL('./irq-worker.js', import.meta.url), {
    workerData: { endpoint: vm.endpoint(), handle: edu, bar0, sab, spinUs } satisfies IrqWorkerData,
  });
  const failed = new Promise<never>((_, reject) => w.once('error', reject));
  failed.catch(() => {});
  let n = 0;
  const one = async (): Promise<number> => {
    const seen = Atomics.load(i32, 0);
    vm.mmioWrite(edu, bar0 + BigInt(EDU_REG.FACTORIAL), 4, 5 + (n++ & 7));
    const deadline = performance.now() + 5000;
    // Asleep (a blocking wait, not the event loop) until the handler ran.
    while (Atomics.load(i32, 0) === seen) {
      if (performance.now() > deadline) throw new Error('irq-delivery: the interrupt thread did not handle the interrupt within 5 s');
      Atomics.wait(i32, 0, seen, 5);
      await Promise.race([Promise.resolve(), failed]);
    }
    return (f64[1]! - f64[0]!) / 1000;
  };
  try {
    const wEnd = performance.now() + o.warmupMs;
    while (performance.now() < wEnd) await one();
    const samples: number[] = [];
    const end = performance.now() + o.timeMs;
    const t0 = performance.now();
    while (performance.now() < end || samples.length < 16) samples.push(await one());
    const elapsed = performance.now() - t0;
    samples.sort((a, b) => a - b);
    return {
      name: spinUs === IRQ_SPIN_US ? 'irq-delivery' : 'irq-delivery-sleep',
      p50_us: pct(samples, 0.5),
      p99_us: pct(samples, 0.99),
      ops_per_s: (samples.length * 1000) / elapsed,
    };
  } finally {
    // Let the thread leave by itself (its GET_IRQ times out within 200 ms): a thread terminated
    // while its GET_IRQ is parked in ring 0 would take the next interrupt with it.
    Atomics.store(i32, 1, 1);
    const left = once(w, 'exit');
    if ((await Promise.race([left.then(() => true), sleep(2000).then(() => false)])) === false) await w.terminate();
    vm.unregisterIrqHandler(edu, hostIrq);
    await vm.close();
    await service.close();
  }
}

/** The raw ping-pong worker (src/bench/pingpong-worker.ts), kept for the whole run and parked between its rounds. */
class RawPingPong {
  readonly #i32: Int32Array;
  readonly #w: Worker;
  #seq = 0;

  private constructor(sab: SharedArrayBuffer, w: Worker) {
    this.#i32 = new Int32Array(sab);
    this.#w = w;
  }

  /** Starts the worker and waits until it spins. */
  static async start(): Promise<RawPingPong> {
    const sab = new SharedArrayBuffer(64);
    const w = new Worker(new URL('./pingpong-worker.js', import.meta.url), { workerData: { sab } satisfies PingPongWorkerData });
    await waitFor(() => Atomics.load(new Int32Array(sab), 1) === 1, 10_000, 'ping-pong worker did not start');
    return new RawPingPong(sab, w);
  }

  /** One round trip: an odd ball out, the even answer back. */
  readonly roundTrip = (): void => {
    const i32 = this.#i32;
    this.#seq += 2;
    const want = this.#seq;
    Atomics.store(i32, 0, want - 1);
    while (Atomics.load(i32, 0) !== want);
  };

  /** Parks the worker (it sleeps, leaving the core to what is measured next). */
  pause(): void {
    Atomics.store(this.#i32, 1, 0);
    Atomics.store(this.#i32, 0, PINGPONG_PAUSE);
  }

  /** Wakes a parked worker and returns once it spins again (it acknowledges in word 1). */
  resume(): void {
    Atomics.store(this.#i32, 0, this.#seq);
    Atomics.notify(this.#i32, 0);
    const deadline = performance.now() + 5000;
    while (Atomics.load(this.#i32, 1) !== 1) {
      if (performance.now() > deadline) throw new Error('the ping-pong worker did not wake up within 5 s');
      Atomics.notify(this.#i32, 0);
    }
  }

  /** Stops and ends the worker. */
  async stop(): Promise<void> {
    Atomics.store(this.#i32, 0, -1);
    Atomics.notify(this.#i32, 0);
    await this.#w.terminate();
  }
}

/**
 * `fn`'s p50 over the raw ping-pong's p50, measured in interleaved rounds (raw, then `fn`, the
 * ping-pong worker parked while `fn` runs), the median of the rounds' ratios. The 2 vCPUs of
 * these machines move between host cores over seconds (the raw ping-pong alone ranged 0.13 to
 * 0.51 us between runs), so a ratio of two measurements taken seconds apart measures that drift
 * as much as the code; rounds of a few milliseconds each compare like with like.
 */
async function pairedRatio(raw: RawPingPong, fn: () => unknown, o: BenchOptions): Promise<number> {
  const rounds = o.timeMs >= FULL_OPTIONS.timeMs ? 20 : 6;
  const sliceMs = Math.max(5, o.timeMs / rounds / 2);
  const p50 = (f: () => unknown): number => {
    const s: number[] = [];
    const end = performance.now() + sliceMs;
    while (performance.now() < end || s.length < 16) {
      const t = process.hrtime.bigint();
      f();
      s.push(Number(process.hrtime.bigint() - t));
    }
    s.sort((a, b) => a - b);
    return pct(s, 0.5);
  };
  const ratios: number[] = [];
  for (let k = 0; k < rounds; k++) {
    raw.resume();
    p50(raw.roundTrip); // warm the worker up again after its nap
    const r = p50(raw.roundTrip);
    raw.pause();
    await sleep(1);
    fn();
    ratios.push(p50(fn) / r);
  }
  ratios.sort((a, b) => a - b);
  return pct(ratios, 0.5);
}

/**
 * Measures one round trip with tinybench (hrtime clock, warm-up first; every call is one
 * sample, timer cost included and not subtracted, the same for every path).
 */
/** A `rawpci serve` child on a socket in a fresh directory (sim host); `stop` sends SIGTERM, waits, and removes the directory. */
async function spawnServe(): Promise<{ socket: string; stop: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'rawpci-bench-'));
  const socket = join(dir, 'rawpci.sock');
  const bin = fileURLToPath(new URL('../../../bin/rawpci.js', import.meta.url));
  const proc = spawn(process.execPath, [bin, 'serve', '--socket', socket], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, RAWPCI_LOG: 'error' },
  });
  let out = '';
  proc.stdout!.on('data', (d) => (out += d));
  await waitFor(() => out.includes('listening on') || proc.exitCode !== null, 20_000, 'rawpci serve did not start listening');
  if (proc.exitCode !== null) throw new Error(`rawpci serve exited with ${proc.exitCode} (is the native addon built? npm run build:addon)`);
  return {
    socket,
    stop: async () => {
      proc.kill('SIGTERM');
      if (proc.exitCode === null) await once(proc, 'exit');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function measure(name: string, fn: () => unknown, o: BenchOptions, isAsync = false): Promise<BenchResult> {
  const bench = new Bench({ time: o.timeMs, warmupTime: o.warmupMs, iterations: 64, timestampProvider: 'hrtimeNow', throws: true });
  bench.add(name, fn as () => void, isAsync ? { async: true } : { async: false });
  if (isAsync) await bench.run();
  else bench.runSync();
  const r = bench.tasks[0]!.result;
  if (r.state !== 'completed') throw new Error(`measurement ${name} ended ${r.state}${'error' in r ? `: ${r.error.message}` : ''}`);
  return { name, p50_us: r.latency.p50 * 1000, p99_us: r.latency.p99 * 1000, ops_per_s: 1000 / r.period };
}

/** Two vCPU worker threads attached to the VM, each doing sync PIO reads for the same window. */
async function twoVcpus(vm: RawPciClient, handle: number, port: number, o: BenchOptions): Promise<BenchResult> {
  const gate = new SharedArrayBuffer(8);
  const g = new Int32Array(gate);
  const data: VcpuWorkerData = { endpoint: vm.endpoint(), handle, port, expect: TESTDEV_ID, gate, warmupMs: o.warmupMs, timeMs: o.throughputMs };
  const workers = [0, 1].map(() => new Worker(new URL('./vcpu-worker.js', import.meta.url), { workerData: data }));
  const done = workers.map(
    (w) =>
      new Promise<VcpuWorkerResult>((resolve, reject) => {
        w.once('message', resolve);
        w.once('error', reject);
        w.once('exit', (code) => reject(new Error(`vCPU worker exited with code ${code} before reporting`)));
      }),
  );
  try {
    await waitFor(() => Atomics.load(g, 1) === workers.length, 10_000, 'vCPU workers did not start');
    Atomics.store(g, 0, 1);
    Atomics.notify(g, 0);
    const rs = await Promise.all(done);
    const all = new Float64Array(rs.reduce((n, r) => n + r.samplesUs.length, 0));
    let off = 0;
    for (const r of rs) {
      all.set(r.samplesUs, off);
      off += r.samplesUs.length;
    }
    all.sort();
    return {
      name: 'channel-2vcpu-pio',
      p50_us: pct(all, 0.5),
      p99_us: pct(all, 0.99),
      ops_per_s: rs.reduce((s, r) => s + (r.ops * 1000) / r.elapsedMs, 0),
    };
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

/**
 * CPU the whole process uses over `ms` of idleness (process.cpuUsage: every thread), in percent
 * of one core, and per thread from /proc/self/task when it is readable.
 */
async function idleCpu(ms: number): Promise<{ pct: number; threads: BenchReport['idle_threads'] }> {
  const ticks = (): Map<number, { name: string; t: number }> => {
    const m = new Map<number, { name: string; t: number }>();
    try {
      for (const tid of readdirSync('/proc/self/task')) {
        try {
          const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
          const close = stat.lastIndexOf(')');
          const name = stat.slice(stat.indexOf('(') + 1, close);
          const f = stat.slice(close + 2).split(' ');
          m.set(Number(tid), { name, t: Number(f[11]) + Number(f[12]) }); // utime + stime (fields 14, 15)
        } catch {
          // the thread ended meanwhile
        }
      }
    } catch {
      // no procfs: per-thread figures are left out
    }
    return m;
  };
  const before = ticks();
  const u0 = process.cpuUsage();
  const t0 = performance.now();
  await sleep(ms);
  const u = process.cpuUsage(u0);
  const elapsed = performance.now() - t0;
  const after = ticks();
  const HZ = 100; // USER_HZ on Linux
  const threads: BenchReport['idle_threads'] = [];
  for (const [tid, a] of after) {
    const b = before.get(tid);
    const d = a.t - (b?.t ?? a.t);
    threads.push({ tid, name: a.name, cpu_pct: ((d / HZ) * 1000 * 100) / elapsed });
  }
  threads.sort((x, y) => y.cpu_pct - x.cpu_pct);
  return { pct: ((u.user + u.system) / 1000 / elapsed) * 100, threads };
}

/** System-wide CPU time from /proc/stat (all cores), or undefined where there is none. */
function systemCpu(): { busyMs: number; idleMs: number } | undefined {
  try {
    const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
    const [user = 0, nice = 0, system = 0, idle = 0, iowait = 0, irq = 0, softirq = 0, steal = 0] = f;
    const tick = 1000 / 100; // USER_HZ
    return { busyMs: (user + nice + system + irq + softirq + steal) * tick, idleMs: (idle + iowait) * tick };
  } catch {
    return undefined;
  }
}

function openParams(bdf: string): { pciAddress: number; flags: number } {
  return { pciAddress: Bdf.parse(bdf).pciAddress, flags: PCIRAWDRIVERRFLAG.DETACH_HOST_DRIVER };
}

function out(a: PciRawAnswer, what: string): Record<string, unknown> {
  if (a.rc !== 0) throw new Error(`${what} failed with rc ${a.rc}: ${a.msg ?? ''}`);
  return (a.out ?? {}) as Record<string, unknown>;
}

function expect(got: number, want: number, what: string): void {
  if (got !== want) throw new Error(`${what}: read 0x${got.toString(16)}, expected 0x${want.toString(16)}`);
}

/** The `q` quantile of sorted samples (nearest rank). */
function pct(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) throw new Error(`${what} within ${ms} ms`);
    await sleep(1);
  }
}

/** Formats microseconds with 3 significant-ish digits. */
export function fmt(us: number): string {
  return us >= 100 ? us.toFixed(0) : us >= 10 ? us.toFixed(1) : us.toFixed(2);
}
