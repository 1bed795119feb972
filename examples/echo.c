/**
 * @file
 * lwvsock-echo: echoes every byte of every vsock connection.
 *
 * Flow control: received pbufs wait in a per-connection queue until the send
 * buffer takes them, and credit is returned (lwvsock_recved) only for bytes
 * echoed, so a peer that does not read its echo is stopped by credit instead
 * of growing our memory. A queue that would pass the pbuf chain limit refuses
 * the packet (recv returns ERR_MEM) and lwvsock delivers it again later. Once
 * the peer has shut down sending and everything is echoed, we close.
 */
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "lwip/pbuf.h"

#define ECHO_DEFAULT_PORT 1234u
/** Poll callback interval (x 500 ms): retries a stalled echo. */
#define ECHO_POLL_INTERVAL 1

struct echo_conn {
  struct ex_conn link;      /* first: see common.h */
  struct pbuf *q;           /**< received, not yet echoed */
  int peer_eof;             /**< the peer shut down sending */
};

static struct ex_ctx ctx;

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
    if (!ctx.quiet) {
      ex_print_pcb_stats(&ctx, "aborted (write failed)", pcb);
    }
    lwvsock_abort(pcb); /* echo_err frees c */
    return ERR_ABRT;
  }
  if (c->peer_eof && c->q == NULL) {
    if (!ctx.quiet) {
      ex_print_pcb_stats(&ctx, "closed", pcb);
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

  ex_log_conn_end(&ctx, err);
  echo_free(c);
}

static err_t
echo_accept(void *arg, struct lwvsock_pcb *pcb, err_t err)
{
  err_t ret;

  LWIP_UNUSED_ARG(arg);
  if (ex_conn_accept(&ctx, pcb, err, sizeof(struct echo_conn), &ret) == NULL) {
    return ret;
  }
  lwvsock_recv(pcb, echo_recv);
  lwvsock_sent(pcb, echo_sent);
  lwvsock_err(pcb, echo_err);
  lwvsock_poll_cb(pcb, echo_poll, ECHO_POLL_INTERVAL);
  if (!ctx.quiet) {
    ex_log(&ctx, "connection from %u:%u", (unsigned)lwvsock_remote_cid(pcb),
           (unsigned)lwvsock_remote_port(pcb));
  }
  return ERR_OK;
}

static void
usage(FILE *f)
{
  fprintf(f,
          "Usage: lwvsock-echo [--device SPEC] [--port P] [options]\n"
          "Echo every byte received on every vsock connection to vsock port P\n"
          "(default %u). Closes a connection once the peer has shut down sending\n"
          "and everything has been echoed.\n\n"
          "  -p, --port P        vsock port to listen on\n", ECHO_DEFAULT_PORT);
  ex_common_usage(f);
  fputs("\nExample (anywhere, over the simulated host):\n"
        "  lwvsock-echo --forward 9000:1234 &  echo hi | socat - TCP:127.0.0.1:9000\n", f);
}

int
main(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "port", required_argument, NULL, 'p' },
    EX_COMMON_LONGOPTS,
    { NULL, 0, NULL, 0 }
  };
  uint32_t port = ECHO_DEFAULT_PORT;
  int opt, rc;

  ex_init(&ctx, "lwvsock-echo");
  while ((opt = ex_getopt(&ctx, argc, argv, "p:" EX_COMMON_SHORTOPTS, longopts)) != -1) {
    if (opt == 'h') {
      usage(stdout);
      return EX_EXIT_OK;
    } else if (opt == 'p') {
      port = ex_port_arg(&ctx, optarg);
    } else if (!ex_common_option(&ctx, opt, optarg)) {
      ex_usage_error(&ctx, "unknown option");
    }
  }
  ex_no_operands(&ctx, argc, argv);
  ex_check_forwards(&ctx, 1, port);
  rc = ex_start(&ctx);
  if (rc != 0) {
    return ex_finish(&ctx, rc);
  }
  if (ex_listen(&ctx, port, echo_accept, NULL) == NULL) {
    return ex_finish(&ctx, EX_EXIT_FAIL);
  }
  ex_log(&ctx, "echoing on vsock port %u (device %s, CID %u)", (unsigned)port,
         ctx.device_spec, (unsigned)lwvsock_dev_cid(ctx.dev));
  rc = ex_run(&ctx, NULL, NULL);
  return ex_finish(&ctx, rc);
}
