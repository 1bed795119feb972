# src/local.mk: the protocol core (maintained by the lead).
liblwvsock_la_SOURCES += \
	src/virtio_defs.h \
	src/vsock_hdr.c src/vsock_hdr.h \
	src/virtq.c src/virtq.h \
	src/lwvsock_priv.h \
	src/device.c \
	src/rxbuf.c \
	src/txbuf.c \
	src/pcb.c \
	src/strerror.c \
	src/virtio_pci.c
