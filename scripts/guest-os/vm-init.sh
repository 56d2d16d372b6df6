#!/bin/busybox sh
# /init of the default guest `rawpci vm` boots (built by scripts/guest-os/initramfs.mjs from Debian's i386 busybox, kernel modules and pciutils).
#
# Kernel command line words it reads:
#   rawpci.demo   run /demo.sh (what `rawpci demo --os` shows) and end the VM with its status
#   rawpci.bench  time edu register reads from a guest program (/progs/mmio-loop, `npm run bench`'s v86-guest-mmio) and end the VM
#   (none)        print the PCI bus and give a shell on the serial console; its exit status ends the VM
# The VM ends when the guest writes its status byte to port 0xf4 (rawpci vm's exit port).

/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
export PATH=/bin:/sbin:/usr/bin:/usr/sbin LD_LIBRARY_PATH=/lib/i386-linux-gnu:/usr/lib/i386-linux-gnu

# Modules in load order (uio, uio_pci_generic), as fetch.mjs resolved them from modules.dep.
[ -f /etc/modules-load ] && while read -r m; do insmod "/lib/modules/$m" 2>/dev/null; done </etc/modules-load

exit_vm() {
  printf "\\$(printf %o "$1")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
  sleep 10
}

if grep -qw rawpci.bench /proc/cmdline; then
  edu=
  for d in /sys/bus/pci/devices/*; do
    [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] && edu=$d
  done
  [ -n "$edu" ] || { echo "guest: FAIL edu (1234:11e8) is not on the bus"; exit_vm 1; }
  /progs/mmio-loop "$edu" 20000
  exit_vm $?
fi

if grep -qw rawpci.demo /proc/cmdline; then
  sh /demo.sh
  exit_vm $?
fi

echo
echo "rawpci vm: Linux $(uname -r) in v86; the PCI bus as this guest sees it:"
lspci -nn 2>/dev/null || cat /proc/bus/pci/devices
echo "rawpci vm: 'exit' (or 'exit N') ends the VM with that status"
setsid cttyhack sh
exit_vm $?
