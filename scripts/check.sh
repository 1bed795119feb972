#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
# check.sh - build lwvsock and run its tests, from a fresh Debian machine to a
# green `make check` and `make distcheck`.
#
# Steps: install missing build tools (apt-get, as root), fetch lwIP
# (scripts/get-lwip.sh), autoreconf, configure in build/ with --enable-werror,
# make, make check (unit suites, examples, and the interop suite against Linux
# in the QEMU test VM), the ways in (scripts/embed.sh: make install and the
# README's example with pkg-config, --with-lwipopts, the firmware file lists),
# the installed library's exports,
# make doc, the Cortex-M4 footprint row of the benchmarks, then the hardening passes: the unit programs under
# valgrind, an ASan+UBSan build and check in build-asan/, the soak for
# SOAK_SECONDS, each libFuzzer target for FUZZ_SECONDS; then make distcheck.
# Exits non-zero on the first failure.
set -euo pipefail

usage() {
  cat <<USAGE
usage: scripts/check.sh [--no-install] [--no-distcheck] [--quick] [--help]

Builds lwvsock in build/ (under the source tree) and runs its tests.
  --no-install    do not install missing Debian packages (only say which)
  --no-distcheck  skip 'make distcheck'
  --quick         skip the hardening passes (valgrind, ASan+UBSan, soak, fuzzing)
  --help          show this help
Environment: JOBS (parallel make jobs, default: nproc), LWIP_DIR (lwIP source
tree; default: ./lwip, fetched by scripts/get-lwip.sh when missing),
FUZZ_SECONDS (per fuzz target, default 60), SOAK_SECONDS (default 600).
USAGE
}

install=yes
distcheck=yes
hardening=yes
for arg in "$@"; do
  case $arg in
    --no-install) install=no ;;
    --no-distcheck) distcheck=no ;;
    --quick) hardening=no ;;
    -h|--help) usage; exit 0 ;;
    *) echo "check.sh: unknown option '$arg' (see --help)" >&2; exit 2 ;;
  esac
done

cd "$(dirname "$0")/.."
top=$(pwd)
jobs=${JOBS:-$(nproc 2>/dev/null || echo 2)}
lwip_dir=${LWIP_DIR:-$top/lwip}
t_all=$SECONDS
t_step=$SECONDS

step() {
  printf '\n==== %s  (%ds so far)\n' "$*" $((SECONDS - t_all))
  t_step=$SECONDS
}
done_step() { printf -- '---- done in %ds\n' $((SECONDS - t_step)); }
die() { printf '\ncheck.sh: FAILED: %s\n' "$*" >&2; exit 1; }

# Packages for the build and the unit tests (xz-utils: lwIP's tarball), then
# for the other suites (interop VM, valgrind, sanitizers with clang, packet
# dumps, helper scripts). The VM harness fetches its kernel and busybox itself
# with apt-get download. Extras are best effort: their suites skip without them.
pkgs_build="build-essential gcc-multilib autoconf automake libtool pkg-config check dpkg-dev xz-utils"
pkgs_extra="qemu-system-x86 kmod cpio socat valgrind clang libclang-rt-14-dev tshark python3 curl passt iproute2"
# For the packaging steps: the API reference, the CMake file list, the Cortex-M4 row.
pkgs_extra="$pkgs_extra doxygen cmake gcc-arm-none-eabi libnewlib-arm-none-eabi"

missing_of() {
  local p out=
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || out="$out $p"
  done
  echo "$out"
}

step "packages"
missing_build=$(missing_of $pkgs_build)
missing_extra=$(missing_of $pkgs_extra)
missing="$missing_build$missing_extra"
if [ -z "$missing" ]; then
  echo "all packages are installed"
elif [ "$install" = no ] || [ "$(id -u)" != 0 ]; then
  echo "missing packages:$missing"
  echo "install them (as root) with: apt-get update && apt-get install -y$missing"
  [ -z "$missing_build" ] || die "the build needs:$missing_build"
  echo "(the build packages are there; continuing without the others)"
else
  echo "installing:$missing"
  export DEBIAN_FRONTEND=${DEBIAN_FRONTEND:-noninteractive}
  apt-get update -q || die "apt-get update failed (check the network and /etc/apt/sources.list*)"
  if [ -n "$missing_build" ]; then
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing_build || die "apt-get install$missing_build failed"
  fi
  if [ -n "$missing_extra" ]; then
    # shellcheck disable=SC2086
    apt-get install -y -q --no-install-recommends $missing_extra ||
      echo "check.sh: warning: could not install some of$missing_extra; the suites that need them will skip" >&2
  fi
