#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The examples on Linux's vhost-vsock: boots the QEMU test VM once
# (tests/interop/vm.sh) and runs examples/vmcases.sh in it. Exit 0 passed,
# 1 failed, 77 skipped (no QEMU, or the VM cannot be prepared).
srcdir=${srcdir:-$(dirname "$0")/..}
top_srcdir=$(cd "$srcdir" && pwd)
builddir=$(pwd)
vm=$top_srcdir/tests/interop/vm.sh

if ! command -v qemu-system-x86_64 >/dev/null 2>&1; then
  echo "SKIP: qemu-system-x86_64 not found: apt-get install qemu-system-x86"
  exit 77
fi
for t in socat curl python3; do
  command -v $t >/dev/null 2>&1 || { echo "SKIP: $t not found (the VM's host side uses it)"; exit 77; }
done
if ! bash "$vm" --prepare; then
  echo "SKIP: the test VM could not be prepared (see the vm.sh message above)"
  exit 77
fi
exec bash "$vm" -t "${LWVSOCK_EXAMPLES_VM_TIMEOUT:-290}" -w "$builddir" -- \
  bash "$top_srcdir/examples/vmcases.sh" "$builddir"
