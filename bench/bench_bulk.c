/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Bulk throughput: lwvsock through the simulated host, both directions, at 4 KiB
 * and 64 KiB writes, beside lwIP's own TCP between two lwIP endpoints on
 * 127.0.0.1 (same byte counts, same write sizes, same consuming receiver) and
 * beside a plain memcpy of the same bytes.
 *
 * With --case it moves bytes once and prints nothing: the driver that bench/run.sh
 * runs under callgrind to count instructions per packet.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench_link.h"
#include "bench_util.h"
#include "lwip/def.h"
#include "lwvsock/vsock.h"

#define BULK_BYTES        (256ull * 1024 * 1024)
#define BULK_BYTES_QUICK  (32ull * 1024 * 1024)
/* Moved once before measuring: faults in device memory, lwIP's heap, the sink. */
#define WARMUP_BYTES      (8ull * 1024 * 1024)

static const char usage[] =
  "usage: bench_bulk [--reps N] [--quick] [--bytes N]\n"
  "       bench_bulk --case CASE --size W --bytes N\n"
  "Bulk throughput of lwvsock over the simulated host against lwIP TCP on\n"
  "127.0.0.1 (loop interface) and against memcpy, at 4 KiB and 64 KiB writes.\n"
  "  --bytes N  bytes moved per measurement (default 256M; --quick 32M)\n"
  "  --case C   move N bytes once and print nothing (a callgrind driver);\n"
  "             C is vsock-g2h, vsock-g2h-zc (zero-copy writes), vsock-h2g,\n"
  "             tcp-c2s, tcp-s2c or memcpy\n"
  "  --size W   write size for --case (1..65536, default 4096)\n";

struct bulk_opts {
  uint64_t bytes;
  const char *only;
  uint32_t wsize;
};

static int
bulk_opt(void *arg, const char *opt, const char *val)
{
  struct bulk_opts *bo = (struct bulk_opts *)arg;

  if (strcmp(opt, "--bytes") == 0) {
    bo->bytes = bench_parse_size(opt, val);
    return 2;
  }
  if (strcmp(opt, "--case") == 0) {
    if (val == NULL) {
      bench_die("--case needs a case name (see --help)");
    }
    bo->only = val;
    return 2;
  }
  if (strcmp(opt, "--size") == 0) {
    bo->wsize = (uint32_t)bench_parse_size(opt, val);
    return 2;
  }
  return 0;
}

/** One measured transfer: a link (NULL: memcpy), a direction, a write size. */
struct bulk_case {
  struct bench_link *link;
  int reverse;             /* b -> a (host -> guest, server -> client) */
  uint8_t wflags;          /* the guest's write flags (LWVSOCK_WRITE_FLAG_NOCOPY) */
  uint32_t wsize;
  uint64_t bytes;
};

static void
bulk_move(const struct bulk_case *c, uint64_t bytes)
{
  if (c->link != NULL) {
    c->link->wflags = c->wflags;
    bench_link_move(c->link, c->reverse ? &c->link->b : &c->link->a, bytes, c->wsize);
  } else {
    uint64_t done;
    for (done = 0; done < bytes; done += c->wsize) {
      bench_sink(bench_src, (uint32_t)LWIP_MIN((uint64_t)c->wsize, bytes - done));
    }
  }
}

/* MiB/s of one run. */
static double
bulk_once(void *arg)
{
  const struct bulk_case *c = (const struct bulk_case *)arg;
  uint64_t t0 = bench_now_ns(), dt;

  bulk_move(c, c->bytes);
  dt = bench_now_ns() - t0;
  return (double)c->bytes / (1024.0 * 1024.0) / ((double)(dt ? dt : 1) / 1e9);
}

static double
bulk_measure(struct bench_link *l, int reverse, uint8_t wflags, uint32_t wsize, uint64_t bytes, int reps)
{
  struct bulk_case c;

  c.link = l;
  c.reverse = reverse;
  c.wflags = wflags;
  c.wsize = wsize;
  c.bytes = bytes;
  bulk_move(&c, LWIP_MIN(bytes, WARMUP_BYTES));
  return bench_best(bulk_once, &c, reps);
}

