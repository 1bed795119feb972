/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The file system of test_altcp's httpd: one page, written by hand (no
 * makefsdata). fs.c includes it through HTTPD_FSDATA_FILE (see tests/altcp.mk);
 * it is not compiled on its own.
 *
 * The response headers are part of the file (LWIP_HTTPD_DYNAMIC_HEADERS is 0).
 */
#define ALTCP_FSDATA_BODY "<html><body>hello from lwIP httpd over vsock</body></html>\n"

_Static_assert(sizeof(ALTCP_FSDATA_BODY) - 1 == 59, "Content-Length below matches the body");

static const unsigned char altcp_fsdata_index[] =
  "HTTP/1.0 200 OK\r\n"
  "Server: lwIP httpd (lwvsock test)\r\n"
  "Content-Length: 59\r\n"
  "Content-Type: text/html\r\n"
  "\r\n"
  ALTCP_FSDATA_BODY;

static const struct fsdata_file altcp_fsdata_files[] = {
  {
    NULL,
    (const unsigned char *)"/index.html",
    altcp_fsdata_index,
    (int)(sizeof(altcp_fsdata_index) - 1),
    FS_FILE_FLAGS_HEADER_INCLUDED
  }
};

#define FS_ROOT     altcp_fsdata_files
#define FS_NUMFILES 1
