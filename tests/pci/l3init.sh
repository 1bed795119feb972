#!/bin/busybox sh
# SPDX-License-Identifier: BSD-3-Clause
# l3init.sh - /init of the nested guest ("L3") of the PCI suite (tests/pci).
# It runs from the initramfs that tests/pci/mkimage.sh builds: busybox, the
# kernel modules in /mods (loaded from boot.list now, linux.list when Linux's
# driver takes the device), the programs in /bin and the marker /lwvsock-l3.
#
# Control: the host side (tests/pci/guest.sh in L2) writes lines "SEQ COMMAND"
# to the second serial port (/dev/ttyS1); each COMMAND is evaluated here, in
# this shell (so the state below persists), and answered with its output as
# "SEQ| line" lines, then "SEQ done STATUS". The commands are the functions
# below; the console (ttyS0) logs each one.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mkdir -p /tmp /www /dev/hugepages
mount -t hugetlbfs none /dev/hugepages
exec </dev/console >/dev/console 2>&1
hostname lwvsock-l3
for m in $(cat /boot.list); do insmod "$m" || echo "lwvsock-l3: insmod $m failed"; done
echo "lwvsock-l3: kernel $(uname -r -v), init at $(cut -d' ' -f1 /proc/uptime)s"

# The vsock function: virtio 1.x PCI, vendor 1af4, device 1053.
BDF=
for d in /sys/bus/pci/devices/*; do
  [ "$(cat "$d/vendor")" = 0x1af4 ] && [ "$(cat "$d/device")" = 0x1053 ] && BDF=${d##*/}
done
export LWVSOCK_ALLOW_PCI=1
SPEC=pci:$BDF   # lwvsock's --device for it
DRV=none        # who owns the device: none, lwvsock (its programs) or linux

# info: what the host side prints about this guest
info() {
  echo "kernel $(uname -r -v)"
  echo "vsock device ${BDF:-missing} driver=$(basename "$(readlink "/sys/bus/pci/devices/$BDF/driver" 2>/dev/null)" 2>/dev/null)"
  echo "hugepages $(cat /proc/sys/vm/nr_hugepages)"
}
# release: take the device away from its kernel driver, if any
release() {
  [ -n "$BDF" ] || { echo "no virtio-vsock PCI device (1af4:1053)"; return 1; }
  if [ -e "/sys/bus/pci/devices/$BDF/driver" ]; then
    echo "$BDF" > "/sys/bus/pci/devices/$BDF/driver/unbind" || return 1
  fi
}
# use lwvsock|linux: hand the device to lwvsock's programs (unbound) or to
# Linux's own driver (virtio-pci + vmw_vsock_virtio_transport)
use() {
  release || return 1
  case $1 in
    lwvsock) DRV=lwvsock;;
    linux)
      if [ -d /sys/bus/pci/drivers/virtio-pci ]; then
        echo "$BDF" > /sys/bus/pci/drivers/virtio-pci/bind || return 1
      else
        for m in $(cat /linux.list); do insmod "$m" || { echo "insmod $m failed"; return 1; }; done
      fi
      i=0
      until ls /sys/bus/virtio/drivers/vmw_vsock_virtio_transport/ 2>/dev/null | grep -q '^virtio'; do
        i=$((i + 1)); [ $i -le 100 ] || { echo "vmw_vsock_virtio_transport did not bind"; return 1; }
        sleep 0.2
      done
      DRV=linux;;
    *) echo "use lwvsock|linux"; return 2;;
  esac
  info
}
# cmdline KIND ARGS...: the program line for KIND on the current driver
cmdline() {
  kind=$1; shift
  case $DRV:$kind in
    lwvsock:echo) echo "lwvsock-echo --device $SPEC --port $1";;
    lwvsock:perf) echo "lwvsock-perf --device $SPEC -s --port $1";;
    lwvsock:client) echo "lwvsock-perf --device $SPEC -c $1 --port $2 -n $3";;
    lwvsock:httpd) echo "lwvsock-httpd --device $SPEC --port $1 --root /www";;
    lwvsock:netif) echo "lwvsock-netif --device $SPEC $*";;
    linux:echo|linux:perf) echo "linux_peer $kind $1";;
    linux:client) echo "linux_peer client $1 $2 $3";;
    *) return 1;;
  esac
}
# start NAME KIND ARGS...: run a server in the background, log in /tmp/NAME.log
start() {
  name=$1; shift
  c=$(cmdline "$@") || { echo "no $1 program for driver $DRV"; return 1; }
  echo "$c"
  $c > "/tmp/$name.log" 2>&1 &
  echo $! > "/tmp/$name.pid"
}
# stop NAME: SIGTERM, then its exit status (137 when it had to be killed)
stop() {
  pid=$(cat "/tmp/$1.pid" 2>/dev/null) || { echo "$1 was not started"; return 1; }
  rm -f "/tmp/$1.pid"
  kill "$pid" 2>/dev/null
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 50 ]; do sleep 0.2; i=$((i + 1)); done
  kill -9 "$pid" 2>/dev/null
  wait "$pid"
}
# run KIND ARGS...: run a client in the foreground, bounded
run() {
  c=$(cmdline "$@") || { echo "no $1 program for driver $DRV"; return 1; }
  echo "$c"
  timeout 120 $c
}
# alive NAME: the server still runs
alive() { pid=$(cat "/tmp/$1.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null; }
# logof NAME: its log
logof() { cat "/tmp/$1.log"; }

# bigfile NAME BYTES: a random file for the HTTP server; prints its sha256
bigfile() {
  head -c "$2" /dev/urandom > "/www/$1" && sha256sum "/www/$1" | cut -d' ' -f1
}
echo "<h1>lwvsock over virtio-pci</h1>" > /www/index.html

stty -F /dev/ttyS1 raw -echo || echo "lwvsock-l3: no control port ttyS1"
exec 3<>/dev/ttyS1
echo "lwvsock-l3: ready at $(cut -d' ' -f1 /proc/uptime)s, device ${BDF:-missing}"
while read -r seq cmd <&3; do
  echo "lwvsock-l3: [$seq] $cmd"
  eval "$cmd" > /tmp/ctl.out 2>&1
  rc=$?
  sed "s/^/$seq| /" /tmp/ctl.out >&3
  echo "$seq done $rc" >&3
done
echo "lwvsock-l3: control port closed"
poweroff -f
