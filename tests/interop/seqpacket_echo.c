/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * seqpacket_echo: a SEQPACKET echo server on lwvsock's raw API, for the
 * interop case that checks message boundaries against Linux (each message
 * must come back whole and alone). It shares the example programs' options
 * and main loop (examples/common.c).
 */
#include <stdlib.h>

#include "common.h"
#include "lwip/pbuf.h"

#define SQE_DEFAULT_PORT 1234u

static struct ex_ctx ctx;

/* One received message is echoed as one message, or left with lwvsock (ERR_MEM)
 * to be delivered again once the send buffer has room. */
static err_t
sqe_recv(void *arg, struct lwvsock_pcb *pcb, struct pbuf *p, err_t err)
{
  err_t e;

  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(err);
  if (p == NULL) {
    lwvsock_close(pcb);
    return ERR_OK;
  }
  e = lwvsock_write_pbuf(pcb, p, 0);
  if (e == ERR_MEM) {
    return ERR_MEM;
  }
  if (e != ERR_OK) {
    ex_log(&ctx, "echo of a %u-byte message failed: %s; connection aborted",
           (unsigned)p->tot_len, lwvsock_strerror(e));
    pbuf_free(p);
    lwvsock_abort(pcb);
    return ERR_ABRT;
  }
  lwvsock_recved(pcb, p->tot_len);
  pbuf_free(p);
  lwvsock_output(pcb);
  return ERR_OK;
}

static err_t
sqe_accept(void *arg, struct lwvsock_pcb *newpcb, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  if (err != ERR_OK || newpcb == NULL) {
    return ERR_VAL;
  }
  lwvsock_recv(newpcb, sqe_recv);
  if (!ctx.quiet) {
    ex_log(&ctx, "connection from %u:%u", (unsigned)lwvsock_remote_cid(newpcb),
           (unsigned)lwvsock_remote_port(newpcb));
  }
  return ERR_OK;
}

static void
usage(FILE *f)
{
  fprintf(f, "Usage: seqpacket_echo [--device SPEC] [--port P] [options]\n"
          "Echo every SEQPACKET message on vsock port P (default %u) as one message.\n\n"
          "  -p, --port P        vsock port to listen on\n"
          "Common options:\n", SQE_DEFAULT_PORT);
  ex_common_usage(f);
}

int
main(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "port", required_argument, NULL, 'p' },
    EX_COMMON_LONGOPTS,
    { NULL, 0, NULL, 0 }
  };
  struct lwvsock_pcb *pcb, *lpcb;
  uint64_t port = SQE_DEFAULT_PORT;
  err_t e;
  int opt, rc;

  ex_init(&ctx, "seqpacket_echo");
  while ((opt = getopt_long(argc, argv, "p:" EX_COMMON_SHORTOPTS, longopts, NULL)) != -1) {
    if (opt == 'h') {
      usage(stdout);
      return EX_EXIT_OK;
    } else if (opt == 'p') {
      if (ex_parse_u64(optarg, 0, 0xfffffffeu, 0, &port) != 0) {
        ex_usage_error(&ctx, "--port '%s': not a vsock port (0..4294967294)", optarg);
      }
    } else if (!ex_common_option(&ctx, opt, optarg)) {
      ex_usage_error(&ctx, "unknown option");
    }
  }
  if (optind < argc) {
    ex_usage_error(&ctx, "unexpected argument '%s'", argv[optind]);
  }
  rc = ex_start(&ctx);
  if (rc != 0) {
    return ex_finish(&ctx, rc);
  }
  if (!lwvsock_dev_has_seqpacket(ctx.dev)) {
    ex_log(&ctx, "the device did not negotiate SEQPACKET");
    return ex_finish(&ctx, EX_EXIT_FAIL);
  }
  pcb = lwvsock_new(ctx.dev, LWVSOCK_SEQPACKET);
  if (pcb == NULL) {
    ex_log(&ctx, "cannot create a SEQPACKET pcb");
    return ex_finish(&ctx, EX_EXIT_FAIL);
  }
  e = lwvsock_bind(pcb, LWVSOCK_CID_ANY, (uint32_t)port);
  lpcb = e == ERR_OK ? lwvsock_listen_with_backlog(pcb, LWVSOCK_DEFAULT_BACKLOG, &e) : NULL;
  if (lpcb == NULL) {
    ex_log(&ctx, "cannot listen on vsock port %u: %s", (unsigned)port, lwvsock_strerror(e));
    lwvsock_close(pcb);
    return ex_finish(&ctx, EX_EXIT_FAIL);
  }
  lwvsock_accept(lpcb, sqe_accept);
  ex_log(&ctx, "echoing SEQPACKET messages on vsock port %u (device %s, CID %u)", (unsigned)port,
         ctx.device_spec, (unsigned)lwvsock_dev_cid(ctx.dev));
  rc = ex_run(&ctx, NULL, NULL);
  return ex_finish(&ctx, rc);
}
