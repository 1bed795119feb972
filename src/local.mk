# SPDX-License-Identifier: BSD-3-Clause
# src/local.mk: the protocol core (maintained by the lead).
liblwvsock_la_SOURCES += \
	src/virtio_defs.h \
	src/vsock_hdr.c src/vsock_hdr.h \
	src/virtq.c src/virtq.h \
	src/lwvsock_priv.h \
	src/core.h src/devbase.h src/device.h src/pcb.h src/rxbuf.h src/txbuf.h \
	src/devbase.c \
	src/device.c \
	src/rxbuf.c \
	src/txbuf.c \
	src/pcb.c \
	src/strerror.c \
	src/log.c \
	src/virtio_mmio.c \
	src/virtio_pci.c

# The pcap writer (LINKTYPE_VSOCK) applications install as the device's tap.
liblwvsock_la_SOURCES += src/pcap.c
pkginclude_HEADERS += include/lwvsock/pcap.h
check_PROGRAMS += tests/test_pcap
TESTS += tests/test_pcap
tests_test_pcap_SOURCES = tests/test_pcap.c $(TEST_COMMON_SOURCES)
tests_test_pcap_CFLAGS = $(TEST_CFLAGS)
tests_test_pcap_LDFLAGS = $(TEST_LINK_FLAGS)
tests_test_pcap_LDADD = $(TEST_LDADD)
