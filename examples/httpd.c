/**
 * @file
 * lwvsock-httpd: an HTTP/1.1 server on the raw vsock API.
 *
 * Why not lwIP's apps/http/httpd.c: in 2.1.3 its port is fixed at compile time
 * (HTTPD_SERVER_PORT; httpd_init_pcb is static), altcp ports are 16-bit, it
 * answers 404/400 only when /404.html and /400.html exist, and has no 405, 413
 * or 414. This server is small, and all of that is explicit.
 *
 * What it does: GET and HEAD, keep-alive (HTTP/1.1 by default, HTTP/1.0 on
 * request), pipelining, Content-Length on every response, 400/403/404/405/
 * 413/414/505, path traversal refused (".." segments, and realpath() must stay
 * under --root, so symlinks cannot lead out), index.html for directories.
 * Files are streamed: at most what the send buffer takes is read (pread) per
 * step, driven by the sent and poll callbacks, so a file of any size costs no
 * memory. Without --root a built-in page names the device and CID.
 *
 * Input limits: request line and headers together at most HTTPD_MAX_HEADER
 * bytes (else 413), the target at most HTTPD_MAX_URI (else 414); request bodies
 * are refused (413) since no method here takes one. Received bytes are credited
 * back to the peer only when parsed, so a client cannot make us buffer more
 * than one pbuf chain (64 KiB) while a response is being sent.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* realpath(NULL), pread */
#endif
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "lwip/def.h"
#include "lwip/pbuf.h"

#define HTTPD_DEFAULT_PORT   80u
#define HTTPD_MAX_HEADER     8192
#define HTTPD_MAX_URI        2048
/** Poll callback interval (x 500 ms) and the timeouts counted in its ticks. */
#define HTTPD_POLL_INTERVAL  2
#define HTTPD_IDLE_TICKS     30  /**< idle keep-alive or incomplete request: close */
#define HTTPD_STALL_TICKS    60  /**< response not progressing: abort */
#define HTTPD_CHUNK          (64 * 1024)

struct http_conn {
  struct ex_conn link;        /* first: see common.h */
  struct pbuf *rxq;           /**< received, not yet parsed (and not yet credited) */
  int peer_eof;               /**< peer shut down sending */
  int busy;                   /**< a response is being sent */
  int close_after;            /**< close once the response is out */
  unsigned ticks;             /**< poll ticks without progress */
  char head[768];             /**< response header */
  size_t head_len, head_off;
  char body[1024];            /**< generated body (built-in page, errors) */
  size_t body_len, body_off;
  int fd;                     /**< file being sent, or -1 */
  uint64_t file_off, file_left;
};

static struct ex_ctx ctx;
static uint32_t http_port = HTTPD_DEFAULT_PORT;
static char *http_root;           /**< realpath of --root, or NULL */
static size_t http_root_len;
static uint8_t http_chunk[HTTPD_CHUNK];  /* one loop, so one scratch buffer */
static char http_req[HTTPD_MAX_HEADER + 1];

/* ---- connection lifetime ------------------------------------------------------ */

static void
http_free(struct http_conn *c)
{
  ex_conn_remove(&c->link);
  if (c->rxq != NULL) {
    pbuf_free(c->rxq);
  }
  if (c->fd >= 0) {
    close(c->fd);
  }
  free(c);
}

