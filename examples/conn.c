/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The platform-neutral part of the example programs (see conn.h): nothing
 * here may call the OS, so the appliance image compiles it unchanged.
 */
#include "conn.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lwip/pbuf.h"

void
ex_ctx_init(struct ex_ctx *ctx, const char *prog)
{
  memset(ctx, 0, sizeof(*ctx));
  ctx->prog = prog;
  ctx->conns.next = &ctx->conns;
  ctx->conns.prev = &ctx->conns;
}

void
ex_vlog(const struct ex_ctx *ctx, const char *fmt, va_list ap)
{
  fprintf(stderr, "%s: ", ctx->prog);
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
}

void
ex_log(const struct ex_ctx *ctx, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  ex_vlog(ctx, fmt, ap);
  va_end(ap);
}


void
ex_print_pcb_stats(const struct ex_ctx *ctx, const char *what, const struct lwvsock_pcb *pcb)
{
  struct lwvsock_pcb_stats st;

  lwvsock_pcb_get_stats(pcb, &st);
  fprintf(stderr, "%s: %s connection %u:%u <-> %u:%u: rx %llu bytes in %u pkts,"
          " tx %llu bytes in %u pkts, credit stalls %u\n",
          ctx->prog, what,
          (unsigned)lwvsock_local_cid(pcb), (unsigned)lwvsock_local_port(pcb),
          (unsigned)lwvsock_remote_cid(pcb), (unsigned)lwvsock_remote_port(pcb),
          (unsigned long long)st.rx_bytes, (unsigned)st.rx_pkts,
          (unsigned long long)st.tx_bytes, (unsigned)st.tx_pkts, (unsigned)st.credit_stalls);
}


void
ex_conn_add(struct ex_ctx *ctx, struct ex_conn *c, struct lwvsock_pcb *pcb)
{
  lwvsock_arg(pcb, c);
  c->pcb = pcb;
  c->next = ctx->conns.next;
  c->prev = &ctx->conns;
  ctx->conns.next->prev = c;
  ctx->conns.next = c;
}


void *
ex_conn_accept(struct ex_ctx *ctx, struct lwvsock_pcb *pcb, err_t err, size_t size, err_t *ret)
{
  struct ex_conn *c;

  if (err != ERR_OK || pcb == NULL) {
    *ret = ERR_VAL;
    return NULL;
  }
  c = (struct ex_conn *)calloc(1, size);
  if (c == NULL) {
    ex_log(ctx, "out of memory: connection refused");
    *ret = ERR_MEM;
    return NULL;
  }
  ex_conn_add(ctx, c, pcb);
  *ret = ERR_OK;
  return c;
}


void
ex_pcb_detach(struct lwvsock_pcb *pcb)
{
  lwvsock_arg(pcb, NULL);
  lwvsock_recv(pcb, NULL);
  lwvsock_sent(pcb, NULL);
  lwvsock_err(pcb, NULL);
  lwvsock_poll(pcb, NULL, 0);
}


void
ex_log_conn_end(const struct ex_ctx *ctx, err_t err)
{
  if (!ctx->quiet && err != ERR_ABRT) {
    ex_log(ctx, "connection ended: %s", lwvsock_strerror(err));
  }
}


void
ex_conn_remove(struct ex_conn *c)
{
  if (c->next != NULL) {
    c->next->prev = c->prev;
    c->prev->next = c->next;
    c->next = NULL;
    c->prev = NULL;
  }
  c->pcb = NULL;
}


struct lwvsock_pcb *
ex_listen(struct ex_ctx *ctx, uint8_t type, uint32_t port, lwvsock_accept_fn accept, void *arg)
{
  struct lwvsock_pcb *pcb, *lpcb;
  err_t e;

  pcb = lwvsock_new(ctx->dev, type);
  if (pcb == NULL) {
    ex_log(ctx, "cannot create a vsock pcb (pool empty or device broken)");
    return NULL;
  }
  e = lwvsock_bind(pcb, LWVSOCK_CID_ANY, port);
  if (e != ERR_OK) {
    ex_log(ctx, "cannot bind vsock port %u: %s", (unsigned)port, lwvsock_strerror(e));
    lwvsock_close(pcb);
    return NULL;
  }
  lpcb = lwvsock_listen_with_backlog(pcb, LWVSOCK_DEFAULT_BACKLOG, &e);
  if (lpcb == NULL) {
    ex_log(ctx, "cannot listen on vsock port %u: %s", (unsigned)port, lwvsock_strerror(e));
    lwvsock_close(pcb);
    return NULL;
  }
  lwvsock_arg(lpcb, arg);
  lwvsock_accept(lpcb, accept);
  return lpcb;
}


