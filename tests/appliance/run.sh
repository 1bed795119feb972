#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# run.sh - `make check` entry of the appliance suite: boots the test VM once
# (tests/interop/vm.sh) and, inside it, the appliance image on q35 and on
# microvm (legacy and modern virtio-mmio) with a real vhost-vsock device,
# and the netif image on q35 against QEMU's slirp on a vsock stream netdev,
# running tests/appliance/cases.sh. Exit 0 all passed, 1 a case failed, 77
# skipped (LWVSOCK_SKIP_VM_TESTS=1, no QEMU, or no VM kernel), other: the VM
# failed.
#
# Environment: LWVSOCK_VM_CACHE (see vm.sh), LWVSOCK_APPLIANCE_MACHINES
# (default "q35 microvm-legacy microvm-modern netif"), LWVSOCK_APPLIANCE_TIMEOUT
# (seconds for the whole VM run, default 2400).
srcdir=${srcdir:-$(dirname "$0")/../..}
top_srcdir=$(cd "$srcdir" && pwd)
. "$top_srcdir/tests/vmsuite.sh"

vmsuite_require
if [ ! -s "$builddir/examples/lwvsock-appliance.elf" ]; then
  echo "FAIL: examples/lwvsock-appliance.elf is not built (make appliance)"
  exit 1
fi
vmsuite_prepare
t=${LWVSOCK_APPLIANCE_TIMEOUT:-2400}
# shellcheck disable=SC2086 # the machine names are words
exec bash "$vm" -t "$t" -w "$builddir" -- \
  bash "$top_srcdir/tests/appliance/cases.sh" -b "$builddir" \
  ${LWVSOCK_APPLIANCE_MACHINES:-q35 microvm-legacy microvm-modern netif}