/** Orderly close; c is freed. Returns ERR_CLSD (callbacks then return ERR_OK). */
static err_t
http_close(struct http_conn *c)
{
  struct lwvsock_pcb *pcb = c->link.pcb;

  if (!ctx.quiet) {
    ex_print_pcb_stats(&ctx, "closed", pcb);
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
  if (!ctx.quiet) {
    ex_print_pcb_stats(&ctx, why, c->link.pcb);
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

static const char *
http_content_type(const char *path)
{
  static const struct { const char *ext, *type; } types[] = {
    { "html", "text/html; charset=utf-8" }, { "htm", "text/html; charset=utf-8" },
    { "txt", "text/plain; charset=utf-8" }, { "css", "text/css" },
    { "js", "text/javascript" }, { "json", "application/json" },
    { "xml", "application/xml" }, { "svg", "image/svg+xml" }, { "png", "image/png" },
    { "jpg", "image/jpeg" }, { "jpeg", "image/jpeg" }, { "gif", "image/gif" },
    { "ico", "image/x-icon" }, { "pdf", "application/pdf" }, { "wasm", "application/wasm" },
  };
  const char *dot = strrchr(path, '.');
  size_t i;

  if (dot != NULL && strchr(dot, '/') == NULL) {
    for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
      if (strcasecmp(dot + 1, types[i].ext) == 0) {
        return types[i].type;
      }
    }
  }
  return "application/octet-stream";
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
}

/** Respond with a generated HTML page (@p extra: more header lines). */
static void
http_page(struct http_conn *c, int status, int head_only, const char *extra, const char *text)
{
  int n = snprintf(c->body, sizeof(c->body),
                   "<!DOCTYPE html>\n<html><head><title>%d %s</title></head>\n"
                   "<body><h1>%d %s</h1>\n<p>%s</p>\n</body></html>\n",
                   status, http_reason(status), status, http_reason(status), text);
  LWIP_ASSERT("page fits", n > 0 && (size_t)n < sizeof(c->body));
  c->body_len = head_only ? 0 : (size_t)n;
  c->body_off = 0;
  http_head(c, status, "text/html; charset=utf-8", (uint64_t)n, extra);
}

/** Error response; 4xx/5xx for a request we could not parse also end the connection. */
static void
http_error(struct http_conn *c, int status, int head_only, int fatal, const char *text)
{
  if (fatal) {
    c->close_after = 1;
  }
  http_page(c, status, head_only, status == 405 ? "Allow: GET, HEAD\r\n" : "", text);
}

/** HTML-escape @p s into @p out (for the device spec shown on the built-in page). */
static void
http_escape(const char *s, char *out, size_t outlen)
{
  size_t o = 0;

  for (; *s != '\0'; s++) {
    const char *rep = NULL;
    char one[2] = { *s, '\0' };
    size_t rl;
    switch (*s) {
      case '<': rep = "&lt;"; break;
      case '>': rep = "&gt;"; break;
      case '&': rep = "&amp;"; break;
      case '"': rep = "&quot;"; break;
      default: rep = one; break;
    }
    rl = strlen(rep);
    if (o + rl + 1 > outlen) {
      break;
    }
    memcpy(out + o, rep, rl);
    o += rl;
  }
  out[o] = '\0';
}

static void
http_builtin(struct http_conn *c, int head_only)
{
  char dev[128];
  int n;

  http_escape(ctx.device_spec, dev, sizeof(dev));
  n = snprintf(c->body, sizeof(c->body),
               "<!DOCTYPE html>\n<html><head><title>lwvsock-httpd</title></head>\n<body>\n"
               "<h1>Hello over vsock</h1>\n"
               "<p>This page is served by lwvsock-httpd over virtio-vsock: lwIP with the\n"
               "lwvsock polled driver, device <code>%s</code>, guest CID %u, vsock port %u.</p>\n"
               "<p>Start it with <code>--root DIR</code> to serve files.</p>\n</body></html>\n",
               dev, (unsigned)lwvsock_dev_cid(ctx.dev), (unsigned)http_port);
  LWIP_ASSERT("page fits", n > 0 && (size_t)n < sizeof(c->body));
  c->body_len = head_only ? 0 : (size_t)n;
  c->body_off = 0;
  http_head(c, 200, "text/html; charset=utf-8", (uint64_t)n, "");
}

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

/** Serve decoded @p path from --root. */
static void
http_file(struct http_conn *c, const char *path, const char *raw_path, size_t raw_len, int head_only)
{
  char full[PATH_MAX], real[PATH_MAX];
  struct stat st;
  int fd, n;

  n = snprintf(full, sizeof(full), "%s%s%s", http_root, path,
               path[strlen(path) - 1] == '/' ? "index.html" : "");
  if (n < 0 || (size_t)n >= sizeof(full)) {
    http_error(c, 404, head_only, 0, "No such file.");
    return;
  }
  if (realpath(full, real) == NULL) {
    http_error(c, errno == EACCES ? 403 : 404, head_only, 0,
               errno == EACCES ? "Access denied." : "No such file.");
    return;
  }
  /* Symlinks may point anywhere: what is served must really be under the root. */
  if (strncmp(real, http_root, http_root_len) != 0 ||
      (real[http_root_len] != '/' && real[http_root_len] != '\0')) {
    http_error(c, 403, head_only, 0, "Outside the served directory.");
    return;
  }
  fd = open(real, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) != 0) {
    int e = errno;
    if (fd >= 0) {
      close(fd);
    }
    http_error(c, e == EACCES ? 403 : 404, head_only, 0,
               e == EACCES ? "Access denied." : "No such file.");
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    /* "/dir" -> "/dir/" so that relative links in its index work. */
    char loc[HTTPD_MAX_URI + 32];
    close(fd);
    n = snprintf(loc, sizeof(loc), "Location: %.*s/\r\n", (int)raw_len, raw_path);
    if (n < 0 || (size_t)n >= sizeof(loc)) {
      http_error(c, 414, head_only, 1, "Request target too long.");
      return;
    }
    http_page(c, 301, head_only, loc, "Moved to the directory.");
    return;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    http_error(c, 404, head_only, 0, "Not a regular file.");
    return;
  }
  http_head(c, 200, http_content_type(real), (uint64_t)st.st_size, "");
  c->body_len = 0;
  c->body_off = 0;
  if (head_only || st.st_size == 0) {
    close(fd);
    return;
  }
  c->fd = fd;
  c->file_off = 0;
  c->file_left = (uint64_t)st.st_size;
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
    http_error(c, 400, 0, 1, "Malformed request line.");
    return;
  }
  *sp1 = '\0';
  *sp2 = '\0';
  target = sp1 + 1;
  if (strncmp(sp2 + 1, "HTTP/", 5) != 0 || strlen(sp2 + 1) != 8 || sp2[7] != '.') {
    http_error(c, 400, 0, 1, "Malformed HTTP version.");
    return;
  }
  if (strcmp(sp2 + 1, "HTTP/1.1") == 0) {
    http11 = 1;
  } else if (strcmp(sp2 + 1, "HTTP/1.0") == 0) {
    http11 = 0;
  } else {
    http_error(c, 505, 0, 1, "Only HTTP/1.0 and HTTP/1.1 are spoken here.");
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
      http_error(c, 400, 0, 1, "Malformed header field.");
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
    http_error(c, 413, head_only, 1, "Request bodies are not accepted.");
    return;
  }
  if (http11 && !have_host) {
    http_error(c, 400, head_only, 1, "HTTP/1.1 requests need a Host header.");
    return;
  }
  if (!head_only && strcmp(http_req, "GET") != 0) {
    for (q = http_req; *q != '\0'; q++) {
      if (*q < 'A' || *q > 'Z') {
        http_error(c, 400, 0, 1, "Malformed method.");
        return;
      }
    }
    http_error(c, 405, 0, 0, "Only GET and HEAD are served.");
    return;
  }
  /* Target: origin-form "/path?query"; absolute-form "http://host/path" too. */
  if (strncasecmp(target, "http://", 7) == 0) {
    target = strchr(target + 7, '/');
    if (target == NULL) {
      http_error(c, 400, head_only, 1, "Malformed request target.");
      return;
    }
  }
  for (q = target; *q != '\0'; q++) {
    if ((unsigned char)*q <= ' ' || *q == 0x7f) {
      http_error(c, 400, head_only, 1, "Control character in the request target.");
      return;
    }
  }
  tlen = strcspn(target, "?#");
  if (target[0] != '/' || http_decode(target, tlen, path, sizeof(path)) != 0) {
    http_error(c, 400, head_only, 1, "Malformed request target.");
    return;
  }
  if (http_has_dot_segment(path)) {
    http_error(c, 403, head_only, 0, "Path traversal refused.");
    return;
  }
  if (http_root == NULL) {
    if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
      http_builtin(c, head_only);
    } else {
      http_error(c, 404, head_only, 0, "No such page (no --root given: only / is served).");
    }
    return;
  }
  http_file(c, path, target, tlen, head_only);
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
    http_error(c, 414, 0, 1, "Request target too long.");
    return 1;
  }
  if (end == 0 || end > HTTPD_MAX_HEADER) {
    if (avail > HTTPD_MAX_HEADER || end > HTTPD_MAX_HEADER) {
      http_error(c, 413, 0, 1, "Request header too large.");
      return 1;
    }
    if (c->peer_eof) {
      http_error(c, 400, 0, 1, "Incomplete request.");
      return 1;
    }
    return 0;
  }
  pbuf_copy_partial(c->rxq, http_req, end, 0);
  http_req[end] = '\0';
  c->rxq = ex_queue_drop(c->rxq, end);
  lwvsock_recved(pcb, end);
  if (strlen(http_req) != end) {
    http_error(c, 400, 0, 1, "NUL byte in the request.");
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
    err_t e;

    if (room == 0) {
      break;
    }
    if (c->head_off < c->head_len) {
      data = c->head + c->head_off;
      n = (uint32_t)LWIP_MIN(room, c->head_len - c->head_off);
      more = c->head_off + n < c->head_len || c->body_len > 0 || c->file_left > 0;
    } else if (c->body_off < c->body_len) {
      data = c->body + c->body_off;
      n = (uint32_t)LWIP_MIN(room, c->body_len - c->body_off);
      more = c->body_off + n < c->body_len;
    } else if (c->file_left > 0) {
      ssize_t r;
      n = (uint32_t)LWIP_MIN(LWIP_MIN((uint64_t)room, c->file_left), (uint64_t)sizeof(http_chunk));
      r = pread(c->fd, http_chunk, n, (off_t)c->file_off);
      if (r <= 0) {
        /* The file shrank or failed under us: Content-Length can no longer be met. */
        ex_log(&ctx, "read error on a served file: %s", r < 0 ? strerror(errno) : "file shrank");
        return http_abort(c, "aborted (file read failed)");
      }
      data = http_chunk;
      n = (uint32_t)r;
      more = c->file_left > n;
    } else {
      /* Response complete. */
      if (c->fd >= 0) {
        close(c->fd);
        c->fd = -1;
      }
      c->busy = 0;
      break;
    }
    e = lwvsock_write(pcb, data, n, more ? LWVSOCK_WRITE_FLAG_MORE : 0);
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
      c->file_off += n;
      c->file_left -= n;
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

  ex_log_conn_end(&ctx, err);
  http_free(c);
}

