#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# demo.sh - see lwvsock serve a web page over virtio-vsock.
#
# Default: builds lwvsock-httpd where the tree is already configured (in the
# source tree itself after the README's in-tree build, else in build/); on a
# fresh tree installs missing build packages (Debian, as root), fetches lwIP
# and configures build/ first. Then runs lwvsock-httpd on the simulated host
# with 127.0.0.1:PORT forwarded to vsock port 80, until Ctrl-C.
#
# --qemu: runs lwvsock-httpd on Linux's /dev/vhost-vsock (as guest CID 3) inside
# the throwaway QEMU test VM (tests/interop/vm.sh), fetches the page once in
# there (curl, socat to VSOCK 3:80), then serves this machine's 127.0.0.1:PORT:
# QEMU listens there and carries each TCP connection over a virtio-serial port
# (vm.sh -f) to a socat in the VM that connects it to VSOCK 3:80. One
# connection at a time; until Ctrl-C, or SERVE_SECS (3600 s) have passed.
#
# --appliance: the same, but the server is the bare-metal appliance image
# (make appliance), booted by QEMU inside the test VM (microvm, with a real
# vhost-vsock device as guest CID 3).
# Nothing vsock is ever opened on this machine itself (the VM has no network
# device either: the forwarding is QEMU's chardev, on loopback only).
set -euo pipefail

usage() {
  cat <<USAGE
usage: scripts/demo.sh [--port TCP] [--root DIR] [--no-install] [--qemu | --appliance] [--help]

  --port TCP     loopback TCP port to forward to vsock port 80 (default 8080);
                 with --qemu/--appliance QEMU listens on it and forwards one
                 connection at a time (the next waits until it closes)
  --root DIR     serve the files under DIR (default: the built-in page;
                 not with --qemu/--appliance)
  --no-install   do not install missing Debian packages (only say which)
  --qemu         run on Linux vhost-vsock inside the test VM (no network
                 device) and serve it here, until Ctrl-C (an hour at most)
  --appliance    the same with the appliance image booted inside the test VM
  --help         this help
Environment: JOBS (parallel make jobs), LWIP_DIR (lwIP tree; default ./lwip).
USAGE
}

die() { echo "demo.sh: $*" >&2; exit 1; }

# ---- inside the test VM (reached through vm.sh; refuses anywhere else) ---------
if [ "${1:-}" = --in-vm ]; then
  build=$2 mode=$3 hostport=$4 serve_secs=$5
  # guard.sh exits 99 unless this really is the test VM.
  . "$(dirname "$0")/../tests/interop/guard.sh"
  pids=()
  cleanup() { local p; for p in "${pids[@]}"; do kill "$p" 2>/dev/null || :; wait "$p" 2>/dev/null || :; done; }
  trap cleanup EXIT
  if [ "$mode" = appliance ]; then
    # The appliance in a nested QEMU: "ready" on its console means it serves.
    what="the lwvsock appliance (microvm) on vhost-vsock"
    qemu-system-x86_64 -M microvm -accel tcg -m 64M -nodefaults -display none -serial stdio \
      -kernel "$build/examples/lwvsock-appliance.elf" -device vhost-vsock-device,guest-cid=3 \
      </dev/null >/tmp/httpd.log 2>&1 &
    pids+=($!)
    for _ in $(seq 900); do grep -q 'ready cid=3' /tmp/httpd.log && break; sleep 0.2; done
    grep -q 'ready cid=3' /tmp/httpd.log || { cat /tmp/httpd.log; die "the appliance did not come up"; }
  else
    what="lwvsock-httpd on vhost-vsock"
    "$build/examples/lwvsock-httpd" --device vhost-vsock:cid=3 --port 80 >/tmp/httpd.log 2>&1 &
    pids+=($!)
    for _ in $(seq 50); do grep -q serving /tmp/httpd.log && break; sleep 0.2; done
    grep -q serving /tmp/httpd.log || { cat /tmp/httpd.log; die "lwvsock-httpd did not start"; }
  fi
  # Self-check in the VM: its own loopback 8080 -> socat -> VSOCK 3:80.
  socat TCP-LISTEN:8080,bind=127.0.0.1,reuseaddr,fork VSOCK-CONNECT:3:80 &
  check=$!
  # socat may take a moment to listen under TCG: retry refused connects
  got=$(curl -sS -o /dev/null -w '%{http_code} %{size_download}' --max-time 60 --retry 30 \
          --retry-delay 1 --retry-connrefused http://127.0.0.1:8080/) || got="curl exit $?"
  kill "$check"; wait "$check" 2>/dev/null || :
  case $got in 200\ *) ;; *) cat /tmp/httpd.log; die "self-check in the VM failed ($got)" ;; esac
  echo "demo.sh: $what answered GET / in the VM: HTTP 200, ${got#* } bytes"

  # The build machine's 127.0.0.1:PORT arrives as the virtio-serial port
  # (vm.sh -f). Its host_connected flag (debugfs) says a TCP client is there:
  # only then does socat connect it to VSOCK 3:80, so no idle vsock connection
  # is made. When the client closes, socat reads EOF from the port and ends at
  # once (-t 0); when the server closes first, it ends at once too, leaving
  # what follows (the next client's request) in the port for the next socat.
  # This shell holds the port open throughout: its last close would discard
  # what the port has buffered, and the next client may already have sent.
  dev=/dev/virtio-ports/lwvsock.fwd
  [ -e $dev ] || die "no $dev in the VM (vm.sh -f gives it)"
  exec 3<>$dev
  mountpoint -q /sys/kernel/debug || mount -t debugfs debugfs /sys/kernel/debug
  state=/sys/kernel/debug/virtio-ports/$(basename "$(readlink -f $dev)")
  [ -r "$state" ] || die "no $state: cannot tell when a client is connected"
  host_connected() {
    local line
    while IFS= read -r line; do [ "$line" != "host_connected: 1" ] || return 0; done <"$state"
    return 1
  }
  echo "demo.sh: serving http://127.0.0.1:$hostport/ (Ctrl-C to stop)"
  while [ "$SECONDS" -lt "$serve_secs" ]; do
    kill -0 "${pids[0]}" 2>/dev/null || { cat /tmp/httpd.log; die "the server in the VM has ended"; }
    if host_connected; then
      socat -t 0 FD:3 VSOCK-CONNECT:3:80 || :  # socat says why
    fi
    sleep 0.3  # never spin: bounded polling while no client is connected
  done
  echo "demo.sh: ${serve_secs}s are up: stopping"
  exit 0
