/* uio-irq: edu's INTx through uio_pci_generic: each raise is one interrupt counted by /dev/uioN, none arrives while INTx is disabled (command bit 10) and the status register's Interrupt Status bit shows it pending.
 *
 * Usage: uio-irq DEV UIODEV [N]   (uio_pci_generic already bound, e.g. by new_id; N raises, default
 * 20). uio_pci_generic's handler masks INTx (pci_check_and_mask_intx: only when status bit 3 is
 * set); it has no irqcontrol, so the program unmasks by clearing the command register's
 * Interrupt Disable bit through sysfs config, as Documentation/driver-api/uio-howto.rst
 * ("Writing userspace driver using uio_pci_generic") does; read() returns the interrupt count
 * (drivers/uio/uio.c, uio_pci_generic.c). Causes are written to edu's 0x60 and acknowledged at
 * 0x64 (docs/edu.md "Interrupts"). Exits with the number of failed checks. */
#include "common.h"

struct pollfd { int fd; short events; short revents; };
enum { POLLIN = 1, CAUSE = 0x4000 };

/** Waits up to `ms` for an interrupt; returns the new count, or 0 when none came. */
static u32 wait_irq(int fd, int ms) {
  struct pollfd p = {fd, POLLIN, 0};
  if (sys3(SYS_poll, &p, 1, ms) <= 0) return 0;
  u32 count = 0;
  return sys_read(fd, &count, 4) == 4 ? count : 0;
}
/** Clears Interrupt Disable (bit 10: bit 2 of config byte 5) with a one-byte write, as uio-howto does. */
static int unmask(const char *dev) { return cfg_write(dev, PCI_COMMAND + 1, cfg_read(dev, PCI_COMMAND + 1, 1) & ~(PCI_COMMAND_INTX_DISABLE >> 8), 1); }

int main(int argc, char **argv) {
  if (argc < 3) { puts1("usage: uio-irq DEV UIODEV [N]\n"); return 1; }
  const char *dev = argv[1];
  u32 n = argc > 3 ? parse(argv[3]) : 20;
  volatile void *bar = map_bar0(dev, 4096);
  int fd = sys_open(argv[2], O_RDWR);
  if (!bar || fd < 0) return report("uio-intx-counted", 0, "BAR0 or the uio device did not open");
  int fails = 0;
  cfg_write(dev, PCI_COMMAND, cfg_read(dev, PCI_COMMAND, 2) | PCI_COMMAND_MEMORY, 2);
  unmask(dev);
  u32 first = 0, last = 0, missed = 0, run = 0;
  for (u32 i = 0; i < n; i++) {
    *reg32(bar, EDU_IRQ_RAISE) = CAUSE;
    u32 c = wait_irq(fd, 1000);
    if (!c) missed++;
    run = c ? 0 : run + 1;
    /* Three misses in a row: delivery is broken, and the remaining waits would only cost seconds. */
    if (run == 3) { *reg32(bar, EDU_IRQ_ACK) = CAUSE; missed += n - 1 - i; break; }
    else { if (!first) first = c; last = c; }
    *reg32(bar, EDU_IRQ_ACK) = CAUSE;
    unmask(dev);
  }
  /* Quiet after the last acknowledge: a storm or a lost deassert shows as more counts. */
  u32 extra = wait_irq(fd, 300);
  puts1("uio-irq: "); putu(n); puts1(" raises, counts "); putu(first); puts1(".."); putu(last);
  puts1(", missed "); putu(missed); puts1(", extra after ack "); putu(extra ? extra - last : 0); puts1("\n");
  fails += report("uio-intx-counted", missed == 0 && last - first == n - 1, "an interrupt was missed or counted twice");
  fails += report("uio-intx-no-storm", extra == 0, "interrupts kept coming after the cause was acknowledged");

  /* INTx disabled by the command register (PCI Local Bus spec 3.0, 6.2.2): no interrupt, but
   * the status register's Interrupt Status bit follows the device's pending INTx. */
  u32 before = last;
  cfg_write(dev, PCI_COMMAND, cfg_read(dev, PCI_COMMAND, 2) | PCI_COMMAND_INTX_DISABLE, 2);
  u32 idle = cfg_read(dev, PCI_STATUS, 2);
  *reg32(bar, EDU_IRQ_RAISE) = CAUSE;
  u32 got = wait_irq(fd, 300);
  u32 pending = cfg_read(dev, PCI_STATUS, 2);
  fails += report("uio-intx-disable-honoured", got == 0, "an interrupt arrived with INTx disabled");
  fails += report("uio-intx-status-pending", !(idle & PCI_STATUS_INTERRUPT) && (pending & PCI_STATUS_INTERRUPT), "status bit 3 did not follow the pending INTx");
  /* Clearing Interrupt Disable delivers the pending interrupt. */
  unmask(dev);
  got = wait_irq(fd, 2000);
  *reg32(bar, EDU_IRQ_ACK) = CAUSE;
  u32 cleared = cfg_read(dev, PCI_STATUS, 2);
  unmask(dev);
  fails += report("uio-intx-pending-delivered-on-enable", got == before + 1 && !(cleared & PCI_STATUS_INTERRUPT), "the pending interrupt was not delivered once INTx was enabled, or status bit 3 stayed set after ack");
  puts1("uio-irq: status idle "); putx(idle); puts1(" pending "); putx(pending); puts1(" after ack "); putx(cleared); puts1("\n");
  return fails;
}
