/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * lwvsock-echo: echoes every byte of every vsock connection (echo_server.c),
 * on the hosted device and options of common.c.
 */
#include "common.h"
#include "echo_server.h"

static struct ex_ctx ctx;

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
  if (echo_server_start(&ctx, (uint32_t)port) == NULL) {
    return ex_finish(&ctx, EX_EXIT_FAIL);
  }
  ex_log(&ctx, "echoing on vsock port %u (device %s, CID %u)", (unsigned)port,
         ctx.device_spec, (unsigned)lwvsock_dev_cid(ctx.dev));
  rc = ex_run(&ctx, NULL, NULL);
  return ex_finish(&ctx, rc);
}
