# SPDX-License-Identifier: BSD-3-Clause
# tests/altcp.mk: the altcp provider's tests (the altcp owner's).

# test_altcp also runs lwIP's stock httpd, compiled unchanged from $(LWIP_DIR)
# through tests/altcp_httpd.c: the -D redirects its altcp_tcp_new_ip_type() to
# vsock, and its pages come from tests/altcp_fsdata.c plus a custom file the
# test generates. These settings are test-local: they change no library ABI.
check_PROGRAMS += tests/test_altcp
TESTS += tests/test_altcp
tests_test_altcp_SOURCES = tests/test_altcp.c tests/altcp_httpd.c $(TEST_COMMON_SOURCES)
tests_test_altcp_CPPFLAGS = $(AM_CPPFLAGS) -I$(LWIP_DIR)/src -I$(top_srcdir)/tests \
	-Daltcp_tcp_new_ip_type=lwvsock_altcp_new_ip_type \
	-DLWIP_HTTPD_CUSTOM_FILES=1 -DHTTPD_FSDATA_FILE='"altcp_fsdata.c"'
tests_test_altcp_CFLAGS = $(TEST_CFLAGS)
tests_test_altcp_LDFLAGS = $(TEST_LINK_FLAGS)
tests_test_altcp_LDADD = $(TEST_LDADD)
EXTRA_DIST += tests/altcp_fsdata.c
