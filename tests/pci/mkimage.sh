#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# mkimage.sh KDIR BUILDDIR OUT - build the initramfs of the PCI suite's nested
# guest ("L3") on the build machine (nothing here touches vsock): busybox, the
# L3 init (tests/pci/l3init.sh), the kernel modules it loads, and the programs
# it runs with the shared libraries they need, at the same paths.
#   KDIR      the test VM's kernel dir (tests/interop/vm.sh --kernel-dir): its
#             root/ holds the extracted kernel .deb and kver its version
#   BUILDDIR  the build tree with examples/ and tests/pci/linux_peer
#   OUT       the image to write (gzip'ed newc cpio)
# The lwvsock examples are optional (configure --disable-examples): without
# them only the Linux-driver cases can run.
set -euo pipefail
[ $# = 3 ] || { echo "usage: mkimage.sh KDIR BUILDDIR OUT" >&2; exit 2; }
K=$1 B=$2 OUT=$3
HERE=$(cd "$(dirname "$0")" && pwd)
KVER=$(cat "$K/kver")
BB=$(dirname "$K")/busybox/bin/busybox
[ -x "$BB" ] || BB=$(command -v busybox) || { echo "mkimage.sh: no busybox (vm.sh --prepare caches one)" >&2; exit 2; }

R=$(mktemp -d "${OUT%/*}/l3root.XXXXXX")
trap 'rm -rf "$R"' EXIT
mkdir -p "$R"/{bin,proc,sys,dev,mods,tmp}
cp "$BB" "$R/bin/busybox"
cp "$HERE/l3init.sh" "$R/init"
chmod +x "$R/init"
: > "$R/lwvsock-l3"

# modules LIST MODULE...: copy each module with its dependencies, in load
# order, into /mods, listing the ones not already listed elsewhere in LIST
modules() {
  local list=$1 m kw path b
  shift
  : > "$R/$list"
  for m in "$@"; do
    while read -r kw path _; do
      [ "$kw" = insmod ] || continue
      b=$(basename "$path")
      grep -qx "/mods/$b" "$R"/*.list && continue
      cp "$path" "$R/mods/$b"
      echo "/mods/$b" >> "$R/$list"
    done < <(modprobe -d "$K/root" -S "$KVER" --show-depends "$m")
  done
}
# boot: what lwvsock's user-space transport may use; linux: Linux's own driver
modules boot.list uio_pci_generic
modules linux.list virtio_pci vmw_vsock_virtio_transport
grep -q vmw_vsock_virtio_transport "$R/linux.list" ||
  { echo "mkimage.sh: the kernel in $K has no vmw_vsock_virtio_transport module" >&2; exit 2; }

# program PATH: copy a built program to /bin with the libraries it needs into
# /lib/x86_64-linux-gnu (the loader's default path), the loader at its path.
# libtool keeps the real binary of an uninstalled program in .libs/, and finds
# the uninstalled liblwvsock in $B/.libs.
mkdir -p "$R/lib/x86_64-linux-gnu"
program() {
  local p=$1 real deps lib
  real=$(dirname "$p")/.libs/$(basename "$p")
  [ -x "$real" ] || real=$p
  cp "$real" "$R/bin/$(basename "$p")"
  deps=$(LD_LIBRARY_PATH=$B/.libs ldd "$real")
  if grep -q 'not found' <<< "$deps"; then
    echo "mkimage.sh: $real: a library is missing: $deps" >&2; exit 2
  fi
  for lib in $(grep -o '/[^ ]*' <<< "$deps"); do
    case $lib in
      */ld-linux*) mkdir -p "$R$(dirname "$lib")"; cp -L "$lib" "$R$lib";;
      *) cp -L "$lib" "$R/lib/x86_64-linux-gnu/";;
    esac
  done
}
[ -x "$B/tests/pci/linux_peer" ] || { echo "mkimage.sh: $B/tests/pci/linux_peer is not built" >&2; exit 2; }
program "$B/tests/pci/linux_peer"
for p in lwvsock-echo lwvsock-perf lwvsock-httpd lwvsock-netif; do
  if [ -x "$B/examples/$p" ]; then program "$B/examples/$p"; fi
done

( cd "$R" && find . | cpio -o -H newc --quiet | gzip -1 ) > "$OUT.tmp"
mv "$OUT.tmp" "$OUT"
