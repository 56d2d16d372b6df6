#!/bin/sh
# rawpci list/show/attach/detach against the guest's real sysfs, list compared with lspci on the same tree (run by guest.sh).
set -eu
EDU=$1
node bin/rawpci.js list > /tmp/rawpci-list.txt
cat /tmp/rawpci-list.txt
if command -v lspci > /dev/null; then
  lspci -nn -D -k > /tmp/lspci.txt 2>/tmp/lspci.err || true
  if [ -s /tmp/lspci.txt ]; then diff -u /tmp/lspci.txt /tmp/rawpci-list.txt && echo "rawpci list == lspci -nn -D -k"; else echo "lspci produced nothing: $(cat /tmp/lspci.err)"; exit 1; fi
fi
node bin/rawpci.js show $EDU
node bin/rawpci.js attach $EDU
[ "$(basename $(readlink /sys/bus/pci/devices/$EDU/driver))" = vfio-pci ] || { echo "attach did not bind vfio-pci"; exit 1; }
node bin/rawpci.js status
node bin/rawpci.js detach $EDU
[ "$(basename $(readlink /sys/bus/pci/devices/$EDU/driver))" = uio_pci_generic ] || { echo "detach did not rebind uio_pci_generic"; exit 1; }
echo "attach/detach: vfio-pci and back to uio_pci_generic"