static err_t
http_accept(void *arg, struct lwvsock_pcb *pcb, err_t err)
{
  struct http_conn *c;
  err_t ret;

  LWIP_UNUSED_ARG(arg);
  c = (struct http_conn *)ex_conn_accept(&ctx, pcb, err, sizeof(*c), &ret);
  if (c == NULL) {
    return ret;
  }
  c->fd = -1;
  lwvsock_recv(pcb, http_recv);
  lwvsock_sent(pcb, http_sent);
  lwvsock_err(pcb, http_err);
  lwvsock_poll_cb(pcb, http_poll, HTTPD_POLL_INTERVAL);
  return ERR_OK;
}

/* ---- main -------------------------------------------------------------------------- */

static void
usage(FILE *f)
{
  fprintf(f,
          "Usage: lwvsock-httpd [--device SPEC] [--port P] [--root DIR] [options]\n"
          "Serve HTTP/1.1 (GET, HEAD, keep-alive) on vsock port P (default %u).\n"
          "With --root, files under DIR are served (index.html for directories);\n"
          "without, a built-in page naming the device and CID.\n\n"
          "  -p, --port P        vsock port to listen on\n"
          "  -r, --root DIR      serve the files under DIR\n", HTTPD_DEFAULT_PORT);
  ex_common_usage(f);
  fputs("\nExamples:\n"
        "  lwvsock-httpd --forward 8080:80          # then: curl http://127.0.0.1:8080/\n"
        "  lwvsock-httpd --device vhost-vsock:cid=3 --root /srv/www   # inside the test VM;\n"
        "      the host reaches it with: socat TCP-LISTEN:8080,fork VSOCK-CONNECT:3:80\n", f);
}

