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
#include "lwvsock/netif_vsock.h"
#include "lwip/dhcp.h"
#include "lwip/ip4_addr.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

static struct ex_ctx ctx;
static struct lwvsock_netif vn;

/* A whole file in memory (the served page). */
static uint8_t *page;
static size_t page_len;

/* ---- --serve: HTTP on lwIP TCP ------------------------------------------------- */

struct srv_conn {
  char hdr[96];
  size_t hdr_len;
  size_t off;        /* bytes of header + page queued so far */
  uint32_t tail;     /* last 4 request bytes, to find the blank line */
  int answering;
};

static void
srv_end(struct tcp_pcb *pcb, struct srv_conn *c)
{
  tcp_arg(pcb, NULL);
  tcp_recv(pcb, NULL);
  tcp_sent(pcb, NULL);
  tcp_err(pcb, NULL);
  free(c);
  if (tcp_close(pcb) != ERR_OK) {
    tcp_abort(pcb);
  }
}

/* Queue what the send buffer takes; the page itself is not copied (it lives as long as the program). */
static err_t
srv_push(struct tcp_pcb *pcb, struct srv_conn *c)
{
  size_t total = c->hdr_len + page_len;

  while (c->off < total && tcp_sndbuf(pcb) > 0 && tcp_sndqueuelen(pcb) < TCP_SND_QUEUELEN - 1) {
    const void *src;
    size_t n;
    u8_t flags;
    if (c->off < c->hdr_len) {
      src = c->hdr + c->off;
      n = c->hdr_len - c->off;
      flags = TCP_WRITE_FLAG_COPY;
    } else {
      src = page + (c->off - c->hdr_len);
      n = total - c->off;
      flags = 0;
    }
    n = LWIP_MIN(n, tcp_sndbuf(pcb));
    n = LWIP_MIN(n, 0xffffu);
    if (c->off + n < total) {
      flags |= TCP_WRITE_FLAG_MORE;
    }
    if (tcp_write(pcb, src, (u16_t)n, flags) != ERR_OK) {
      break;
    }
    c->off += n;
  }
  return tcp_output(pcb);
}

static err_t
srv_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
  struct srv_conn *c = (struct srv_conn *)arg;

  LWIP_UNUSED_ARG(len);
  if (c->off == c->hdr_len + page_len) {
    if (tcp_sndqueuelen(pcb) == 0) {
      srv_end(pcb, c);
    }
    return ERR_OK;
  }
  return srv_push(pcb, c);
}

static err_t
srv_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
  struct srv_conn *c = (struct srv_conn *)arg;
  struct pbuf *q;

  LWIP_UNUSED_ARG(err);
  if (p == NULL) {
    if (!c->answering) {
      srv_end(pcb, c);
    }
    return ERR_OK;
  }
  tcp_recved(pcb, p->tot_len);
  for (q = p; q != NULL && !c->answering; q = q->next) {
    const uint8_t *b = (const uint8_t *)q->payload;
    for (u16_t i = 0; i < q->len; i++) {
      c->tail = (c->tail << 8) | b[i];
      if (c->tail == 0x0d0a0d0au) {
        c->answering = 1;
        break;
      }
    }
  }
  pbuf_free(p);
  if (c->answering && c->off == 0) {
    c->hdr_len = (size_t)snprintf(c->hdr, sizeof(c->hdr),
                                  "HTTP/1.0 200 OK\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                                  page_len);
    return srv_push(pcb, c);
  }
  return ERR_OK;
}

static void
srv_err(void *arg, err_t err)
{
  LWIP_UNUSED_ARG(err);
  free(arg);
}

static err_t
srv_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
  struct srv_conn *c;

  LWIP_UNUSED_ARG(arg);
  if (err != ERR_OK || pcb == NULL) {
    return ERR_VAL;
  }
  c = (struct srv_conn *)calloc(1, sizeof(*c));
  if (c == NULL) {
    return ERR_MEM;
  }
  tcp_arg(pcb, c);
  tcp_recv(pcb, srv_recv);
  tcp_sent(pcb, srv_sent);
  tcp_err(pcb, srv_err);
  return ERR_OK;
}

/* ---- --fetch: one HTTP/1.0 GET ------------------------------------------------------ */

static struct {
  ip4_addr_t ip;
  uint16_t port;
  const char *path;
  const char *out;
  int started, done;
  uint8_t *buf;
  size_t len, cap;
} fetch;

static void
fetch_finish(const char *why)
{
  const uint8_t *body = NULL;
  FILE *o;
  size_t i;

  fetch.done = 1;
  for (i = 0; i + 4 <= fetch.len; i++) {
    if (memcmp(fetch.buf + i, "\r\n\r\n", 4) == 0) {
      body = fetch.buf + i + 4;
      break;
    }
  }
  if (why != NULL || body == NULL) {
    ex_log(&ctx, "fetch: failed (%s)", why != NULL ? why : "no HTTP header");
    return;
  }
  o = fetch.out != NULL ? fopen(fetch.out, "wb") : NULL;
  if (fetch.out != NULL && (o == NULL || fwrite(body, 1, fetch.len - (size_t)(body - fetch.buf), o) !=
                            fetch.len - (size_t)(body - fetch.buf))) {
    ex_log(&ctx, "fetch: cannot write %s", fetch.out);
  } else {
    ex_log(&ctx, "fetch: %.12s, %zu body bytes", (const char *)fetch.buf,
           fetch.len - (size_t)(body - fetch.buf));
  }
  if (o != NULL) {
    fclose(o);
  }
}

