# SPDX-License-Identifier: BSD-3-Clause
# tests/interop/local.mk: the device-spec suite and the QEMU interop tests
# (owned by vhost).
check_PROGRAMS += tests/test_devspec
TESTS += tests/test_devspec
tests_test_devspec_SOURCES = tests/test_devspec.c $(TEST_COMMON_SOURCES)
tests_test_devspec_CFLAGS = $(TEST_CFLAGS)
tests_test_devspec_LDFLAGS = $(TEST_LINK_FLAGS)
tests_test_devspec_LDADD = $(TEST_LDADD)

# The interop tests against Linux vsock, in a QEMU VM (skipped without QEMU).
# vhost_bringup checks the vhost-vsock backend alone; it runs only in the VM.
# It drives src/virtq.c by hand, so its source is a white-box test in tests/
# and it links the test library: liblwvsock exports no internal function.
if HAVE_LINUX
check_PROGRAMS += tests/interop/vhost_bringup
tests_interop_vhost_bringup_SOURCES = tests/vhost_bringup.c
tests_interop_vhost_bringup_CFLAGS = $(TEST_OPTS_CFLAGS) $(LWVSOCK_CFLAGS) $(WARN_CFLAGS)
tests_interop_vhost_bringup_LDFLAGS = $(TEST_LINK_FLAGS)
tests_interop_vhost_bringup_LDADD = libtestlwvsock.la
TESTS += tests/interop/run.sh
endif
EXTRA_DIST += tests/interop/run.sh tests/interop/vm.sh tests/interop/guard.sh \
	tests/interop/cases.sh tests/interop/runner.sh tests/interop/vsock_peer.py

# The transmit-rule cases' client (close with data queued, small records).
if HAVE_LINUX
check_PROGRAMS += tests/interop/tx_writer
tests_interop_tx_writer_SOURCES = tests/interop/tx_writer.c $(EXAMPLES_COMMON_SOURCES)
tests_interop_tx_writer_CPPFLAGS = $(AM_CPPFLAGS) -I$(top_srcdir)/examples
tests_interop_tx_writer_LDADD = liblwvsock.la
endif
