# tests/virtq.mk: unit tests of the split virtqueue (src/virtq.c), owned by virtq.
# src/virtq.c is compiled into the test itself, so the suite does not depend on
# which library fragment lists it.
check_PROGRAMS += tests/test_virtq
TESTS += tests/test_virtq
tests_test_virtq_SOURCES = tests/test_virtq.c src/virtq.c src/virtq.h $(TEST_COMMON_SOURCES)
tests_test_virtq_CFLAGS = $(TEST_CFLAGS)
tests_test_virtq_LDFLAGS = $(TEST_LINK_FLAGS)
tests_test_virtq_LDADD = $(TEST_LDADD)
