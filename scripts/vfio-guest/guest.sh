#!/bin/sh
# Runs inside the QEMU guest (chrooted into the host's root, cwd = the checkout): the VFIO checks against the guest's real kernel.
set -u
echo "guest: node $(node --version) in $(pwd)"
EDU=""
for d in /sys/bus/pci/devices/*; do
  if [ "$(cat $d/vendor)" = 0x1234 ] && [ "$(cat $d/device)" = 0x11e8 ]; then EDU=$(basename $d); fi
done
[ -n "$EDU" ] || { echo "guest: no edu device"; exit 10; }
echo "guest: edu at $EDU, iommu group $(basename $(readlink /sys/bus/pci/devices/$EDU/iommu_group))"
ls -la /dev/vfio
node -e "console.log('guest: node runs', process.arch)" || exit 11
echo '{"ok":true}' > /tmp/hello.json
exit 0
