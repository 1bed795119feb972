/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The HTTP/1.1 server (http_server.c), shared by lwvsock-httpd and the
 * appliance. The server parses requests, answers what is malformed or not
 * allowed, and hands every well-formed GET or HEAD to the program's route
 * function, which starts exactly one response with an http_respond_*() call.
 */
#ifndef LWVSOCK_EXAMPLES_HTTP_SERVER_H
#define LWVSOCK_EXAMPLES_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "conn.h"

/** The vsock port lwvsock-httpd and the appliance serve on. */
#define HTTPD_DEFAULT_PORT   80u
/** Longest request target (else 414). */
#define HTTPD_MAX_URI        2048
/** Largest body http_respond_text() takes. */
#define HTTP_BODY_MAX        2048

/** One connection (opaque to programs). */
struct http_conn;

/** A streamed response body, produced as the send buffer takes it. */
struct http_body_ops {
  /**
   * Put @p n (> 0) body bytes from offset @p off into @p buf. Returns how many
   * (1..n), or -1 when the source failed: the connection is then aborted,
   * since its Content-Length can no longer be met. Unused (may be NULL) when
   * peek is set.
   */
  long (*read)(void *arg, void *buf, uint32_t n, uint64_t off);
  /** Optional: the body is over (sent, abandoned, or empty); release @p arg. */
  void (*release)(void *arg);
  /**
   * Optional, instead of read: where @p n (1..65536) body bytes from offset
   * @p off already lie in memory that never changes while the program runs.
   * They are sent by reference (LWVSOCK_WRITE_FLAG_NOCOPY: zero-copy where
   * the device can read that memory, copied where not).
   */
  const void *(*peek)(void *arg, uint32_t n, uint64_t off);
};

/**
 * Answer a GET or HEAD (@p head_only) of @p path: percent-decoded, starting
 * with '/', free of "." and ".." segments. @p target / @p tlen is the raw path
 * as sent (no query), for Location headers.
 */
typedef void (*http_route_fn)(struct http_conn *c, const char *path, const char *target, size_t tlen,
                              int head_only);

/**
 * Serve HTTP on vsock @p port of @p ctx's device, paths answered by @p route.
 * Returns the listening pcb, or NULL after logging why.
 */
struct lwvsock_pcb *http_server_start(struct ex_ctx *ctx, uint32_t port, http_route_fn route);

/** Respond with a generated HTML page; @p extra is more header lines ("" for none). */
void http_respond_page(struct http_conn *c, int status, int head_only, const char *extra, const char *text);
/** Respond with an error page; @p fatal also ends the connection after it. */
void http_respond_error(struct http_conn *c, int status, int head_only, int fatal, const char *text);
/** Respond with @p len bytes of @p text (at most HTTP_BODY_MAX), copied. */
void http_respond_text(struct http_conn *c, int status, const char *type, const char *text, size_t len,
                       int head_only);
/**
 * Respond with a body of @p len bytes read from @p src as it is sent. For
 * HEAD or an empty body the source is released at once, never read.
 */
void http_respond_stream(struct http_conn *c, int status, const char *type, uint64_t len,
                         const struct http_body_ops *src, void *arg, int head_only);

#endif /* LWVSOCK_EXAMPLES_HTTP_SERVER_H */
