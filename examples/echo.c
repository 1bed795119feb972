/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * lwvsock-echo: echoes every byte of every vsock connection (echo_server.c),
 * or with --seqpacket every SEQPACKET message as one message, on the hosted
 * device and options.
 */
#include "echo_server.h"
#include "forward.h"
#include "loop.h"
#include "options.h"

/** getopt_long value of --seqpacket (long only). */
#define ECHO_OPT_SEQPACKET 0x100

static struct ex_ctx ctx;
static uint32_t echo_port = ECHO_DEFAULT_PORT;
static int echo_seqpacket;

static void
usage(FILE *f)
{
  fprintf(f,
          "Usage: lwvsock-echo [--device SPEC] [--port P] [--seqpacket] [options]\n"
          "Echo every byte received on every vsock connection to vsock port P\n"
          "(default %u). Closes a connection once the peer has shut down sending\n"
          "and everything has been echoed.\n\n"
          "  -p, --port P        vsock port to listen on\n"
          "      --seqpacket     accept SEQPACKET connections instead of stream ones and\n"
          "                      echo each message whole, as one message; the device must\n"
          "                      offer SEQPACKET (VIRTIO_VSOCK_F_SEQPACKET), and --forward\n"
          "                      (stream only) does not go with it\n", ECHO_DEFAULT_PORT);
  ex_common_usage(f);
  fputs("\nExamples:\n"
        "  lwvsock-echo --forward 9000:1234 &  echo hi | socat - TCP:127.0.0.1:9000\n"
        "  lwvsock-echo --device vhost-vsock:cid=3 --seqpacket   # inside the test VM; the\n"
        "      host's SOCK_SEQPACKET client connects to CID 3 port 1234\n", f);
}

static void
echo_option(struct ex_ctx *c, int opt, const char *arg)
{
  if (opt == 'p') {
    echo_port = ex_port_arg(c, arg);
  } else if (opt == ECHO_OPT_SEQPACKET) {
    echo_seqpacket = 1;
  }
}

int
main(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "port", required_argument, NULL, 'p' },
    { "seqpacket", no_argument, NULL, ECHO_OPT_SEQPACKET },
    { NULL, 0, NULL, 0 }
  };
  static const struct ex_options opts = {
    .shortopts = "p:",
    .longopts = longopts,
    .usage = usage,
    .option = echo_option,
  };
  int rc;

  ex_init(&ctx, "lwvsock-echo");
  ex_parse_options(&ctx, argc, argv, &opts);
  if (echo_seqpacket && ctx.nfwd > 0) {
    ex_usage_error(&ctx, "--forward connects TCP clients as vsock streams; it does not go with"
                   " --seqpacket");
  }
  ex_check_forwards(&ctx, 1, echo_port);
  rc = ex_start(&ctx);
  if (rc != 0) {
    return ex_finish(&ctx, rc);
  }
  if (echo_seqpacket && !lwvsock_dev_has_seqpacket(ctx.dev)) {
    ex_log(&ctx, "--seqpacket: device %s did not negotiate SEQPACKET (VIRTIO_VSOCK_F_SEQPACKET);"
           " run without --seqpacket, or on a device that offers it", ctx.device_spec);
    return ex_finish(&ctx, EX_EXIT_FAIL);
  }
  if (echo_server_start(&ctx, echo_seqpacket ? LWVSOCK_SEQPACKET : LWVSOCK_STREAM, echo_port) == NULL) {
    return ex_finish(&ctx, EX_EXIT_FAIL);
  }
  ex_log(&ctx, "echoing %son vsock port %u (device %s, CID %u)",
         echo_seqpacket ? "SEQPACKET messages " : "", (unsigned)echo_port,
         ctx.device_spec, (unsigned)lwvsock_dev_cid(ctx.dev));
  rc = ex_run(&ctx, NULL, NULL);
  return ex_finish(&ctx, rc);
}