static void
run_case(const struct bulk_opts *bo)
{
  static const struct {
    const char *name;
    enum bench_link_kind kind;
    int reverse;
    int memcpy_only;
    uint8_t wflags;
  } cases[] = {
    { "vsock-g2h", BENCH_LINK_VSOCK, 0, 0, 0 },
    { "vsock-g2h-zc", BENCH_LINK_VSOCK, 0, 0, LWVSOCK_WRITE_FLAG_NOCOPY },
    { "vsock-h2g", BENCH_LINK_VSOCK, 1, 0, 0 },
    { "tcp-c2s", BENCH_LINK_TCP, 0, 0, 0 },
    { "tcp-s2c", BENCH_LINK_TCP, 1, 0, 0 },
    { "memcpy", BENCH_LINK_TCP, 0, 1, 0 },
  };
  struct bench_link l;
  struct bulk_case c;
  size_t i;

  for (i = 0; i < LWIP_ARRAYSIZE(cases); i++) {
    if (strcmp(cases[i].name, bo->only) == 0) {
      break;
    }
  }
  if (i == LWIP_ARRAYSIZE(cases)) {
    bench_die("unknown --case '%s' (vsock-g2h, vsock-g2h-zc, vsock-h2g, tcp-c2s, tcp-s2c, memcpy)", bo->only);
  }
  memset(&c, 0, sizeof(c));
  c.reverse = cases[i].reverse;
  c.wflags = cases[i].wflags;
  c.wsize = bo->wsize;
  if (!cases[i].memcpy_only) {
    bench_link_open(&l, cases[i].kind, 5001);
    c.link = &l;
  }
  bulk_move(&c, bo->bytes);
  if (c.link != NULL) {
    bench_link_close(&l);
  }
}

int
main(int argc, char **argv)
{
  static const uint32_t sizes[] = { 4096, 65536 };
  struct bench_opts o;
  struct bulk_opts bo = { 0, NULL, 4096 };
  struct bench_link vs, tcp;
  size_t i;

  bench_parse_opts(argc, argv, usage, &o, bulk_opt, &bo);
  if (bo.wsize == 0 || bo.wsize > 65536) {
    bench_die("--size must be 1..65536, got %u", (unsigned)bo.wsize);
  }
  if (bo.bytes == 0) {
    bo.bytes = o.quick ? BULK_BYTES_QUICK : BULK_BYTES;
  }
  if (bo.only != NULL) {
    run_case(&bo);
    return EXIT_SUCCESS;
  }

  bench_link_open(&vs, BENCH_LINK_VSOCK, 5001);
  bench_link_open(&tcp, BENCH_LINK_TCP, 5001);
  for (i = 0; i < LWIP_ARRAYSIZE(sizes); i++) {
    uint32_t w = sizes[i];
    int big = (w == 65536);
    char metric[96];
    double g2h = bulk_measure(&vs, 0, 0, w, bo.bytes, o.reps);
    double h2g = bulk_measure(&vs, 1, 0, w, bo.bytes, o.reps);
    double c2s = bulk_measure(&tcp, 0, 0, w, bo.bytes, o.reps);
    double s2c = bulk_measure(&tcp, 1, 0, w, bo.bytes, o.reps);
    double mc = bulk_measure(NULL, 0, 0, w, bo.bytes, o.reps);

    snprintf(metric, sizeof(metric), "bulk guest->host, %u KiB writes", (unsigned)(w / 1024));
    bench_row(metric, g2h, "MiB/s", "lwIP TCP loopback", c2s, BENCH_GOAL_MIN_RATIO, 3.0);
    bench_row(metric, g2h, "MiB/s", "memcpy", mc, big ? BENCH_GOAL_MIN_RATIO : BENCH_GOAL_NONE, 0.5);
    snprintf(metric, sizeof(metric), "bulk host->guest, %u KiB writes", (unsigned)(w / 1024));
    bench_row(metric, h2g, "MiB/s", "lwIP TCP loopback", s2c, BENCH_GOAL_MIN_RATIO, 3.0);
    bench_row(metric, h2g, "MiB/s", "memcpy", mc, big ? BENCH_GOAL_MIN_RATIO : BENCH_GOAL_NONE, 0.5);
    if (big) {
      double zc = bulk_measure(&vs, 0, LWVSOCK_WRITE_FLAG_NOCOPY, w, bo.bytes, o.reps);
      snprintf(metric, sizeof(metric), "bulk guest->host, %u KiB zero-copy writes", (unsigned)(w / 1024));
      bench_row(metric, zc, "MiB/s", "memcpy", mc, BENCH_GOAL_MIN_RATIO, 0.5);
    }
  }
  bench_note("bulk: best of %d runs of %llu MiB each; every receiver copies into a "
             "256 KiB sink; memcpy is one copy of the same bytes into that sink",
             o.reps, (unsigned long long)(bo.bytes >> 20));
  bench_note("copies per byte guest->host: copied writes 3 (into a tx slot, the sim "
             "device into its host socket, the receiver into its sink); zero-copy writes 2 "
             "(the device reads the application's buffer in place); memcpy 1, so 0.5x "
             "is the most the zero-copy row can reach");
  bench_link_close(&tcp);
  bench_link_close(&vs);
  return EXIT_SUCCESS;
}
