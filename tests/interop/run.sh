#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# run.sh - `make check` entry of the interop tests: boots the test VM once
# (tests/interop/vm.sh) and runs every case of tests/interop/cases.sh in it
# against Linux's own vsock. Exit 0 all passed, 1 a case failed, 77 skipped
# (LWVSOCK_SKIP_VM_TESTS=1, no QEMU, or the VM's kernel cannot be fetched),
# other: the VM failed.
#
# Environment: LWVSOCK_VM_CACHE (where the kernel and busybox .debs are kept,
# default tests/interop/cache in the build tree), LWVSOCK_INTEROP_CASES
# (space-separated case patterns; default all), LWVSOCK_INTEROP_TIMEOUT
# (seconds for the whole VM run, default 600: under TCG on a loaded 2-core
# machine the suite takes over 5 minutes).
srcdir=${srcdir:-$(dirname "$0")/../..}
top_srcdir=$(cd "$srcdir" && pwd)
. "$top_srcdir/tests/vmsuite.sh"
here=$top_srcdir/tests/interop

vmsuite_require
vmsuite_prepare
# shellcheck disable=SC2086 # the case patterns are words
# The cases get the VM's time less a margin for booting, so the summary line
# is always printed.
t=${LWVSOCK_INTEROP_TIMEOUT:-600}
exec bash "$vm" -t "$t" -w "$builddir" -- \
  bash "$here/cases.sh" -b "$builddir" -T $((t - 45)) ${LWVSOCK_INTEROP_CASES:-}
