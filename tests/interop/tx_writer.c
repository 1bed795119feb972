/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * tx_writer: the guest side of the interop cases for lwvsock's transmit rules
 * (issue 9), a client of `vsock_peer.py sink` on the host (CID 2).
 *
 * --close-early queues all its data and closes at once: a slow host reader
 * must still get every byte, since the close timer starts only once our
 * SHUTDOWN is out. --records N writes N small records, each with its own
 * lwvsock_output() as lwIP's httpd does, a few per pass of the main loop:
 * Linux must take them without resetting the connection. The stream is
 * lwvsock-perf's (byte o is o % 251), which the sink checks byte for byte
 * against its --bytes. Exit 0 only when everything was sent and nothing was
 * dropped (tx_dropped_bytes and linger_timeouts are 0).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* clock_gettime, nanosleep */
#endif
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "loop.h"
#include "options.h"
#include "lwip/def.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"

#define TXW_PATTERN_MOD 251u
#define TXW_WRITE_MAX   (64u * 1024u)

static struct ex_ctx ctx;
static uint8_t txw_pattern[TXW_WRITE_MAX + TXW_PATTERN_MOD];

static struct {
  struct lwvsock_pcb *pcb;
  uint64_t total;        /* pattern bytes to send */
  uint64_t done;         /* pattern bytes written */
  uint32_t record;       /* --records: bytes per write (0: bulk) */
  uint32_t burst;        /* records per pass of the loop */
  int close_early;
  int connected, fin, closed, failed;
  err_t err;
} w;

static err_t
txw_recv(void *arg, struct lwvsock_pcb *pcb, struct pbuf *p, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(err);
  if (p == NULL) {
    w.fin = 1;
  } else {
    lwvsock_recved(pcb, p->tot_len);
    pbuf_free(p);
  }
  return ERR_OK;
}

static void
txw_err(void *arg, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  w.pcb = NULL;
  w.failed = 1;
  w.err = err;
}

static err_t
txw_connected(void *arg, struct lwvsock_pcb *pcb, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(pcb);
  w.connected = err == ERR_OK;
  return ERR_OK;
}

/* Write what the send buffer takes: one record at a time, or bulk. */
static int
txw_write_some(void)
{
  uint32_t i;

  for (i = 0; i < w.burst && w.done < w.total; i++) {
    uint64_t want = w.record != 0 ? w.record : TXW_WRITE_MAX;
    uint32_t n = (uint32_t)LWIP_MIN(want, w.total - w.done);
    err_t e;
    if (lwvsock_sndbuf(w.pcb) < n) {
      break; /* room comes back with the device's completions */
    }
    e = lwvsock_write(w.pcb, txw_pattern + w.done % TXW_PATTERN_MOD, n, 0);
    if (e != ERR_OK) {
      ex_log(&ctx, "write of %u bytes at %llu failed: %s", (unsigned)n,
             (unsigned long long)w.done, lwvsock_strerror(e));
      return -1;
    }
    w.done += n;
    if (w.record != 0) {
      lwvsock_output(w.pcb); /* httpd style: output after every record */
    }
  }
  lwvsock_output(w.pcb);
  return 0;
}

/* One step of the transfer; returns 1 when it is over (w.failed says how). */
static int
txw_step(void)
{
  struct lwvsock_dev_stats st;

  if (w.failed) {
    return 1;
  }
  if (!w.closed) {
    if (!w.connected) {
      return 0;
    }
    if (txw_write_some() != 0) {
      w.failed = 1;
      return 1;
    }
    if (w.done < w.total) {
      return 0;
    }
    if (!w.close_early) {
      /* the sink closes once it has read everything */
      if (!w.fin) {
        lwvsock_shutdown(w.pcb, 0, 1);
        return 0;
      }
    }
    /* the err callback stays set: it hears of data dropped after the close */
    lwvsock_close(w.pcb);
    w.closed = 1;
  }
  lwvsock_dev_get_stats(ctx.dev, &st);
  return st.conns_active == 0;
}

