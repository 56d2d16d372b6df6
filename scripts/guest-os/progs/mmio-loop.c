/* mmio-loop: times 32-bit reads of edu's register 0x00 through an mmap of resource0 (BAR0), and plain RAM reads for comparison; prints ns per access.
 *
 * Usage: mmio-loop DEV [N]   (N reads, default 20000, in 50 timed batches: the mean per read of each is printed too). Checks, through the same mapping, that every
 * read returned edu's identification 0x010000ed, that liveness (0x04) inverts and that the
 * factorial (0x08) computes 5! = 120 (docs/edu.md). The elapsed time must stay under 2^32 ns. */
#include "common.h"

int main(int argc, char **argv) {
  if (argc < 2) { puts1("usage: mmio-loop DEV [N]\n"); return 1; }
  u32 n = argc > 2 ? parse(argv[2]) : 20000;
  volatile void *bar = map_bar0(argv[1], 4096);
  if (!bar) return report("mmio-loop", 0, "BAR0 not mapped");
  u32 bad = 0;
  /* Timed in BATCHES batches (each its own clock pair), so the host can take percentiles of the per-batch means. */
  enum { BATCHES = 50 };
  static u32 batch_ns[BATCHES];
  u32 per = n / BATCHES ? n / BATCHES : 1, mmio = 0, done = 0;
  for (u32 b = 0; b < BATCHES && done < n; b++) {
    u64 t0 = now_ns();
    for (u32 i = 0; i < per; i++) bad += *reg32(bar, EDU_ID) != 0x010000ed;
    u32 dt = (u32)(now_ns() - t0);
    batch_ns[b] = dt / per;
    mmio += dt;
    done += per;
  }
  n = done;
  static volatile u32 ram[1024];
  u32 sum = 0;
  u64 t0 = now_ns();
  for (u32 i = 0; i < n; i++) sum += ram[i & 1023];
  u32 plain = (u32)(now_ns() - t0);
  puts1("mmio-loop: "); putu(n); puts1(" reads of BAR0+0x00: "); putu(mmio / n); puts1(" ns/access; RAM: ");
  putu(plain / n); puts1(" ns/access\n");
  puts1("guest: MEASURE mmio-ns-per-read "); putu(mmio / n); puts1("\nguest: MEASURE ram-ns-per-read "); putu(plain / n); puts1("\n");
  puts1("guest: MEASURE mmio-batch-ns-per-read ");
  for (u32 b = 0; b < BATCHES && b * per < n; b++) { if (b) puts1(","); putu(batch_ns[b]); }
  puts1("\n");
  int fails = report("edu-mmap-identification", bad == 0 && sum == 0, "a read of 0x00 through resource0 was not 0x010000ed");
  *reg32(bar, EDU_LIVENESS) = 0x12345678;
  fails += report("edu-mmap-liveness-inverts", *reg32(bar, EDU_LIVENESS) == 0xedcba987, "0x04 did not read back inverted");
  *reg32(bar, EDU_FACTORIAL) = 5;
  for (int i = 0; i < 2000 && (*reg32(bar, EDU_STATUS) & 1); i++) sleep_ms(1);
  fails += report("edu-mmap-factorial", *reg32(bar, EDU_FACTORIAL) == 120, "5! did not read 120 at 0x08");
  return fails;
}