static err_t
fetch_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(err);
  if (p == NULL) {
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_err(pcb, NULL);
    if (tcp_close(pcb) != ERR_OK) {
      tcp_abort(pcb);
      fetch_finish(NULL);
      return ERR_ABRT;
    }
    fetch_finish(NULL);
    return ERR_OK;
  }
  if (fetch.len + p->tot_len > fetch.cap) {
    size_t cap = (fetch.cap + p->tot_len) * 2;
    uint8_t *nb = (uint8_t *)realloc(fetch.buf, cap);
    if (nb == NULL) {
      return ERR_MEM;  /* lwIP delivers it again later */
    }
    fetch.buf = nb;
    fetch.cap = cap;
  }
  pbuf_copy_partial(p, fetch.buf + fetch.len, p->tot_len, 0);
  fetch.len += p->tot_len;
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static void
fetch_err(void *arg, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  fetch_finish(lwvsock_strerror(err));
}

static err_t
fetch_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
  char req[256];
  int n;

  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(err);
  n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", fetch.path, ip4addr_ntoa(&fetch.ip));
  if (n < 0 || (size_t)n >= sizeof(req) || tcp_write(pcb, req, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK) {
    tcp_abort(pcb);
    fetch_finish("request does not fit");
    return ERR_ABRT;
  }
  return tcp_output(pcb);
}

static void
fetch_start(void)
{
  struct tcp_pcb *pcb = tcp_new();

  fetch.started = 1;
  if (pcb == NULL) {
    fetch_finish("no tcp pcb");
    return;
  }
  tcp_recv(pcb, fetch_recv);
  tcp_err(pcb, fetch_err);
  if (tcp_connect(pcb, &fetch.ip, fetch.port, fetch_connected) != ERR_OK) {
    tcp_abort(pcb);
    fetch_finish("connect refused locally");
  }
}

/* ---- --udp-echo ---------------------------------------------------------------------- */

static void
udp_echo_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
  LWIP_UNUSED_ARG(arg);
  udp_sendto(pcb, p, addr, port);
  pbuf_free(p);
}

/* ---- main loop hook: log link and lease changes, start the fetch ------------------- */

static int
watch(void *arg)
{
  static int link, bound, leases;
  struct netif *nif = lwvsock_netif_netif(&vn);
  int l = netif_is_link_up(nif) ? 1 : 0;
  int b = dhcp_supplied_address(nif) ? 1 : 0;

  LWIP_UNUSED_ARG(arg);
  if (l != link) {
    link = l;
    ex_log(&ctx, "link %s", l ? "up" : "down");
  }
  if (b != bound) {
    bound = b;
    if (b) {
      char ip[16], gw[16];
      leases++;
      ip4addr_ntoa_r(netif_ip4_addr(nif), ip, sizeof(ip));
      ip4addr_ntoa_r(netif_ip4_gw(nif), gw, sizeof(gw));
      ex_log(&ctx, "dhcp: bound %s gateway %s (#%d)", ip, gw, leases);
    }
  }
  if (b && fetch.path != NULL && !fetch.started) {
    fetch_start();
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

static void
parse_fetch(const char *s)
{
  static char host[64];
  const char *colon = strchr(s, ':');
  const char *slash;
  uint64_t port;
  char num[8];

  if (colon == NULL || (size_t)(colon - s) >= sizeof(host)) {
    ex_usage_error(&ctx, "--fetch '%s': give IP:PORT[/PATH]", s);
  }
  memcpy(host, s, (size_t)(colon - s));
  host[colon - s] = '\0';
  slash = strchr(colon, '/');
  if (slash == NULL) {
    slash = colon + strlen(colon);
  }
  if ((size_t)(slash - colon - 1) >= sizeof(num)) {
    ex_usage_error(&ctx, "--fetch '%s': bad port", s);
  }
  memcpy(num, colon + 1, (size_t)(slash - colon - 1));
  num[slash - colon - 1] = '\0';
  if (!ip4addr_aton(host, &fetch.ip) || ex_parse_u64(num, 1, 65535, 0, &port) != 0) {
    ex_usage_error(&ctx, "--fetch '%s': give IP:PORT[/PATH] with an IPv4 address", s);
  }
  fetch.port = (uint16_t)port;
  fetch.path = *slash != '\0' ? slash : "/";
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
      parse_fetch(arg);
      break;
    case OPT_FETCH_OUT:
      fetch.out = arg;
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
  if (serve_port != 0) {
    struct tcp_pcb *l = tcp_new();
    if (l == NULL || tcp_bind(l, IP4_ADDR_ANY, (u16_t)serve_port) != ERR_OK ||
        (l = tcp_listen(l)) == NULL) {
      ex_log(&ctx, "cannot listen on TCP port %u", (unsigned)serve_port);
      rc = EX_EXIT_FAIL;
      goto out;
    }
    tcp_accept(l, srv_accept);
  }
  if (udp_port != 0) {
    struct udp_pcb *u = udp_new();
    if (u == NULL || udp_bind(u, IP4_ADDR_ANY, (u16_t)udp_port) != ERR_OK) {
      ex_log(&ctx, "cannot bind UDP port %u", (unsigned)udp_port);
      rc = EX_EXIT_FAIL;
      goto out;
    }
    udp_recv(u, udp_echo_recv, NULL);
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
  free(page);
  free(fetch.buf);
  return ex_finish(&ctx, rc);
}
