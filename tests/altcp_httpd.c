/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * lwIP's stock httpd and its file system, unpatched, for test_altcp.
 * tests/altcp.mk compiles this with -Daltcp_tcp_new_ip_type=lwvsock_altcp_new_ip_type,
 * so httpd_init() listens on vsock port 80 of the default device.
 */
#include "apps/http/httpd.c"
#include "apps/http/fs.c"
