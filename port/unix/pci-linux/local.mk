# SPDX-License-Identifier: BSD-3-Clause
# port/unix/pci-linux/local.mk: Linux userspace access to a virtio-vsock PCI function
# (sysfs resources, hugepages + pagemap), the bus behind pci:BDF.
if HAVE_LINUX
liblwvsock_la_SOURCES += port/unix/pci-linux/pci_linux.c
pkginclude_HEADERS += include/lwvsock/pci_linux.h
# devspec.c offers pci:BDF only when the bus is built
AM_CPPFLAGS += -DLWVSOCK_HAVE_PCI_LINUX=1
endif
