# SPDX-License-Identifier: BSD-3-Clause
# examples/local.mk: the example programs and their tests (the examples owner's).
#
# lwvsock-httpd, lwvsock-echo and lwvsock-perf share the hosted part:
# options.c (the command line), loop.c (device bring-up, main loop, exit
# counters), pcap_file.c (--pcap) and forward.c (the sim's TCP forwards), and
# conn.c (the platform-neutral connection helpers). The HTTP and echo servers
# themselves (http_server.c, echo_server.c) are shared with the appliance
# (port/baremetal-x86). They are installed as tools ($(bindir)); each documents
# itself with --help. tests/interop/tx_writer links the hosted part too, so
# it is defined whether or not examples are built.
EXAMPLES_COMMON_SOURCES = examples/options.c examples/options.h examples/loop.c examples/loop.h \
	examples/pcap_file.c examples/pcap_file.h examples/forward.c examples/forward.h \
	examples/conn.c examples/conn.h $(UNIX_PORT_SRCS)
EXAMPLES_LDADD = liblwvsock.la

if ENABLE_EXAMPLES

bin_PROGRAMS = examples/lwvsock-httpd examples/lwvsock-echo examples/lwvsock-perf

examples_lwvsock_httpd_SOURCES = examples/httpd.c examples/http_server.c examples/http_server.h \
	$(EXAMPLES_COMMON_SOURCES)
examples_lwvsock_httpd_LDADD = $(EXAMPLES_LDADD)

examples_lwvsock_echo_SOURCES = examples/echo.c examples/echo_server.c examples/echo_server.h \
	$(EXAMPLES_COMMON_SOURCES)
examples_lwvsock_echo_LDADD = $(EXAMPLES_LDADD)

examples_lwvsock_perf_SOURCES = examples/perf.c $(EXAMPLES_COMMON_SOURCES)
examples_lwvsock_perf_LDADD = $(EXAMPLES_LDADD)

# DHCP, an HTTP fetch, an HTTP server and UDP echo over the vsock netif.
noinst_PROGRAMS += examples/lwvsock-netif
examples_lwvsock_netif_SOURCES = examples/netif.c examples/netif_apps.c examples/netif_apps.h $(EXAMPLES_COMMON_SOURCES)
examples_lwvsock_netif_LDADD = $(EXAMPLES_LDADD)

# Loopback-only, bounded in time; each starts its own server and ends it by PID.
# examples/lib.sh is sourced by them; examples/excheck.py is their client.
EXAMPLE_TESTS = \
	examples/test-httpd.sh \
	examples/test-echo.sh \
	examples/test-perf.sh \
	examples/test-pcap.sh \
	examples/test-demo.sh \
	examples/test-install.sh
TESTS += $(EXAMPLE_TESTS)
# The same programs on Linux vhost-vsock, in the QEMU test VM (skipped without QEMU).
if HAVE_LINUX
TESTS += examples/test-vm.sh
endif
endif
EXTRA_DIST += examples/lib.sh examples/excheck.py examples/README.md \
	examples/test-httpd.sh examples/test-echo.sh examples/test-perf.sh examples/test-pcap.sh \
	examples/test-demo.sh examples/test-install.sh examples/test-vm.sh examples/vmcases.sh \
	scripts/demo.sh
