#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# run.sh - `make check` entry of the PCI guest suite: builds the nested guest's
# initramfs (tests/pci/mkimage.sh), boots the test VM once (tests/interop/vm.sh)
# and runs tests/pci/guest.sh in it, which boots the nested guest once and runs
# every case there. Exit 0 all passed, 1 a case failed, 77 skipped (no QEMU,
# LWVSOCK_SKIP_VM_TESTS=1, or the VM's kernel cannot be fetched).
#
# Environment: LWVSOCK_VM_CACHE (as for vm.sh), LWVSOCK_PCI_TIMEOUT (seconds for
# the whole VM run, default 1200; the nested guest's boot alone takes 1-6
# minutes), LWVSOCK_PCI_DRIVERS (the guest drivers the cases run with, in
# order; default "lwvsock linux": lwvsock's programs on the device, then
# Linux's own driver bound to it), LWVSOCK_PCI_CASES (case patterns, default all).
srcdir=${srcdir:-$(dirname "$0")/../..}
top_srcdir=$(cd "$srcdir" && pwd)
. "$top_srcdir/tests/vmsuite.sh"

vmsuite_require
vmsuite_prepare
mkdir -p "$builddir/tests/pci"
image=$builddir/tests/pci/l3-initrd.cpio.gz
bash "$top_srcdir/tests/pci/mkimage.sh" "$kdir" "$builddir" "$image" || exit 1
drivers=${LWVSOCK_PCI_DRIVERS:-lwvsock linux}
case " $drivers " in
  *" lwvsock "*) ;;
  *) echo "NOTE: the lwvsock cases are NOT run (LWVSOCK_PCI_DRIVERS='$drivers')";;
esac
t=${LWVSOCK_PCI_TIMEOUT:-1200}
# shellcheck disable=SC2086 # the case patterns are words
exec bash "$vm" -t "$t" -m 1536M -w "$builddir" -- \
  bash "$top_srcdir/tests/pci/guest.sh" -k "$kdir" -i "$image" -d "$drivers" -T $((t - 60)) \
  ${LWVSOCK_PCI_CASES:-}