fi
done_step

step "lwIP source ($lwip_dir)"
sh scripts/get-lwip.sh "$lwip_dir" || die "could not fetch lwIP (see above); or set LWIP_DIR to an lwIP >= 2.1 source tree"
done_step

step "license: an SPDX line in every source and build file"
if [ -d .git ] || git rev-parse --git-dir >/dev/null 2>&1; then
  nospdx=$(git ls-files -- '*.c' '*.h' '*.S' '*.ld' '*.sh' '*.py' '*.mk' '*.am' '*.ac' '*.m4' \
             '*.cmake' '*.in' '*.dox' .ci/run | while read -r f; do
             head -n 3 "$f" | grep -q 'SPDX-License-Identifier: BSD-3-Clause' || echo "$f"
           done)
  [ -z "$nospdx" ] || die "no SPDX-License-Identifier line in:$(echo $nospdx)"
  echo "every tracked source file carries SPDX-License-Identifier: BSD-3-Clause"
else
  echo "not a git checkout: skipped"
fi
done_step

step "layering: applications see only the application API"
# src/*.h are the core's private headers and include/lwvsock/port/ is the
# porting API (README: "How the code is laid out"). Programs built as an
# application would be (examples/, bench/, tests/interop/) include no private
# header, and no application header (include/lwvsock/*.h) includes a porting one.
priv_re=$(cd src && ls *.h | sed 's/[.]/[.]/g' | paste -sd'|' -)
bad=$(grep -rnE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[\"<](\.\./)*(src/)?($priv_re)[\">]" \
        examples bench tests/interop || :)
[ -z "$bad" ] || die "a src/ private header is included outside the core:
$bad"
bad=$(grep -nE '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<]lwvsock/port/' include/lwvsock/*.h || :)
[ -z "$bad" ] || die "an application header includes a porting header (include/lwvsock/port/):
$bad"
echo "no src/ header is included by examples/, bench/ or tests/interop/; no application header includes a porting header"
done_step

step "autoreconf"
autoreconf -fi || die "autoreconf failed"
done_step

# Show what went wrong: the logs of failed tests, then the suite log.
show_test_logs() {
  local dir=$1 trs log
  for trs in $(find "$dir" -name '*.trs' 2>/dev/null); do
    if grep -qE '^:test-result: (FAIL|ERROR|XPASS)' "$trs"; then
      log=${trs%.trs}.log
      printf '\n---- %s\n' "${log#$top/}"
      cat "$log"
    fi
  done
  [ -f "$dir/test-suite.log" ] && { printf '\n---- test-suite.log\n'; cat "$dir/test-suite.log"; }
  return 0
}

# build_and_check DIR CONFIGURE-ARGS...
build_and_check() {
  local dir=$1; shift
  step "configure in ${dir#$top/} ($*)"
  mkdir -p "$dir"
  ( cd "$dir" && "$top/configure" --with-lwip="$lwip_dir" "$@" ) || die "configure failed (see ${dir#$top/}/config.log)"
  done_step

  step "make -j$jobs in ${dir#$top/}"
  make -C "$dir" -j"$jobs" || die "make failed"
  done_step

  # The bare-metal appliance image (also a prerequisite of make check).
  step "make appliance in ${dir#$top/}"
  make -C "$dir" -j"$jobs" appliance || die "make appliance failed (gcc-multilib installed?)"
  done_step

  step "make check in ${dir#$top/}"
  if ! make -C "$dir" -j"$jobs" check; then
    show_test_logs "$dir"
    die "make check failed in ${dir#$top/} (logs above)"
  fi
  done_step
}

build_and_check "$top/build" --enable-werror

# make check keeps a passing suite's log to itself: show the PCI guest suite's
# side-by-side rows (issue 15; ratios from one nested boot, never asserted).
if [ -f "$top/build/tests/pci/run.sh.log" ]; then
  step "PCI guest bench: lwvsock vs Linux's own guest driver (from tests/pci/run.sh.log)"
  tr -d '\r' < "$top/build/tests/pci/run.sh.log" | grep -a '^lwvsock vs Linux guest driver:' ||
    echo "(no rows: the suite skipped, or its time budget ran out before the bench)"
  done_step
fi

step "the ways in: make install + README example via pkg-config, --with-lwipopts, Filelists.mk/.cmake"
bash "$top/scripts/embed.sh" --build "$top/build" --lwip "$lwip_dir" --jobs "$jobs" || die "scripts/embed.sh failed (see above)"
done_step

step "exports: the installed liblwvsock.so exports lwvsock_* and lwIP's API, nothing else"
# lwIP's API is what lwIP's own objects (liblwipcore, which the library
# carries) define globally; anything else exported is an internal name that
# lacks -fvisibility=hidden or wrongly carries LWVSOCK_API.
exp_dest=$(mktemp -d "${TMPDIR:-/tmp}/lwvsock-exports.XXXXXX")
make -s -C "$top/build" install DESTDIR="$exp_dest" >/dev/null || { rm -rf "$exp_dest"; die "make install failed"; }
exp_so=$(find "$exp_dest" -name 'liblwvsock.so.*.*.*' | head -n 1)
[ -n "$exp_so" ] || { rm -rf "$exp_dest"; die "make install put no liblwvsock.so.X.Y.Z in $exp_dest"; }
exp_lwip=$(nm -g --defined-only "$top/build/.libs/liblwipcore.a" | awk 'NF == 3 { print $3 }' | LC_ALL=C sort -u)
exp_all=$(nm -D --defined-only "$exp_so" | awk 'NF == 3 { print $3 }' | LC_ALL=C sort -u)
rm -rf "$exp_dest"
[ -n "$exp_lwip" ] && [ -n "$exp_all" ] || die "nm found no symbols (liblwipcore.a: ${#exp_lwip} bytes of names, the .so: ${#exp_all})"
exp_bad=$(echo "$exp_all" | grep -v '^lwvsock_' | LC_ALL=C comm -23 - <(echo "$exp_lwip") || :)
[ -z "$exp_bad" ] || die "liblwvsock.so exports names that are neither lwvsock_* nor lwIP's API:
$(echo $exp_bad)"
echo "liblwvsock.so exports $(echo "$exp_all" | grep -c '^lwvsock_') lwvsock_* and $(echo "$exp_all" | grep -vc '^lwvsock_') lwIP names, nothing else"
done_step

step "make doc (Doxygen; an undocumented public symbol fails it)"
make -C "$top/build" doc || die "make doc failed: document the symbols named above"
done_step

step "footprint: .text of the core for Cortex-M4 and x86-64 (bench/run.sh --text-only)"
sh "$top/bench/run.sh" --text-only --require-m4 --srcdir "$top" --lwip "$lwip_dir" ||
  die "the footprint rows could not be measured (see above)"
done_step

if [ "$hardening" = yes ]; then
  step "valgrind: the unit test programs in build"
  if ! make -C "$top/build" check-valgrind; then
    show_test_logs "$top/build"
    die "make check-valgrind failed (logs above)"
  fi
  done_step

  # halt_on_error: a UBSan report fails the test rather than scrolling by. The
  # VM suites already ran in the plain build; here they are skipped.
  export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
  export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
  LWVSOCK_SKIP_VM_TESTS=1 build_and_check "$top/build-asan" --enable-werror --enable-sanitizers
  unset LWVSOCK_SKIP_VM_TESTS

  step "soak: ${SOAK_SECONDS:-600} s of connection churn, byte-checked, memory equal at start and end"
  SOAK_SECONDS=${SOAK_SECONDS:-600} make -C "$top/build" soak || die "the soak failed (see its summary above)"
  done_step

  step "fuzzing: each libFuzzer target for ${FUZZ_SECONDS:-60} s"
  FUZZ_SECONDS=${FUZZ_SECONDS:-60} sh "$top/scripts/fuzz.sh" --build-dir "$top/build-fuzz" --lwip "$lwip_dir" ||
    die "fuzzing found a crash, leak or hang (reproducer in build-fuzz/artifacts/)"
  done_step
fi

if [ "$distcheck" = yes ]; then
  step "make distcheck in build"
  # The VM suites just ran in `make check`; the tarball's check is about
  # packaging, so it skips them (reported as SKIP) instead of booting twice.
  LWVSOCK_SKIP_VM_TESTS=1 make -C "$top/build" -j"$jobs" distcheck || die "make distcheck failed"
  done_step
fi

printf '\n==== all checks passed in %ds\n' $((SECONDS - t_all))
