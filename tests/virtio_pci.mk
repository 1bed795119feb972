# SPDX-License-Identifier: BSD-3-Clause
# tests/virtio_pci.mk: the virtio-pci transport over a fake PCI bus bridged to
# the simulated host (pci-transport).
check_PROGRAMS += tests/test_virtio_pci
TESTS += tests/test_virtio_pci
tests_test_virtio_pci_SOURCES = tests/test_virtio_pci.c tests/fakepci.c tests/fakepci.h $(PROTO_TEST_SOURCES)
tests_test_virtio_pci_CPPFLAGS = $(PROTO_TEST_CPPFLAGS)
tests_test_virtio_pci_CFLAGS = $(TEST_CFLAGS)
tests_test_virtio_pci_LDFLAGS = $(TEST_LINK_FLAGS)
tests_test_virtio_pci_LDADD = $(TEST_LDADD)
