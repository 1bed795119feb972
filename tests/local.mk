# SPDX-License-Identifier: BSD-3-Clause
# tests/local.mk: the test framework's own suite (the build owner's).
# tests/lwvsock_check.[ch], check_main.c and fake_clock.c are shared by every test
# program through $(TEST_COMMON_SOURCES) (see Makefile.am).
check_PROGRAMS += tests/test_hdr
TESTS += tests/test_hdr
tests_test_hdr_SOURCES = tests/test_hdr.c $(TEST_COMMON_SOURCES)
tests_test_hdr_CFLAGS = $(TEST_CFLAGS)
tests_test_hdr_LDFLAGS = $(TEST_LINK_FLAGS)
tests_test_hdr_LDADD = $(TEST_LDADD)

check_PROGRAMS += tests/test_clock
TESTS += tests/test_clock
tests_test_clock_SOURCES = tests/test_clock.c $(TEST_COMMON_SOURCES)
tests_test_clock_CFLAGS = $(TEST_CFLAGS)
tests_test_clock_LDFLAGS = $(TEST_LINK_FLAGS)
tests_test_clock_LDADD = $(TEST_LDADD)

# The prerequisites and skip rule every VM suite's run.sh sources.
EXTRA_DIST += tests/vmsuite.sh
