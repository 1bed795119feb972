#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# vm.sh - run ONE command inside a throwaway QEMU/TCG test VM and exit with its
# status. The VM boots Debian's stock kernel (PVH entry of the extracted
# vmlinux), its root is this machine's / shared READ-ONLY over virtio-9p, it has
# vhost_vsock and vsock_loopback loaded and NO network device (only dummy0 of
# the dummy module, down and unaddressed). It is the only place where lwvsock
# may touch AF_VSOCK or /dev/vhost-vsock (see guard.sh). The command runs
# switch_root'ed into that root, not chrooted, so it may create user
# namespaces (passt's sandbox does).
#
# Usage: vm.sh [options] [--] COMMAND [ARGS...]
#        vm.sh [options] --prepare     fetch and build the cache only, no boot
#        vm.sh [options] --kernel-dir  --prepare, then print the kernel's cache
#                                      dir (root/: the extracted .deb, vmlinux, kver)
#        vm.sh [options] -i            interactive shell (Ctrl-A x quits QEMU)
# Options:
#   -t SECS   wall-clock bound of the whole VM run (default 300); exit 124 on expiry
#   -m MEM    guest memory (default 512M)
#   -c N      guest vCPUs (default 2)
#   -w DIR    share DIR read-write at the same path in the VM (repeatable);
#             everything else of / is read-only there
#   -l FILE   also copy the serial console to FILE
#   -f PORT   forward the build machine's 127.0.0.1:PORT (TCP, listening there
#             from QEMU's start) to a virtio-serial port in the VM,
#             /dev/virtio-ports/lwvsock.fwd: one TCP connection at a time, the
#             VM reads EOF from the port while none is connected; keep the port
#             open across connections (its last close discards what it has
#             buffered, perhaps the next one's first bytes). Off by default.
#   -v        show kernel messages (no "quiet")
#   -h        this help
# Environment:
#   LWVSOCK_VM_CACHE  cache dir for the .debs, kernel and initramfs
#                     (default ./tests/interop/cache, i.e. in the build tree)
#   LWVSOCK_VM_KPKG   kernel package (default: what linux-image-amd64 depends on)
#   LWVSOCK_SKIP_VM_TESTS=1  refuse to boot (exit 2): callers report their VM
#                     suites as skipped (scripts/check.sh sets it for distcheck)
# Exit status: the command's; 124 timeout; 125 the VM did not report a status;
# 2 usage or missing prerequisites (the message names the package to install);
# 128+N killed by signal N (INT, TERM, HUP), after stopping QEMU.
#
# Inside the VM: hostname lwvsock-testvm, fresh tmpfs on /tmp /run /var/tmp
# /dev/shm and fresh proc/sys/devtmpfs (so the build machine's /dev, with its
# vsock nodes, is not visible), marker file /run/lwvsock-testvm. The command runs
# as root in the caller's cwd with stdin from /dev/null; its output goes to the
# serial console, which is this script's stdout.
set -euo pipefail

ME=vm.sh
usage() { awk 'NR>2 && /^#/ {sub(/^# ?/, ""); print; next} NR>2 {exit}' "$0"; }
die() { echo "$ME: $*" >&2; exit 2; }

TIMEOUT=300 MEM=512M CPUS=2 INTERACTIVE=0 VERBOSE=0 LOGFILE= PREPARE=0 FWD=
RWDIRS=()
if [ "${1:-}" = --help ]; then usage; exit 0; fi
if [ "${1:-}" = --prepare ]; then PREPARE=1; shift; fi
if [ "${1:-}" = --kernel-dir ]; then PREPARE=2; shift; fi
while getopts "t:m:c:w:l:f:ivh" o; do
  case $o in
    t) TIMEOUT=$OPTARG;; m) MEM=$OPTARG;; c) CPUS=$OPTARG;;
    w) [ -d "$OPTARG" ] || die "-w $OPTARG: not a directory"
       RWDIRS+=("$(readlink -f "$OPTARG")");;
    l) LOGFILE=$OPTARG;; i) INTERACTIVE=1;; v) VERBOSE=1;;
    f) case $OPTARG in ''|*[!0-9]*) die "-f $OPTARG: give a TCP port number";; esac
       [ "$OPTARG" -ge 1 ] && [ "$OPTARG" -le 65535 ] || die "-f $OPTARG: not a TCP port (1-65535)"
       FWD=$OPTARG;;
    h) usage; exit 0;;
    *) usage >&2; exit 2;;
  esac
