#!/bin/bash
# SPDX-License-Identifier: BSD-3-Clause
# guest.sh - the PCI guest suite, run INSIDE the test VM ("L2", which is the
# host here: Linux 6.1 with vhost_vsock). It boots ONE nested QEMU/TCG guest
# ("L3") with -device vhost-vsock-pci, whose init (tests/pci/l3init.sh) obeys
# commands on its second serial port, and runs every case in that boot: the
# L3 side is a server or client program on the vsock PCI device, the L2 side
# is Linux AF_VSOCK (tests/interop/vsock_peer.py), and every check is byte-exact.
# The same cases run once per driver: "lwvsock" (the project's programs with
# --device pci:BDF) and then "linux" (Linux's own vmw_vsock_virtio_transport
# bound to the same device once lwvsock released it, with tests/pci/linux_peer);
# at the end a bench compares the two, as ratios from this one boot.
#
# Usage: guest.sh -k KDIR -i IMAGE [-d DRIVERS] [-T SECS] [CASE...]
#   -k KDIR     the kernel dir (tests/interop/vm.sh --kernel-dir: vmlinux, the
#               modules in root/, kver)
#   -i IMAGE    L3's initramfs (tests/pci/mkimage.sh)
#   -d DRIVERS  the drivers to run the cases with, in order (default "lwvsock linux")
#   -T SECS     time budget of the whole run, L3's boot included (default 600):
#               a case that finds it used up fails as "not run"
#   CASE        run only these (shell patterns); default all
# Output: "L2: kernel ...", "L3: kernel ...", "PASS driver/case (Ns)" or
# "FAIL driver/case: reason" (with logs) per case, the bench rows, and last
# "pci-guest: N passed, M failed". Exit 0 nothing failed, 1 otherwise, 99
# outside the test VM.
D=$(dirname "$(readlink -f "$0")")
. "$D/../interop/guard.sh"
. "$D/../interop/runner.sh"

K= IMG= DRIVERS="lwvsock linux" BUDGET=600
while getopts "k:i:d:T:h" o; do
  case $o in
    k) K=$OPTARG;; i) IMG=$OPTARG;; d) DRIVERS=$OPTARG;; T) BUDGET=$OPTARG;;
    h) awk 'NR>2 && /^#/ {sub(/^# ?/, ""); print; next} NR>2 {exit}' "$0"; exit 0;;
    *) echo "guest.sh: see -h" >&2; exit 2;;
  esac
done
shift $((OPTIND - 1))
[ -r "$K/vmlinux" ] && [ -r "$IMG" ] || { echo "guest.sh: need -k KDIR (with vmlinux) and -i IMAGE" >&2; exit 2; }

export CID=3
. "$D/../netif/peer.sh"
export NETIF_FWD_TCP NETIF_FWD_UDP
export -f netif_daemon netif_http_server netif_get netif_udp_echo
export PEER="python3 $D/../interop/vsock_peer.py"
W=$(mktemp -d /tmp/lwvsock-pci.XXXXXX)
export W
echo "L2: kernel $(uname -r -v)"

# ---- L3 and its control port -------------------------------------------------------
# L1's TCG emulates AMD SVM (and nested paging) for -cpu max: with kvm_amd
# loaded here, L2's KVM runs L3 as an SVM guest of that emulation instead of
# TCG interpreting TCG (measured on a loaded machine: L3 ready after ~3.5 min
# against not in 20); plain TCG stays the fallback
accel=tcg
if grep -qw svm /proc/cpuinfo && modprobe -d "$K/root" -S "$(cat "$K/kver")" kvm_amd 2>/dev/null &&
   [ -c /dev/kvm ]; then
  accel=kvm
fi
echo "L3: accelerator $accel"
mkfifo "$W/ctl.in" "$W/ctl.out"
qemu-system-x86_64 -machine q35 -accel $accel -cpu max -smp 1 -m 768M \
  -nodefaults -no-user-config -display none -no-reboot \
  -kernel "$K/vmlinux" -initrd "$IMG" \
  -append "console=ttyS0 panic=-1 rdinit=/init no_timer_check quiet loglevel=1 hugepages=64" \
  -device "vhost-vsock-pci,guest-cid=$CID" \
  -serial "file:$W/console.log" -chardev "pipe,id=ctl,path=$W/ctl" -serial chardev:ctl \
  </dev/null >"$W/qemu.log" 2>&1 &
