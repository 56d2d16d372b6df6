#!/bin/sh
# Runs inside the QEMU guest (as root, chrooted into the host's root): copies the real kernel's PCI sysfs tree into OUT/tree and records lspci's view of it, for rawpci's lspci-parity fixtures.
#
# The copy keeps what lspci's linux-sysfs method reads (pciutils lib/sysfs.c): the identity
# files, irq, resource, the whole config space (root reads all of it), modalias, the
# driver and iommu_group links (rebuilt as relative links inside the copy) and the slots'
# addresses (lspci's `Physical Slot:`). lspci's output on
# the live tree is kept beside it, so the copy can be checked against the real kernel's view.
set -eu
OUT=$1
rm -rf "$OUT"
T=$OUT/tree
mkdir -p "$T/bus/pci/devices" "$T/bus/pci/drivers" "$T/kernel/iommu_groups"
for d in /sys/bus/pci/devices/*; do
  b=$(basename "$d")
  D=$T/bus/pci/devices/$b
  mkdir -p "$D"
  for f in vendor device class subsystem_vendor subsystem_device revision irq resource config modalias numa_node; do
    [ -r "$d/$f" ] && cat "$d/$f" > "$D/$f"
  done
  if [ -L "$d/driver" ]; then
    drv=$(basename "$(readlink "$d/driver")")
    # A file in each directory the links point to, so a git checkout of the copy keeps it
    # (lspci reports a driver or group only when its link resolves).
    mkdir -p "$T/bus/pci/drivers/$drv"
    : > "$T/bus/pci/drivers/$drv/bind"
    ln -s "../../drivers/$drv" "$D/driver"
  fi
  if [ -L "$d/iommu_group" ]; then
    g=$(basename "$(readlink "$d/iommu_group")")
    # The group's own devices/ links are left out: they and these links would make a cycle that
    # tools walking the checkout follow forever; rawpci and lspci need only this link's name.
    mkdir -p "$T/kernel/iommu_groups/$g"
    cat "/sys/kernel/iommu_groups/$g/type" > "$T/kernel/iommu_groups/$g/type" 2>/dev/null || echo unknown > "$T/kernel/iommu_groups/$g/type"
    ln -s "../../../../kernel/iommu_groups/$g" "$D/iommu_group"
  fi
done
for s in /sys/bus/pci/slots/*; do
  [ -r "$s/address" ] || continue
  mkdir -p "$T/bus/pci/slots/$(basename "$s")"
  cat "$s/address" > "$T/bus/pci/slots/$(basename "$s")/address"
done
uname -r > "$OUT/kernel-release"
lspci --version > "$OUT/lspci-version"
lspci -O hwdb.disable=1 -nn -D -k > "$OUT/lspci-nn-D-k.txt" 2>/dev/null
for v in v vv vvv; do lspci -O hwdb.disable=1 -$v -nn -D -k > "$OUT/lspci-$v-nn-D-k.txt" 2>/dev/null; done
lspci -O hwdb.disable=1 -xxxx -D > "$OUT/lspci-xxxx-D.txt" 2>/dev/null
# The copy must read as the live tree does: lspci on it prints the same at every level.
for v in "" -v -vv -vvv -xxxx; do
  lspci -A linux-sysfs -O sysfs.path=$T/bus/pci -O hwdb.disable=1 $v -nn -D -k > "$OUT/copy.txt" 2>/dev/null
  lspci -O hwdb.disable=1 $v -nn -D -k > "$OUT/live.txt" 2>/dev/null
  cmp -s "$OUT/live.txt" "$OUT/copy.txt" || { echo "capture: lspci $v reads the copy differently from the live tree:"; diff "$OUT/live.txt" "$OUT/copy.txt" | head -20; exit 1; }
done
rm -f "$OUT/copy.txt" "$OUT/live.txt"
echo "capture: $(ls "$T/bus/pci/devices" | wc -l) functions, kernel $(cat "$OUT/kernel-release"); lspci reads the copy as it reads the live tree (-v, -vv, -vvv, -xxxx)"
