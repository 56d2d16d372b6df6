/* sys.h: the whole libc of the guest programs: raw i386 Linux syscalls through int 0x80, printing and parsing helpers.
 *
 * Built with gcc -m32 -static -nostdlib -ffreestanding (scripts/guest-os/initramfs.mjs). Syscall
 * numbers are i386's (arch/x86/entry/syscalls/syscall_32.tbl); arguments go in ebx, ecx, edx,
 * esi, edi, ebp; the result in eax, -errno on failure. */
#ifndef RAWPCI_GUEST_SYS_H
#define RAWPCI_GUEST_SYS_H

typedef unsigned char u8;
typedef unsigned short u16;
typedef unsigned int u32;
typedef unsigned long long u64;
typedef long long s64;

enum {
  SYS_exit = 1, SYS_read = 3, SYS_write = 4, SYS_open = 5, SYS_close = 6,
  SYS_mlock = 150, SYS_poll = 168, SYS_nanosleep = 162, SYS_pread64 = 180, SYS_pwrite64 = 181,
  SYS_old_mmap = 90, SYS_clock_gettime = 265,
};
enum { O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_SYNC = 0x101000 };
enum { PROT_READ = 1, PROT_WRITE = 2, MAP_SHARED = 1, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20 };
enum { CLOCK_MONOTONIC = 1 };

static inline int sys5(int n, int a, int b, int c, int d, int e) {
  int r;
  __asm__ volatile("int $0x80" : "=a"(r) : "a"(n), "b"(a), "c"(b), "d"(c), "S"(d), "D"(e) : "memory");
  return r;
}
#define sys3(n, a, b, c) sys5((n), (int)(a), (int)(b), (int)(c), 0, 0)

static inline void sys_exit(int code) { sys3(SYS_exit, code, 0, 0); for (;;) {} }
static inline int sys_open(const char *p, int fl) { return sys3(SYS_open, p, fl, 0); }
static inline int sys_read(int fd, void *b, u32 n) { return sys3(SYS_read, fd, b, n); }
static inline int sys_write(int fd, const void *b, u32 n) { return sys3(SYS_write, fd, b, n); }
static inline int sys_close(int fd) { return sys3(SYS_close, fd, 0, 0); }
/** pread64/pwrite64 take the 64-bit offset as two registers, low half first. */
static inline int sys_pread(int fd, void *b, u32 n, u64 off) { return sys5(SYS_pread64, fd, (int)b, n, (int)(u32)off, (int)(u32)(off >> 32)); }
static inline int sys_pwrite(int fd, const void *b, u32 n, u64 off) { return sys5(SYS_pwrite64, fd, (int)b, n, (int)(u32)off, (int)(u32)(off >> 32)); }
/** old_mmap (i386 syscall 90) takes its six arguments as an array, so no sixth register (ebp) is
 * needed; `off` is in bytes. Returns the address, or a value in [-4095, -1] (-errno). */
static inline void *sys_mmap(u32 len, int prot, int flags, int fd, u32 off) {
  u32 a[6] = {0, len, (u32)prot, (u32)flags, (u32)fd, off};
  return (void *)sys3(SYS_old_mmap, a, 0, 0);
}
static inline int mmap_failed(void *p) { return (u32)p > 0xfffff000u; }
static inline int sys_mlock(void *p, u32 len) { return sys3(SYS_mlock, p, len, 0); }

struct timespec32 { int sec; int nsec; };
/** CLOCK_MONOTONIC in nanoseconds (clock_gettime, i386's 32-bit timespec). */
static inline u64 now_ns(void) {
  struct timespec32 t;
  sys3(SYS_clock_gettime, CLOCK_MONOTONIC, &t, 0);
  return (u64)(u32)t.sec * 1000000000ull + (u32)t.nsec;
}
static inline void sleep_ms(int ms) {
  struct timespec32 t = {ms / 1000, (ms % 1000) * 1000000};
  sys3(SYS_nanosleep, &t, 0, 0);
}

static inline u32 slen(const char *s) { u32 n = 0; while (s[n]) n++; return n; }
static inline void puts1(const char *s) { sys_write(1, s, slen(s)); }
/** Prints v in decimal (32-bit: 64-bit division would need libgcc). */
static inline void putu(u32 v) {
  char b[12]; int i = 11; b[i] = 0;
  do { b[--i] = (char)('0' + v % 10); v /= 10; } while (v);
  puts1(b + i);
}
/** Prints v as 0x followed by 8 hex digits. */
static inline void putx(u32 v) {
  char b[11] = "0x00000000";
  for (int i = 9; i >= 2; i--, v >>= 4) b[i] = "0123456789abcdef"[v & 15];
  puts1(b);
}
/** Parses decimal or 0x-prefixed hex (32-bit). */
static inline u32 parse(const char *s) {
  u32 v = 0, base = 10;
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) { base = 16; s += 2; }
  for (; *s; s++) {
    u32 d = *s >= 'a' ? (u32)(*s - 'a' + 10) : *s >= 'A' ? (u32)(*s - 'A' + 10) : (u32)(*s - '0');
    if (d >= base) break;
    v = v * base + d;
  }
  return v;
}
/** `guest: PASS name` or `guest: FAIL name: why`, the tier's check lines (scripts/guest-os/run.mjs). */
static inline int report(const char *name, int ok, const char *why) {
  puts1(ok ? "guest: PASS " : "guest: FAIL "); puts1(name);
  if (!ok) { puts1(": "); puts1(why); }
  puts1("\n");
  return !ok;
}
static inline volatile u32 *reg32(volatile void *base, u32 off) { return (volatile u32 *)((volatile u8 *)base + off); }

/** The program's entry: _start finds argc/argv on the stack and exits with main's result. */
int main(int argc, char **argv);
__attribute__((used)) static void start_c(int *sp) { sys_exit(main(sp[0], (char **)(sp + 1))); }
__asm__(".globl _start\n_start:\n\txor %ebp, %ebp\n\tmov %esp, %eax\n\tand $-16, %esp\n\tsub $12, %esp\n\tpush %eax\n\tcall start_c\n");
#endif
