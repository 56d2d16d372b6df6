/* port32: one 32-bit I/O port read (inl) or write (outl) after iopl(3); /dev/port only does byte accesses, and the testdev's registers but SCRATCH take only 4-byte ones (docs/testdev.md).
 *
 * Usage: port32 PORT [VALUE]   Prints the value read (0x...) or writes VALUE; exits 1 when iopl fails. */
#include "sys.h"

enum { SYS_iopl = 110 };

int main(int argc, char **argv) {
  if (argc < 2) { puts1("usage: port32 PORT [VALUE]\n"); return 1; }
  if (sys3(SYS_iopl, 3, 0, 0) != 0) { puts1("port32: iopl(3) failed\n"); return 1; }
  u16 port = (u16)parse(argv[1]);
  if (argc > 2) {
    u32 v = parse(argv[2]);
    __asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
    return 0;
  }
  u32 v;
  __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
  putx(v); puts1("\n");
  return 0;
}
