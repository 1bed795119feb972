# SPDX-License-Identifier: BSD-3-Clause
# tests/virtio_mmio.mk: the virtio-mmio transport over a fake register window
# (appliance); its traffic is tested against QEMU in tests/appliance.
check_PROGRAMS += tests/test_virtio_mmio
TESTS += tests/test_virtio_mmio
tests_test_virtio_mmio_SOURCES = tests/test_virtio_mmio.c $(TEST_COMMON_SOURCES)
tests_test_virtio_mmio_CFLAGS = $(TEST_CFLAGS)
tests_test_virtio_mmio_LDFLAGS = $(TEST_LINK_FLAGS)
tests_test_virtio_mmio_LDADD = $(TEST_LDADD)
