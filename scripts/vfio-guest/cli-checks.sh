#!/bin/sh
# rawpci list/show/attach/detach/restore against the guest's real sysfs, list compared with lspci on the same tree, group attach and rollback on a real IOMMU group (run by guest.sh).
set -eu
EDU=$1
drv() { basename "$(readlink /sys/bus/pci/devices/$1/driver)" 2>/dev/null || echo none; }
ovr() { cat /sys/bus/pci/devices/$1/driver_override; }
node bin/rawpci.js list > /tmp/rawpci-list.txt
cat /tmp/rawpci-list.txt
if command -v lspci > /dev/null; then
  lspci -nn -D -k > /tmp/lspci.txt 2>/tmp/lspci.err || true
  if [ -s /tmp/lspci.txt ]; then diff -u /tmp/lspci.txt /tmp/rawpci-list.txt && echo "rawpci list == lspci -nn -D -k"; else echo "lspci produced nothing: $(cat /tmp/lspci.err)"; exit 1; fi
fi
node bin/rawpci.js show $EDU
node bin/rawpci.js attach $EDU
[ "$(drv $EDU)" = vfio-pci ] || { echo "attach did not bind vfio-pci"; exit 1; }
node bin/rawpci.js status
node bin/rawpci.js detach $EDU
[ "$(drv $EDU)" = uio_pci_generic ] || { echo "detach did not rebind uio_pci_generic"; exit 1; }
echo "attach/detach: vfio-pci and back to uio_pci_generic"

# The multifunction pair 00:05.0 + 00:05.1: one IOMMU group on the real kernel.
A=0000:00:05.0
B=0000:00:05.1
GA=$(basename "$(readlink /sys/bus/pci/devices/$A/iommu_group)")
GB=$(basename "$(readlink /sys/bus/pci/devices/$B/iommu_group)")
[ "$GA" = "$GB" ] || { echo "$A (group $GA) and $B (group $GB) are not in one IOMMU group: the group checks need them together"; exit 1; }
echo "group pair: $A and $B in IOMMU group $GA, bound to $(drv $A) and $(drv $B)"
if node bin/rawpci.js attach $A 2> /tmp/attach-one.err; then echo "attach of $A alone succeeded though $B is still on $(drv $B)"; exit 1; fi
grep -q "attach them together" /tmp/attach-one.err || { cat /tmp/attach-one.err; exit 1; }
[ "$(drv $A)" = uio_pci_generic ] || { echo "refused attach changed $A"; exit 1; }
echo "attach $A alone: refused ($(cat /tmp/attach-one.err))"

# Rollback on the real kernel: virtio-pci's probe refuses edu (device ID outside 0x1000..0x107f).
if node bin/rawpci.js attach --group $A --driver virtio-pci --nosave 2> /tmp/attach-bad.err; then echo "attach --driver virtio-pci of edu succeeded"; exit 1; fi
cat /tmp/attach-bad.err
grep -q "rolled back" /tmp/attach-bad.err || exit 1
for d in $A $B; do
  [ "$(drv $d)" = uio_pci_generic ] || { echo "after rollback $d is on $(drv $d), not uio_pci_generic"; exit 1; }
  [ "$(ovr $d)" = "(null)" ] || { echo "after rollback $d keeps driver_override $(ovr $d)"; exit 1; }
done
node bin/rawpci.js status --json | grep -q "$A" && { echo "rolled-back $A is recorded"; exit 1; }
echo "failed bind: rolled back to uio_pci_generic, no driver_override, nothing recorded"

node bin/rawpci.js attach --group pci_0000_00_05_1
[ "$(drv $A)" = vfio-pci ] && [ "$(drv $B)" = vfio-pci ] || { echo "attach --group left $A on $(drv $A), $B on $(drv $B)"; exit 1; }
[ -e /dev/vfio/$GA ] || { echo "no /dev/vfio/$GA after attaching the group"; exit 1; }
node bin/rawpci.js status
# A reboot's effect by hand (overrides gone, host driver back), then restore.
for d in $A $B; do echo $d > /sys/bus/pci/devices/$d/driver/unbind; echo > /sys/bus/pci/devices/$d/driver_override; echo $d > /sys/bus/pci/drivers/uio_pci_generic/bind; done
node bin/rawpci.js restore
[ "$(drv $A)" = vfio-pci ] && [ "$(drv $B)" = vfio-pci ] || { echo "restore left $A on $(drv $A), $B on $(drv $B)"; exit 1; }
node bin/rawpci.js detach --group $B
[ "$(drv $A)" = uio_pci_generic ] && [ "$(drv $B)" = uio_pci_generic ] || { echo "detach --group left $A on $(drv $A), $B on $(drv $B)"; exit 1; }
echo "group: attach --group, restore after a simulated reboot, detach --group on IOMMU group $GA"
