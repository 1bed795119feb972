# SPDX-License-Identifier: BSD-3-Clause
# vmsuite.sh - sourced (". vmsuite.sh", POSIX sh) by the `make check` entries of
# the suites that boot the QEMU test VM (tests/*/run.sh, examples/test-vm.sh):
# their prerequisites, and one way of skipping (exit 77) when one is missing.
# The caller sets top_srcdir first; this sets builddir (the cwd) and vm (vm.sh).
# shellcheck shell=sh disable=SC2034,SC2154 # top_srcdir, builddir, kdir: the caller's
builddir=$(pwd)
vm=$top_srcdir/tests/interop/vm.sh

# vmsuite_skip REASON: report the suite as skipped
vmsuite_skip() {
  echo "SKIP: $1"
  exit 77
}

# vmsuite_require [TOOL...]: skip unless VM tests are allowed
# (LWVSOCK_SKIP_VM_TESTS=1 says they are not), QEMU is installed and so is
# every TOOL the suite's build-machine side runs
vmsuite_require() {
  [ "${LWVSOCK_SKIP_VM_TESTS:-0}" = 1 ] && vmsuite_skip "LWVSOCK_SKIP_VM_TESTS=1"
  command -v qemu-system-x86_64 >/dev/null 2>&1 ||
    vmsuite_skip "qemu-system-x86_64 not found: apt-get install qemu-system-x86"
  for vmsuite_t in "$@"; do
    command -v "$vmsuite_t" >/dev/null 2>&1 ||
      vmsuite_skip "$vmsuite_t not found (the VM's host side uses it)"
  done
}

# vmsuite_prepare: fetch and build the VM's cache, or skip; sets kdir, the
# kernel's cache dir (vm.sh --kernel-dir)
vmsuite_prepare() {
  kdir=$(bash "$vm" --kernel-dir) ||
    vmsuite_skip "the test VM could not be prepared (see the vm.sh message above)"
}
