#!/bin/busybox sh
# The guest's /init for the guest-OS tier: checks of issue 11 item 4 inside Debian's i386 kernel on rawpci's guest bus, one `guest: PASS name` / `guest: FAIL name: why` line each; exits through port 0xf4 with the number of failures.
#
# Runs under busybox only, plus the tier's programs in /progs (scripts/guest-os/progs/*.c) and
# lspci (pciutils i386). Devices are found by ID: edu 1234:11e8 (docs/edu.md), the testdev
# 1234:5250 (docs/testdev.md). Other lines the host runner (scripts/guest-os/run.mjs) reads:
# `guest: CONFIG BDF OFFSET HEX...` (the config space as Linux sees it, read before any check
# changes it), `guest: MEASURE name value`, and the lspci text between `guest: LSPCI-BEGIN` and
# `guest: LSPCI-END`. Kernel command line: rawpci.dma_outside=ADDR, a bus address outside the VM's
# IOMMU domain and inside edu's 28-bit DMA mask (default 0x0f000000, above 192 MiB of RAM).
/bin/busybox mkdir -p /proc /sys /dev /tmp /usr/bin /usr/sbin /sbin
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
echo "rawpci-guest: kernel $(uname -r), $(grep MemTotal /proc/meminfo)"
FAILS=0
pass() { echo "guest: PASS $1"; }
fail() { echo "guest: FAIL $1: $2"; FAILS=$((FAILS + 1)); }
# check NAME WHY COMMAND...: PASS when COMMAND succeeds, else FAIL with WHY.
check() { n=$1; w=$2; shift 2; if "$@"; then pass "$n"; else fail "$n" "$w"; fi; }
# The guest's verdict: the failure count through the exit port (rawpci vm exits with it).
verdict() {
  echo "rawpci-guest: exit $1"
  printf "\\$(printf %o "$1")" | dd of=/dev/port bs=1 seek=244 count=1 2>/dev/null
  poweroff -f
}
arg() { sed -n "s/.*rawpci\\.$1=\\([^ ]*\\).*/\\1/p" /proc/cmdline; }
OUTSIDE=$(arg dma_outside); OUTSIDE=${OUTSIDE:-0x0f000000}

# ---- modules ----
while read -r m; do insmod "/lib/modules/$m" || fail "module-$(basename $m .ko)-loads" "insmod $m failed"; done </etc/modules-load