done
shift $((OPTIND-1))
if [ "${1:-}" = --prepare ]; then PREPARE=1; shift; fi
# The VM mounts fresh tmpfs over /tmp, /run, /var/tmp and /dev/shm, so a source
# tree there (a CI clone in /tmp, say) would vanish inside it: share it too,
# first, so the build dirs given with -w (often inside it) mount on top.
SRCTOP=$(cd "$(dirname "$0")/../.." && pwd -P)
case $SRCTOP/ in
  /tmp/*|/run/*|/var/tmp/*|/dev/shm/*) RWDIRS=("$SRCTOP" "${RWDIRS[@]}");;
esac
case $TIMEOUT in ''|*[!0-9]*) die "-t $TIMEOUT: give whole seconds";; esac
if [ $PREPARE = 0 ] && [ $INTERACTIVE = 0 ] && [ $# = 0 ]; then
  usage >&2; exit 2
fi

if [ "${LWVSOCK_SKIP_VM_TESTS:-0}" = 1 ]; then
  echo "$ME: LWVSOCK_SKIP_VM_TESTS=1: not booting the test VM" >&2
  exit 2
fi
for t in qemu-system-x86_64:qemu-system-x86 depmod:kmod modprobe:kmod cpio:cpio \
         dpkg-deb:dpkg gzip:gzip xz:xz-utils flock:util-linux timeout:coreutils; do
  command -v "${t%%:*}" >/dev/null 2>&1 || die "missing ${t%%:*}: apt-get install ${t#*:}"
done

CACHE=${LWVSOCK_VM_CACHE:-$PWD/tests/interop/cache}
mkdir -p "$CACHE/debs" || die "cannot create the cache dir $CACHE: set LWVSOCK_VM_CACHE to a writable dir"
CACHE=$(readlink -f "$CACHE")

# fetch PKG: download the newest .deb of PKG into the cache (once).
fetch() {
  local pkg=$1 f
  f=$(ls "$CACHE"/debs/"$pkg"_*.deb 2>/dev/null | head -1 || true)
  if [ -z "$f" ]; then
    command -v apt-get >/dev/null 2>&1 || die "no cached $pkg .deb and no apt-get: put ${pkg}_*.deb into $CACHE/debs"
    local opt=()
    [ "$(id -u)" = 0 ] && opt=(-o APT::Sandbox::User=root)
    echo "$ME: downloading $pkg into $CACHE/debs" >&2
    ( cd "$CACHE/debs" && apt-get -q "${opt[@]}" download "$pkg" >&2 ) ||
      die "apt-get download $pkg failed: check the network/apt sources, or put ${pkg}_*.deb into $CACHE/debs"
    f=$(ls "$CACHE"/debs/"$pkg"_*.deb | head -1)
  fi
  echo "$f"
}

# Everything below up to the boot builds shared cache state: one builder at a time.
exec 9>"$CACHE/.lock"
flock 9

KPKG=${LWVSOCK_VM_KPKG:-}
if [ -z "$KPKG" ]; then
  KPKG=$(cat "$CACHE/kpkg" 2>/dev/null || true)
  if [ -z "$KPKG" ]; then
    command -v apt-cache >/dev/null 2>&1 || die "no apt-cache: set LWVSOCK_VM_KPKG=linux-image-VERSION-amd64"
    KPKG=$(apt-cache depends linux-image-amd64 2>/dev/null | awk '$1 == "Depends:" && $2 ~ /^linux-image-/ {print $2; exit}')
    [ -n "$KPKG" ] || die "cannot resolve linux-image-amd64 (apt-get update?), or set LWVSOCK_VM_KPKG"
    echo "$KPKG" > "$CACHE/kpkg"
  fi
fi

K=$CACHE/$KPKG
if [ ! -e "$K/.done" ]; then
  deb=$(fetch "$KPKG")
  rm -rf "$K"; mkdir -p "$K/root"
  echo "$ME: extracting $deb" >&2
  dpkg-deb -x "$deb" "$K/root"
  KVER=$(ls "$K/root/lib/modules" | head -1)
  [ -n "$KVER" ] || die "$deb has no lib/modules: is $KPKG a kernel image package?"
  # The .deb ships no modules.dep (the postinst builds it).
  depmod -b "$K/root" "$KVER"
  # PVH boot: the stock kernel has CONFIG_PVH=y; booting the ELF vmlinux skips
  # SeaBIOS and in-guest decompression (about 3 s under TCG).
  vmlinuz=$K/root/boot/vmlinuz-$KVER
  off=$(grep -abo $'\xfd7zXZ\x00' "$vmlinuz" | head -1 | cut -d: -f1 || true)
  if [ -n "$off" ]; then
    tail -c +$((off + 1)) "$vmlinuz" | xz -dc 2>/dev/null > "$K/vmlinux.tmp" || true
  fi
  if [ -s "$K/vmlinux.tmp" ] && [ "$(head -c 4 "$K/vmlinux.tmp" | od -An -c | tr -d ' ')" = 177ELF ]; then
    mv "$K/vmlinux.tmp" "$K/vmlinux"
  else
    rm -f "$K/vmlinux.tmp"
    echo "$ME: no xz ELF payload in $vmlinuz, booting the bzImage (slower)" >&2
    cp "$vmlinuz" "$K/vmlinux"
  fi
  echo "$KVER" > "$K/kver"
  touch "$K/.done"
fi
KVER=$(cat "$K/kver")

BB=$CACHE/busybox
if [ ! -x "$BB/bin/busybox" ]; then
  deb=$(fetch busybox-static)
  rm -rf "$BB"; mkdir -p "$BB"
  dpkg-deb -x "$deb" "$BB"
  [ -x "$BB/bin/busybox" ] || die "$deb has no bin/busybox"
fi

# virtio_console serves -f's virtio-serial port; without that device it stays idle.
# dummy gives a peer such as passt, which wants a routable interface, one to
# configure (dummy0 stays down and unaddressed unless a test sets it up).
MODS="virtio_pci 9pnet_virtio 9p vhost_vsock vsock_loopback virtio_console dummy"
# The init of the initramfs; the cached image is keyed by its text and MODS.
INIT=$(cat <<'EOF'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
exec </dev/console >/dev/console 2>&1
fail() { echo "lwvsock-vm: $*"; echo o > /proc/sysrq-trigger; poweroff -f; }
for m in $(cat /modules.list); do insmod $m || echo "lwvsock-vm: insmod $m failed"; done
RW=
for x in $(cat /proc/cmdline); do case $x in lwvsock_rw=*) RW=${x#lwvsock_rw=};; esac; done
O=trans=virtio,version=9p2000.L,msize=262144
mount -t 9p -o $O ctl /ctl || fail "control share mount failed"
mount -t 9p -o $O,ro,cache=loose hostroot /newroot || fail "9p root mount failed"
N=/newroot
for d in tmp run var/tmp; do mount -t tmpfs -o mode=1777 tmpfs $N/$d || fail "tmpfs on /$d failed"; done
mount -t proc proc $N/proc; mount -t sysfs sys $N/sys; mount -t devtmpfs dev $N/dev
mkdir -p $N/dev/pts $N/dev/shm
mount -t devpts -o ptmxmode=666 devpts $N/dev/pts; mount -t tmpfs tmpfs $N/dev/shm
mkdir -p $N/run/lwvsock-vm && mount --bind /ctl $N/run/lwvsock-vm
i=0
for d in $(echo "$RW" | tr ':' ' '); do
  mkdir -p $N$d 2>/dev/null  # only succeeds on the tmpfs parts; elsewhere it exists
  mount -t 9p -o $O rw$i $N$d || fail "read-write share $d failed"
  i=$((i + 1))
done
hostname lwvsock-testvm
ip link set lo up  # loopback only: the VM has no network device
echo "booted $(cut -d' ' -f1 /proc/uptime)" > $N/run/lwvsock-testvm
echo "lwvsock-vm: kernel $(uname -r -v), up $(cut -d' ' -f1 /proc/uptime)s"
# The power-off runs from a copy of busybox on tmpfs: it unmounts the 9p root,
# and init must not need a file of it then (a failing command there would end
# init: "Kernel panic - not syncing: Attempted to kill init").
mkdir -p $N/run/lwvsock-halt && cp /bin/busybox $N/run/lwvsock-halt/busybox || fail "cannot copy busybox to /run"
# switch_root, not chroot: a chrooted process may not create a user namespace
# (EPERM), which passt's sandbox needs. The 9p root's own bash runs the command.
exec switch_root $N /bin/bash -c 'bash /run/lwvsock-vm/cmd.sh; rc=$?
echo $rc > /run/lwvsock-vm/status; echo "lwvsock-vm: exit status $rc"
exec /run/lwvsock-halt/busybox sh -c "sync; echo o > /proc/sysrq-trigger; exec /run/lwvsock-halt/busybox sleep 30"'
EOF
)
INITRD=$K/initrd-$(printf '%s\n' "$MODS" "$INIT" | md5sum | cut -c1-8).cpio.gz
if [ ! -s "$INITRD" ]; then
  # images of other inits, unused for a day (another tree's vm.sh may share the cache)
  find "$K" -maxdepth 1 -name 'initrd-*.cpio.gz' -mtime +0 -delete
  R=$(mktemp -d "$CACHE/initrd.XXXXXX")
  mkdir -p "$R"/{bin,proc,sys,dev,newroot,ctl,mods}
  cp "$BB/bin/busybox" "$R/bin/busybox"
  : > "$R/modules.list"
  for m in $MODS; do
    modprobe -d "$K/root" -S "$KVER" --show-depends "$m" | while read -r kw path _; do
      [ "$kw" = insmod ] || continue
      b=$(basename "$path")
      grep -qx "/mods/$b" "$R/modules.list" && continue
      cp "$path" "$R/mods/$b"
      echo "/mods/$b" >> "$R/modules.list"
    done
  done
  grep -q vhost_vsock "$R/modules.list" || die "$KPKG has no vhost_vsock module"
  printf '%s\n' "$INIT" > "$R/init"
  chmod +x "$R/init"
  ( cd "$R" && find . | cpio -o -H newc --quiet | gzip -1 ) > "$INITRD.tmp"
  mv "$INITRD.tmp" "$INITRD"
  rm -rf "$R"
fi
flock -u 9

[ $PREPARE = 2 ] && { echo "$K"; exit 0; }
echo "$ME: kernel $KPKG ($KVER)"
[ $PREPARE = 1 ] && exit 0

# ---- per-run control dir: the command file and the status it leaves
RUN=$(mktemp -d "$CACHE/run.XXXXXX")
trap 'rm -rf "$RUN"' EXIT
{
  echo 'export HOME=/tmp TERM=dumb PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  printf 'cd %q 2>/dev/null || cd /\n' "$PWD"
  if [ -n "$FWD" ]; then
    # No udev in the VM: make the link udev would, once the port has its name.
    cat <<'LINK'
for _ in $(seq 100); do
  for n in /sys/class/virtio-ports/*/name; do
    [ "$(cat "$n" 2>/dev/null)" = lwvsock.fwd ] || continue
    d=${n%/name}
    mkdir -p /dev/virtio-ports && ln -sf "../${d##*/}" /dev/virtio-ports/lwvsock.fwd
  done
  [ -e /dev/virtio-ports/lwvsock.fwd ] && break
  sleep 0.1
