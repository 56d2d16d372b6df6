/* pcicfg: reads or writes one config space register of a PCI function through sysfs `config` with a single access of the given width (busybox has no setpci; dd would split a dword write into bytes).
 *
 * Usage: pcicfg DEV OFFSET WIDTH [VALUE]   (WIDTH 1, 2 or 4 bytes). Prints the value read (0x...)
 * or writes VALUE; exits 1 on failure. */
#include "common.h"

int main(int argc, char **argv) {
  if (argc < 4) { puts1("usage: pcicfg DEV OFFSET WIDTH [VALUE]\n"); return 1; }
  u32 off = parse(argv[2]), w = parse(argv[3]);
  if (w != 1 && w != 2 && w != 4) { puts1("pcicfg: WIDTH is 1, 2 or 4\n"); return 1; }
  if (argc > 4) return cfg_write(argv[1], off, parse(argv[4]), w) ? 1 : 0;
  u32 v = cfg_read(argv[1], off, w);
  if (w < 4) v &= (1u << (8 * w)) - 1;
  putx(v); puts1("\n");
  return 0;
}
