#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# scripts/embed.sh: the two documented ways into lwvsock, built from outside
# the tree as a user would (scripts/check.sh runs it after make check).
#
#  1. hosted: `make install` of BUILD into a DESTDIR; the README's embedding
#     example, extracted verbatim, compiled with pkg-config only and run on the
#     sim; the installed shared library's .bss must stay under 2 MiB and it
#     must carry no lwIP apps (headers or code). Then the library is configured
#     again with --with-lwipopts=tests/embed/lwipopts.h, installed into a
#     prefix (libcheck hidden: the library must not need it), and the example
#     built and run against that.
#  2. firmware: lwIP's sources plus Filelists.mk built with plain make and the
#     small tests/embed/lwipopts.h, and the same with Filelists.cmake and
#     cmake; the example runs on the sim in both. Filelists.mk and
#     Filelists.cmake must list every source of src/, port/unix/sim/ and port/unix/devspec.c.
set -euo pipefail

usage() {
  echo "usage: scripts/embed.sh --build DIR --lwip DIR [--jobs N]"
  echo "DIR: a configured and built lwvsock build directory (make install is run in it)."
}
build= lwip= jobs=2
while [ $# -gt 0 ]; do
  case $1 in
    --build) build=$2; shift ;;
    --lwip) lwip=$2; shift ;;
    --jobs) jobs=$2; shift ;;
    -h|--help) usage; exit 0 ;;
    *) usage >&2; exit 2 ;;
  esac
  shift
done
[ -n "$build" ] && [ -f "$build/Makefile" ] || { usage >&2; echo "embed.sh: --build must name a configured build directory" >&2; exit 2; }
[ -n "$lwip" ] && [ -f "$lwip/src/include/lwip/init.h" ] || { echo "embed.sh: --lwip must name an lwIP source tree" >&2; exit 2; }
top=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
lwip=$(cd "$lwip" && pwd)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/lwvsock-embed.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "embed.sh: FAILED: $*" >&2; exit 1; }
bss_max=$((2 * 1024 * 1024))

# The README's example: the ```c block after the "Embedding" heading.
awk '/^## Embedding/ { s = 1 } s == 1 && /^```c$/ { s = 2; next } s == 2 && /^```$/ { exit } s == 2' \
  "$top/README" >"$tmp/embed.c"
grep -q 'int main' "$tmp/embed.c" || fail "no example found in README under '## Embedding'"

run_example() { # label program
  "$2" >"$tmp/out" 2>&1 || { cat "$tmp/out" >&2; fail "$1: the example failed"; }
  cat "$tmp/out"
  grep -q '^host: received 26 bytes: "hello from lwIP over vsock"$' "$tmp/out" ||
    fail "$1: the example did not report the greeting arriving"
}

