# port/sim/local.mk: the simulated host device (owned by sim).
liblwvsock_la_SOURCES += \
	port/sim/sim_priv.h \
	port/sim/sim.c \
	port/sim/sim_vring.c \
	port/sim/sim_bq.c \
	port/sim/sim_conn.c
