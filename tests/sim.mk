# SPDX-License-Identifier: BSD-3-Clause
# tests/sim.mk: the tests of the simulated host device (port/unix/sim/) and of
# the public headers.

# tests/test_sim.c: the sim driven by a minimal guest built on src/virtq.c.
check_PROGRAMS += tests/test_sim
TESTS += tests/test_sim
tests_test_sim_SOURCES = tests/test_sim.c $(TEST_COMMON_SOURCES)
tests_test_sim_CFLAGS = $(TEST_CFLAGS)
tests_test_sim_LDFLAGS = $(TEST_LINK_FLAGS)
tests_test_sim_LDADD = $(TEST_LDADD)

# tests/std_headers.c: lwvsock/sim.h and every public header with lwIP's in
# strict -std=c99 and -std=c11. Plain rules, not check_PROGRAMS: configure's
# CFLAGS (-std=gnu11) would come after a per-target -std.
STD_TESTS = tests/std-c99 tests/std-c11
check_SCRIPTS = $(STD_TESTS)
TESTS += $(STD_TESTS)
CLEANFILES += $(STD_TESTS)
EXTRA_DIST += tests/std_headers.c
STD_LINK = $(LIBTOOL) $(AM_V_lt) --tag=CC $(AM_LIBTOOLFLAGS) $(LIBTOOLFLAGS) --mode=link \
	$(CC) $(DEFS) $(AM_CPPFLAGS) $(CPPFLAGS) $(LWIPOPTS_CFLAGS) $(SANITIZER_CFLAGS) $(CFLAGS) \
	$(WARN_CFLAGS) -pedantic-errors $(AM_LDFLAGS) $(LDFLAGS) -static
tests/std-c99 tests/std-c11: $(top_srcdir)/tests/std_headers.c liblwvsock.la
	@$(MKDIR_P) tests
	$(AM_V_CCLD)$(STD_LINK) -std=`echo $@ | sed 's|.*-||'` -o $@ $(top_srcdir)/tests/std_headers.c liblwvsock.la
