# tests/interop/local.mk: the device-spec suite and the QEMU interop tests
# (owned by vhost).
check_PROGRAMS += tests/test_devspec
TESTS += tests/test_devspec
tests_test_devspec_SOURCES = tests/test_devspec.c $(TEST_COMMON_SOURCES)
tests_test_devspec_CFLAGS = $(TEST_CFLAGS)
tests_test_devspec_LDFLAGS = $(TEST_LINK_FLAGS)
tests_test_devspec_LDADD = $(TEST_LDADD)
