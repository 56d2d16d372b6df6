#!/bin/sh
# `rawpci demo --os`, the guest half: Linux finds edu on its PCI bus and drives it through /dev/mem (docs/edu.md for the registers).
fails=0
ok() { echo "guest: PASS $1"; }
bad() { echo "guest: FAIL $1"; fails=$((fails + 1)); }

echo "== Linux $(uname -r) in v86 enumerated this PCI bus (SeaBIOS assigned the BARs):"
lspci -nn
edu=
for d in /sys/bus/pci/devices/*; do
  [ "$(cat "$d/vendor")" = 0x1234 ] && [ "$(cat "$d/device")" = 0x11e8 ] && edu=$d
done
if [ -z "$edu" ]; then
  bad "edu (1234:11e8) is not on the bus"
  exit 1
fi
slot=${edu##*/}
echo
echo "== lspci -vv -nn -s $slot (pciutils 3.9, i386, in the guest):"
lspci -vv -nn -s "$slot"
ok "Linux lists edu at $slot, IRQ $(cat "$edu/irq")"

bar0=$(head -1 "$edu/resource" | cut -d' ' -f1)
bar0=$((bar0))
id=$(devmem $bar0 32)
[ "$id" = 0x010000ED ] && ok "edu identification at BAR0 0x$(printf %x $bar0): $id" || bad "edu identification read $id, not 0x010000ED"
devmem $((bar0 + 4)) 32 0x12345678
live=$(devmem $((bar0 + 4)) 32)
[ "$live" = 0xEDCBA987 ] && ok "edu liveness: wrote 0x12345678, read back $live" || bad "edu liveness read $live"
devmem $((bar0 + 8)) 32 10
n=0
while [ $(( $(devmem $((bar0 + 0x20)) 32) & 1 )) = 1 ] && [ $n -lt 100 ]; do n=$((n + 1)); done
fact=$(devmem $((bar0 + 8)) 32)
[ $((fact)) = 3628800 ] && ok "edu factorial: 10! = $((fact))" || bad "edu factorial: 10! read $((fact))"
echo
[ $fails = 0 ] && echo "guest: edu works under Linux ($(uname -r)) through rawpci" || echo "guest: $fails check(s) failed"
exit $fails
