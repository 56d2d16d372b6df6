/* edu-dma: an edu DMA round trip from a guest program (RAM -> edu's buffer -> another RAM page, bytes compared) and a DMA to an address outside the VM's IOMMU domain, refused with guest memory unchanged.
 *
 * Usage: edu-dma DEV OUTSIDE   (DEV the function's sysfs dir; OUTSIDE a bus address above guest
 * RAM and inside edu's 28-bit dma_mask, e.g. 0x0f000000 with 192 MiB of RAM: edu masks RAM-side
 * addresses to 28 bits, docs/edu.md "DMA", so 0xf0000000 would alias guest address 0).
 * Physical addresses come from /proc/self/pagemap (Documentation/admin-guide/mm/pagemap.rst:
 * one u64 per virtual page, bit 63 present, bits 0-54 the PFN; root sees the PFN). Guest
 * physical = bus address: v86 has no guest IOMMU. Prints check lines; exits with the failures. */
#include "common.h"

enum { PAGE = 4096, N = 256 };

/** The physical address of the page holding `p`, or 0 when pagemap does not give it. */
static u32 phys_of(void *p) {
  int fd = sys_open("/proc/self/pagemap", O_RDONLY);
  u64 e = 0;
  if (fd < 0 || sys_pread(fd, &e, 8, (u64)((u32)p / PAGE) * 8) != 8) return 0;
  sys_close(fd);
  if (!(e >> 63)) return 0;
  return (u32)(e & ((1ull << 55) - 1)) * PAGE;
}

/** Programs one transfer and polls the command's START bit (at most ~2 s); returns 0 when it completed. */
static int dma(volatile void *bar, u32 src, u32 dst, u32 count, u32 cmd) {
  *reg32(bar, EDU_DMA_SRC) = src;
  *reg32(bar, EDU_DMA_DST) = dst;
  *reg32(bar, EDU_DMA_COUNT) = count;
  *reg32(bar, EDU_DMA_CMD) = cmd | EDU_DMA_START;
  for (int i = 0; i < 2000; i++) {
    if (!(*reg32(bar, EDU_DMA_CMD) & EDU_DMA_START)) return 0;
    sleep_ms(1);
  }
  return -1;
}

static int same(const u8 *a, const u8 *b, u32 n) { for (u32 i = 0; i < n; i++) if (a[i] != b[i]) return 0; return 1; }
static int all(const u8 *a, u8 v, u32 n) { for (u32 i = 0; i < n; i++) if (a[i] != v) return 0; return 1; }

int main(int argc, char **argv) {
  if (argc < 3) { puts1("usage: edu-dma DEV OUTSIDE\n"); return 1; }
  const char *dev = argv[1];
  u32 outside = parse(argv[2]);
  volatile void *bar = map_bar0(dev, EDU_BAR0_SIZE);
  if (!bar) return report("edu-dma", 0, "BAR0 not mapped");
  /* Bus mastering: the IOMMU domain refuses every DMA without it (docs/edu.md "Simulated model"). */
  cfg_write(dev, PCI_COMMAND, cfg_read(dev, PCI_COMMAND, 2) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER, 2);
  u8 *src = sys_mmap(2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mmap_failed(src)) return report("edu-dma", 0, "no anonymous pages");
  u8 *dst = src + PAGE;
  for (u32 i = 0; i < PAGE; i++) { src[i] = (u8)(i * 7 + 3); dst[i] = 0; } /* touch: the pages exist */
  if (sys_mlock(src, 2 * PAGE) != 0) return report("edu-dma", 0, "mlock failed");
  u32 ps = phys_of(src), pd = phys_of(dst);
  puts1("edu-dma: src page "); putx(ps); puts1(" dst page "); putx(pd); puts1("\n");
  if (!ps || !pd) return report("edu-dma", 0, "no physical address in /proc/self/pagemap");
  int fails = 0;
  int ok = dma(bar, ps, EDU_BUFFER, N, 0) == 0 && dma(bar, EDU_BUFFER, pd, N, EDU_DMA_TO_RAM) == 0;
  fails += report("edu-dma-round-trip", ok && same(src, dst, N) && all(dst + N, 0, PAGE - N), ok ? "bytes differ after RAM -> buffer -> RAM" : "a DMA did not complete");

  /* Outside the domain: edu's buffer holds src's pattern now. A read from OUTSIDE must not
   * change it, a write to OUTSIDE must not land anywhere in guest memory we can see. */
  for (u32 i = 0; i < PAGE; i++) dst[i] = 0xaa;
  int c1 = dma(bar, outside, EDU_BUFFER, N, 0);          /* refused: the buffer keeps src's bytes */
  int c2 = dma(bar, EDU_BUFFER, outside, N, EDU_DMA_TO_RAM); /* refused: nothing written */
  int c3 = dma(bar, EDU_BUFFER, pd, N, EDU_DMA_TO_RAM);  /* the buffer, read back */
  fails += report("edu-dma-outside-domain-completes", c1 == 0 && c2 == 0 && c3 == 0, "a refused DMA never completed (START stayed set)");
  fails += report("edu-dma-outside-domain-read-refused", same(src, dst, N), "the edu buffer changed: a DMA read from outside the domain brought bytes in");
  fails += report("edu-dma-outside-domain-memory-unchanged", all(dst + N, 0xaa, PAGE - N) && src[0] == 3 && src[1] == 10, "guest memory changed around a refused DMA");
  puts1("edu-dma: outside address "); putx(outside); puts1("\n");
  return fails;
}
