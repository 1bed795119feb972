#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# run.sh - `make check` entry of the netif suite: boots the test VM once
# (tests/interop/vm.sh) and runs tests/netif/cases.sh in it. Exit 0 passed,
# 1 failed, 77 skipped (LWVSOCK_SKIP_VM_TESTS=1, no QEMU, or the VM cannot be
# prepared). LWVSOCK_NETIF_VM_TIMEOUT bounds the VM run (default 800 s).
srcdir=${srcdir:-$(dirname "$0")/../..}
top_srcdir=$(cd "$srcdir" && pwd)
. "$top_srcdir/tests/vmsuite.sh"

vmsuite_require curl python3 passt socat ip
vmsuite_prepare
exec bash "$vm" -t "${LWVSOCK_NETIF_VM_TIMEOUT:-800}" -w "$builddir" -- \
  bash "$top_srcdir/tests/netif/cases.sh" "$builddir"
