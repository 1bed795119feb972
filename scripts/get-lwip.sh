#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# get-lwip.sh - fetch lwIP 2.1.3 from Debian's `lwip` source package into an
# ignored folder of the build tree (default: ./lwip), for ./configure --with-lwip.
#
# Usage: scripts/get-lwip.sh [DEST]
#
# Needs a deb-src entry for Debian main; when the machine has none, one is added
# (as root) next to the existing deb entry. No lwIP file is ever committed: DEST
# is listed in .gitignore.
set -eu

case ${1:-} in
  -h|--help)
    sed -n '3,10s/^# \{0,1\}//p' "$0"
    exit 0 ;;
  -*)
    echo "get-lwip.sh: unknown option '$1' (see --help)" >&2
    exit 2 ;;
esac
DEST=${1:-lwip}
PKG=lwip
WANT_VERSION=2.1.3

die() { echo "get-lwip.sh: $*" >&2; exit 1; }

if [ -f "$DEST/src/include/lwip/init.h" ]; then
  echo "get-lwip.sh: lwIP already present in $DEST"
  exit 0
fi
command -v apt-get >/dev/null 2>&1 || die "apt-get not found: fetch lwIP $WANT_VERSION by hand and pass --with-lwip=DIR to configure"
command -v dpkg-source >/dev/null 2>&1 || die "dpkg-source not found: apt-get install dpkg-dev"

has_deb_src() {
  grep -rqsE '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)' /etc/apt/sources.list /etc/apt/sources.list.d/ 2>/dev/null
}

if ! has_deb_src; then
  [ "$(id -u)" = 0 ] || die "no deb-src entry in /etc/apt and not root: add one for Debian main, then rerun"
  src=/etc/apt/sources.list.d/debian.sources
  if [ -f "$src" ]; then
    # deb822: add deb-src to the stanza that carries Debian main (not -security)
    echo "get-lwip.sh: adding deb-src to $src"
    cp "$src" "$src.lwvsock-bak"
    awk 'BEGIN{RS=""; ORS="\n\n"} /debian-security/ {print; next} { sub(/Types: deb\n/, "Types: deb deb-src\n"); print }' \
      "$src.lwvsock-bak" > "$src"
  else
    line=$(grep -hE '^[[:space:]]*deb[[:space:]]' /etc/apt/sources.list 2>/dev/null | grep -v security | head -1)
    [ -n "$line" ] || die "cannot find a Debian deb entry to mirror as deb-src"
    echo "get-lwip.sh: adding deb-src entry: ${line#deb }"
    echo "deb-src ${line#*deb }" > /etc/apt/sources.list.d/lwvsock-deb-src.list
  fi
  apt-get update -q >/dev/null || die "apt-get update failed after adding deb-src"
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
( cd "$tmp" && apt-get -q -o APT::Sandbox::User=root source --download-only "$PKG" >/dev/null ) ||
  { apt-get update -q >/dev/null && ( cd "$tmp" && apt-get -q -o APT::Sandbox::User=root source --download-only "$PKG" >/dev/null ); } ||
  die "apt-get source $PKG failed (is a deb-src entry for Debian main configured?)"

orig=$(ls "$tmp"/${PKG}_*.orig.tar.* 2>/dev/null | head -1)
[ -n "$orig" ] || die "no upstream tarball in the $PKG source package"
mkdir -p "$tmp/x"
tar -C "$tmp/x" -xf "$orig"
top=$(find "$tmp/x" -mindepth 1 -maxdepth 1 -type d | head -1)
[ -f "$top/src/include/lwip/init.h" ] || die "unexpected layout in $orig"
ver=$(tr -d "\r" < "$top/src/include/lwip/init.h" | awk '/define LWIP_VERSION_(MAJOR|MINOR|REVISION)[[:space:]]/ {printf "%s%s", sep, $3; sep="."}')
[ "$ver" = "$WANT_VERSION" ] || echo "get-lwip.sh: note: got lwIP $ver (wanted $WANT_VERSION)" >&2
mkdir -p "$(dirname "$DEST")"
rm -rf "$DEST"
mv "$top" "$DEST"
echo "get-lwip.sh: lwIP $ver unpacked into $DEST (upstream source from Debian's $PKG package; not to be committed)"