int
ex_queue_pbuf(struct pbuf **qp, struct pbuf *p)
{
  if (*qp == NULL) {
    *qp = p;
    return 0;
  }
  /* pbuf tot_len is a u16: a longer chain would wrap. */
  if ((uint32_t)(*qp)->tot_len + p->tot_len > 0xffffu) {
    return -1;
  }
  pbuf_cat(*qp, p);
  return 0;
}


struct pbuf *
ex_queue_drop(struct pbuf *q, u16_t n)
{
  q = pbuf_free_header(q, n);
  while (q != NULL && q->len == 0) {
    struct pbuf *nx = q->next;
    q->next = NULL;
    pbuf_free(q);
    q = nx;
  }
  return q;
}


long
ex_write_queue(struct lwvsock_pcb *pcb, struct pbuf **qp, int credit)
{
  long total = 0;

  *qp = *qp ? ex_queue_drop(*qp, 0) : NULL;
  /* All of it fits: one zero-copy write of the chain (lwvsock keeps its own
     reference until the device has read it; copied where it cannot map). */
  if (*qp != NULL && (*qp)->tot_len <= lwvsock_sndbuf(pcb)) {
    err_t e = lwvsock_write_pbuf(pcb, *qp, LWVSOCK_WRITE_FLAG_NOCOPY);
    if (e == ERR_OK) {
      total = (*qp)->tot_len;
      pbuf_free(*qp);
      *qp = NULL;
    } else if (e != ERR_MEM) {
      return -1;
    }
  }
  while (*qp != NULL) {
    struct pbuf *q = *qp;
    uint32_t room = lwvsock_sndbuf(pcb);
    u16_t n = q->len;
    err_t e;

    if (room == 0) {
      break;
    }
    if (n > room) {
      n = (u16_t)room;
    }
    e = lwvsock_write(pcb, q->payload, n, n < q->tot_len ? LWVSOCK_WRITE_FLAG_MORE : 0);
    if (e == ERR_MEM) {
      break;
    }
    if (e != ERR_OK) {
      return -1;
    }
    *qp = ex_queue_drop(q, n);
    total += n;
  }
  if (total > 0) {
    if (credit) {
      lwvsock_recved(pcb, (uint32_t)total);
    }
    lwvsock_output(pcb);
  }
  return total;
}

size_t
ex_format_dev_stats(struct lwvsock_dev *dev, char *buf, size_t len)
{
  struct lwvsock_dev_stats st;
  int n;

  lwvsock_dev_get_stats(dev, &st);
  n = snprintf(buf, len,
               "  rx_pkts %llu rx_bytes %llu tx_pkts %llu tx_bytes %llu\n"
               "  rx_zerocopy %llu rx_copied %llu credit_stalls %llu\n"
               "  credit_updates_tx %llu credit_requests_tx %llu rst_tx %llu rst_rx %llu\n"
               "  bad_pkts %llu credit_violations %llu pool_exhausted %llu\n"
               "  transport_resets %llu dev_errors %llu conns_opened %llu conns_active %llu\n"
               "  tx_dropped_bytes %llu linger_timeouts %llu tx_holds %llu\n"
               "  kicks %llu syscalls %llu\n"
               "  zc_bytes %llu zc_fallback %llu\n",
               (unsigned long long)st.rx_pkts, (unsigned long long)st.rx_bytes,
               (unsigned long long)st.tx_pkts, (unsigned long long)st.tx_bytes,
               (unsigned long long)st.rx_zerocopy, (unsigned long long)st.rx_copied,
               (unsigned long long)st.credit_stalls,
               (unsigned long long)st.credit_updates_tx, (unsigned long long)st.credit_requests_tx,
               (unsigned long long)st.rst_tx, (unsigned long long)st.rst_rx,
               (unsigned long long)st.bad_pkts, (unsigned long long)st.credit_violations,
               (unsigned long long)st.pool_exhausted,
               (unsigned long long)st.transport_resets, (unsigned long long)st.dev_errors,
               (unsigned long long)st.conns_opened, (unsigned long long)st.conns_active,
               (unsigned long long)st.tx_dropped_bytes, (unsigned long long)st.linger_timeouts,
               (unsigned long long)st.tx_holds,
               (unsigned long long)st.kicks, (unsigned long long)st.syscalls,
               (unsigned long long)st.zc_bytes, (unsigned long long)st.zc_fallback);
  LWIP_ASSERT("device counters fit", n > 0 && (size_t)n < len);
  return (size_t)n;
}
