# src/local.mk: the protocol core (maintained by the lead).
liblwvsock_la_SOURCES += src/vsock_hdr.c src/vsock_hdr.h src/virtio_defs.h
