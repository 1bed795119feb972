# SPDX-License-Identifier: BSD-3-Clause
# tests/pci/local.mk: the PCI guest suite (issue 11): lwvsock and Linux's own
# guest driver on the vhost-vsock-pci device of a guest nested in the test VM.
# linux_peer is the guest program for Linux's driver; it runs only there.
if HAVE_LINUX
check_PROGRAMS += tests/pci/linux_peer
tests_pci_linux_peer_SOURCES = tests/pci/linux_peer.c
tests_pci_linux_peer_CFLAGS = $(AM_CFLAGS) -pthread
tests_pci_linux_peer_LDFLAGS = -pthread
TESTS += tests/pci/run.sh

# `make bench-pci`: the same nested boot with both drivers; prints the rows
# "lwvsock vs Linux guest driver" (the log is in bench-pci.log).
bench-pci: tests/pci/linux_peer$(EXEEXT)
	@srcdir="$(srcdir)" $(SHELL) "$(srcdir)/tests/pci/run.sh" >bench-pci.log 2>&1; \
	rc=$$?; tr -d '\r' <bench-pci.log | grep -a '^lwvsock vs Linux guest driver:\|^pci-guest:'; \
	if [ $$rc -ne 0 ]; then echo "bench-pci: the run failed (exit $$rc); see bench-pci.log" >&2; exit 1; fi
.PHONY: bench-pci
CLEANFILES += bench-pci.log tests/pci/l3-initrd.cpio.gz
endif
EXTRA_DIST += tests/pci/run.sh tests/pci/guest.sh tests/pci/mkimage.sh tests/pci/l3init.sh
