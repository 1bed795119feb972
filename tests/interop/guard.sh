# SPDX-License-Identifier: BSD-3-Clause
# guard.sh - sourced (". guard.sh") by every script that runs inside the test
# VM. Refuses, with exit 99, unless all three hold:
#  - the hostname is the test VM's (lwvsock-testvm),
#  - / is the "hostroot" 9p mount (read from /proc/mounts: statfs on 9p reports
#    the build machine's file system type, so it cannot tell),
#  - the marker /run/lwvsock-testvm, written by the VM's init on its fresh tmpfs
#    /run, exists.
# Only then does it set LWVSOCK_ALLOW_VHOST_VSOCK=1, the interlock that
# lwvsock_vhost_vsock_open() requires.
lwvsock_guard_refuse() {
  echo "REFUSING: $1. This script opens AF_VSOCK sockets and /dev/vhost-vsock and must" \
       "only run inside the lwvsock test VM: run it through tests/interop/vm.sh" >&2
  exit 99
}
if [ "$(hostname 2>/dev/null)" != lwvsock-testvm ]; then
  lwvsock_guard_refuse "hostname is '$(hostname 2>/dev/null)', not lwvsock-testvm"
elif ! awk '$2 == "/" && $1 == "hostroot" && $3 == "9p" {found = 1} END {exit !found}' /proc/mounts 2>/dev/null; then
  lwvsock_guard_refuse "/ is not the hostroot 9p mount of the test VM"
elif [ ! -e /run/lwvsock-testvm ]; then
  lwvsock_guard_refuse "the marker /run/lwvsock-testvm written by the test VM's init is missing"
fi
unset -f lwvsock_guard_refuse
export LWVSOCK_ALLOW_VHOST_VSOCK=1
