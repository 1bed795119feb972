/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * lwvsock-appliance: the HTTP (port 80) and echo (port 1234) servers of the
 * hosted examples, in a bare-metal x86 image that QEMU boots with -kernel
 * (port/baremetal-x86). It finds the virtio-vsock device (virtio-mmio on
 * microvm, virtio-pci on q35), reads its CID from it, prints "lwvsock-appliance: ready cid=N" on
 * the serial console and serves until the machine is stopped.
 *
 * HTTP paths: "/" a built-in page; "/pattern/N" (0 <= N <= 64 MiB) N bytes
 * where byte i is i mod 251, generated as sent; "/stats" the device counters
 * and the memory in use, as text.
 *
 * The netif image (built with BM_NETIF=1: lwvsock-appliance-netif.elf) also
 * brings up the vsock netif to a network daemon at the host's vsock port 1024
 * (QEMU -netdev stream, passt), gets a DHCP lease, serves the "/" page on
 * lwIP TCP port 80 (which the host reaches through the daemon's port
 * forwarding) and echoes UDP on port 7; with "netif.fetch=IP:PORT[/PATH]" on
 * the command line it fetches that page once the lease is bound and prints
 * "fetch: STATUS, N body bytes, fnv1a X" (FNV-1a 32 of the body).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "bm.h"
#include "echo_server.h"
#include "http_server.h"
#include "lwip/init.h"
#include "lwip/stats.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "lwvsock/lwvsock.h"
#if BM_NETIF
#include "lwip/dhcp.h"
#include "lwvsock/netif_vsock.h"
#include "netif_apps.h"
#endif

#define APP_NAME            "lwvsock-appliance"
/** Largest /pattern/N. */
#define APP_PATTERN_MAX     (64u * 1024u * 1024u)
#define APP_PATTERN_MOD     251u
/** Received packets handled per lwvsock_dev_poll() call. */
#define APP_POLL_BUDGET     64

void bm_main(const void *start_info);

static struct ex_ctx app;
static char app_where[BM_WHERE_LEN];

/* ---- HTTP routes -------------------------------------------------------------------- */

/* The pattern from every phase: byte i is i mod APP_PATTERN_MOD. Filled at
   boot and never changed after: /pattern bodies are sent from it by reference. */
static uint8_t pattern_tab[APP_PATTERN_MOD + 65536u];

static const void *
pattern_peek(void *arg, uint32_t n, uint64_t off)
{
  (void)arg;
  LWIP_ASSERT("peek within the table", n <= 65536u);
  return pattern_tab + off % APP_PATTERN_MOD;
}

static void
pattern_init(void)
{
  uint32_t i;

  for (i = 0; i < sizeof(pattern_tab); i++) {
    pattern_tab[i] = (uint8_t)(i % APP_PATTERN_MOD);
  }
}

static const struct http_body_ops pattern_ops = {
  .peek = pattern_peek,
};

/** N of "/pattern/N": decimal digits only, at most APP_PATTERN_MAX; -1 otherwise. */
static long
pattern_len(const char *s)
{
  unsigned long v = 0;

  if (*s == '\0') {
    return -1;
  }
  for (; *s != '\0'; s++) {
    if (*s < '0' || *s > '9') {
      return -1;
    }
    v = v * 10u + (unsigned long)(*s - '0');
    if (v > APP_PATTERN_MAX) {
      return -1;
    }
  }
  return (long)v;
}

static void
app_stats(struct http_conn *c, int head_only)
{
  char text[HTTP_BODY_MAX];
  size_t used, peak, size, n;

  bm_heap_usage(&used, &peak, &size);
  n = (size_t)snprintf(text, sizeof(text), "cid %u\ndevice %s\nuptime_ms %u\n",
                       (unsigned)lwvsock_dev_cid(app.dev), app_where, (unsigned)sys_now());
  n += ex_format_dev_stats(app.dev, text + n, sizeof(text) - n);
  n += (size_t)snprintf(text + n, sizeof(text) - n,
                        "heap_used %lu heap_peak %lu heap_size %lu\n"
                        "lwip_mem_used %lu lwip_mem_max %lu lwip_mem_size %lu\n",
                        (unsigned long)used, (unsigned long)peak, (unsigned long)size,
                        (unsigned long)lwip_stats.mem.used, (unsigned long)lwip_stats.mem.max,
                        (unsigned long)lwip_stats.mem.avail);
  LWIP_ASSERT("stats fit", n < sizeof(text));
  http_respond_text(c, 200, "text/plain; charset=utf-8", text, n, head_only);
}

