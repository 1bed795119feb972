/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The HTTP/1.1 server of lwvsock-httpd and the appliance, on the raw vsock
 * API; the program says what each path serves (http_server.h).
 *
 * Why not lwIP's apps/http/httpd.c: in 2.1.3 its port is fixed at compile time
 * (HTTPD_SERVER_PORT; httpd_init_pcb is static), altcp ports are 16-bit, it
 * answers 404/400 only when /404.html and /400.html exist, and has no 405, 413
 * or 414. This server is small, and all of that is explicit.
 *
 * What it does: GET and HEAD, keep-alive (HTTP/1.1 by default, HTTP/1.0 on
 * request), pipelining, Content-Length on every response, 400/403/404/405/
 * 413/414/505, "." and ".." segments refused before the program sees a path.
 * Streamed bodies are produced only as far as the send buffer takes them,
 * driven by the sent and poll callbacks, so a body of any size costs no memory.
 *
 * Input limits: request line and headers together at most HTTPD_MAX_HEADER
 * bytes (else 413), the target at most HTTPD_MAX_URI (else 414); request bodies
 * are refused (413) since no method here takes one. Received bytes are credited
 * back to the peer only when parsed, so a client cannot make us buffer more
 * than one pbuf chain (64 KiB) while a response is being sent.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "http_server.h"
#include "lwip/def.h"
#include "lwip/pbuf.h"

#define HTTPD_MAX_HEADER     8192
/** Poll callback interval (x 500 ms) and the timeouts counted in its ticks. */
#define HTTPD_POLL_INTERVAL  2
#define HTTPD_IDLE_TICKS     30  /**< idle keep-alive or incomplete request: close */
#define HTTPD_STALL_TICKS    60  /**< response not progressing: abort */
#define HTTPD_CHUNK          (64 * 1024)

struct http_conn {
  struct ex_conn link;        /* first: see conn.h */
  struct pbuf *rxq;           /**< received, not yet parsed (and not yet credited) */
  int peer_eof;               /**< peer shut down sending */
  int busy;                   /**< a response is being sent */
  int close_after;            /**< close once the response is out */
  unsigned ticks;             /**< poll ticks without progress */
  char head[768];             /**< response header */
  size_t head_len, head_off;
  char body[HTTP_BODY_MAX];   /**< generated body (pages, errors, short texts) */
  size_t body_len, body_off;
  const struct http_body_ops *src;  /**< streamed body, or NULL */
  void *src_arg;
  uint64_t src_off, src_left;
};

static struct ex_ctx *http_ctx;
static http_route_fn http_route;
static uint8_t http_chunk[HTTPD_CHUNK];  /* one loop, so one scratch buffer */
static char http_req[HTTPD_MAX_HEADER + 1];

/* ---- connection lifetime ------------------------------------------------------ */

/** The streamed body is over (sent, abandoned or never started). */
static void
http_src_end(struct http_conn *c)
{
  if (c->src != NULL && c->src->release != NULL) {
    c->src->release(c->src_arg);
  }
  c->src = NULL;
  c->src_left = 0;
}

static void
http_free(struct http_conn *c)
{
  ex_conn_remove(&c->link);
  if (c->rxq != NULL) {
    pbuf_free(c->rxq);
  }
  http_src_end(c);
  free(c);
}

/** Orderly close; c is freed. Returns ERR_CLSD (callbacks then return ERR_OK). */
static err_t
http_close(struct http_conn *c)
{
  struct lwvsock_pcb *pcb = c->link.pcb;

  if (!http_ctx->quiet) {
    ex_print_pcb_stats(http_ctx, "closed", pcb);
  }
  ex_pcb_detach(pcb);
  http_free(c);
  lwvsock_close(pcb);
  return ERR_CLSD;
}

/** Abort with RST; c is freed (by http_err). Returns ERR_ABRT. */
static err_t
http_abort(struct http_conn *c, const char *why)
{
  if (!http_ctx->quiet) {
    ex_print_pcb_stats(http_ctx, why, c->link.pcb);
  }
  lwvsock_abort(c->link.pcb);
  return ERR_ABRT;
}

/* ---- responses ------------------------------------------------------------------ */

static const char *
http_reason(int status)
{
  switch (status) {
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 413: return "Content Too Large";
    case 414: return "URI Too Long";
    case 500: return "Internal Server Error";
    case 505: return "HTTP Version Not Supported";
    default: return "Error";
  }
}