done
LINK
  fi
  if [ $INTERACTIVE = 1 ]; then
    echo 'exec setsid -c /bin/bash -i </dev/ttyS0 >/dev/ttyS0 2>&1'
  else
    # the serial line would turn \n into \r\n in the logs
    echo 'stty -onlcr 2>/dev/null'
    printf 'exec'; printf ' %q' "$@"; printf ' </dev/null\n'
  fi
} > "$RUN/cmd.sh"

# no_timer_check: under TCG on a loaded machine the IO-APIC timer check can
# fail and panic the guest; this is a VM, the check has nothing to find.
APPEND="console=ttyS0 panic=-1 rdinit=/init no_timer_check"
[ $VERBOSE = 1 ] || APPEND="$APPEND quiet loglevel=1"
QARGS=(-machine q35 -accel tcg -cpu max -smp "$CPUS" -m "$MEM"
  -nodefaults -no-user-config -display none -no-reboot -nic none
  -kernel "$K/vmlinux" -initrd "$INITRD"
  -fsdev local,id=hostroot,path=/,security_model=none,readonly=on,multidevs=remap
  -device virtio-9p-pci,fsdev=hostroot,mount_tag=hostroot
  -fsdev local,id=ctl,path="$RUN",security_model=none
  -device virtio-9p-pci,fsdev=ctl,mount_tag=ctl)
