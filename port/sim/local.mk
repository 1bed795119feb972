# port/sim/local.mk: the simulated host device (owned by sim).
liblwvsock_la_SOURCES += \
	port/sim/sim_priv.h \
	port/sim/sim.c \
	port/sim/sim_vring.c \
	port/sim/sim_bq.c \
	port/sim/sim_conn.c

# tests/test_sim.c: the sim driven by a minimal guest built on src/virtq.c.
check_PROGRAMS += tests/test_sim
TESTS += tests/test_sim
tests_test_sim_SOURCES = tests/test_sim.c $(TEST_COMMON_SOURCES)
tests_test_sim_CFLAGS = $(TEST_CFLAGS)
tests_test_sim_LDFLAGS = $(TEST_LINK_FLAGS)
tests_test_sim_LDADD = $(TEST_LDADD)
