# SPDX-License-Identifier: BSD-3-Clause
# tests/proto.mk: protocol suites against the simulated host (the lead's).
# Every suite on the sim through tests/proto_fixture.c builds from these two
# (the hardening, netif and virtio-pci suites too).
PROTO_TEST_SOURCES = tests/proto_fixture.c tests/proto_fixture.h $(TEST_COMMON_SOURCES)
PROTO_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/port/unix/sim -I$(top_srcdir)/tests

check_PROGRAMS += tests/test_proto
TESTS += tests/test_proto
tests_test_proto_SOURCES = tests/test_proto.c $(PROTO_TEST_SOURCES)
tests_test_proto_CPPFLAGS = $(PROTO_TEST_CPPFLAGS)
tests_test_proto_CFLAGS = $(TEST_CFLAGS)
tests_test_proto_LDFLAGS = $(TEST_LINK_FLAGS)
tests_test_proto_LDADD = $(TEST_LDADD)

# The same suite against a sim reporting tx used lengths as Linux vhost 4.8-5.15 did.
check_PROGRAMS += tests/test_proto_txlen
TESTS += tests/test_proto_txlen
tests_test_proto_txlen_SOURCES = tests/test_proto.c $(PROTO_TEST_SOURCES)
tests_test_proto_txlen_CPPFLAGS = $(PROTO_TEST_CPPFLAGS) -DFX_SIM_TX_USED_LEN=1
tests_test_proto_txlen_CFLAGS = $(TEST_CFLAGS)
tests_test_proto_txlen_LDFLAGS = $(TEST_LINK_FLAGS)
tests_test_proto_txlen_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/test_load
TESTS += tests/test_load
tests_test_load_SOURCES = tests/test_load.c $(PROTO_TEST_SOURCES)
tests_test_load_CPPFLAGS = $(PROTO_TEST_CPPFLAGS)
tests_test_load_CFLAGS = $(TEST_CFLAGS)
tests_test_load_LDFLAGS = $(TEST_LINK_FLAGS)
tests_test_load_LDADD = $(TEST_LDADD)

# Notification suppression (EVENT_IDX) and rx buffer sizes, the driver against the sim.
check_PROGRAMS += tests/test_notify
TESTS += tests/test_notify
tests_test_notify_SOURCES = tests/test_notify.c $(PROTO_TEST_SOURCES)
tests_test_notify_CPPFLAGS = $(PROTO_TEST_CPPFLAGS)
tests_test_notify_CFLAGS = $(TEST_CFLAGS)
tests_test_notify_LDFLAGS = $(TEST_LINK_FLAGS)
tests_test_notify_LDADD = $(TEST_LDADD)

# Zero-copy transmit (LWVSOCK_WRITE_FLAG_NOCOPY) and the sim's IOMMU.
check_PROGRAMS += tests/test_zerocopy
TESTS += tests/test_zerocopy
tests_test_zerocopy_SOURCES = tests/test_zerocopy.c $(PROTO_TEST_SOURCES)
tests_test_zerocopy_CPPFLAGS = $(PROTO_TEST_CPPFLAGS)
tests_test_zerocopy_CFLAGS = $(TEST_CFLAGS)
tests_test_zerocopy_LDFLAGS = $(TEST_LINK_FLAGS)
tests_test_zerocopy_LDADD = $(TEST_LDADD)