static double
txw_now(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
usage(FILE *f)
{
  fprintf(f, "Usage: tx_writer --device SPEC --port P -n BYTES [--close-early | --records SIZE]\n"
          "Send BYTES of lwvsock-perf's stream to the host (CID 2) port P, then close.\n\n"
          "  -p, --port P        host vsock port (vsock_peer.py sink)\n"
          "  -n, --bytes N       pattern bytes to send (suffixes K, M)\n"
          "  --close-early       queue everything (the send buffer is sized for it), close at once\n"
          "  --records SIZE      write SIZE bytes at a time, each with its own output\n"
          "  --burst K           records written per pass of the main loop (default 4)\n"
          "  --timeout S         give up after S seconds (default 60)\n");
  ex_common_usage(f);
}

enum { OPT_CLOSE_EARLY = 0x100, OPT_RECORDS, OPT_BURST, OPT_TIMEOUT };

static uint64_t port, bytes, record, burst = 4, timeout = 60;

static void
txw_option(struct ex_ctx *c, int opt, const char *arg)
{
  int bad = 0;

  switch (opt) {
    case 'p':
      bad = ex_parse_u64(arg, 0, 0xfffffffeu, 0, &port);
      break;
    case 'n':
      bad = ex_parse_u64(arg, 1, 1ull << 40, 1, &bytes);
      break;
    case OPT_CLOSE_EARLY:
      w.close_early = 1;
      break;
    case OPT_RECORDS:
      bad = ex_parse_u64(arg, 1, TXW_WRITE_MAX, 1, &record);
      break;
    case OPT_BURST:
      bad = ex_parse_u64(arg, 1, 1024, 0, &burst);
      break;
    case OPT_TIMEOUT:
      bad = ex_parse_u64(arg, 1, 3600, 0, &timeout);
      break;
    default:
      break;
  }
  if (bad) {
    ex_usage_error(c, "bad value '%s'", arg);
  }
}

int
main(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "port", required_argument, NULL, 'p' },
    { "bytes", required_argument, NULL, 'n' },
    { "close-early", no_argument, NULL, OPT_CLOSE_EARLY },
    { "records", required_argument, NULL, OPT_RECORDS },
    { "burst", required_argument, NULL, OPT_BURST },
    { "timeout", required_argument, NULL, OPT_TIMEOUT },
    { NULL, 0, NULL, 0 }
  };
  static const struct ex_options opts = {
    .shortopts = "p:n:",
    .longopts = longopts,
    .usage = usage,
    .option = txw_option,
  };
  struct lwvsock_dev_stats st;
  double deadline;
  unsigned i;
  int rc;

  ex_init(&ctx, "tx_writer");
  ex_parse_options(&ctx, argc, argv, &opts);
  if (port == 0 || bytes == 0 || (w.close_early && record != 0)) {
    ex_usage_error(&ctx, "need --port and --bytes, and at most one of --close-early, --records");
  }
  if (w.close_early && bytes > 2u * 1024u * 1024u) {
    ex_usage_error(&ctx, "--close-early queues everything: at most 2M");
  }
  for (i = 0; i < sizeof(txw_pattern); i++) {
    txw_pattern[i] = (uint8_t)(i % TXW_PATTERN_MOD);
  }
  rc = ex_start(&ctx);
  if (rc != 0) {
    return ex_finish(&ctx, rc);
  }
  w.total = bytes;
  w.record = (uint32_t)record;
  w.burst = w.record != 0 ? (uint32_t)burst : 1024;
  w.pcb = lwvsock_new(ctx.dev, LWVSOCK_STREAM);
  if (w.pcb == NULL) {
    ex_log(&ctx, "cannot create a pcb");
    return ex_finish(&ctx, EX_EXIT_FAIL);
  }
  lwvsock_recv(w.pcb, txw_recv);
  lwvsock_err(w.pcb, txw_err);
  if (w.close_early) {
    lwvsock_set_sndbuf(w.pcb, (uint32_t)bytes);
  }
  if (lwvsock_connect(w.pcb, LWVSOCK_CID_HOST, (uint32_t)port, txw_connected) != ERR_OK) {
    ex_log(&ctx, "connect to 2:%u failed at once", (unsigned)port);
    return ex_finish(&ctx, EX_EXIT_FAIL);
  }
  deadline = txw_now() + (double)timeout;
  /* A loop of our own: records go out at a steady pace, not when it sleeps. */
  while (!ex_stop_requested() && txw_now() < deadline) {
    struct timespec nap = { 0, 1000000L };
    lwvsock_dev_poll(ctx.dev, 64);
    sys_check_timeouts();
    if (lwvsock_dev_status(ctx.dev) != ERR_OK) {
      ex_log(&ctx, "device failed: %s", lwvsock_dev_error(ctx.dev));
      return ex_finish(&ctx, EX_EXIT_FAIL);
    }
    if (txw_step()) {
      break;
    }
    nanosleep(&nap, NULL);
  }
  lwvsock_dev_get_stats(ctx.dev, &st);
  ex_log(&ctx, "%llu of %llu bytes written; tx %llu pkts, %llu holds; dropped %llu bytes, "
         "%llu linger timeouts%s%s", (unsigned long long)w.done, (unsigned long long)w.total,
         (unsigned long long)st.tx_pkts, (unsigned long long)st.tx_holds,
         (unsigned long long)st.tx_dropped_bytes, (unsigned long long)st.linger_timeouts,
         w.failed ? "; connection failed: " : "", w.failed ? lwvsock_strerror(w.err) : "");
  if (w.failed || !w.closed || st.conns_active != 0 || st.tx_dropped_bytes != 0 ||
      st.linger_timeouts != 0) {
    return ex_finish(&ctx, EX_EXIT_FAIL);
  }
  return ex_finish(&ctx, EX_EXIT_OK);
}
