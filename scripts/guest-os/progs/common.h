/* common.h: what the guest programs share beyond syscalls: sysfs paths of a PCI function, BAR0 mapping, config space access, edu's registers (docs/edu.md). */
#ifndef RAWPCI_GUEST_COMMON_H
#define RAWPCI_GUEST_COMMON_H
#include "sys.h"

/* edu's BAR0 registers (docs/edu.md "Register map"). */
enum {
  EDU_ID = 0x00, EDU_LIVENESS = 0x04, EDU_FACTORIAL = 0x08, EDU_STATUS = 0x20, EDU_IRQ_STATUS = 0x24,
  EDU_IRQ_RAISE = 0x60, EDU_IRQ_ACK = 0x64, EDU_DMA_SRC = 0x80, EDU_DMA_DST = 0x88, EDU_DMA_COUNT = 0x90,
  EDU_DMA_CMD = 0x98,
};
enum { EDU_DMA_START = 0x01, EDU_DMA_TO_RAM = 0x02, EDU_DMA_IRQ = 0x04 };
/** edu's DMA buffer, in the device's own address space: 4096 bytes at 0x40000. */
enum { EDU_BUFFER = 0x40000, EDU_BAR0_SIZE = 0x100000 };
/* PCI config space (linux/pci_regs.h). */
enum { PCI_COMMAND = 0x04, PCI_STATUS = 0x06, PCI_COMMAND_MEMORY = 0x2, PCI_COMMAND_MASTER = 0x4, PCI_COMMAND_INTX_DISABLE = 0x400, PCI_STATUS_INTERRUPT = 0x08 };

/** `dir` + "/" + `name` into `out` (256 bytes). */
static inline char *path2(char *out, const char *dir, const char *name) {
  u32 i = 0;
  for (const char *s = dir; *s && i < 200; s++) out[i++] = *s;
  out[i++] = '/';
  for (const char *s = name; *s && i < 255; s++) out[i++] = *s;
  out[i] = 0;
  return out;
}

/** Maps `len` bytes of the function's sysfs resource0 (BAR0) shared, or returns 0 after printing why. */
static inline volatile void *map_bar0(const char *dev, u32 len) {
  char p[256];
  int fd = sys_open(path2(p, dev, "resource0"), O_RDWR | O_SYNC);
  if (fd < 0) { puts1("cannot open "); puts1(p); puts1("\n"); return 0; }
  void *m = sys_mmap(len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (mmap_failed(m)) { puts1("cannot mmap "); puts1(p); puts1("\n"); return 0; }
  return (volatile void *)m;
}

/** Reads `n` (1, 2 or 4) bytes of config space at `off` through sysfs `config`; all-ones on failure. */
static inline u32 cfg_read(const char *dev, u32 off, u32 n) {
  char p[256]; u32 v = 0;
  int fd = sys_open(path2(p, dev, "config"), O_RDONLY);
  if (fd < 0 || sys_pread(fd, &v, n, off) != (int)n) v = 0xffffffffu;
  if (fd >= 0) sys_close(fd);
  return v;
}
/** Writes `n` bytes of config space at `off` through sysfs `config`; returns 0 on success. */
static inline int cfg_write(const char *dev, u32 off, u32 v, u32 n) {
  char p[256];
  int fd = sys_open(path2(p, dev, "config"), O_WRONLY);
  int r = fd >= 0 && sys_pwrite(fd, &v, n, off) == (int)n ? 0 : -1;
  if (fd >= 0) sys_close(fd);
  return r;
}
#endif
