# SPDX-License-Identifier: BSD-3-Clause
# bench/local.mk: the benchmarks (the bench owner's).
#
# `make bench` builds the programs and runs bench/run.sh, which prints one table
# (our figure, a baseline measured in the same run, the ratio, the target).
# Not part of `make all` or `make check`: the programs are EXTRA_PROGRAMS.
# BENCH_FLAGS passes options to run.sh, e.g. `make bench BENCH_FLAGS=--quick`.
BENCH_COMMON_SOURCES = bench/bench_util.c bench/bench_util.h \
	bench/bench_link.c bench/bench_link.h $(UNIX_PORT_SRCS)
# Static against the test library (10000 connections; see TEST_OPTS_CFLAGS):
# no libtool wrapper between callgrind and the program.
BENCH_CFLAGS = $(TEST_OPTS_CFLAGS) $(LWVSOCK_CFLAGS) $(WARN_CFLAGS)
BENCH_LINK_FLAGS = -static $(AM_LDFLAGS)
BENCH_LDADD = libtestlwvsock.la

EXTRA_PROGRAMS = bench/bench_bulk bench/bench_rr bench/bench_mem bench/bench_netif
CLEANFILES += $(EXTRA_PROGRAMS)

bench_bench_bulk_SOURCES = bench/bench_bulk.c $(BENCH_COMMON_SOURCES)
bench_bench_bulk_CFLAGS = $(BENCH_CFLAGS)
bench_bench_bulk_LDFLAGS = $(BENCH_LINK_FLAGS)
bench_bench_bulk_LDADD = $(BENCH_LDADD)

bench_bench_rr_SOURCES = bench/bench_rr.c $(BENCH_COMMON_SOURCES)
bench_bench_rr_CFLAGS = $(BENCH_CFLAGS)
bench_bench_rr_LDFLAGS = $(BENCH_LINK_FLAGS)
bench_bench_rr_LDADD = $(BENCH_LDADD)

bench_bench_mem_SOURCES = bench/bench_mem.c $(BENCH_COMMON_SOURCES)
bench_bench_mem_CFLAGS = $(BENCH_CFLAGS)
bench_bench_mem_LDFLAGS = $(BENCH_LINK_FLAGS)
bench_bench_mem_LDADD = $(BENCH_LDADD)

bench_bench_netif_SOURCES = bench/bench_netif.c $(BENCH_COMMON_SOURCES)
bench_bench_netif_CFLAGS = $(BENCH_CFLAGS)
bench_bench_netif_LDFLAGS = $(BENCH_LINK_FLAGS)
bench_bench_netif_LDADD = $(BENCH_LDADD)

BENCH_PROGS = bench/bench_bulk$(EXEEXT) bench/bench_rr$(EXEEXT) bench/bench_mem$(EXEEXT) \
	bench/bench_netif$(EXEEXT)

bench: $(BENCH_PROGS)
	$(SHELL) $(top_srcdir)/bench/run.sh --builddir "$(abs_builddir)" \
	  --srcdir "$(abs_top_srcdir)" --lwip "$(LWIP_DIR)" --cc "$(CC)" \
	  --cflags "$(CFLAGS)" $(BENCH_FLAGS)
.PHONY: bench

# `make bench-qemu` (optional): lwvsock over /dev/vhost-vsock against Linux's own
# vsock loopback (CID 1) in one boot of the test VM (tests/interop/vm.sh; the VM
# shares this build tree read-write). A few minutes: the VM runs under TCG; the
# progress lines show on stderr as they come, the whole log is bench-qemu.log.
if ENABLE_EXAMPLES
if HAVE_LINUX
bench-qemu: examples/lwvsock-perf$(EXEEXT) examples/lwvsock-echo$(EXEEXT) tests/pci/linux_peer$(EXEEXT)
	@rows=bench-qemu.rows; rm -f bench-qemu.rc; \
	{ $(SHELL) $(top_srcdir)/tests/interop/vm.sh -t 900 -w "$(abs_builddir)" -- \
	    /bin/bash "$(abs_top_srcdir)/bench/qemu.sh" -b "$(abs_builddir)" 2>&1; echo $$? >bench-qemu.rc; } | \
	  tee bench-qemu.log | grep -a --line-buffered '^qemu.sh: ' >&2; \
	rc=$$(cat bench-qemu.rc); tr -d '\r' <bench-qemu.log | grep -a '^\(row\|note\|skip\)	' >$$rows; \
	if [ "$$rc" != 0 ]; then echo "bench-qemu: the VM run failed (exit $$rc); see bench-qemu.log" >&2; exit 1; fi; \
	$(SHELL) $(top_srcdir)/bench/run.sh --format $$rows --cflags "$(CFLAGS)"
else
bench-qemu:
	@echo "bench-qemu needs Linux (vhost-vsock and the test VM)" >&2; exit 1
endif
else
bench-qemu:
	@echo "bench-qemu needs the examples: configure without --disable-examples" >&2; exit 1
endif
.PHONY: bench-qemu
CLEANFILES += bench-qemu.rows bench-qemu.log bench-qemu.rc

EXTRA_DIST += bench/run.sh bench/qemu.sh
