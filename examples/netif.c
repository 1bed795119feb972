/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * lwvsock-netif: full IP for lwIP through a host-side network daemon
 * (QEMU -netdev stream, passt, gvisor-tap-vsock) over one vsock connection.
 *
 * Brings the vsock netif up, runs DHCP, and then, as asked:
 * - --fetch IP:PORT[/PATH]: one HTTP/1.0 GET over lwIP TCP once the lease is
 *   there; the body goes to --fetch-out FILE;
 * - --serve PORT --serve-file FILE: answers every HTTP request on lwIP TCP
 *   port PORT with FILE (reached from the host through the daemon's port
 *   forwarding);
 * - --udp-echo PORT: echoes UDP datagrams on lwIP.
 * Link and lease changes are logged ("link up", "dhcp: bound ... (#N)").
 */
#include <stdlib.h>
#include <string.h>

#include "loop.h"
#include "options.h"
#include "netif_apps.h"
#include "lwvsock/netif_vsock.h"
#include "lwip/dhcp.h"

static struct ex_ctx ctx;
static struct lwvsock_netif vn;

/* A whole file in memory (the served page). */
static uint8_t *page;
static size_t page_len;

/* ---- --fetch: the body goes to --fetch-out --------------------------------------- */

static struct na_fetch fetch;
static const char *fetch_out;
static FILE *fetch_fp;
static int fetch_started, fetch_write_failed;

static void
fetch_body(void *arg, const uint8_t *data, size_t len)
{
  LWIP_UNUSED_ARG(arg);
  if (fetch_fp != NULL && fwrite(data, 1, len, fetch_fp) != len) {
    fetch_write_failed = 1;
  }
}

static void
fetch_done(void *arg, const char *status, uint64_t body_len, const char *why)
{
  LWIP_UNUSED_ARG(arg);
  if (fetch_fp != NULL && fclose(fetch_fp) != 0) {
    fetch_write_failed = 1;
  }
  fetch_fp = NULL;
  if (why != NULL) {
    ex_log(&ctx, "fetch: failed (%s)", why);
  } else if (fetch_write_failed) {
    ex_log(&ctx, "fetch: cannot write %s", fetch_out);
  } else {
    ex_log(&ctx, "fetch: %s, %llu body bytes", status, (unsigned long long)body_len);
  }
}

/* ---- main loop hook: log link and lease changes, start the fetch ------------------- */

static int
watch(void *arg)
{
  static struct na_watch w;
  err_t e;

  LWIP_UNUSED_ARG(arg);
  if (na_watch(&ctx, lwvsock_netif_netif(&vn), &w) && fetch.path != NULL && !fetch_started) {
    fetch_started = 1;
    if (fetch_out != NULL && (fetch_fp = fopen(fetch_out, "wb")) == NULL) {
      ex_log(&ctx, "fetch: cannot write %s", fetch_out);
    } else if ((e = na_fetch_start(&fetch)) != ERR_OK) {
      fetch_done(NULL, "", 0, lwvsock_strerror(e));
    }
  }
  return 0;
}

static void
usage(FILE *f)
{
  fputs("Usage: lwvsock-netif [--device SPEC] [options]\n"
        "lwIP gets full IP (DHCP, TCP, UDP) through a host-side network daemon\n"
        "reached over one vsock connection.\n\n"
        "  --framing qemu|gvproxy  stream framing (default qemu: QEMU -netdev stream, passt)\n"
        "  --cid CID               daemon's CID (default 2, the host)\n"
        "  --port P                daemon's vsock port (default 1024)\n"
        "  --listen                accept the daemon's connection on --port instead\n"
        "  --mtu N                 MTU (default 1500; gvisor-tap-vsock uses 4000)\n"
        "  --fetch IP:PORT[/PATH]  HTTP GET once the lease is there\n"
        "  --fetch-out FILE        where the fetched body goes\n"
        "  --serve PORT            serve --serve-file on lwIP TCP port PORT\n"
        "  --serve-file FILE       the page to serve\n"
        "  --udp-echo PORT         echo UDP datagrams on lwIP port PORT\n", f);
  ex_common_usage(f);
  fputs("\nExample (in a VM with vhost-vsock, QEMU listening as the daemon on port 1024):\n"
        "  lwvsock-netif --device vhost-vsock:cid=3 --serve 80 --serve-file index.html\n", f);
}

static int
load_page(const char *path)
{
  FILE *fp = fopen(path, "rb");
  long n;

  if (fp == NULL || fseek(fp, 0, SEEK_END) != 0 || (n = ftell(fp)) < 0 || fseek(fp, 0, SEEK_SET) != 0) {
    if (fp != NULL) {
      fclose(fp);
    }
    return -1;
  }
  page_len = (size_t)n;
  page = (uint8_t *)malloc(page_len + 1);
  if (page == NULL || fread(page, 1, page_len, fp) != page_len) {
    fclose(fp);
    return -1;
  }
  fclose(fp);
  return 0;
}

enum { OPT_FRAMING = 1, OPT_CID, OPT_PORT, OPT_LISTEN, OPT_MTU, OPT_FETCH, OPT_FETCH_OUT,
       OPT_SERVE, OPT_SERVE_FILE, OPT_UDP_ECHO };

static struct lwvsock_netif_config cfg;
static uint64_t serve_port, udp_port;
static const char *serve_file;