QPID=$!
# read-write opens of a FIFO never block, whether or not QEMU has it open yet
exec 7<>"$W/ctl.in" 8<>"$W/ctl.out"
cleanup() {
  kill "$QPID" 2>/dev/null
  wait "$QPID" 2>/dev/null
  rm -rf "$W"
}
trap cleanup EXIT

# l3 [-t SECS] COMMAND...: run COMMAND in L3's control shell (see l3init.sh),
# print its output; its status, or 124 when L3 did not answer in time
l3() {
  local t=60 seq line end
  [ "$1" = -t ] && { t=$2; shift 2; }
  seq=$BASHPID.$RANDOM end=$((SECONDS + t))
  printf '%s %s\n' "$seq" "$*" >&7
  while [ $SECONDS -lt $end ]; do
    IFS= read -r -t $((end - SECONDS)) line <&8 || continue
    line=${line%$'\r'}
    case $line in
      "$seq| "*) printf '%s\n' "${line#"$seq| "}";;
      "$seq done "*) return "${line#"$seq done "}";;
    esac
  done
  echo "L3 did not answer '$*' within ${t}s"
  return 124
}
l3_console() { echo "  --- L3 console (last lines)"; tr -d '\r' < "$W/console.log" | tail -${1:-20} | sed 's/^/  | /'; }
export -f l3 l3_console

# L3 boots in minutes, more on a loaded machine; its kernel is quiet until the
# init. The cases with Linux's driver need about 4 minutes.
t0=$SECONDS next=$((SECONDS + 60))
until grep -q 'lwvsock-l3: ready' "$W/console.log" 2>/dev/null; do
  if [ $SECONDS -ge $next ]; then
    echo "(waiting for L3: $((SECONDS - t0))s; its console: $(tr -d '\r' < "$W/console.log" | tail -1))"
    next=$((SECONDS + 60))
  fi
  if ! kill -0 $QPID 2>/dev/null || [ $SECONDS -ge $((BUDGET - 240)) ]; then
    echo "FAIL L3 boot: not ready after $((SECONDS - t0))s (QEMU: $(tail -2 "$W/qemu.log" | tr '\n' ' '))"
    l3_console 40
    echo "pci-guest: 0 passed, 1 failed"
    exit 1
  fi
  sleep 2
done
echo "L3 ready $((SECONDS - t0))s after QEMU started"
l3 -t 30 info | sed 's/^/L3: /'

# ---- the cases ----------------------------------------------------------------------
# Each case function runs in its own bash, bounded; DRV names the driver in L3.
# srv NAME KIND PORT: start a server in L3 and wait until it accepts on PORT;
# the runner stops it after the case and wants exit status 0 (a clean release)
srv() {
  l3 start "$1" "$2" "$3" >/dev/null || { echo "L3 could not start $2"; return 1; }
  echo "$1" >> "$W/servers"
  $PEER wait --cid $CID --port "$3" --seconds 60 ||
    { echo "$2 server did not come up: $(l3 logof "$1" | tail -3 | tr '\n' ' ')"; return 1; }
}
# sink NAME PORT [ARGS]: an L2 sink for an L3 client, in the background; its pid in $W/NAME.pid
sink() {
  local name=$1 port=$2; shift 2
  rm -f "$W/$name.ready"
  $PEER sink --port "$port" --timeout 120 --ready "$W/$name.ready" "$@" > "$W/$name.log" 2>&1 &
  echo $! > "$W/$name.pid"
  for _ in $(seq 100); do [ -e "$W/$name.ready" ] && return 0; sleep 0.1; done
  echo "the L2 sink on $port did not come up"; return 1
}
sink_ok() { wait "$(cat "$W/$1.pid")" || { echo "L2 sink: $(tail -2 "$W/$1.log" | tr '\n' ' ')"; return 1; }; }
export -f srv sink sink_ok

CASES=()
# defcase NAME SECONDS [DRIVERS]: case_NAME (- as _) is bounded by SECONDS and
# runs with each of DRIVERS (default: all)
defcase() { CASES+=("$1:$2:${3:-lwvsock linux}"); }