i=0 RWLIST=
for d in "${RWDIRS[@]}"; do
  QARGS+=(-fsdev "local,id=rw$i,path=$d,security_model=none"
          -device "virtio-9p-pci,fsdev=rw$i,mount_tag=rw$i")
  RWLIST=$RWLIST${RWLIST:+:}$d
  i=$((i + 1))
done
[ -n "$RWLIST" ] && APPEND="$APPEND lwvsock_rw=$RWLIST"
# -f: loopback only, so nothing beyond this machine reaches the VM's port.
[ -z "$FWD" ] || QARGS+=(-chardev "socket,id=fwd0,host=127.0.0.1,port=$FWD,server=on,wait=off"
  -device virtio-serial-pci -device virtserialport,chardev=fwd0,name=lwvsock.fwd)

rc=0 SIG=
if [ $INTERACTIVE = 1 ]; then
  qemu-system-x86_64 "${QARGS[@]}" -serial mon:stdio -append "$APPEND" || rc=$?
else
  # timeout runs QEMU in a process group of its own, which neither Ctrl-C nor a
  # kill of this script reaches: pass INT/TERM/HUP on to it (it stops QEMU).
  if [ -n "$LOGFILE" ]; then
    mkfifo "$RUN/console"
    tee "$LOGFILE" <"$RUN/console" &
    exec 8>"$RUN/console"
  else
    exec 8>&1
  fi
  timeout -k 5 "$TIMEOUT" qemu-system-x86_64 "${QARGS[@]}" -serial stdio -append "$APPEND" \
    </dev/null >&8 8>&- &
  QPID=$!
  exec 8>&-  # tee ends when QEMU does
  for s in INT TERM HUP; do trap "SIG=$s; kill -TERM $QPID 2>/dev/null" $s; done
  # wait returns early when a trapped signal arrives: wait again, until QEMU is gone
  while :; do
    wait $QPID && rc=0 || rc=$?
    kill -0 $QPID 2>/dev/null || break
  done
  wait  # tee, if any
  if [ -n "$SIG" ]; then
    echo "$ME: stopped by SIG$SIG" >&2
    exit $((128 + $(kill -l "$SIG")))
  fi
fi
if [ $rc = 124 ] || [ $rc = 137 ]; then
  echo "$ME: TIMEOUT: the VM ran longer than ${TIMEOUT}s and was killed" >&2
  exit 124
fi
if [ -s "$RUN/status" ]; then exit "$(cat "$RUN/status")"; fi
echo "$ME: the VM reported no exit status (qemu exit $rc): see the lwvsock-vm: lines above, or rerun with -v for the kernel log" >&2
exit 125
