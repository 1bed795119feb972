# SPDX-License-Identifier: BSD-3-Clause
# port/unix/sim/local.mk: the simulated host device (owned by sim); its tests
# are in tests/sim.mk.
liblwvsock_la_SOURCES += \
	port/unix/sim/sim_priv.h \
	port/unix/sim/sim.c \
	port/unix/sim/sim_vring.c \
	port/unix/sim/sim_iommu.c \
	port/unix/sim/sim_bq.c \
	port/unix/sim/sim_conn.c