defcase echo-1b-64k 120
case_echo_1b_64k() {
  srv echo echo 1234 || return 1
  local n
  for n in 1 2 100 4095 4096 65535 65536; do $PEER echo --cid $CID --port 1234 --bytes $n || return 1; done
}
defcase bulk-8mib-each-way 240
case_bulk_8mib_each_way() { srv echo echo 1234 && $PEER echo --cid $CID --port 1234 --bytes 8388608; }

defcase concurrent-64 180
case_concurrent_64() { srv echo echo 1234 && $PEER echo --cid $CID --port 1234 --conns 64 --bytes 16384; }

defcase slow-host-reader 180
case_slow_host_reader() {
  # L3 sends 2 MiB; L2 reads 16 KiB every 10 ms through a 64 KiB buffer: the
  # guest stalls on credit and resumes on the host's CREDIT_UPDATEs
  sink slow 5202 --bytes 2097152 --slow-ms 10 --chunk 16384 --rcvbuf 65536 || return 1
  l3 -t 150 run client 2 5202 2097152 || return 1
  sink_ok slow
}
defcase half-close-host 90
case_half_close_host() {
  # L2 shuts down sending first and must still get the whole echo, then EOF
  srv echo echo 1234 && $PEER echo --cid $CID --port 1234 --bytes 300000
}
defcase half-close-guest 90
case_half_close_guest() {
  # the L3 client shuts down sending after its data; L2's send side stays open
  sink half 5203 --bytes 65536 || return 1
  l3 -t 60 run client 2 5203 65536 || return 1
  sink_ok half
}
defcase refused-port 60
case_refused_port() {
  srv echo echo 1234 && $PEER refused --cid $CID --port 4321 || return 1
  # and the other way: an L3 client to an unbound L2 port fails at once
  local t0=$SECONDS
  if l3 -t 30 run client 2 4998 1000; then echo "the L3 client connected to unbound port 4998"; return 1; fi
  [ $((SECONDS - t0)) -le 10 ] || { echo "the L3 client took $((SECONDS - t0)) s to see the refusal"; return 1; }
}
defcase host-rst-mid-transfer 120
case_host_rst_mid_transfer() {
  srv echo echo 1234 || return 1
  $PEER echo --cid $CID --port 1234 --bytes 4194304 --abort-after 262144 || return 1
  # the host's SHUTDOWN, at the latest its RST when its close timeout expires,
  # must end the guest's side of the connection
  local i
  for i in $(seq 30); do
    l3 logof echo | grep -qE 'connection ended|closed connection' && break
    sleep 1
  done
  l3 logof echo | grep -qE 'connection ended|closed connection' ||
    { echo "the L3 echo still holds the connection 30 s after the host aborted it"; return 1; }
  l3 alive echo || { echo "the L3 echo died"; return 1; }
  $PEER echo --cid $CID --port 1234 --bytes 100000 || { echo "no clean echo after the host's abort"; return 1; }
}
defcase httpd-get-404-16mib 300 lwvsock
case_httpd_get_404_16mib() {
  local sum
  sum=$(l3 -t 120 bigfile big.bin 16777216) || { echo "L3 could not write /www/big.bin"; return 1; }
  srv httpd httpd 80 || return 1
  $PEER http --cid $CID --port 80 --path / --contains "lwvsock over virtio-pci" || return 1
  $PEER http --cid $CID --port 80 --path /no-such-file --status 404 || return 1
  $PEER http --cid $CID --port 80 --path /big.bin --sha256 "$sum" --length 16777216
}
defcase second-run 120
case_second_run() {
  # a program that ended released the device; the next one initialises it again
  srv echo echo 1234 && $PEER echo --cid $CID --port 1234 --bytes 100000 || return 1
  l3 stop echo || { echo "the first program exited with status $?"; return 1; }
  sed -i '/^echo$/d' "$W/servers"
  srv echo2 echo 1234 && $PEER echo --cid $CID --port 1234 --bytes 100000
}
defcase netif-slirp 300 lwvsock
case_netif_slirp() {
  # lwvsock-netif on the PCI device against QEMU's slirp on a vsock stream
  # netdev here in L2 (tests/netif/peer.sh): a DHCP lease, 1 MiB from an HTTP
  # server in L2 to lwIP and 1 MiB from lwIP's server through slirp's port
  # forward, both byte-exact, and a UDP echo through the forward
  local d=$W/netif sum i
  trap 'kill $netif_daemon_pid $netif_http_pid 2>/dev/null' EXIT
  trap 'exit 143' TERM
  mkdir -p "$d/www" && head -c 1048576 /dev/urandom > "$d/www/big.bin"
  sum=$(l3 -t 60 bigfile page.bin 1048576) || { echo "L3 could not write /www/page.bin"; return 1; }
  netif_http_server "$d/www" 8000 "$d/http.log" || { echo "the L2 HTTP server did not come up"; return 1; }
  netif_daemon "$d/slirp.log"
  echo netif >> "$W/servers"
  l3 start netif netif --fetch 10.0.2.2:8000/big.bin --fetch-out /tmp/got.bin \
    --serve 80 --serve-file /www/page.bin --udp-echo 7 || { echo "L3 could not start lwvsock-netif"; return 1; }
  for i in $(seq 60); do l3 logof netif | grep -q 'dhcp: bound' && break; sleep 2; done
  l3 logof netif | grep -q 'dhcp: bound 10\.0\.2\.15 gateway 10\.0\.2\.2' ||
    { echo "no DHCP lease from slirp in 120 s"; return 1; }
  echo "dhcp: $(l3 logof netif | grep 'dhcp: bound')"
  for i in $(seq 60); do l3 logof netif | grep -q 'fetch: ' && break; sleep 2; done
  l3 logof netif | grep -q 'fetch: HTTP/1.0 200, 1048576 body bytes' ||
    { echo "tcp-out: $(l3 logof netif | grep 'fetch:' | tail -1)"; return 1; }
  [ "$(l3 sha256sum /tmp/got.bin | cut -d' ' -f1)" = "$(sha256sum < "$d/www/big.bin" | cut -d' ' -f1)" ] ||
    { echo "tcp-out: the 1 MiB fetched by lwIP differs from the file served in L2"; return 1; }
  echo "tcp-out: 1 MiB from 10.0.2.2:8000 byte-exact"
  netif_get "$d/in.bin" "$d/curl.log" || { echo "tcp-in: curl: $(tail -1 "$d/curl.log")"; return 1; }
  [ "$(sha256sum < "$d/in.bin" | cut -d' ' -f1)" = "$sum" ] ||
    { echo "tcp-in: the 1 MiB through hostfwd differs from L3's /www/page.bin"; return 1; }
  echo "tcp-in: 1 MiB through hostfwd :$NETIF_FWD_TCP byte-exact"
  netif_udp_echo || { echo "udp-echo: no echo in 20 tries"; return 1; }
}

