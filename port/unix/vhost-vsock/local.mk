# SPDX-License-Identifier: BSD-3-Clause
# port/unix/vhost-vsock/local.mk: the Linux vhost-vsock backend (owned by vhost).
if HAVE_LINUX
liblwvsock_la_SOURCES += port/unix/vhost-vsock/vhost_vsock.c
pkginclude_HEADERS += include/lwvsock/vhost_vsock.h
# devspec.c offers vhost-vsock:cid=N only when the backend is built
AM_CPPFLAGS += -DLWVSOCK_HAVE_VHOST_VSOCK=1
endif
