#!/bin/sh
# Runs inside the QEMU guest (chrooted into the host's root, cwd = the checkout): the VFIO checks against the guest's real kernel.
#
# edu starts bound to uio_pci_generic (a real host driver to detach and rebind). Results go to
# /tmp (the writable results share). Exit code: number of failed checks (0 = all passed).
set -u
OUT=/tmp
export RAWPCI_STATE=$OUT/attachments.json
export RAWPCI_VFIO_RESULTS=$OUT
export RAWPCI_LOG=${RAWPCI_LOG:-error}
# rawpci serve's sockets need a local filesystem (/tmp here is the 9p results share).
mkdir -p /dev/shm && chmod 1777 /dev/shm && export RAWPCI_SERVE_TMP=/dev/shm
FAILS=0
check() { # name, command...
  name=$1; shift
  t=$(date +%s)
  if "$@" > $OUT/$name.log 2>&1; then echo "guest: PASS $name ($(( $(date +%s) - t )) s)"; else echo "guest: FAIL $name (exit $?, $(( $(date +%s) - t )) s)"; sed 's/^/    /' $OUT/$name.log | tail -40; FAILS=$((FAILS + 1)); fi
}
EDU=""
for d in /sys/bus/pci/devices/*; do
  # The first edu (00:04.0, alone in its group); 00:05.0 and 00:05.1 are the group pair of cli-checks.sh.
  if [ -z "$EDU" ] && [ "$(cat $d/vendor)" = 0x1234 ] && [ "$(cat $d/device)" = 0x11e8 ]; then EDU=$(basename $d); fi
done
[ -n "$EDU" ] || { echo "guest: no edu device"; exit 100; }
export RAWPCI_VFIO_EDU=$EDU
echo "guest: node $(node --version), edu at $EDU, IOMMU group $(basename $(readlink /sys/bus/pci/devices/$EDU/iommu_group)), reset method: $(cat /sys/bus/pci/devices/$EDU/reset_method 2>/dev/null || echo none)"
# A real host driver for edu: uio_pci_generic, given edu's IDs as a dynamic ID (new_id), so it
# binds and rebinds like a driver whose table lists the device.
echo "1234 11e8" > /sys/bus/pci/drivers/uio_pci_generic/new_id
echo "guest: edu bound to $(basename $(readlink /sys/bus/pci/devices/$EDU/driver) 2>/dev/null || echo nothing)"

if [ "${1:-all}" = all ] || [ "$1" = tests ]; then
  check ava-vfio node node_modules/ava/entrypoints/cli.mjs --config test/vfio/ava.guest.config.mjs --tap
  grep -E '^(ok|not ok)' $OUT/ava-vfio.log | sed 's/^/    /'
fi
if [ "${1:-all}" = all ] || [ "$1" = demo ]; then
  check demo node bin/rawpci.js demo --host vfio --device $EDU
  grep -E 'PASS|FAIL|steps' $OUT/demo.log | sed 's/^/    /'
fi
if [ "${1:-all}" = all ] || [ "$1" = cli ]; then
  check cli sh scripts/vfio-guest/cli-checks.sh $EDU
fi
echo "guest: $FAILS failed check(s)"
exit $FAILS