# ---- the runner ---------------------------------------------------------------------
passed=0 failed=0
# bench DRV: the bench against DRV's perf server, then its echo server (one
# at a time: an lwvsock program owns the whole device); the figures in $W/bench.DRV.
# lwvsock-perf also tells its kicks and system calls per MiB of each transfer
# (host->guest: it received; guest->host: it sent)
bench() {
  local what port kind ok=1
  : > "$W/bench.$1"
  for what in bulk:5201:perf echo:1234:echo; do
    IFS=: read -r what port kind <<< "$what"
    if srv "b$kind" "$kind" "$port" > "$W/bench.out" 2>&1 &&
       timeout 240 $PEER bench --what "$what" --cid $CID --port "$port" >> "$W/bench.$1" 2>>"$W/bench.out"; then :
    else
      echo "bench $1 ($what): failed: $(tail -2 "$W/bench.out" | tr '\n' ' ')"
      ok=0
    fi
    l3 logof "b$kind" | tr -d '\r' | awk '
      /^server: received [1-9]/ { d = "h2g" } /^server: sent [1-9]/ { d = "g2h" }
      /^server: kicks_per_mib=/ && d != "" {
        split($2, k, "="); split($3, s, "=")
        printf "bench %s_kicks=%s %s_syscalls=%s\n", d, k[2], d, s[2]; d = "" }' >> "$W/bench.$1"
    l3 stop "b$kind" > /dev/null
  done
  [ $ok = 1 ] && echo "bench $1: $(sed 's/^bench //' "$W/bench.$1" | tr '\n' ' ')"
}