/** Queue a response header for a body of @p len bytes; @p extra is more header lines. */
static void
http_head(struct http_conn *c, int status, const char *type, uint64_t len, const char *extra)
{
  int n = snprintf(c->head, sizeof(c->head),
                   "HTTP/1.1 %d %s\r\nServer: lwvsock-httpd\r\nContent-Type: %s\r\n"
                   "Content-Length: %llu\r\nConnection: %s\r\n%s\r\n",
                   status, http_reason(status), type, (unsigned long long)len,
                   c->close_after ? "close" : "keep-alive", extra);
  LWIP_ASSERT("response header fits", n > 0 && (size_t)n < sizeof(c->head));
  c->head_len = (size_t)n;
  c->head_off = 0;
  c->busy = 1;
  c->body_len = 0;
  c->body_off = 0;
}

/** Respond with a generated HTML page (@p extra: more header lines). */
void
http_respond_page(struct http_conn *c, int status, int head_only, const char *extra, const char *text)
{
  int n = snprintf(c->body, sizeof(c->body),
                   "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>\n"
                   "<body><h1>%d %s</h1>\n<p>%s</p>\n</body></html>\n",
                   status, http_reason(status), status, http_reason(status), text);
  LWIP_ASSERT("page fits", n > 0 && (size_t)n < sizeof(c->body));
  http_head(c, status, "text/html; charset=utf-8", (uint64_t)n, extra);
  c->body_len = head_only ? 0 : (size_t)n;
}

/** Error response; 4xx/5xx for a request we could not parse also end the connection. */
void
http_respond_error(struct http_conn *c, int status, int head_only, int fatal, const char *text)
{
  if (fatal) {
    c->close_after = 1;
  }
  http_respond_page(c, status, head_only, status == 405 ? "Allow: GET, HEAD\r\n" : "", text);
}

void
http_respond_text(struct http_conn *c, int status, const char *type, const char *text, size_t len,
                  int head_only)
{
  LWIP_ASSERT("text fits", len <= sizeof(c->body));
  http_head(c, status, type, (uint64_t)len, "");
  memcpy(c->body, text, len);
  c->body_len = head_only ? 0 : len;
}

void
http_respond_stream(struct http_conn *c, int status, const char *type, uint64_t len,
                    const struct http_body_ops *src, void *arg, int head_only)
{
  http_head(c, status, type, len, "");
  c->src = src;
  c->src_arg = arg;
  c->src_off = 0;
  c->src_left = head_only ? 0 : len;
  if (c->src_left == 0) {
    http_src_end(c);
  }
}

/* ---- requests ------------------------------------------------------------------- */

static int
http_hexval(int ch)
{
  if (ch >= '0' && ch <= '9') {
    return ch - '0';
  }
  ch |= 0x20;
  return (ch >= 'a' && ch <= 'f') ? ch - 'a' + 10 : -1;
}

/** Percent-decode @p in (length @p len) into @p out; -1 on a bad escape or a NUL. */
static int
http_decode(const char *in, size_t len, char *out, size_t outlen)
{
  size_t i, o = 0;

  for (i = 0; i < len; i++) {
    int ch = (unsigned char)in[i];
    if (ch == '%') {
      int hi, lo;
      if (i + 2 >= len) {
        return -1;
      }
      hi = http_hexval((unsigned char)in[i + 1]);
      lo = hi < 0 ? -1 : http_hexval((unsigned char)in[i + 2]);
      if (lo < 0) {
        return -1;
      }
      ch = hi * 16 + lo;
      i += 2;
    }
    if (ch == '\0' || o + 1 >= outlen) {
      return -1;
    }
    out[o++] = (char)ch;
  }
  out[o] = '\0';
  return 0;
}

/** Whether decoded @p path has a "." or ".." segment. */
static int
http_has_dot_segment(const char *path)
{
  const char *seg = path;

  while (seg != NULL) {
    const char *end;
    size_t n;
    seg++; /* past '/' */
    end = strchr(seg, '/');
    n = end ? (size_t)(end - seg) : strlen(seg);
    if ((n == 1 && seg[0] == '.') || (n == 2 && seg[0] == '.' && seg[1] == '.')) {
      return 1;
    }
    seg = end;
  }
  return 0;
}