# ---- enumeration: SeaBIOS assigned the BARs, Linux lists both functions ----
find_dev() { for d in /sys/bus/pci/devices/*; do [ "$(cat $d/vendor):$(cat $d/device)" = "$1" ] && { echo $d; return; }; done; }
EDU=$(find_dev 0x1234:0x11e8)
TD=$(find_dev 0x1234:0x5250)
check sysfs-lists-edu "no 1234:11e8 under /sys/bus/pci/devices" [ -n "$EDU" ]
check sysfs-lists-testdev "no 1234:5250 under /sys/bus/pci/devices" [ -n "$TD" ]
check proc-bus-pci-lists-edu "no 123411e8 line in /proc/bus/pci/devices" grep -q "	123411e8	" /proc/bus/pci/devices
check proc-bus-pci-lists-testdev "no 12345250 line in /proc/bus/pci/devices" grep -q "	12345250	" /proc/bus/pci/devices
[ -n "$EDU" ] && [ -n "$TD" ] || verdict $((FAILS > 0 ? FAILS : 1))
EDU_BDF=$(basename $EDU); TD_BDF=$(basename $TD)
# res DEV N: start address of resource N (sysfs resource, line N+1), as 0x...; 0x0 when unassigned.
res() { sed -n "$(($2 + 1))p" $1/resource | { read s e f; printf '0x%x' $((s)); }; }
EDU_BAR0=$(res $EDU 0)
TD_IO=$(res $TD 0); TD_MEM=$(res $TD 2); TD_MSIX=$(res $TD 4); TD_ROM=$(res $TD 6)
echo "rawpci-guest: edu $EDU_BDF BAR0 $EDU_BAR0 irq $(cat $EDU/irq); testdev $TD_BDF I/O $TD_IO BAR2 $TD_MEM BAR4 $TD_MSIX ROM $TD_ROM irq $(cat $TD/irq)"
check bios-assigned-edu-bar0 "edu's BAR0 is unassigned" [ $((EDU_BAR0)) -ne 0 ]
check bios-assigned-testdev-bars "a testdev BAR (I/O $TD_IO, 2 $TD_MEM, 4 $TD_MSIX, ROM $TD_ROM) is unassigned" \
  [ $((TD_IO)) -ne 0 -a $((TD_MEM)) -ne 0 -a $((TD_MSIX)) -ne 0 -a $((TD_ROM)) -ne 0 ]

# ---- config space as the guest sees it, for the host's comparison ----
for d in $EDU $TD; do
  od -An -tx1 -v -w16 $d/config | { o=0; while read l; do printf 'guest: CONFIG %s %03x %s\n' $(basename $d) $o "$l"; o=$((o + 16)); done; }
done

# ---- edu through devmem ----
check edu-devmem-identification "0x00 read $(devmem $EDU_BAR0 32)" [ "$(devmem $EDU_BAR0 32)" = 0x010000ED ]
devmem $((EDU_BAR0 + 4)) 32 0x12345678
check edu-devmem-liveness-inverts "0x04 read $(devmem $((EDU_BAR0 + 4)) 32) after writing 0x12345678" [ "$(devmem $((EDU_BAR0 + 4)) 32)" = 0xEDCBA987 ]
devmem $((EDU_BAR0 + 8)) 32 10
i=0; while [ $(($(devmem $((EDU_BAR0 + 0x20)) 32) & 1)) -ne 0 ] && [ $i -lt 100 ]; do usleep 10000; i=$((i + 1)); done
check edu-devmem-factorial "10! read $(devmem $((EDU_BAR0 + 8)) 32)" [ $(($(devmem $((EDU_BAR0 + 8)) 32))) -eq 3628800 ]

# ---- edu through an mmap of resource0 (and its cost) ----
/progs/mmio-loop $EDU 20000 || FAILS=$((FAILS + $?))

# ---- the testdev's I/O BAR: 32-bit ports (inl) and bytes through /dev/port ----
check testdev-io-id "ID read $(/progs/port32 $TD_IO)" [ "$(/progs/port32 $TD_IO)" = 0x52500001 ]
printf '\125\252\063\314' | dd of=/dev/port bs=1 seek=$((TD_IO + 4)) count=4 2>/dev/null
SCR=$(dd if=/dev/port bs=1 skip=$((TD_IO + 4)) count=4 2>/dev/null | od -An -tx1 | tr -d ' ')
check testdev-dev-port-scratch "SCRATCH read back $SCR through /dev/port after writing 55aa33cc" [ "$SCR" = 55aa33cc ]
check testdev-io-scratch-dword "SCRATCH read $(/progs/port32 $((TD_IO + 4))) with inl" [ "$(/progs/port32 $((TD_IO + 4)))" = 0xcc33aa55 ]
IDB=$(dd if=/dev/port bs=1 skip=$((TD_IO)) count=1 2>/dev/null | od -An -tx1 | tr -d ' ')
check testdev-dev-port-id-byte-all-ones "a 1-byte read of ID gave $IDB (4-byte register: bad width reads all ones)" [ "$IDB" = ff ]

# ---- the testdev's ROM through sysfs ----
echo 1 > $TD/rom
dd if=$TD/rom of=/tmp/rom bs=4096 2>/dev/null
echo 0 > $TD/rom
SIG=$(od -An -tx1 -N2 /tmp/rom | tr -d ' ')
check testdev-rom-signature "ROM starts $SIG" [ "$SIG" = 55aa ]
LEN=$(($(od -An -tu1 -j2 -N1 /tmp/rom) * 512))
SUM=$(od -An -tu1 -v -N$LEN /tmp/rom | awk '{ for (i = 1; i <= NF; i++) s += $i } END { print s % 256 }')
check testdev-rom-checksum "the $LEN-byte image sums to $SUM mod 256" [ "$LEN" -gt 0 -a "$SUM" = 0 ]

# ---- INTx through uio_pci_generic ----
IRQ=$(cat $EDU/irq)
irqs() { awk -v irq="$IRQ:" '$1 == irq { s = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) s += $i; print s }' /proc/interrupts; }
echo "1234 11e8" > /sys/bus/pci/drivers/uio_pci_generic/new_id
UIO=$(ls $EDU/uio 2>/dev/null | head -1)
check uio-pci-generic-binds-edu "no uio device under $EDU/uio ($(dmesg | grep -i uio | tail -1))" [ -n "$UIO" ]
if [ -n "$UIO" ]; then
  B=$(irqs)
  /progs/uio-irq $EDU /dev/$UIO 20 || FAILS=$((FAILS + $?))
  A=$(irqs)
  echo "rawpci-guest: IRQ $IRQ count ${B:-?} -> ${A:-?} in /proc/interrupts"
  # 20 raises and the one delivered when INTx is enabled again: 21 (a spurious one or two allowed).
  check uio-intx-proc-interrupts "IRQ $IRQ went ${B:-?} -> ${A:-?} for 21 interrupts" [ $((${A:-0} - ${B:-0})) -ge 21 -a $((${A:-0} - ${B:-0})) -le 23 ]
  check uio-intx-no-nobody-cared "$(dmesg | grep -m1 'nobody cared')" [ -z "$(dmesg | grep 'nobody cared')" ]
  echo -n $EDU_BDF > /sys/bus/pci/drivers/uio_pci_generic/unbind
fi

# ---- edu DMA from a guest program ----
echo "rawpci-guest: DMA-OUTSIDE-BEGIN $OUTSIDE"
/progs/edu-dma $EDU $OUTSIDE || FAILS=$((FAILS + $?))
echo "rawpci-guest: DMA-OUTSIDE-END"

# ---- the guest's own lspci, before the BAR move ----
echo "guest: LSPCI-BEGIN"
{ lspci -vv -nn -s $EDU_BDF; lspci -vv -nn -s $TD_BDF; } > /tmp/lspci.txt 2>&1
cat /tmp/lspci.txt
echo "guest: LSPCI-END"
check lspci-lists-both "lspci -nn did not show [1234:11e8] and [1234:5250]" grep -q '\[1234:5250\]' /tmp/lspci.txt
grep -q '\[1234:11e8\]' /tmp/lspci.txt || fail lspci-lists-both "lspci -nn did not show [1234:11e8]"

# ---- a BAR moved by the guest through sysfs config: decode follows ----
NEW=0xd0000000
CMD=$(/progs/pcicfg $EDU 4 2)
/progs/pcicfg $EDU 4 2 $((CMD & ~2))
/progs/pcicfg $EDU 0x10 4 $NEW
/progs/pcicfg $EDU 4 2 $((CMD | 2))
echo "rawpci-guest: edu BAR0 $EDU_BAR0 -> $(/progs/pcicfg $EDU 0x10 4)"
check bar-move-new-address-answers "0x00 at $NEW read $(devmem $NEW 32)" [ "$(devmem $NEW 32)" = 0x010000ED ]
check bar-move-old-address-all-ones "0x00 at the old $EDU_BAR0 read $(devmem $EDU_BAR0 32)" [ "$(devmem $EDU_BAR0 32)" = 0xFFFFFFFF ]
/progs/pcicfg $EDU 4 2 $((CMD & ~2))
/progs/pcicfg $EDU 0x10 4 $EDU_BAR0
/progs/pcicfg $EDU 4 2 $CMD
check bar-move-back-answers "0x00 at $EDU_BAR0 read $(devmem $EDU_BAR0 32) after moving back" [ "$(devmem $EDU_BAR0 32)" = 0x010000ED ]

echo "rawpci-guest: $FAILS failed"
verdict $FAILS