for drv in $DRIVERS; do
  export DRV=$drv
  if ! l3 -t 60 use "$drv" > "$W/use.out" 2>&1; then
    echo "FAIL $drv: L3 could not hand the device to $drv: $(tail -2 "$W/use.out" | tr '\n' ' ')"
    failed=$((failed + 1))
    continue
  fi
  sed "s/^/L3 ($drv): /" "$W/use.out"
  for c in "${CASES[@]}"; do
    IFS=: read -r name limit drvs <<< "$c"
    case " $drvs " in *" $drv "*) ;; *) continue;; esac
    runner_selected "$name" "$@" || continue
    runner_budget "$drv/$name" "$limit" 10 || { failed=$((failed + 1)); continue; }
    : > "$W/servers"
    t1=$SECONDS
    runner_exec "case_${name//-/_}" "$W/case.out"
    rc=$?
    for s in $(cat "$W/servers"); do
      l3 stop "$s" > "$W/stop.out" 2>&1
      st=$?
      if [ $rc = 0 ] && [ $st != 0 ]; then
        echo "L3's $s exited with status $st after SIGTERM (want 0: a clean release)" >> "$W/case.out"
        rc=1
      fi
    done
    dt=$((SECONDS - t1))
    if [ $rc = 0 ]; then
      echo "PASS $drv/$name (${dt}s)"
      passed=$((passed + 1))
    else
      echo "FAIL $drv/$name: $(runner_why $rc "$W/case.out")"
      tail -15 "$W/case.out" | sed 's/^/  | /'
      for s in $(cat "$W/servers"); do
        echo "  --- L3 $s log (last lines)"; l3 logof "$s" | tail -10 | sed 's/^/  | /'
      done
      l3_console 10
      failed=$((failed + 1))
    fi
  done
  [ $((BUDGET - SECONDS)) -gt 60 ] && bench "$drv"
done

# ---- lwvsock vs Linux guest driver, from this one boot --------------------------------
# row TITLE KEY UNIT [lower]: both drivers' figures, lwvsock's speed as a multiple
# of Linux's (for a "lower is better" figure, Linux's / lwvsock's), the target
# (>= 1.00: at least as fast as Linux's own driver) and the verdict
row() {
  local a b r
  a=$(grep -o "$2=[0-9.]*" "$W/bench.lwvsock" 2>/dev/null | tail -1 | cut -d= -f2)
  b=$(grep -o "$2=[0-9.]*" "$W/bench.linux" 2>/dev/null | tail -1 | cut -d= -f2)
  r=n/a
  if [ -n "$a" ] && [ -n "$b" ]; then
    r=$(awk -v a="$a" -v b="$b" -v lower="${4:-}" \
      'BEGIN { x = lower ? (a > 0 ? b / a : 0) : (b > 0 ? a / b : 0); printf "%.2f", x }')
  fi
  printf 'lwvsock vs Linux guest driver: %-26s lwvsock %9s  Linux %9s %-6s  x%-5s target >=1.00  %s\n' "$1" \
    "${a:-n/a}" "${b:-n/a}" "$3" "$r" \
    "$(case $r in n/a) echo "not measured";; *) awk -v r="$r" 'BEGIN { print (r >= 1.0 ? "met" : "NOT met") }';; esac)"
}
# cost KEY TITLE WHAT: lwvsock's figure alone (nothing counts them for Linux's driver here)
cost() {
  local a
  a=$(grep -o "$1=[0-9.]*" "$W/bench.lwvsock" 2>/dev/null | tail -1 | cut -d= -f2)
  printf 'lwvsock vs Linux guest driver: %-26s lwvsock %9s  (%s)\n' "$2" "${a:-n/a}" "$3"
}
echo "lwvsock vs Linux guest driver: x = lwvsock's speed as a multiple of Linux's (us: Linux's time / lwvsock's)"
row "bulk host->guest" h2g_mibs MiB/s
row "bulk guest->host" g2h_mibs MiB/s
row "1-byte request/response" rr_us us lower
row "connections per second" cps conn/s
cost h2g_kicks "kicks/MiB host->guest" "doorbell writes"
cost g2h_kicks "kicks/MiB guest->host" "doorbell writes"
cost h2g_syscalls "syscalls/MiB host->guest" "the loop's sleeps: the backend makes none"
cost g2h_syscalls "syscalls/MiB guest->host" "the loop's sleeps: the backend makes none"
echo "pci-guest: $passed passed, $failed failed"
[ $failed = 0 ]