/** Whether comma-separated header value @p v contains token @p tok. */
static int
http_has_token(const char *v, const char *tok)
{
  size_t tl = strlen(tok);

  while (*v != '\0') {
    while (*v == ' ' || *v == '\t' || *v == ',') {
      v++;
    }
    if (strncasecmp(v, tok, tl) == 0 && (v[tl] == '\0' || v[tl] == ',' || v[tl] == ' ' || v[tl] == '\t')) {
      return 1;
    }
    while (*v != '\0' && *v != ',') {
      v++;
    }
  }
  return 0;
}

/** Answer the request in http_req (NUL-terminated, lines end in LF or CRLF). */
static void
http_handle(struct http_conn *c)
{
  char *line = http_req, *next, *sp1, *sp2, *target, *q;
  char path[HTTPD_MAX_URI + 1];
  int http11, head_only, have_host = 0, has_body = 0;
  size_t tlen;

  c->close_after = 0;
  next = strchr(line, '\n');
  *next++ = '\0';
  if (next - line >= 2 && next[-2] == '\r') {
    next[-2] = '\0';
  }
  sp1 = strchr(line, ' ');
  sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
  if (sp1 == NULL || sp2 == NULL || strchr(sp2 + 1, ' ') != NULL || sp1 == line) {
    http_respond_error(c, 400, 0, 1, "Malformed request line.");
    return;
  }
  *sp1 = '\0';
  *sp2 = '\0';
  target = sp1 + 1;
  if (strncmp(sp2 + 1, "HTTP/", 5) != 0 || strlen(sp2 + 1) != 8 || sp2[7] != '.') {
    http_respond_error(c, 400, 0, 1, "Malformed HTTP version.");
    return;
  }
  if (strcmp(sp2 + 1, "HTTP/1.1") == 0) {
    http11 = 1;
  } else if (strcmp(sp2 + 1, "HTTP/1.0") == 0) {
    http11 = 0;
  } else {
    http_respond_error(c, 505, 0, 1, "Only HTTP/1.0 and HTTP/1.1 are spoken here.");
    return;
  }
  c->close_after = !http11;
  /* Header fields. */
  for (line = next; *line != '\0'; line = next) {
    char *colon, *blank, *v, *e;
    next = strchr(line, '\n');
    *next++ = '\0';
    if (next - line >= 2 && next[-2] == '\r') {
      next[-2] = '\0';
    }
    if (*line == '\0') {
      break; /* the empty line that ends the header */
    }
    colon = strchr(line, ':');
    blank = strpbrk(line, " \t");
    if (colon == NULL || colon == line || (blank != NULL && blank < colon)) {
      http_respond_error(c, 400, 0, 1, "Malformed header field.");
      return;
    }
    *colon = '\0';
    for (v = colon + 1; *v == ' ' || *v == '\t'; v++) {
    }
    for (e = v + strlen(v); e > v && (e[-1] == ' ' || e[-1] == '\t'); e--) {
    }
    *e = '\0';
    if (strcasecmp(line, "Host") == 0) {
      have_host = 1;
    } else if (strcasecmp(line, "Connection") == 0) {
      if (http_has_token(v, "close")) {
        c->close_after = 1;
      } else if (!http11 && http_has_token(v, "keep-alive")) {
        c->close_after = 0;
      }
    } else if (strcasecmp(line, "Transfer-Encoding") == 0 ||
               (strcasecmp(line, "Content-Length") == 0 && strcmp(v, "0") != 0)) {
      has_body = 1;
    }
  }
  head_only = strcmp(http_req, "HEAD") == 0;
  if (has_body) {
    http_respond_error(c, 413, head_only, 1, "Request bodies are not accepted.");
    return;
  }
  if (http11 && !have_host) {
    http_respond_error(c, 400, head_only, 1, "HTTP/1.1 requests need a Host header.");
    return;
  }
  if (!head_only && strcmp(http_req, "GET") != 0) {
    for (q = http_req; *q != '\0'; q++) {
      if (*q < 'A' || *q > 'Z') {
        http_respond_error(c, 400, 0, 1, "Malformed method.");
        return;
      }
    }
    http_respond_error(c, 405, 0, 0, "Only GET and HEAD are served.");
    return;
  }
  /* Target: origin-form "/path?query"; absolute-form "http://host/path" too. */
  if (strncasecmp(target, "http://", 7) == 0) {
    target = strchr(target + 7, '/');
    if (target == NULL) {
      http_respond_error(c, 400, head_only, 1, "Malformed request target.");
      return;
    }
  }
  for (q = target; *q != '\0'; q++) {
    if ((unsigned char)*q <= ' ' || *q == 0x7f) {
      http_respond_error(c, 400, head_only, 1, "Control character in the request target.");
      return;
    }
  }
  tlen = strcspn(target, "?#");
  if (target[0] != '/' || http_decode(target, tlen, path, sizeof(path)) != 0) {
    http_respond_error(c, 400, head_only, 1, "Malformed request target.");
    return;
  }
  if (http_has_dot_segment(path)) {
    http_respond_error(c, 403, head_only, 0, "Path traversal refused.");
    return;
  }
  http_route(c, path, target, tlen, head_only);
}