echo "== hosted: make install DESTDIR, README example with pkg-config only"
dest=$tmp/dest
make -s -C "$build" install DESTDIR="$dest" >/dev/null
libdir=$(sed -n 's/^libdir=//p' "$build/lwvsock.pc")
libdir=${libdir//\$\{exec_prefix\}/$(sed -n 's/^exec_prefix=//p' "$build/lwvsock.pc")}
libdir=${libdir//\$\{prefix\}/$(sed -n 's/^prefix=//p' "$build/lwvsock.pc")}
export PKG_CONFIG_SYSROOT_DIR=$dest PKG_CONFIG_PATH=$dest$libdir/pkgconfig PKG_CONFIG_LIBDIR=
# shellcheck disable=SC2046
cc -o "$tmp/embed-hosted" "$tmp/embed.c" $(pkg-config --cflags --libs lwvsock) || fail "the README example does not build against the installed library"
LD_LIBRARY_PATH=$dest$libdir run_example hosted "$tmp/embed-hosted"

so=$(ls "$dest$libdir"/liblwvsock.so.*.*.* | head -n 1)
bss=$(size -A "$so" | awk '$1 == ".bss" { print $2 }')
echo "installed $(basename "$so"): .bss $bss bytes (limit $bss_max); largest dynamic objects:"
nm -D -S --size-sort "$so" | awk '$3 ~ /^[BbDd]$/' | tail -n 3
[ -n "$bss" ] && [ "$bss" -lt "$bss_max" ] || fail ".bss of the installed library is $bss bytes, not under $bss_max"
! nm -D "$so" | grep -q ' T httpc_' || fail "the installed library exports lwIP's http_client"
inc=$(pkg-config --variable=includedir lwvsock)   # the sysroot ($dest) included
[ -f "$inc/lwvsock/lwip/lwip/init.h" ] || fail "make install put no lwIP headers in $inc/lwvsock/lwip"
[ ! -e "$inc/lwvsock/lwip/lwip/apps" ] || fail "make install put lwIP's apps headers in $inc/lwvsock/lwip/lwip/apps"
cmp "$inc/lwvsock/lwip/lwipopts.h" "$top/port/unix/lwipopts/lwipopts.h" || fail "the installed lwipopts.h is not the hosted one"
unset PKG_CONFIG_SYSROOT_DIR PKG_CONFIG_PATH PKG_CONFIG_LIBDIR

echo "== hosted: configure --with-lwipopts=tests/embed/lwipopts.h (libcheck hidden), make install, README example"
mkdir "$tmp/build-opts" "$tmp/no-pc"
( cd "$tmp/build-opts" && PKG_CONFIG_LIBDIR=$tmp/no-pc PKG_CONFIG_PATH= "$top/configure" -q \
    --prefix="$tmp/prefix" --with-lwip="$lwip" --with-lwipopts="$top/tests/embed/lwipopts.h" \
    --disable-examples --enable-werror ) || fail "configure --with-lwipopts failed"
grep -q -- '-DLWVSOCK_NO_LIBCHECK' "$tmp/build-opts/Makefile" || fail "libcheck was not hidden from configure"
make -s -C "$tmp/build-opts" -j"$jobs" install >/dev/null || fail "make install of the --with-lwipopts build failed"
cmp "$tmp/prefix/include/lwvsock/lwip/lwipopts.h" "$top/tests/embed/lwipopts.h" || fail "--with-lwipopts: the installed lwipopts.h is not FILE"
export PKG_CONFIG_PATH=$tmp/prefix/lib/pkgconfig
# shellcheck disable=SC2046
cc -o "$tmp/embed-opts" "$tmp/embed.c" $(pkg-config --cflags --libs lwvsock) || fail "the example does not build against the --with-lwipopts library"
LD_LIBRARY_PATH=$tmp/prefix/lib run_example with-lwipopts "$tmp/embed-opts"
unset PKG_CONFIG_PATH

echo "== configure --with-lwipopts rejects a file without lwvsock's requirements"
sed 's/^#define LWIP_SUPPORT_CUSTOM_PBUF .*/#define LWIP_SUPPORT_CUSTOM_PBUF 0/' "$top/tests/embed/lwipopts.h" >"$tmp/bad-lwipopts.h"
mkdir "$tmp/build-bad"
if ( cd "$tmp/build-bad" && "$top/configure" -q --with-lwip="$lwip" --with-lwipopts="$tmp/bad-lwipopts.h" ) >"$tmp/bad.out" 2>&1; then
  fail "configure accepted an lwipopts.h with LWIP_SUPPORT_CUSTOM_PBUF 0"
fi
grep -q 'LWIP_SUPPORT_CUSTOM_PBUF' "$tmp/bad.out" || { cat "$tmp/bad.out" >&2; fail "configure's refusal does not name the option"; }
tail -n 1 "$tmp/bad.out"

echo "== firmware: Filelists.mk and Filelists.cmake list every source of src/, port/unix/sim/, port/unix/devspec.c"
want=$(cd "$top" && ls src/*.c port/unix/sim/*.c port/unix/devspec.c | LC_ALL=C sort)
got_mk=$(grep -v '^#' "$top/Filelists.mk" | grep -o '$(LWVSOCKDIR)/[^ ]*\.c' | sed 's|^$(LWVSOCKDIR)/||' | LC_ALL=C sort)
got_cmake=$(sed -n 's|^ *${LWVSOCK_DIR}/\(.*\.c\)$|\1|p' "$top/Filelists.cmake" | LC_ALL=C sort)
[ "$want" = "$got_mk" ] || { diff <(echo "$want") <(echo "$got_mk") >&2 || :; fail "Filelists.mk is out of date"; }
[ "$want" = "$got_cmake" ] || { diff <(echo "$want") <(echo "$got_cmake") >&2 || :; fail "Filelists.cmake is out of date"; }

echo "== firmware: lwIP's Filelists.mk + lwvsock's Filelists.mk, plain make, tests/embed/lwipopts.h"
make -s -j"$jobs" -f "$top/tests/embed/firmware.mk" LWIPDIR="$lwip/src" LWVSOCKDIR="$top" \
  OUT="$tmp/fw" APP="$tmp/embed.c" || fail "the plain make firmware build failed"
run_example firmware-make "$tmp/fw/embed"

if command -v cmake >/dev/null 2>&1; then
  echo "== firmware: Filelists.cmake, cmake"
  cmake -S "$top/tests/embed" -B "$tmp/fw-cmake" -DLWIP_DIR="$lwip" -DLWVSOCK_DIR="$top" \
    -DAPP="$tmp/embed.c" >/dev/null || fail "cmake configure failed"
  cmake --build "$tmp/fw-cmake" -j "$jobs" >/dev/null || fail "the cmake firmware build failed"
  run_example firmware-cmake "$tmp/fw-cmake/embed"
else
  echo "embed.sh: cmake not installed: the Filelists.cmake build is skipped (apt-get install cmake)"
fi
echo "embed.sh: all passed"
