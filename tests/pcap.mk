# SPDX-License-Identifier: BSD-3-Clause
# tests/pcap.mk: the pcap writer's suite (src/pcap.c).
check_PROGRAMS += tests/test_pcap
TESTS += tests/test_pcap
tests_test_pcap_SOURCES = tests/test_pcap.c $(TEST_COMMON_SOURCES)
tests_test_pcap_CFLAGS = $(TEST_CFLAGS)
tests_test_pcap_LDFLAGS = $(TEST_LINK_FLAGS)
tests_test_pcap_LDADD = $(TEST_LDADD)