int
main(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "port", required_argument, NULL, 'p' },
    { "root", required_argument, NULL, 'r' },
    EX_COMMON_LONGOPTS,
    { NULL, 0, NULL, 0 }
  };
  uint32_t port = HTTPD_DEFAULT_PORT;
  const char *root = NULL;
  struct stat st;
  int opt, rc;

  ex_init(&ctx, "lwvsock-httpd");
  while ((opt = ex_getopt(&ctx, argc, argv, "p:r:" EX_COMMON_SHORTOPTS, longopts)) != -1) {
    if (opt == 'h') {
      usage(stdout);
      return EX_EXIT_OK;
    } else if (opt == 'p') {
      port = ex_port_arg(&ctx, optarg);
    } else if (opt == 'r') {
      root = optarg;
    } else if (!ex_common_option(&ctx, opt, optarg)) {
      ex_usage_error(&ctx, "unknown option");
    }
  }
  ex_no_operands(&ctx, argc, argv);
  ex_check_forwards(&ctx, 1, port);
  http_port = port;
  if (root != NULL) {
    http_root = realpath(root, NULL);
    if (http_root == NULL || stat(http_root, &st) != 0 || !S_ISDIR(st.st_mode)) {
      ex_usage_error(&ctx, "--root '%s': %s", ex_shown(root),
                     http_root == NULL ? strerror(errno) : "not a directory");
    }
    http_root_len = strlen(http_root);
    if (http_root_len == 1) {
      http_root_len = 0; /* "/": every real path is under it */
      http_root[0] = '\0';
    }
  }
  rc = ex_start(&ctx);
  if (rc == 0) {
    if (ex_listen(&ctx, http_port, http_accept, NULL) == NULL) {
      rc = EX_EXIT_FAIL;
    } else {
      ex_log(&ctx, "serving %s on vsock port %u (device %s, CID %u)",
             http_root ? http_root : "the built-in page", (unsigned)http_port,
             ctx.device_spec, (unsigned)lwvsock_dev_cid(ctx.dev));
      rc = ex_run(&ctx, NULL, NULL);
    }
  }
  rc = ex_finish(&ctx, rc);
  free(http_root);
  return rc;
}
