# SPDX-License-Identifier: BSD-3-Clause
# tests/netif/local.mk: the vsock netif's tests (src/netif_vsock.c).

# Unit suite on the sim: the test plays the daemon's end of the stream.
check_PROGRAMS += tests/test_netif
TESTS += tests/test_netif
tests_test_netif_SOURCES = tests/test_netif.c $(PROTO_TEST_SOURCES)
tests_test_netif_CPPFLAGS = $(PROTO_TEST_CPPFLAGS)
tests_test_netif_CFLAGS = $(TEST_CFLAGS)
tests_test_netif_LDFLAGS = $(TEST_LINK_FLAGS)
tests_test_netif_LDADD = $(TEST_LDADD)

# The TCP/IP side of the netif programs (examples/netif_apps.c) over lwIP's loopback.
check_PROGRAMS += tests/test_netif_apps
TESTS += tests/test_netif_apps
tests_test_netif_apps_SOURCES = tests/test_netif_apps.c examples/netif_apps.c examples/conn.c \
	$(TEST_COMMON_SOURCES)
tests_test_netif_apps_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/tests -I$(top_srcdir)/examples
tests_test_netif_apps_CFLAGS = $(TEST_CFLAGS)
tests_test_netif_apps_LDFLAGS = $(TEST_LINK_FLAGS)
tests_test_netif_apps_LDADD = $(TEST_LDADD)

# The netif against a real daemon (QEMU's slirp on a vsock stream netdev) in
# the QEMU test VM; skipped without QEMU or with LWVSOCK_SKIP_VM_TESTS=1.
if ENABLE_EXAMPLES
if HAVE_LINUX
TESTS += tests/netif/run.sh
endif
endif
EXTRA_DIST += tests/netif/run.sh tests/netif/cases.sh tests/netif/peer.sh
