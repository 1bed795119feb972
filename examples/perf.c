/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * lwvsock-perf: vsock throughput, in the manner of iperf-vsock.
 *
 * -s is a sink server: it counts and discards. -c CID is a client that sends
 * -n bytes to CID:port and waits until the server has read them all (the
 * server closes after our SHUTDOWN), so the time covers delivery, not just
 * queueing. -R reverses: the server sends and the client counts. -s and -c
 * together run both in one process (use -c 1, the in-driver loopback).
 *
 * The client sends exactly -n bytes and nothing else, so any sink (socat,
 * nc) counts -n. Only -R needs to tell the server something: that client
 * sends a 24-byte hello instead, "LWVPERF1", le64 byte count, le32 flags
 * (1: reverse), le32 zero, and receives the count. Everything else a server
 * receives is data and counted. Data is a pattern (byte at stream offset o is
 * o % 251) that --verify checks. MB are 10^6 bytes.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* clock_gettime */
#endif
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "forward.h"
#include "loop.h"
#include "options.h"
#include "lwip/def.h"
#include "lwip/pbuf.h"

#define PERF_DEFAULT_PORT   5201u
#define PERF_DEFAULT_BYTES  (100ull * 1024 * 1024)
#define PERF_HELLO_LEN      24
#define PERF_MAGIC          "LWVPERF1"
#define PERF_FLAG_REVERSE   1u
#define PERF_PATTERN_MOD    251u
#define PERF_WRITE_MAX      (64u * 1024u)
#define PERF_POLL_INTERVAL  1

/** HELLO: a server's connection before it knows whether a -R hello comes. */
enum perf_mode { PERF_HELLO = 0, PERF_SINK, PERF_SEND };

/** One side of a measured transfer (server connection or the client). */
struct perf_conn {
  struct ex_conn link;      /* first: see conn.h */
  int is_client;
  enum perf_mode mode;
  uint8_t hello[PERF_HELLO_LEN];
  size_t hello_len;         /**< hello bytes received (server) or sent (-R client) */
  uint64_t total;           /**< bytes to send (sender) or expected (receiver) */
  uint64_t done;            /**< bytes sent or received so far */
  int shut;                 /**< our send side is shut down */
  uint64_t held;            /**< received bytes whose credit is kept back (--hold) */
  double t0;
  uint64_t kicks0, syscalls0; /**< the device's and the loop's counters when the connection began */
};

static struct ex_ctx ctx;
static uint8_t perf_pattern[PERF_WRITE_MAX + PERF_PATTERN_MOD];
static int perf_verify;
static int perf_reverse;
static uint64_t perf_hold;
static uint64_t perf_bytes = PERF_DEFAULT_BYTES;
static uint32_t perf_port = PERF_DEFAULT_PORT;
static uint32_t perf_cid;

/* Client state: one connection; finished/failed end the program. */
static struct perf_conn *perf_client;
static int perf_client_finished;
static int perf_client_failed;
static double perf_last_report;
static uint64_t perf_last_bytes;

