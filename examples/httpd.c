/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * lwvsock-httpd: the HTTP/1.1 server (http_server.c) on the hosted device and
 * options (options.c, loop.c), serving files or a built-in page.
 *
 * Files are streamed through http_respond_stream() (pread as the send buffer
 * takes them). Path traversal is refused twice: the server refuses "." and
 * ".." segments, and realpath() must stay under --root, so symlinks cannot
 * lead out; index.html for directories. Without --root a built-in page names
 * the device and CID.
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

#include "forward.h"
#include "http_server.h"
#include "loop.h"
#include "options.h"

static struct ex_ctx ctx;
static uint32_t http_port = HTTPD_DEFAULT_PORT;
static char *http_root;           /**< realpath of --root, or NULL */
static size_t http_root_len;
static const char *http_root_arg;  /**< --root as given */

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
  char dev[128], page[HTTP_BODY_MAX];
  int n;

  http_escape(ctx.device_spec, dev, sizeof(dev));
  n = snprintf(page, sizeof(page),
               "<!DOCTYPE html>\n<html><head><title>lwvsock-httpd</title></head>\n<body>\n"
               "<h1>Hello over vsock</h1>\n"
               "<p>This page is served by lwvsock-httpd over virtio-vsock: lwIP with the\n"
               "lwvsock polled driver, device <code>%s</code>, guest CID %u, vsock port %u.</p>\n"
               "<p>Start it with <code>--root DIR</code> to serve files.</p>\n</body></html>\n",
               dev, (unsigned)lwvsock_dev_cid(ctx.dev), (unsigned)http_port);
  LWIP_ASSERT("page fits", n > 0 && (size_t)n < sizeof(page));
  http_respond_text(c, 200, "text/html; charset=utf-8", page, (size_t)n, head_only);
}

static long
http_file_read(void *arg, void *buf, uint32_t n, uint64_t off)
{
  ssize_t r = pread((int)(intptr_t)arg, buf, n, (off_t)off);

  if (r <= 0) {
    ex_log(&ctx, "read error on a served file: %s", r < 0 ? strerror(errno) : "file shrank");
    return -1;
  }
  return (long)r;
}

static void
http_file_release(void *arg)
{
  close((int)(intptr_t)arg);
}

static const struct http_body_ops http_file_ops = {
  .read = http_file_read,
  .release = http_file_release,
};

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
    http_respond_error(c, 404, head_only, 0, "No such file.");
    return;
  }
  if (realpath(full, real) == NULL) {
    http_respond_error(c, errno == EACCES ? 403 : 404, head_only, 0,
               errno == EACCES ? "Access denied." : "No such file.");
    return;
  }
  /* Symlinks may point anywhere: what is served must really be under the root. */
  if (strncmp(real, http_root, http_root_len) != 0 ||
      (real[http_root_len] != '/' && real[http_root_len] != '\0')) {
    http_respond_error(c, 403, head_only, 0, "Outside the served directory.");
    return;
  }
  fd = open(real, O_RDONLY | O_CLOEXEC);
  if (fd < 0 || fstat(fd, &st) != 0) {
    int e = errno;
    if (fd >= 0) {
      close(fd);
    }
    http_respond_error(c, e == EACCES ? 403 : 404, head_only, 0,
               e == EACCES ? "Access denied." : "No such file.");
    return;
  }
  if (S_ISDIR(st.st_mode)) {
    /* "/dir" -> "/dir/" so that relative links in its index work. */
    char loc[HTTPD_MAX_URI + 32];
    close(fd);
    n = snprintf(loc, sizeof(loc), "Location: %.*s/\r\n", (int)raw_len, raw_path);
    if (n < 0 || (size_t)n >= sizeof(loc)) {
      http_respond_error(c, 414, head_only, 1, "Request target too long.");
      return;
    }
    http_respond_page(c, 301, head_only, loc, "Moved to the directory.");
    return;
  }
  if (!S_ISREG(st.st_mode)) {
    close(fd);
    http_respond_error(c, 404, head_only, 0, "Not a regular file.");
    return;
  }
  http_respond_stream(c, 200, http_content_type(real), (uint64_t)st.st_size, &http_file_ops,
                      (void *)(intptr_t)fd, head_only);
}

/** What a path serves: files under --root, else only the built-in page. */
static void
http_route_hosted(struct http_conn *c, const char *path, const char *target, size_t tlen, int head_only)
{
  if (http_root == NULL) {
    if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
      http_builtin(c, head_only);
    } else {
      http_respond_error(c, 404, head_only, 0, "No such page (no --root given: only / is served).");
    }
    return;
  }
  http_file(c, path, target, tlen, head_only);
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

static void
httpd_option(struct ex_ctx *c, int opt, const char *arg)
{
  if (opt == 'p') {
    http_port = ex_port_arg(c, arg);
  } else if (opt == 'r') {
    http_root_arg = arg;
  }
}

int
main(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "port", required_argument, NULL, 'p' },
    { "root", required_argument, NULL, 'r' },
    { NULL, 0, NULL, 0 }
  };
  static const struct ex_options opts = {
    .shortopts = "p:r:",
    .longopts = longopts,
    .usage = usage,
    .option = httpd_option,
  };
  struct stat st;
  int rc;

  ex_init(&ctx, "lwvsock-httpd");
  ex_parse_options(&ctx, argc, argv, &opts);
  ex_check_forwards(&ctx, 1, http_port);
  if (http_root_arg != NULL) {
    http_root = realpath(http_root_arg, NULL);
    if (http_root == NULL || stat(http_root, &st) != 0 || !S_ISDIR(st.st_mode)) {
      ex_usage_error(&ctx, "--root '%s': %s", ex_shown(http_root_arg),
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
    if (http_server_start(&ctx, http_port, http_route_hosted) == NULL) {
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
