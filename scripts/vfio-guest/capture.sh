#!/bin/sh
# Runs inside the QEMU guest (as root, in the initrd, the host's root at /host): enables SR-IOV VFs, copies the real kernel's PCI sysfs tree into OUT/tree and records lspci's view of it, for rawpci's lspci-parity fixtures.
#
# The copy keeps what lspci's linux-sysfs method reads (pciutils lib/sysfs.c): the identity
# files, irq, resource, the whole config space (root reads all of it), modalias, the
# driver and iommu_group links (rebuilt as relative links inside the copy), the /sys/devices
# hierarchy the bus/pci/devices links point into (each function's parent) and the slots'
# addresses (lspci's `Physical Slot:`). lspci's output on
# the live tree is kept beside it, so the copy can be checked against the real kernel's view.
# It runs outside the chroot so that lspci's libkmod finds the guest kernel's depmod indexes in
# /lib/modules/$(uname -r) (run.mjs puts them in the initrd): LSPCI is the host's lspci run
# through the host's dynamic loader, IDS its pci.ids. OUT/modules keeps the alias tables that
# `Kernel modules:` come from, cut to the lines that can match a captured function.
set -eu
OUT=$1
LSPCI=${LSPCI:-lspci}
IDS=${IDS:-/usr/share/misc/pci.ids}
lsp() { $LSPCI -i "$IDS" "$@"; }
rm -rf "$OUT"
# SR-IOV: every physical function's VFs, enabled without binding drivers to them (QEMU's NVMe
# VFs have no queues until an admin assigns them, so a driver probe would only time out).
for d in /sys/bus/pci/devices/*; do
  [ -r "$d/sriov_totalvfs" ] || continue
  n=$(cat "$d/sriov_totalvfs")
  [ "$n" -gt 0 ] || continue
  echo 0 > "$d/sriov_drivers_autoprobe"
  echo "$n" > "$d/sriov_numvfs" || { echo "capture: enabling $n VFs on $(basename "$d") failed"; exit 1; }
  echo "capture: $n VFs enabled on $(basename "$d")"
done
T=$OUT/tree
mkdir -p "$T/bus/pci/devices" "$T/bus/pci/drivers" "$T/kernel/iommu_groups"
for d in /sys/bus/pci/devices/*; do
  b=$(basename "$d")
  # Each function's directory where the kernel has it, under devices/ (pci0000:00/0000:00:08.0/
  # 0000:01:00.0: the path is the topology lspci's PCI_FILL_PARENT reads), and
  # bus/pci/devices/BDF a relative link to it, as in /sys.
  rel=$(readlink -f "$d" | sed 's|^/sys/||')
  D=$T/$rel
  up=$(echo "$rel" | sed 's|[^/]*|..|g')/
  mkdir -p "$D"
  ln -s "../../../$rel" "$T/bus/pci/devices/$b"
  for f in vendor device class subsystem_vendor subsystem_device revision irq resource config modalias numa_node; do
    [ -r "$d/$f" ] && cat "$d/$f" > "$D/$f"
  done
  if [ -L "$d/driver" ]; then
    drv=$(basename "$(readlink "$d/driver")")
    # A file in each directory the links point to, so a git checkout of the copy keeps it
    # (lspci reports a driver or group only when its link resolves).
    mkdir -p "$T/bus/pci/drivers/$drv"
    : > "$T/bus/pci/drivers/$drv/bind"
    ln -s "${up}bus/pci/drivers/$drv" "$D/driver"
  fi
  if [ -L "$d/iommu_group" ]; then
    g=$(basename "$(readlink "$d/iommu_group")")
    # The group's own devices/ links are left out: they and these links would make a cycle that
    # tools walking the checkout follow forever; rawpci and lspci need only this link's name.
    mkdir -p "$T/kernel/iommu_groups/$g"
    cat "/sys/kernel/iommu_groups/$g/type" > "$T/kernel/iommu_groups/$g/type" 2>/dev/null || echo unknown > "$T/kernel/iommu_groups/$g/type"
    ln -s "${up}kernel/iommu_groups/$g" "$D/iommu_group"
  fi
done
for s in /sys/bus/pci/slots/*; do
  [ -r "$s/address" ] || continue
  mkdir -p "$T/bus/pci/slots/$(basename "$s")"
  cat "$s/address" > "$T/bus/pci/slots/$(basename "$s")/address"
done
uname -r > "$OUT/kernel-release"
$LSPCI --version > "$OUT/lspci-version"
# With numbers only (-n), so the tests compare against these files whatever pci.ids they have;
# these are the ones with `Kernel modules:` lines.
lsp -O hwdb.disable=1 -n -D -k > "$OUT/lspci-n-D-k.txt" 2>/dev/null
for v in v vv vvv; do lsp -O hwdb.disable=1 -$v -n -D -k > "$OUT/lspci-$v-n-D-k.txt" 2>/dev/null; done
lsp -O hwdb.disable=1 -nn -D -k > "$OUT/lspci-nn-D-k.txt" 2>/dev/null
for v in v vv vvv; do lsp -O hwdb.disable=1 -$v -nn -D -k > "$OUT/lspci-$v-nn-D-k.txt" 2>/dev/null; done
lsp -O hwdb.disable=1 -xxxx -D > "$OUT/lspci-xxxx-D.txt" 2>/dev/null
# The copy must read as the live tree does: lspci on it prints the same at every level.
for v in "" -v -vv -vvv -xxxx -tv -PP; do
  lsp -A linux-sysfs -O sysfs.path=$T/bus/pci -O hwdb.disable=1 $v -nn -D -k > "$OUT/copy.txt" 2>/dev/null
  lsp -O hwdb.disable=1 $v -nn -D -k > "$OUT/live.txt" 2>/dev/null
  cmp -s "$OUT/live.txt" "$OUT/copy.txt" || { echo "capture: lspci $v reads the copy differently from the live tree:"; diff "$OUT/live.txt" "$OUT/copy.txt" | head -20; exit 1; }
done
rm -f "$OUT/copy.txt" "$OUT/live.txt"
# The alias tables, cut to what can match: pci: aliases whose vendor is a wildcard or a captured
# vendor and whose device is a wildcard or a device of that vendor (patterns with ? or [ in
# those fields are kept whole), and the built-in modules' pci: aliases.
M=/lib/modules/$(uname -r)
mkdir -p "$OUT/modules"
pairs=$(for d in "$T"/bus/pci/devices/*; do printf '%s:%s ' "$(cut -c3- "$d/vendor" | tr a-f A-F)" "$(cut -c3- "$d/device" | tr a-f A-F)"; done)
awk -v pairs="$pairs" 'BEGIN { n = split(pairs, a, " "); for (i = 1; i <= n; i++) { split(a[i], b, ":"); V["0000" b[1]] = 1; VD["0000" b[1] "d0000" b[2]] = 1 } }
  $1 == "alias" && substr($2, 1, 5) == "pci:v" {
    p = substr($2, 6); v = substr(p, 1, 8)
    if (v ~ /^[0-9A-F]+$/ && length(v) == 8) {
      if (!(v in V)) next
      dv = substr(p, 10, 8)
      if (substr(p, 9, 1) == "d" && dv ~ /^[0-9A-F]+$/ && length(dv) == 8 && !((v "d" dv) in VD)) next
    }
    print
  }' "$M/modules.alias" > "$OUT/modules/modules.alias"
tr '\0' '\n' < "$M/modules.builtin.modinfo" | grep '\.alias=pci:' | tr '\n' '\0' > "$OUT/modules/modules.builtin.modinfo" || true
echo "capture: $(wc -l < "$OUT/modules/modules.alias") pci aliases kept of $(grep -c '^alias pci:' "$M/modules.alias") in $M/modules.alias"
echo "capture: $(ls "$T/bus/pci/devices" | wc -l) functions, kernel $(cat "$OUT/kernel-release"); lspci reads the copy as it reads the live tree (-v, -vv, -vvv, -xxxx, -tv, -PP)"
