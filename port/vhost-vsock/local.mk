# SPDX-License-Identifier: BSD-3-Clause
# port/vhost-vsock/local.mk: the device-spec parser (every build) and the Linux
# vhost-vsock backend (owned by vhost).
liblwvsock_la_SOURCES += port/devspec.c
pkginclude_HEADERS += include/lwvsock/port.h
if HAVE_LINUX
liblwvsock_la_SOURCES += port/vhost-vsock/vhost_vsock.c
pkginclude_HEADERS += include/lwvsock/vhost_vsock.h
# devspec.c offers vhost-vsock:cid=N only when the backend is built
AM_CPPFLAGS += -DLWVSOCK_HAVE_VHOST_VSOCK=1
endif
