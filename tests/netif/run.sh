#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# run.sh - `make check` entry of the netif suite: boots the test VM once
# (tests/interop/vm.sh) and runs tests/netif/cases.sh in it. Exit 0 passed,
# 1 failed, 77 skipped (LWVSOCK_SKIP_VM_TESTS=1, no QEMU, or the VM cannot be
# prepared). LWVSOCK_NETIF_VM_TIMEOUT bounds the VM run (default 800 s).
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
for t in curl python3 passt socat ip; do
  command -v $t >/dev/null 2>&1 || { echo "SKIP: $t not found (the VM's host side uses it)"; exit 77; }
done
if ! bash "$vm" --prepare; then
  echo "SKIP: the test VM could not be prepared (see the vm.sh message above)"
  exit 77
fi
exec bash "$vm" -t "${LWVSOCK_NETIF_VM_TIMEOUT:-800}" -w "$builddir" -- \
  bash "$top_srcdir/tests/netif/cases.sh" "$builddir"