fi

port=8080 root= install=yes qemu=no appliance=no
while [ $# -gt 0 ]; do
  case $1 in
    --port) [ $# -ge 2 ] || die "--port needs a TCP port"; port=$2; shift ;;
    --root) [ $# -ge 2 ] || die "--root needs a directory"; root=$2; shift ;;
    --no-install) install=no ;;
    --qemu) qemu=yes ;;
    --appliance) qemu=yes appliance=yes ;;
    -h|--help) usage; exit 0 ;;
    *) echo "demo.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done
case $port in ''|*[!0-9]*) die "--port '$port': give a TCP port number" ;; esac
[ -z "$root" ] || [ -d "$root" ] || die "--root '$root': not a directory"
[ -z "$root" ] || [ $qemu = no ] || die "--root works on the simulated host only (not with --qemu/--appliance)"
[ -z "$root" ] || root=$(cd "$root" && pwd)

cd "$(dirname "$0")/.."
top=$(pwd)
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
lwip_dir=${LWIP_DIR:-$top/lwip}

# An in-tree build (./configure && make at the top, as in the README) is used
# as it is: configuring build/ from a configured source tree is refused.
if [ -f config.status ]; then
  bdir=$top
else
  bdir=$top/build
fi

# ---- packages (the build set of scripts/check.sh; --qemu also needs the VM's) ----
# An existing configuration means the build tools are there.
pkgs=
[ -f "$bdir/Makefile" ] || pkgs="build-essential autoconf automake libtool pkg-config check dpkg-dev xz-utils"
[ $qemu = no ] || pkgs="$pkgs qemu-system-x86 kmod cpio socat curl"
[ $appliance = no ] || pkgs="$pkgs gcc-multilib"
missing=
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  if [ $install = no ] || [ "$(id -u)" != 0 ]; then
    die "missing packages:$missing; install them (as root): apt-get update && apt-get install -y$missing"
  fi
  echo "demo.sh: installing$missing"
  export DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-noninteractive}
  apt-get update -q && apt-get install -y -q $missing || die "apt-get install$missing failed"
fi

# ---- lwIP and the build ----------------------------------------------------------
if [ ! -f "$bdir/Makefile" ]; then
  [ -f "$lwip_dir/src/include/lwip/init.h" ] || scripts/get-lwip.sh "$lwip_dir"
  echo "demo.sh: configuring build/ ..."
  [ -x configure ] || autoreconf -fi
  mkdir -p build
  (cd build && ../configure -q --with-lwip="$lwip_dir") || die "configure failed (see build/config.log)"
fi
echo "demo.sh: building lwvsock-httpd in ${bdir#"$top"/} (the first time takes a minute or two) ..."
make -C "$bdir" --no-print-directory -j"$jobs" examples/lwvsock-httpd || die "build failed (see the lines above)"
# The VM modes serve for SERVE_SECS; the VM's bound adds the boot time.
SERVE_SECS=3600
if [ $appliance = yes ]; then
  make -C "$bdir" --no-print-directory appliance || die "build failed (see the lines above)"
  echo "demo.sh: booting the test VM, then the appliance inside it (TCG, a few minutes)..."
  exec tests/interop/vm.sh -t $((SERVE_SECS + 600)) -f "$port" -- \
    bash "$top/scripts/demo.sh" --in-vm "$bdir" appliance "$port" $SERVE_SECS
fi

if [ $qemu = yes ]; then
  echo "demo.sh: booting the test VM (TCG, a minute or more)..."
  exec tests/interop/vm.sh -t $((SERVE_SECS + 600)) -f "$port" -- \
    bash "$top/scripts/demo.sh" --in-vm "$bdir" httpd "$port" $SERVE_SECS
fi

banner() {
  echo
  echo "  lwvsock-httpd is serving over virtio-vsock (simulated host)."
  echo "  Open http://127.0.0.1:$port/  (e.g. curl -i http://127.0.0.1:$port/)"
  echo "  Ctrl-C stops it and prints the counters."
  echo
}
# The banner comes only once the server says it is serving, so a failed start
# (port taken) prints the server's reason and no invitation. Ctrl-C reaches
# the server, which prints its counters and exits; the reader ignores it and
# ends at the server's last line.
set +e
"$bdir/examples/lwvsock-httpd" --device sim --port 80 --forward "$port:80" ${root:+--root "$root"} 2>&1 |
  {
    trap '' INT
    while IFS= read -r line; do
      printf '%s\n' "$line"
      case $line in *": serving "*) banner ;; esac
    done
  }
exit "${PIPESTATUS[0]}"
