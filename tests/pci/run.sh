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
builddir=$(pwd)
vm=$top_srcdir/tests/interop/vm.sh

if [ "${LWVSOCK_SKIP_VM_TESTS:-0}" = 1 ]; then
  echo "SKIP: LWVSOCK_SKIP_VM_TESTS=1"
  exit 77
fi
if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
  echo "SKIP: qemu-system-x86_64 not found: apt-get install qemu-system-x86"
  exit 77
fi
if ! kdir=$(bash "$vm" --kernel-dir); then
  echo "SKIP: the test VM could not be prepared (see the vm.sh message above)"
  exit 77
fi
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
