/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The echo server of lwvsock-echo and the appliance: echoes every byte of
 * every vsock connection, or every message of every SEQPACKET one.
 *
 * Flow control: received pbufs wait in a per-connection queue until the send
 * buffer takes them, and credit is returned (lwvsock_recved) only for bytes
 * echoed, so a peer that does not read its echo is stopped by credit instead
 * of growing our memory. A queue that would pass the pbuf chain limit refuses
 * the packet (recv returns ERR_MEM) and lwvsock delivers it again later. Once
 * the peer has shut down sending and everything is echoed, we close.
 *
 * Echoes are zero-copy writes of the received pbufs (LWVSOCK_WRITE_FLAG_NOCOPY:
 * received payloads live in device memory, which the device can read back).
 *
 * SEQPACKET: each received message is written back whole as one message. A
 * message the send buffer cannot take yet stays with lwvsock (recv returns
 * ERR_MEM), so messages are never split or merged and credit is returned
 * only for messages echoed.
 */
#include <stdlib.h>

#include "echo_server.h"
#include "lwip/pbuf.h"

/** Poll callback interval (x 500 ms): retries a stalled echo. */
#define ECHO_POLL_INTERVAL 1

struct echo_conn {
  struct ex_conn link;      /* first: see conn.h */
  struct pbuf *q;           /**< received, not yet echoed */
  int peer_eof;             /**< the peer shut down sending */
};

/** The program whose connections these are (one echo server per program). */
static struct ex_ctx *echo_ctx;

static void
echo_free(struct echo_conn *c)
{
  ex_conn_remove(&c->link);
  if (c->q != NULL) {
    pbuf_free(c->q);
  }
  free(c);
}

/** Echo what the send buffer takes; close when done. Returns ERR_ABRT when the pcb is gone. */
static err_t
echo_pump(struct echo_conn *c)
{
  struct lwvsock_pcb *pcb = c->link.pcb;

  if (ex_write_queue(pcb, &c->q, 1) < 0) {
    if (!echo_ctx->quiet) {
      ex_print_pcb_stats(echo_ctx, "aborted (write failed)", pcb);
    }
    lwvsock_abort(pcb); /* echo_err frees c */
    return ERR_ABRT;
  }
  if (c->peer_eof && c->q == NULL) {
    if (!echo_ctx->quiet) {
      ex_print_pcb_stats(echo_ctx, "closed", pcb);
    }
    ex_pcb_detach(pcb);
    lwvsock_close(pcb);
    echo_free(c);
  }
  return ERR_OK;
}

static err_t
echo_recv(void *arg, struct lwvsock_pcb *pcb, struct pbuf *p, err_t err)
{
  struct echo_conn *c = (struct echo_conn *)arg;

  LWIP_UNUSED_ARG(pcb);
  LWIP_UNUSED_ARG(err);
  if (p == NULL) {
    c->peer_eof = 1;
  } else if (ex_queue_pbuf(&c->q, p) != 0) {
    /* Queue full: lwvsock keeps p and delivers it again. Echo what we can. */
    return echo_pump(c) == ERR_ABRT ? ERR_ABRT : ERR_MEM;
  }
  return echo_pump(c);
}

static err_t
echo_msg_recv(void *arg, struct lwvsock_pcb *pcb, struct pbuf *p, err_t err)
{
  struct echo_conn *c = (struct echo_conn *)arg;
  err_t e;

  LWIP_UNUSED_ARG(err);
  if (p == NULL) {
    c->peer_eof = 1;
    return echo_pump(c);
  }
  e = lwvsock_write_pbuf(pcb, p, LWVSOCK_WRITE_FLAG_NOCOPY); /* referenced, not copied */
  if (e == ERR_MEM) {
    return ERR_MEM;
  }
  if (e != ERR_OK) {
    ex_log(echo_ctx, "echo of a %u-byte message failed: %s; connection aborted",
           (unsigned)p->tot_len, lwvsock_strerror(e));
    pbuf_free(p);
    lwvsock_abort(pcb); /* echo_err frees c */
    return ERR_ABRT;
  }
  lwvsock_recved(pcb, p->tot_len);
  pbuf_free(p);
  lwvsock_output(pcb);
  return ERR_OK;
}

static err_t
echo_sent(void *arg, struct lwvsock_pcb *pcb, uint32_t len)
{
  LWIP_UNUSED_ARG(pcb);
  LWIP_UNUSED_ARG(len);
  return echo_pump((struct echo_conn *)arg);
}

static err_t
echo_poll(void *arg, struct lwvsock_pcb *pcb)
{
  LWIP_UNUSED_ARG(pcb);
  return echo_pump((struct echo_conn *)arg);
}

static void
echo_err(void *arg, err_t err)
{
  struct echo_conn *c = (struct echo_conn *)arg;

  ex_log_conn_end(echo_ctx, err);
  echo_free(c);
}

static err_t
echo_accept(void *arg, struct lwvsock_pcb *pcb, err_t err)
{
  err_t ret;

  LWIP_UNUSED_ARG(arg);
  if (ex_conn_accept(echo_ctx, pcb, err, sizeof(struct echo_conn), &ret) == NULL) {
    return ret;
  }
  lwvsock_recv(pcb, lwvsock_type(pcb) == LWVSOCK_SEQPACKET ? echo_msg_recv : echo_recv);
  lwvsock_sent(pcb, echo_sent);
  lwvsock_err(pcb, echo_err);
  lwvsock_poll(pcb, echo_poll, ECHO_POLL_INTERVAL);
  if (!echo_ctx->quiet) {
    ex_log(echo_ctx, "connection from %u:%u", (unsigned)lwvsock_remote_cid(pcb),
           (unsigned)lwvsock_remote_port(pcb));
  }
  return ERR_OK;
}

struct lwvsock_pcb *
echo_server_start(struct ex_ctx *ctx, uint8_t type, uint32_t port)
{
  echo_ctx = ctx;
  return ex_listen(ctx, type, port, echo_accept, NULL);
}
