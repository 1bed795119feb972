# SPDX-License-Identifier: BSD-3-Clause
# tests/hardening.mk: hostile device and peer, fault injection, fuzzing, soak
# (the hardening owner's).
#
#   make check        runs tests/test_hostile and tests/test_failinject
#   make fuzz         builds the libFuzzer targets with clang and runs each for
#                     FUZZ_SECONDS (default 60) through scripts/fuzz.sh
#   make soak         builds tests/soak and runs it for SOAK_SECONDS (default 600)
HARDENING_TEST_SOURCES = tests/proto_fixture.c tests/proto_fixture.h $(TEST_COMMON_SOURCES)
HARDENING_TEST_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/port/unix/sim -I$(top_srcdir)/tests

check_PROGRAMS += tests/test_hostile
TESTS += tests/test_hostile
tests_test_hostile_SOURCES = tests/test_hostile.c $(HARDENING_TEST_SOURCES)
tests_test_hostile_CPPFLAGS = $(HARDENING_TEST_CPPFLAGS)
tests_test_hostile_CFLAGS = $(TEST_CFLAGS)
tests_test_hostile_LDFLAGS = $(TEST_LINK_FLAGS)
tests_test_hostile_LDADD = $(TEST_LDADD)

# The soak test: built and run only by `make soak` (SOAK_SECONDS to shorten).
EXTRA_PROGRAMS += tests/soak
CLEANFILES += tests/soak$(EXEEXT)
tests_soak_SOURCES = tests/soak.c tests/proto_fixture.c tests/proto_fixture.h tests/fake_clock.c \
	tests/lwvsock_check.c tests/lwvsock_check.h
tests_soak_CPPFLAGS = $(HARDENING_TEST_CPPFLAGS)
tests_soak_CFLAGS = $(TEST_CFLAGS)
tests_soak_LDFLAGS = $(TEST_LINK_FLAGS)
tests_soak_LDADD = $(TEST_LDADD)

soak: tests/soak$(EXEEXT)
	SOAK_SECONDS=$${SOAK_SECONDS:-600} ./tests/soak$(EXEEXT)
.PHONY: soak

# Fuzzing: a separate clang build (see scripts/fuzz.sh --help); FUZZ_SECONDS per target.
EXTRA_DIST += scripts/fuzz.sh scripts/sanitize.sh tests/fuzz
fuzz:
	LWIP_DIR="$(LWIP_DIR)" FUZZ_SECONDS=$${FUZZ_SECONDS:-60} \
	  $(SHELL) $(top_srcdir)/scripts/fuzz.sh --lwip "$(LWIP_DIR)" --build-dir "$(abs_builddir)/build-fuzz"
.PHONY: fuzz

# malloc, calloc and aligned_alloc wrapped: the test fails the Nth call.
check_PROGRAMS += tests/test_failinject
TESTS += tests/test_failinject
tests_test_failinject_SOURCES = tests/test_failinject.c $(HARDENING_TEST_SOURCES)
tests_test_failinject_CPPFLAGS = $(HARDENING_TEST_CPPFLAGS)
tests_test_failinject_CFLAGS = $(TEST_CFLAGS)
tests_test_failinject_LDFLAGS = $(TEST_LINK_FLAGS) \
	-Wl,--wrap=malloc -Wl,--wrap=calloc -Wl,--wrap=aligned_alloc -Wl,--wrap=free
tests_test_failinject_LDADD = $(TEST_LDADD)