static void
netif_option(struct ex_ctx *c, int opt, const char *arg)
{
  uint64_t v;

  switch (opt) {
    case OPT_FRAMING:
      if (strcmp(arg, "qemu") == 0) {
        cfg.framing = LWVSOCK_NETIF_FRAMING_QEMU;
      } else if (strcmp(arg, "gvproxy") == 0) {
        cfg.framing = LWVSOCK_NETIF_FRAMING_GVPROXY;
      } else {
        ex_usage_error(c, "--framing '%s': give qemu or gvproxy", arg);
      }
      break;
    case OPT_CID:
    case OPT_PORT:
      if (ex_parse_u64(arg, 0, 0xfffffffeu, 0, &v) != 0) {
        ex_usage_error(c, "'%s': not a vsock CID or port", arg);
      }
      *(opt == OPT_CID ? &cfg.cid : &cfg.port) = (uint32_t)v;
      break;
    case OPT_LISTEN:
      cfg.listen = 1;
      break;
    case OPT_MTU:
      if (ex_parse_u64(arg, 576, 65500, 0, &v) != 0) {
        ex_usage_error(c, "--mtu '%s': give 576..65500", arg);
      }
      cfg.mtu = (uint16_t)v;
      break;
    case OPT_FETCH:
      if (na_fetch_parse(&fetch, arg) != 0) {
        ex_usage_error(c, "--fetch '%s': give IP:PORT[/PATH] with an IPv4 address", arg);
      }
      fetch.body = fetch_body;
      fetch.done = fetch_done;
      break;
    case OPT_FETCH_OUT:
      fetch_out = arg;
      break;
    case OPT_SERVE:
    case OPT_UDP_ECHO:
      if (ex_parse_u64(arg, 1, 65535, 0, &v) != 0) {
        ex_usage_error(c, "'%s': not a TCP/UDP port", arg);
      }
      *(opt == OPT_SERVE ? &serve_port : &udp_port) = v;
      break;
    case OPT_SERVE_FILE:
      serve_file = arg;
      break;
    default:
      break;
  }
}

int
main(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "framing", required_argument, NULL, OPT_FRAMING },
    { "cid", required_argument, NULL, OPT_CID },
    { "port", required_argument, NULL, OPT_PORT },
    { "listen", no_argument, NULL, OPT_LISTEN },
    { "mtu", required_argument, NULL, OPT_MTU },
    { "fetch", required_argument, NULL, OPT_FETCH },
    { "fetch-out", required_argument, NULL, OPT_FETCH_OUT },
    { "serve", required_argument, NULL, OPT_SERVE },
    { "serve-file", required_argument, NULL, OPT_SERVE_FILE },
    { "udp-echo", required_argument, NULL, OPT_UDP_ECHO },
    { NULL, 0, NULL, 0 }
  };
  static const struct ex_options opts = {
    .shortopts = "",
    .longopts = longopts,
    .usage = usage,
    .option = netif_option,
  };
  struct netif *nif;
  int rc;

  ex_init(&ctx, "lwvsock-netif");
  lwvsock_netif_config_init(&cfg);
  ex_parse_options(&ctx, argc, argv, &opts);
  if ((serve_port != 0) != (serve_file != NULL)) {
    ex_usage_error(&ctx, "--serve and --serve-file go together");
  }
  if (serve_file != NULL && load_page(serve_file) != 0) {
    ex_usage_error(&ctx, "--serve-file '%s': cannot read it", serve_file);
  }
  rc = ex_start(&ctx);
  if (rc != 0) {
    return ex_finish(&ctx, rc);
  }
  cfg.dev = ctx.dev;
  if (lwvsock_netif_add(&vn, &cfg) != ERR_OK) {
    ex_log(&ctx, "cannot add the vsock netif");
    return ex_finish(&ctx, EX_EXIT_FAIL);
  }
  nif = lwvsock_netif_netif(&vn);
  netif_set_default(nif);
  if (dhcp_start(nif) != ERR_OK) {
    ex_log(&ctx, "dhcp_start failed");
    rc = EX_EXIT_FAIL;
    goto out;
  }
  if (serve_port != 0 && na_page_server_start((uint16_t)serve_port, page, page_len) == NULL) {
    ex_log(&ctx, "cannot listen on TCP port %u", (unsigned)serve_port);
    rc = EX_EXIT_FAIL;
    goto out;
  }
  if (udp_port != 0 && na_udp_echo_start((uint16_t)udp_port) != ERR_OK) {
    ex_log(&ctx, "cannot bind UDP port %u", (unsigned)udp_port);
    rc = EX_EXIT_FAIL;
    goto out;
  }
  ex_log(&ctx, "netif on vsock %s %u:%u (%s framing, MTU %u)", cfg.listen ? "listening" : "to",
         (unsigned)cfg.cid, (unsigned)cfg.port,
         cfg.framing == LWVSOCK_NETIF_FRAMING_GVPROXY ? "gvproxy" : "qemu", (unsigned)cfg.mtu);
  rc = ex_run(&ctx, watch, NULL);
out:
  {
    struct lwvsock_netif_stats st;
    lwvsock_netif_get_stats(&vn, &st);
    ex_log(&ctx, "netif: rx %llu frames (%llu in place), tx %llu frames, connects %u, link downs %u, "
           "dropped rx runt %u oversize %u truncated %u nomem %u desync %u, tx nolink %u full %u",
           (unsigned long long)st.rx_frames, (unsigned long long)st.rx_in_place,
           (unsigned long long)st.tx_frames, (unsigned)st.connects,
           (unsigned)st.link_downs, (unsigned)st.rx_runt, (unsigned)st.rx_oversize,
           (unsigned)st.rx_truncated, (unsigned)st.rx_nomem, (unsigned)st.rx_desync,
           (unsigned)st.tx_nolink, (unsigned)st.tx_full);
  }
  lwvsock_netif_remove(&vn);
  if (fetch_fp != NULL) {
    fclose(fetch_fp);
  }
  free(page);
  return ex_finish(&ctx, rc);
}
