/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The lwIP TCP/IP side of the netif programs (see netif_apps.h).
 */
#include <stdlib.h>
#include <string.h>

#include "netif_apps.h"
#include "lwip/dhcp.h"
#include "lwip/udp.h"
#include "lwvsock/lwvsock.h"

/* "\r\n\r\n" as the last four bytes seen, most recent lowest */
#define NA_BLANK_LINE 0x0d0a0d0au

/* ---- the page server ------------------------------------------------------------- */

/* The one page served (it lives as long as the program, so it is never copied). */
static const uint8_t *na_page;
static size_t na_page_len;

struct na_srv {
  char hdr[96];
  size_t hdr_len;
  size_t off;        /* bytes of header + page queued so far */
  uint32_t tail;     /* last 4 request bytes, to find the blank line */
  int answering;
};

static void
srv_end(struct tcp_pcb *pcb, struct na_srv *c)
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

/* Queue what the send buffer takes. */
static err_t
srv_push(struct tcp_pcb *pcb, struct na_srv *c)
{
  size_t total = c->hdr_len + na_page_len;

  while (c->off < total && tcp_sndbuf(pcb) > 0 && tcp_sndqueuelen(pcb) < TCP_SND_QUEUELEN - 1) {
    const void *src;
    size_t n;
    u8_t flags;
    if (c->off < c->hdr_len) {
      src = c->hdr + c->off;
      n = c->hdr_len - c->off;
      flags = TCP_WRITE_FLAG_COPY;
    } else {
      src = na_page + (c->off - c->hdr_len);
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
  struct na_srv *c = (struct na_srv *)arg;

  LWIP_UNUSED_ARG(len);
  if (c->off == c->hdr_len + na_page_len) {
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
  struct na_srv *c = (struct na_srv *)arg;
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
      if (c->tail == NA_BLANK_LINE) {
        c->answering = 1;
        break;
      }
    }
  }
  pbuf_free(p);
  if (c->answering && c->off == 0) {
    c->hdr_len = (size_t)snprintf(c->hdr, sizeof(c->hdr),
                                  "HTTP/1.0 200 OK\r\nContent-Length: %lu\r\nConnection: close\r\n\r\n",
                                  (unsigned long)na_page_len);
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
  struct na_srv *c;

  LWIP_UNUSED_ARG(arg);
  if (err != ERR_OK || pcb == NULL) {
    return ERR_VAL;
  }
  c = (struct na_srv *)calloc(1, sizeof(*c));
  if (c == NULL) {
    return ERR_MEM;
  }
  tcp_arg(pcb, c);
  tcp_recv(pcb, srv_recv);
  tcp_sent(pcb, srv_sent);
  tcp_err(pcb, srv_err);
  return ERR_OK;
}

struct tcp_pcb *
na_page_server_start(uint16_t port, const uint8_t *page, size_t len)
{
  struct tcp_pcb *l = tcp_new();
  struct tcp_pcb *lp;

  if (l == NULL) {
    return NULL;
  }
  if (tcp_bind(l, IP4_ADDR_ANY, port) != ERR_OK || (lp = tcp_listen(l)) == NULL) {
    tcp_close(l);
    return NULL;
  }
  na_page = page;
  na_page_len = len;
  tcp_accept(lp, srv_accept);
  return lp;
}

/* ---- the fetch: one HTTP/1.0 GET --------------------------------------------------- */

static void
fetch_finish(struct na_fetch *f, const char *why)
{
  if (why == NULL && !f->in_body) {
    why = "no whole HTTP header";
  }
  f->status[f->status_len] = '\0';
  f->done(f->arg, f->status, f->body_len, why);
}

/* Header bytes go to the status line and the blank-line search, the rest to the body. */
static void
fetch_take(struct na_fetch *f, const uint8_t *b, size_t n)
{
  size_t i = 0;

  while (!f->in_body && i < n) {
    if (f->status_len < sizeof(f->status) - 1) {
      f->status[f->status_len++] = (char)b[i];
    }
    f->tail = (f->tail << 8) | b[i++];
    f->in_body = f->tail == NA_BLANK_LINE;
  }
  if (i < n) {
    f->body_len += n - i;
    if (f->body != NULL) {
      f->body(f->arg, b + i, n - i);
    }
  }
}

/* Before a close or abort: lwIP's tcp_abort() would call the err callback. */
static void
fetch_detach(struct tcp_pcb *pcb)
{
  tcp_arg(pcb, NULL);
  tcp_recv(pcb, NULL);
  tcp_err(pcb, NULL);
}

static err_t
fetch_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
  struct na_fetch *f = (struct na_fetch *)arg;
  struct pbuf *q;

  LWIP_UNUSED_ARG(err);
  if (p == NULL) {
    fetch_detach(pcb);
    if (tcp_close(pcb) != ERR_OK) {
      tcp_abort(pcb);
      fetch_finish(f, NULL);
      return ERR_ABRT;
    }
    fetch_finish(f, NULL);
    return ERR_OK;
  }
  for (q = p; q != NULL; q = q->next) {
    fetch_take(f, (const uint8_t *)q->payload, q->len);
  }
  tcp_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static void
fetch_err(void *arg, err_t err)
{
  fetch_finish((struct na_fetch *)arg, lwvsock_strerror(err));
}

static err_t
fetch_connected(void *arg, struct tcp_pcb *pcb, err_t err)
{
  struct na_fetch *f = (struct na_fetch *)arg;
  char req[256], host[16];
  int n;

  LWIP_UNUSED_ARG(err);
  ip4addr_ntoa_r(&f->ip, host, sizeof(host));
  n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n", f->path, host);
  if (n < 0 || (size_t)n >= sizeof(req) || tcp_write(pcb, req, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK) {
    fetch_detach(pcb);
    tcp_abort(pcb);
    fetch_finish(f, "request does not fit");
    return ERR_ABRT;
  }
  return tcp_output(pcb);
}

err_t
na_fetch_start(struct na_fetch *f)
{
  struct tcp_pcb *pcb = tcp_new();
  err_t e;

  f->tail = 0;
  f->in_body = 0;
  f->status_len = 0;
  f->body_len = 0;
  if (pcb == NULL) {
    return ERR_MEM;
  }
  tcp_arg(pcb, f);
  tcp_recv(pcb, fetch_recv);
  tcp_err(pcb, fetch_err);
  e = tcp_connect(pcb, &f->ip, f->port, fetch_connected);
  if (e != ERR_OK) {
    fetch_detach(pcb);
    tcp_abort(pcb);
  }
  return e;
}

int
na_fetch_parse(struct na_fetch *f, const char *s)
{
  const char *colon = strchr(s, ':');
  const char *p;
  char host[16];
  ip4_addr_t ip;
  unsigned long port = 0;

  if (colon == NULL || (size_t)(colon - s) >= sizeof(host)) {
    return -1;
  }
  memcpy(host, s, (size_t)(colon - s));
  host[colon - s] = '\0';
  for (p = colon + 1; *p >= '0' && *p <= '9' && port <= 65535; p++) {
    port = port * 10u + (unsigned long)(*p - '0');
  }
  if (p == colon + 1 || port < 1 || port > 65535 || (*p != '\0' && *p != '/') || !ip4addr_aton(host, &ip)) {
    return -1;
  }
  f->ip = ip;
  f->port = (uint16_t)port;
  f->path = *p != '\0' ? p : "/";
  return 0;
}

/* ---- UDP echo ------------------------------------------------------------------------ */

static void
udp_echo_recv(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr, u16_t port)
{
  LWIP_UNUSED_ARG(arg);
  udp_sendto(pcb, p, addr, port);
  pbuf_free(p);
}

err_t
na_udp_echo_start(uint16_t port)
{
  struct udp_pcb *u = udp_new();
  err_t e;

  if (u == NULL) {
    return ERR_MEM;
  }
  e = udp_bind(u, IP4_ADDR_ANY, port);
  if (e != ERR_OK) {
    udp_remove(u);
    return e;
  }
  udp_recv(u, udp_echo_recv, NULL);
  return ERR_OK;
}

/* ---- link and lease log ---------------------------------------------------------------- */

int
na_watch(const struct ex_ctx *ctx, struct netif *nif, struct na_watch *w)
{
  int l = netif_is_link_up(nif) ? 1 : 0;
  int b = dhcp_supplied_address(nif) ? 1 : 0;

  if (l != w->link) {
    w->link = l;
    ex_log(ctx, "link %s", l ? "up" : "down");
  }
  if (b != w->bound) {
    w->bound = b;
    if (b) {
      char ip[16], gw[16];
      w->leases++;
      ip4addr_ntoa_r(netif_ip4_addr(nif), ip, sizeof(ip));
      ip4addr_ntoa_r(netif_ip4_gw(nif), gw, sizeof(gw));
      ex_log(ctx, "dhcp: bound %s gateway %s (#%d)", ip, gw, w->leases);
    }
  }
  return b;
}
