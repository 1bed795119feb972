#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# The examples on Linux's vhost-vsock: boots the QEMU test VM once
# (tests/interop/vm.sh) and runs examples/vmcases.sh in it. Exit 0 passed,
# 1 failed, 77 skipped (LWVSOCK_SKIP_VM_TESTS=1, no QEMU, or the VM cannot be
# prepared).
srcdir=${srcdir:-$(dirname "$0")/..}
top_srcdir=$(cd "$srcdir" && pwd)
. "$top_srcdir/tests/vmsuite.sh"

vmsuite_require socat curl python3
vmsuite_prepare
exec bash "$vm" -t "${LWVSOCK_EXAMPLES_VM_TIMEOUT:-290}" -w "$builddir" -- \
  bash "$top_srcdir/examples/vmcases.sh" "$builddir"