/** The "/" page into @p page (@p size bytes); its length. */
static size_t
app_index(char *page, size_t size)
{
  int n = snprintf(page, size,
                   "<!DOCTYPE html>\n<html><head><title>" APP_NAME "</title></head>\n<body>\n"
                   "<h1>Hello from the lwvsock appliance</h1>\n"
                   "<p>A bare-metal x86 image: lwIP and the lwvsock polled driver on a real\n"
                   "virtio-vsock device (%s), guest CID %u. No operating system.</p>\n"
                   "<p><a href=\"/stats\">/stats</a> shows the device counters;\n"
                   "<code>/pattern/N</code> sends N test bytes.</p>\n</body></html>\n",
                   app_where, (unsigned)lwvsock_dev_cid(app.dev));

  LWIP_ASSERT("page fits", n > 0 && (size_t)n < size);
  return (size_t)n;
}

static void
app_route(struct http_conn *c, const char *path, const char *target, size_t tlen, int head_only)
{
  static const char prefix[] = "/pattern/";
  char page[HTTP_BODY_MAX];
  long len;

  (void)target;
  (void)tlen;
  if (strcmp(path, "/") == 0 || strcmp(path, "/index.html") == 0) {
    http_respond_text(c, 200, "text/html; charset=utf-8", page, app_index(page, sizeof(page)), head_only);
  } else if (strcmp(path, "/stats") == 0) {
    app_stats(c, head_only);
  } else if (strncmp(path, prefix, sizeof(prefix) - 1) == 0 &&
             (len = pattern_len(path + sizeof(prefix) - 1)) >= 0) {
    http_respond_stream(c, 200, "application/octet-stream", (uint64_t)len, &pattern_ops, NULL, head_only);
  } else {
    http_respond_error(c, 404, head_only, 0, "No such page: / , /stats and /pattern/N are served.");
  }
}

/* ---- boot ---------------------------------------------------------------------------- */

static _Noreturn void
app_fail(const char *what, const char *why)
{
  printf(APP_NAME ": %s: %s\n" APP_NAME ": halted\n", what, why);
  bm_halt();
}

/**
 * The device: the command line's virtio-mmio entries if any, else virtio-pci
 * when there is PCI (q35), else a scan of microvm's virtio-mmio window (never
 * on a PCI machine, where that window may hold some device's BAR). Returns
 * its backend, or stops the machine saying why.
 */
static struct lwvsock_backend *
app_find_device(const char *cmdline)
{
  struct lwvsock_backend *be = NULL;
  char err[256] = "";
  int r;

  if (strstr(cmdline, "virtio_mmio.device=") == NULL && bm_pci_present()) {
    r = bm_pci_open_vsock(&be, app_where, err, sizeof(err));
  } else {
    r = bm_mmio_open_vsock(cmdline, &be, app_where, err, sizeof(err));
  }
  if (r != 0) {
    app_fail("no usable virtio-vsock device", err);
  }
  return be;
}

#if BM_NETIF
/* ---- the netif image: full IP through the host's network daemon ------------------ */

/** The command-line option of the page to fetch. */
#define APP_FETCH_OPT "netif.fetch="
/** The lwIP TCP port of the "/" page and the UDP echo port. */
#define APP_IP_HTTP_PORT    80
#define APP_IP_ECHO_PORT    7

static struct lwvsock_netif app_vn;
static struct na_watch app_watch;
static struct na_fetch app_fetch;
static char app_fetch_target[128];
static int app_fetch_started;
static uint32_t app_fetch_fnv;
static char app_ip_page[HTTP_BODY_MAX];

static void
app_fetch_body(void *arg, const uint8_t *data, size_t len)
{
  (void)arg;
  for (size_t i = 0; i < len; i++) {
    app_fetch_fnv = (app_fetch_fnv ^ data[i]) * 16777619u;
  }
}

static void
app_fetch_done(void *arg, const char *status, uint64_t body_len, const char *why)
{
  size_t used, peak, size;

  (void)arg;
  if (why != NULL) {
    ex_log(&app, "fetch: failed (%s)", why);
  } else {
    ex_log(&app, "fetch: %s, %lu body bytes, fnv1a %08lx", status, (unsigned long)body_len,
           (unsigned long)app_fetch_fnv);
  }
  bm_heap_usage(&used, &peak, &size);
  ex_log(&app, "memory: heap_used %lu heap_peak %lu heap_size %lu lwip_mem_max %lu", (unsigned long)used,
         (unsigned long)peak, (unsigned long)size, (unsigned long)lwip_stats.mem.max);
}