/** Find the end of the header in rxq: the offset past the empty line, or 0. */
static u16_t
http_header_end(const struct pbuf *q)
{
  u16_t a = pbuf_memfind(q, "\r\n\r\n", 4, 0);
  u16_t b = pbuf_memfind(q, "\n\n", 2, 0);
  u16_t ea = a == 0xffff ? 0xffff : (u16_t)(a + 4);
  u16_t eb = b == 0xffff ? 0xffff : (u16_t)(b + 2);
  u16_t e = ea < eb ? ea : eb;

  return e == 0xffff ? 0 : e;
}

/**
 * Start the response to the next complete request in rxq. Returns 1 when a
 * response was started, 0 when more bytes are needed.
 */
static int
http_parse_next(struct http_conn *c)
{
  struct lwvsock_pcb *pcb = c->link.pcb;
  u16_t end, lf;
  size_t avail = c->rxq ? c->rxq->tot_len : 0;

  if (avail == 0) {
    return 0;
  }
  end = http_header_end(c->rxq);
  lf = pbuf_memfind(c->rxq, "\n", 1, 0);
  if ((lf == 0xffff && avail > HTTPD_MAX_URI + 16) || (lf != 0xffff && lf > HTTPD_MAX_URI + 16)) {
    http_respond_error(c, 414, 0, 1, "Request target too long.");
    return 1;
  }
  if (end == 0 || end > HTTPD_MAX_HEADER) {
    if (avail > HTTPD_MAX_HEADER || end > HTTPD_MAX_HEADER) {
      http_respond_error(c, 413, 0, 1, "Request header too large.");
      return 1;
    }
    if (c->peer_eof) {
      http_respond_error(c, 400, 0, 1, "Incomplete request.");
      return 1;
    }
    return 0;
  }
  pbuf_copy_partial(c->rxq, http_req, end, 0);
  http_req[end] = '\0';
  c->rxq = ex_queue_drop(c->rxq, end);
  lwvsock_recved(pcb, end);
  if (strlen(http_req) != end) {
    http_respond_error(c, 400, 0, 1, "NUL byte in the request.");
    return 1;
  }
  http_handle(c);
  return 1;
}

/** Write what the send buffer takes. Returns ERR_OK or ERR_ABRT (connection gone). */
static err_t
http_send(struct http_conn *c)
{
  struct lwvsock_pcb *pcb = c->link.pcb;
  int wrote = 0;

  for (;;) {
    uint32_t room = lwvsock_sndbuf(pcb);
    const void *data;
    uint32_t n;
    int more;
    uint8_t flags = 0;
    err_t e;

    if (room == 0) {
      break;
    }
    if (c->head_off < c->head_len) {
      data = c->head + c->head_off;
      n = (uint32_t)LWIP_MIN(room, c->head_len - c->head_off);
      more = c->head_off + n < c->head_len || c->body_len > 0 || c->src_left > 0;
    } else if (c->body_off < c->body_len) {
      data = c->body + c->body_off;
      n = (uint32_t)LWIP_MIN(room, c->body_len - c->body_off);
      more = c->body_off + n < c->body_len;
    } else if (c->src_left > 0 && c->src->peek != NULL) {
      n = (uint32_t)LWIP_MIN(LWIP_MIN((uint64_t)room, c->src_left), (uint64_t)HTTPD_CHUNK);
      data = c->src->peek(c->src_arg, n, c->src_off);
      more = c->src_left > n;
      flags = LWVSOCK_WRITE_FLAG_NOCOPY;
    } else if (c->src_left > 0) {
      long r;
      n = (uint32_t)LWIP_MIN(LWIP_MIN((uint64_t)room, c->src_left), (uint64_t)sizeof(http_chunk));
      r = c->src->read(c->src_arg, http_chunk, n, c->src_off);
      if (r <= 0 || (uint32_t)r > n) {
        /* The source failed under us: Content-Length can no longer be met. */
        return http_abort(c, "aborted (body source failed)");
      }
      data = http_chunk;
      n = (uint32_t)r;
      more = c->src_left > n;
    } else {
      /* Response complete. */
      http_src_end(c);
      c->busy = 0;
      break;
    }
    e = lwvsock_write(pcb, data, n, (uint8_t)(flags | (more ? LWVSOCK_WRITE_FLAG_MORE : 0)));
    if (e == ERR_MEM) {
      break; /* retried from sent or poll */
    }
    if (e != ERR_OK) {
      return http_abort(c, "aborted (write failed)");
    }
    wrote = 1;
    if (c->head_off < c->head_len) {
      c->head_off += n;
    } else if (c->body_off < c->body_len) {
      c->body_off += n;
    } else {
      c->src_off += n;
      c->src_left -= n;
    }
  }
  if (wrote) {
    lwvsock_output(pcb);
  }
  return ERR_OK;
}