static double
perf_now(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/** Notifications to the device, and system calls of the backend and the loop, so far. */
static void
perf_costs(uint64_t *kicks, uint64_t *syscalls)
{
  struct lwvsock_dev_stats st;

  lwvsock_dev_get_stats(ctx.dev, &st);
  *kicks = st.kicks;
  *syscalls = st.syscalls + ctx.loop_syscalls;
}

static void
perf_result(const struct perf_conn *c, const char *what, double secs)
{
  double mbs = secs > 0 ? (double)c->done / secs / 1e6 : 0.0;
  double mib = (double)c->done / (1024.0 * 1024.0);
  const char *who = c->is_client ? "summary" : "server";
  uint64_t kicks, syscalls;

  perf_costs(&kicks, &syscalls);
  kicks -= c->kicks0;
  syscalls -= c->syscalls0;
  printf("%s: %s %llu bytes in %.3f s = %.2f MB/s (%.1f Mbit/s)\n",
         who, what, (unsigned long long)c->done, secs, mbs, mbs * 8);
  /* the whole device's and loop's counts over the connection's life: with
     other connections at the same time, theirs are in it too */
  printf("%s: kicks_per_mib=%.2f syscalls_per_mib=%.2f (%llu kicks, %llu system calls of backend and loop)\n",
         who, mib > 0 ? (double)kicks / mib : 0.0, mib > 0 ? (double)syscalls / mib : 0.0,
         (unsigned long long)kicks, (unsigned long long)syscalls);
  fflush(stdout);
}

static void
perf_detach(struct perf_conn *c)
{
  struct lwvsock_pcb *pcb = c->link.pcb;

  ex_pcb_detach(pcb);
  ex_conn_remove(&c->link);
  if (c == perf_client) {
    perf_client = NULL;
  }
  free(c);
}

/** Orderly close; c is freed. */
static void
perf_close(struct perf_conn *c)
{
  struct lwvsock_pcb *pcb = c->link.pcb;

  if (!ctx.quiet) {
    ex_print_pcb_stats(&ctx, "closed", pcb);
  }
  perf_detach(c);
  lwvsock_close(pcb);
}

static void
perf_fail(struct perf_conn *c, const char *why)
{
  ex_log(&ctx, "%s", why);
  if (c->is_client) {
    perf_client_failed = 1;
  }
}

/** Send pattern bytes (after the hello, for the client) as the send buffer allows. */
static err_t
perf_pump(struct perf_conn *c)
{
  struct lwvsock_pcb *pcb = c->link.pcb;
  int wrote = 0;

  if (c->is_client && c->hello_len < PERF_HELLO_LEN) {
    uint32_t room = lwvsock_sndbuf(pcb);
    uint32_t n = (uint32_t)LWIP_MIN((size_t)room, PERF_HELLO_LEN - c->hello_len);
    if (n > 0 && lwvsock_write(pcb, c->hello + c->hello_len, n, LWVSOCK_WRITE_FLAG_MORE) == ERR_OK) {
      c->hello_len += n;
      wrote = 1;
    }
  }
  if (c->mode == PERF_SEND && (!c->is_client || c->hello_len == PERF_HELLO_LEN)) {
    while (c->done < c->total) {
      uint32_t room = lwvsock_sndbuf(pcb);
      uint32_t n = (uint32_t)LWIP_MIN(LWIP_MIN((uint64_t)room, c->total - c->done), (uint64_t)PERF_WRITE_MAX);
      err_t e;
      if (n == 0) {
        break;
      }
      e = lwvsock_write(pcb, perf_pattern + c->done % PERF_PATTERN_MOD, n,
                        c->done + n < c->total ? LWVSOCK_WRITE_FLAG_MORE : 0);
      if (e == ERR_MEM) {
        break;
      }
      if (e != ERR_OK) {
        perf_fail(c, "write failed");
        lwvsock_abort(pcb);
        return ERR_ABRT;
      }
      c->done += n;
      wrote = 1;
    }
  }
  if (wrote) {
    lwvsock_output(pcb);
  }
  if (c->mode == PERF_SEND && c->done == c->total && !c->shut) {
    c->shut = 1;
    if (c->is_client) {
      /* The server closes once it has read everything: that ends the timing. */
      lwvsock_shutdown(pcb, 0, 1);
    } else {
      perf_result(c, "sent", perf_now() - c->t0);
      perf_close(c);
      return ERR_CLSD;
    }
  }
  return ERR_OK;
}

/** Count (and with --verify check) received data bytes. Returns -1 on a pattern mismatch. */
static int
perf_count(struct perf_conn *c, const uint8_t *d, size_t n)
{
  if (perf_verify) {
    size_t i;
    for (i = 0; i < n; i++) {
      if (d[i] != (uint8_t)((c->done + i) % PERF_PATTERN_MOD)) {
        ex_log(&ctx, "--verify: byte %llu is 0x%02x, expected 0x%02x",
               (unsigned long long)(c->done + i), d[i],
               (unsigned)((c->done + i) % PERF_PATTERN_MOD));
        return -1;
      }
    }
  }
  c->done += n;
  return 0;
}

/**
 * Server: take what may be a -R hello from @p d; returns the bytes used. Bytes
 * that turn out not to be one are data: they are counted, and the rest of the
 * connection with them.
 */
/* The hello's numbers are little-endian, @p n bytes wide. */
static uint64_t
perf_get_le(const uint8_t *p, unsigned n)
{
  uint64_t v = 0;

  while (n-- > 0) {
    v = v << 8 | p[n];
  }
  return v;
}

static void
perf_put_le(uint8_t *p, uint64_t v, unsigned n)
{
  unsigned i;

  for (i = 0; i < n; i++, v >>= 8) {
    p[i] = (uint8_t)v;
  }
}

static size_t
perf_take_hello(struct perf_conn *c, const uint8_t *d, size_t n)
{
  size_t take = LWIP_MIN(n, PERF_HELLO_LEN - c->hello_len);
  size_t cmp = c->hello_len < 8 ? LWIP_MIN(take, 8 - c->hello_len) : 0;

  c->t0 = c->t0 > 0 ? c->t0 : perf_now();
  if (memcmp(d, &PERF_MAGIC[c->hello_len], cmp) != 0) {
    c->mode = PERF_SINK;
    c->done = c->hello_len;
    return 0;
  }
  memcpy(c->hello + c->hello_len, d, take);
  c->hello_len += take;
  if (c->hello_len == PERF_HELLO_LEN) {
    if ((perf_get_le(c->hello + 16, 4) & PERF_FLAG_REVERSE) == 0) {
      c->mode = PERF_SINK;   /* data that starts like a hello */
      c->done = PERF_HELLO_LEN;
      return take;
    }
    c->total = perf_get_le(c->hello + 8, 8);
    c->t0 = perf_now();
    c->mode = PERF_SEND;
    if (!ctx.quiet) {
      ex_log(&ctx, "client %u:%u: sending it %llu bytes", (unsigned)lwvsock_remote_cid(c->link.pcb),
             (unsigned)lwvsock_remote_port(c->link.pcb), (unsigned long long)c->total);
    }
  }
  return take;
}

static err_t
perf_recv(void *arg, struct lwvsock_pcb *pcb, struct pbuf *p, err_t err)
{
  struct perf_conn *c = (struct perf_conn *)arg;
  struct pbuf *q;

  LWIP_UNUSED_ARG(err);
  if (p == NULL) {
    double secs = perf_now() - c->t0;
    if (c->is_client) {
      if (c->done != c->total) {
        char why[128];
        snprintf(why, sizeof(why), "server ended the connection after %llu of %llu bytes",
                 (unsigned long long)c->done, (unsigned long long)c->total);
        perf_fail(c, why);
      } else {
        perf_result(c, perf_reverse ? "received" : "sent", secs);
        perf_client_finished = 1;
      }
      perf_close(c);
    } else if (c->mode != PERF_SEND) {
      if (c->mode == PERF_HELLO) {
        c->done = c->hello_len; /* ended inside what looked like a hello: data */
      }
      perf_result(c, "received", secs);
      perf_close(c);
    }
    return ERR_OK;
  }
  for (q = p; q != NULL; q = q->next) {
    const uint8_t *d = (const uint8_t *)q->payload;
    size_t n = q->len;
    if (c->mode == PERF_HELLO) {
      size_t used = perf_take_hello(c, d, n);
      d += used;
      n -= used;
    }
    if (n > 0 && c->mode != PERF_HELLO && perf_count(c, d, n) != 0) {
      pbuf_free(p);
      perf_fail(c, "received data is corrupted");
      lwvsock_abort(pcb);
      return ERR_ABRT;
    }
  }
  /* --hold: the first bytes stay unconsumed to the end, as by an application
     keeping a request header while it reads the body. */
  if (c->held < perf_hold) {
    uint32_t keep = (uint32_t)LWIP_MIN((uint64_t)p->tot_len, perf_hold - c->held);
    c->held += keep;
    lwvsock_recved(pcb, p->tot_len - keep);
  } else {
    lwvsock_recved(pcb, p->tot_len);
  }
  pbuf_free(p);
  if (c->mode == PERF_SEND && !c->is_client) {
    return perf_pump(c) == ERR_ABRT ? ERR_ABRT : ERR_OK;
  }
  return ERR_OK;
}

static err_t
perf_sent(void *arg, struct lwvsock_pcb *pcb, uint32_t len)
{
  LWIP_UNUSED_ARG(pcb);
  LWIP_UNUSED_ARG(len);
  return perf_pump((struct perf_conn *)arg) == ERR_ABRT ? ERR_ABRT : ERR_OK;
}

static err_t
perf_poll(void *arg, struct lwvsock_pcb *pcb)
{
  LWIP_UNUSED_ARG(pcb);
  return perf_pump((struct perf_conn *)arg) == ERR_ABRT ? ERR_ABRT : ERR_OK;
}

static void
perf_err(void *arg, err_t err)
{
  struct perf_conn *c = (struct perf_conn *)arg;

  if (c->is_client) {
    char why[160];
    snprintf(why, sizeof(why), "connection to CID %u port %u ended: %s%s",
             (unsigned)perf_cid, (unsigned)perf_port,
             lwvsock_strerror(err),
             err == ERR_RST && c->t0 == 0 ? " (is a server listening there?)" : "");
    perf_fail(c, why);
  } else {
    ex_log_conn_end(&ctx, err);
  }
  ex_conn_remove(&c->link);
  if (c == perf_client) {
    perf_client = NULL;
  }
  free(c);
}

/* Callbacks of a connection whose state is linked (ex_conn_add) already. */
static void
perf_setup(struct perf_conn *c, struct lwvsock_pcb *pcb)
{
  perf_costs(&c->kicks0, &c->syscalls0);
  lwvsock_recv(pcb, perf_recv);
  lwvsock_sent(pcb, perf_sent);
  lwvsock_err(pcb, perf_err);
  lwvsock_poll(pcb, perf_poll, PERF_POLL_INTERVAL);
}

static err_t
perf_accept(void *arg, struct lwvsock_pcb *pcb, err_t err)
{
  struct perf_conn *c;
  err_t ret;

  LWIP_UNUSED_ARG(arg);
  c = (struct perf_conn *)ex_conn_accept(&ctx, pcb, err, sizeof(struct perf_conn), &ret);
  if (c != NULL) {
    perf_setup(c, pcb);
  }
  return ret;
}

static err_t
perf_connected(void *arg, struct lwvsock_pcb *pcb, err_t err)
{
  struct perf_conn *c = (struct perf_conn *)arg;

  LWIP_UNUSED_ARG(pcb);
  LWIP_UNUSED_ARG(err);
  c->t0 = perf_now();
  perf_last_report = c->t0;
  if (!ctx.quiet) {
    ex_log(&ctx, "connected %u:%u -> %u:%u", (unsigned)lwvsock_local_cid(pcb),
           (unsigned)lwvsock_local_port(pcb), (unsigned)lwvsock_remote_cid(pcb),
           (unsigned)lwvsock_remote_port(pcb));
  }
  return perf_pump(c) == ERR_ABRT ? ERR_ABRT : ERR_OK;
}

static int
perf_start_client(uint32_t cid_)
{
  struct lwvsock_pcb *pcb = lwvsock_new(ctx.dev, LWVSOCK_STREAM);
  struct perf_conn *c;
  err_t e;

  c = (struct perf_conn *)calloc(1, sizeof(*c));
  if (pcb == NULL || c == NULL) {
    ex_log(&ctx, "cannot create the client connection (out of memory)");
    if (pcb != NULL) {
      lwvsock_abort(pcb);
    }
    free(c);
    return -1;
  }
  c->is_client = 1;
  c->total = perf_bytes;
  c->mode = perf_reverse ? PERF_SINK : PERF_SEND;
  if (perf_reverse) {
    memcpy(c->hello, PERF_MAGIC, 8);
    perf_put_le(c->hello + 8, perf_bytes, 8);
    perf_put_le(c->hello + 16, PERF_FLAG_REVERSE, 4);
    perf_put_le(c->hello + 20, 0, 4);
  } else {
    c->hello_len = PERF_HELLO_LEN; /* no hello: the -n bytes are all we send */
  }
  ex_conn_add(&ctx, &c->link, pcb);
  perf_setup(c, pcb);
  perf_client = c;
  e = lwvsock_connect(pcb, cid_, perf_port, perf_connected);
  if (e != ERR_OK) {
    ex_log(&ctx, "cannot connect to CID %u port %u: %s", (unsigned)cid_, (unsigned)perf_port,
           lwvsock_strerror(e));
    perf_detach(c);
    lwvsock_abort(pcb);
    return -1;
  }
  if (!ctx.quiet) {
    ex_log(&ctx, "connecting to CID %u port %u", (unsigned)cid_, (unsigned)perf_port);
  }
  return 0;
}

/** Main-loop hook: interval reports; ends the program when the client is done. */
static int
perf_done(void *arg)
{
  LWIP_UNUSED_ARG(arg);
  if (perf_client != NULL && perf_client->t0 > 0) {
    double now = perf_now();
    if (now - perf_last_report >= 1.0) {
      uint64_t d = perf_client->done - perf_last_bytes;
      printf("[%6.2f-%6.2f s] %llu bytes %.2f MB/s\n", perf_last_report - perf_client->t0,
             now - perf_client->t0, (unsigned long long)d, (double)d / (now - perf_last_report) / 1e6);
      fflush(stdout);
      perf_last_report = now;
      perf_last_bytes = perf_client->done;
    }
  }
  return perf_client_finished || perf_client_failed;
}

static void
usage(FILE *f)
{
  fprintf(f,
          "Usage: lwvsock-perf [--device SPEC] -s [--port P] [--verify] [options]\n"
          "       lwvsock-perf [--device SPEC] -c CID [--port P] [-n BYTES] [-R] [options]\n"
          "Measure vsock throughput, like iperf-vsock. MB are 10^6 bytes.\n\n"
          "  -s, --server        sink server: count and discard (or send, for -R clients)\n"
          "  -c, --client CID    send to CID (2: the host; 1: ourselves, with -s too)\n"
          "  -p, --port P        vsock port (default %u)\n"
          "  -n, --bytes BYTES   bytes to transfer (default 100M; suffixes k, M, G); exactly\n"
          "                      these arrive, so any sink (socat, nc) can be the server\n"
          "  -R, --reverse       the server sends, the client receives\n"
          "      --verify        check every received byte against the pattern\n"
          "      --hold BYTES    consume (lwvsock_recved) the first BYTES received only at the end\n",
          PERF_DEFAULT_PORT);
  ex_common_usage(f);
  fputs("\nExamples:\n"
        "  lwvsock-perf -s -c 1 -n 1G                  # both ends in one process (loopback)\n"
        "  lwvsock-perf -s --forward 5201:5201         # then: head -c 10M /dev/zero |"
        " socat - TCP:127.0.0.1:5201\n"
        "  lwvsock-perf --device vhost-vsock:cid=3 -c 2   # inside the test VM, to a host server\n", f);
}

static int perf_server, perf_client_mode;
static uint64_t perf_cid_arg;

static void
perf_option(struct ex_ctx *c, int opt, const char *arg)
{
  switch (opt) {
    case 's':
      perf_server = 1;
      break;
    case 'c':
      if (ex_parse_u64(arg, 1, 0xfffffffeu, 0, &perf_cid_arg) != 0) {
        ex_usage_error(c, "--client '%s': not a CID (1..4294967294)", ex_shown(arg));
      }
      perf_client_mode = 1;
      break;
    case 'p':
      perf_port = ex_port_arg(c, arg);
      break;
    case 'n':
      if (ex_parse_u64(arg, 1, UINT64_MAX, 1, &perf_bytes) != 0) {
        ex_usage_error(c, "--bytes '%s': expected a positive count, e.g. 100M", ex_shown(arg));
      }
      break;
    case 'R':
      perf_reverse = 1;
      break;
    case 'V':
      perf_verify = 1;
      break;
    case 'H':
      if (ex_parse_u64(arg, 0, UINT64_MAX, 1, &perf_hold) != 0) {
        ex_usage_error(c, "--hold '%s': expected a byte count, e.g. 64k", arg);
      }
      break;
    default:
      break;
  }
}

int
main(int argc, char **argv)
{
  static const struct option longopts[] = {
    { "server", no_argument, NULL, 's' },
    { "client", required_argument, NULL, 'c' },
    { "port", required_argument, NULL, 'p' },
    { "bytes", required_argument, NULL, 'n' },
    { "reverse", no_argument, NULL, 'R' },
    { "verify", no_argument, NULL, 'V' },
    { "hold", required_argument, NULL, 'H' },
    { NULL, 0, NULL, 0 }
  };
  static const struct ex_options opts = {
    .shortopts = "sc:p:n:R",
    .longopts = longopts,
    .usage = usage,
    .option = perf_option,
  };
  int rc;
  size_t i;

  ex_init(&ctx, "lwvsock-perf");
  ex_parse_options(&ctx, argc, argv, &opts);
  if (!perf_server && !perf_client_mode) {
    ex_usage_error(&ctx, "say -s (server) or -c CID (client), or both");
  }
  if (perf_reverse && !perf_client_mode) {
    ex_usage_error(&ctx, "-R is a client option (the server follows what each client asks)");
  }
  ex_check_forwards(&ctx, perf_server, perf_port);
  for (i = 0; i < sizeof(perf_pattern); i++) {
    perf_pattern[i] = (uint8_t)(i % PERF_PATTERN_MOD);
  }
  rc = ex_start(&ctx);
  if (rc == 0 && perf_server) {
    if (ex_listen(&ctx, LWVSOCK_STREAM, perf_port, perf_accept, NULL) == NULL) {
      rc = EX_EXIT_FAIL;
    } else {
      ex_log(&ctx, "server on vsock port %u (device %s, CID %u)", (unsigned)perf_port,
             ctx.device_spec, (unsigned)lwvsock_dev_cid(ctx.dev));
    }
  }
  perf_cid = (uint32_t)perf_cid_arg;
  if (rc == 0 && perf_client_mode && perf_start_client(perf_cid) != 0) {
    rc = EX_EXIT_FAIL;
  }
  if (rc == 0) {
    rc = ex_run(&ctx, perf_client_mode ? perf_done : NULL, NULL);
    if (rc == 0 && perf_client_mode && !perf_client_finished) {
      rc = EX_EXIT_FAIL;
      if (!perf_client_failed) {
        ex_log(&ctx, "interrupted before the transfer finished");
      }
    }
  }
  return ex_finish(&ctx, rc);
}
