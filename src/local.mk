# SPDX-License-Identifier: BSD-3-Clause
# src/local.mk: the portable core (maintained by the lead): no OS calls.
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

# The altcp provider (the altcp owner's).
liblwvsock_la_SOURCES += src/altcp_vsock.c
pkginclude_HEADERS += include/lwvsock/altcp_vsock.h

# The vsock netif (issue 13): lwIP Ethernet frames over a vsock stream to a
# host-side network daemon. Its lwIP parts come with the platform (port/unix/).
liblwvsock_la_SOURCES += src/netif_vsock.c
pkginclude_HEADERS += include/lwvsock/netif_vsock.h include/lwvsock/netif_vsock_opts.h