/**
 * Make all the progress possible: send, then answer the next pipelined
 * request. Returns ERR_OK, ERR_CLSD (closed, c freed) or ERR_ABRT (aborted).
 */
static err_t
http_step(struct http_conn *c)
{
  for (;;) {
    if (c->busy) {
      err_t e = http_send(c);
      if (e != ERR_OK || c->busy) {
        return e;
      }
      if (c->close_after) {
        return http_close(c);
      }
    }
    if (!http_parse_next(c)) {
      break;
    }
  }
  if (c->peer_eof && (c->rxq == NULL || c->rxq->tot_len == 0)) {
    return http_close(c);
  }
  return ERR_OK;
}

/* ---- callbacks ------------------------------------------------------------------- */

static err_t
http_cb_result(err_t e)
{
  /* After an orderly close the pbuf was taken (ERR_OK); after abort say ERR_ABRT. */
  return e == ERR_ABRT ? ERR_ABRT : ERR_OK;
}

static err_t
http_recv(void *arg, struct lwvsock_pcb *pcb, struct pbuf *p, err_t err)
{
  struct http_conn *c = (struct http_conn *)arg;

  LWIP_UNUSED_ARG(pcb);
  LWIP_UNUSED_ARG(err);
  if (p == NULL) {
    c->peer_eof = 1;
  } else {
    if (ex_queue_pbuf(&c->rxq, p) != 0) {
      return ERR_MEM; /* pipelined too far ahead: lwvsock delivers p again later */
    }
    c->ticks = 0;
  }
  return http_cb_result(http_step(c));
}

static err_t
http_sent(void *arg, struct lwvsock_pcb *pcb, uint32_t len)
{
  struct http_conn *c = (struct http_conn *)arg;

  LWIP_UNUSED_ARG(pcb);
  LWIP_UNUSED_ARG(len);
  c->ticks = 0;
  return http_cb_result(http_step(c));
}

static err_t
http_poll(void *arg, struct lwvsock_pcb *pcb)
{
  struct http_conn *c = (struct http_conn *)arg;

  LWIP_UNUSED_ARG(pcb);
  c->ticks++;
  if (c->busy && c->ticks >= HTTPD_STALL_TICKS) {
    return http_abort(c, "aborted (client stopped reading)");
  }
  if (!c->busy && c->ticks >= HTTPD_IDLE_TICKS) {
    return http_cb_result(http_close(c));
  }
  return http_cb_result(http_step(c));
}

static void
http_err(void *arg, err_t err)
{
  struct http_conn *c = (struct http_conn *)arg;

  ex_log_conn_end(http_ctx, err);
  http_free(c);
}

static err_t
http_accept(void *arg, struct lwvsock_pcb *pcb, err_t err)
{
  struct http_conn *c;
  err_t ret;

  LWIP_UNUSED_ARG(arg);
  c = (struct http_conn *)ex_conn_accept(http_ctx, pcb, err, sizeof(*c), &ret);
  if (c == NULL) {
    return ret;
  }
  lwvsock_recv(pcb, http_recv);
  lwvsock_sent(pcb, http_sent);
  lwvsock_err(pcb, http_err);
  lwvsock_poll(pcb, http_poll, HTTPD_POLL_INTERVAL);
  return ERR_OK;
}

struct lwvsock_pcb *
http_server_start(struct ex_ctx *ctx, uint32_t port, http_route_fn route)
{
  http_ctx = ctx;
  http_route = route;
  return ex_listen(ctx, LWVSOCK_STREAM, port, http_accept, NULL);
}