/** "netif.fetch=IP:PORT[/PATH]" of @p cmdline into app_fetch; stops the machine when malformed. */
static void
app_fetch_option(const char *cmdline)
{
  const char *v = strstr(cmdline, APP_FETCH_OPT);
  size_t n;

  if (v == NULL) {
    return;
  }
  v += sizeof(APP_FETCH_OPT) - 1;
  n = strcspn(v, " ");
  if (n >= sizeof(app_fetch_target)) {
    app_fail(APP_FETCH_OPT, "longer than 127 characters");
  }
  memcpy(app_fetch_target, v, n);
  app_fetch_target[n] = '\0';
  if (na_fetch_parse(&app_fetch, app_fetch_target) != 0) {
    app_fail(APP_FETCH_OPT, "give IP:PORT[/PATH] with an IPv4 address");
  }
  app_fetch.body = app_fetch_body;
  app_fetch.done = app_fetch_done;
}

/** Add the netif on app.dev, start DHCP and the TCP/IP servers; stops the machine on failure. */
static void
app_netif_start(const char *cmdline)
{
  struct lwvsock_netif_config cfg;
  struct netif *nif;

  app_fetch_option(cmdline);
  lwvsock_netif_config_init(&cfg);
  cfg.dev = app.dev;
  if (lwvsock_netif_add(&app_vn, &cfg) != ERR_OK) {
    app_fail("netif", "cannot add the vsock netif");
  }
  nif = lwvsock_netif_netif(&app_vn);
  netif_set_default(nif);
  if (dhcp_start(nif) != ERR_OK ||
      na_page_server_start(APP_IP_HTTP_PORT, (const uint8_t *)app_ip_page,
                           app_index(app_ip_page, sizeof(app_ip_page))) == NULL ||
      na_udp_echo_start(APP_IP_ECHO_PORT) != ERR_OK) {
    app_fail("netif", "cannot start DHCP, the TCP server or the UDP echo");
  }
  printf(APP_NAME ": netif to vsock %u:%u, HTTP on TCP port %u, UDP echo on %u%s%s\n",
         (unsigned)cfg.cid, (unsigned)cfg.port, APP_IP_HTTP_PORT, APP_IP_ECHO_PORT,
         app_fetch.path != NULL ? ", fetch " : "", app_fetch_target);
}

/** From the main loop: log link and lease changes; the fetch starts on the first lease. */
static void
app_netif_poll(void)
{
  err_t e;

  if (na_watch(&app, lwvsock_netif_netif(&app_vn), &app_watch) && app_fetch.path != NULL &&
      !app_fetch_started) {
    app_fetch_started = 1;
    app_fetch_fnv = 2166136261u;
    e = na_fetch_start(&app_fetch);
    if (e != ERR_OK) {
      app_fetch_done(NULL, "", 0, lwvsock_strerror(e));
    }
  }
}
#endif /* BM_NETIF */

void
bm_main(const void *start_info)
{
  const char *cmdline;
  struct lwvsock_backend *be;
  err_t e;

  bm_serial_init();
  printf(APP_NAME ": booting\n");
  if (bm_clock_init() != 0) {
    app_fail("clock", "the PIT does not count, so the TSC cannot be calibrated");
  }
  cmdline = bm_boot_cmdline(start_info);
  printf(APP_NAME ": TSC %lu kHz, command line \"%s\"\n", (unsigned long)bm_clock_khz(), cmdline);
  lwip_init();
  ex_ctx_init(&app, APP_NAME);
  /* Per-connection lines would cost more than the connections over a slow console. */
  app.quiet = 1;
  be = app_find_device(cmdline);
  app.device_spec = app_where;
  e = lwvsock_dev_open(be, &app.dev);
  if (e != ERR_OK) {
    app_fail(app_where, app.dev != NULL ? lwvsock_dev_error(app.dev) : lwvsock_strerror(e));
  }
  pattern_init();
  if (http_server_start(&app, HTTPD_DEFAULT_PORT, app_route) == NULL ||
      echo_server_start(&app, LWVSOCK_STREAM, ECHO_DEFAULT_PORT) == NULL) {
    app_fail("listen", "cannot listen on vsock ports 80 and 1234");
  }
  printf(APP_NAME ": %s, HTTP on vsock port %u, echo on %u\n", app_where, HTTPD_DEFAULT_PORT,
         ECHO_DEFAULT_PORT);
#if BM_NETIF
  app_netif_start(cmdline);
#endif
  printf(APP_NAME ": ready cid=%u\n", (unsigned)lwvsock_dev_cid(app.dev));
  for (;;) {
    (void)lwvsock_dev_poll(app.dev, APP_POLL_BUDGET);
    sys_check_timeouts();
#if BM_NETIF
    app_netif_poll();
#endif
    if (lwvsock_dev_status(app.dev) != ERR_OK) {
      app_fail("device failed", lwvsock_dev_error(app.dev));
    }
  }
}
