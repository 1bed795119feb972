/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The pcap capture into a file (see pcap_file.h). A failed write stops the
 * capture (the writer returns -1) without stopping the program.
 */
#include "pcap_file.h"

#include <errno.h>
#include <string.h>
#include <sys/time.h>

#include "lwvsock/pcap.h"
#include "options.h"

static int
ex_pcap_write(void *arg, const void *data, size_t len)
{
  struct ex_ctx *ctx = (struct ex_ctx *)arg;

  if (fwrite(data, len, 1, ctx->pcap) != 1) {
    ex_log(ctx, "--pcap %s: write failed: %s; capture stopped", ex_shown(ctx->pcap_path), strerror(errno));
    return -1;
  }
  return 0;
}

static void
ex_pcap_clock(void *arg, uint32_t *sec, uint32_t *usec)
{
  struct timeval tv;

  LWIP_UNUSED_ARG(arg);
  gettimeofday(&tv, NULL);
  *sec = (uint32_t)tv.tv_sec;
  *usec = (uint32_t)tv.tv_usec;
}

int
ex_pcap_open(struct ex_ctx *ctx)
{
  ctx->pcap = fopen(ctx->pcap_path, "wb");
  if (ctx->pcap == NULL) {
    ex_log(ctx, "--pcap %s: cannot create: %s", ex_shown(ctx->pcap_path), strerror(errno));
    return -1;
  }
  if (lwvsock_pcap_start(&ctx->cap, ex_pcap_write, ex_pcap_clock, ctx) != ERR_OK) {
    return -1;
  }
  lwvsock_dev_set_tap(ctx->dev, lwvsock_pcap_tap, &ctx->cap);
  return 0;
}

int
ex_pcap_close(struct ex_ctx *ctx)
{
  int rc = 0;

  if (ctx->pcap != NULL && fclose(ctx->pcap) != 0) {
    ex_log(ctx, "--pcap %s: %s", ex_shown(ctx->pcap_path), strerror(errno));
    rc = -1;
  }
  ctx->pcap = NULL;
  return rc;
}
