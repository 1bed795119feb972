# SPDX-License-Identifier: BSD-3-Clause
# tests/virtq.mk: unit tests of the split virtqueue (src/virtq.c, in liblwvsock).
check_PROGRAMS += tests/test_virtq
TESTS += tests/test_virtq
tests_test_virtq_SOURCES = tests/test_virtq.c $(TEST_COMMON_SOURCES)
tests_test_virtq_CFLAGS = $(TEST_CFLAGS)
tests_test_virtq_LDFLAGS = $(TEST_LINK_FLAGS)
tests_test_virtq_LDADD = $(TEST_LDADD)
