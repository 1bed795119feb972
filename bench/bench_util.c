/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Shared helpers of the benchmark programs (see bench_util.h).
 */
#include "bench_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "lwvsock/vsock.h"

uint64_t
bench_now_ns(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double
bench_best(bench_fn fn, void *arg, int reps)
{
  double best = 0;
  int i;

  for (i = 0; i < (reps > 0 ? reps : 1); i++) {
    double v = fn(arg);
    if (i == 0 || v > best) {
      best = v;
    }
  }
  return best;
}

/* Fields are tab-separated: keep tabs and newlines out of free text. */
static void
put_field(const char *s)
{
  for (; *s != '\0'; s++) {
    putchar((*s == '\t' || *s == '\n') ? ' ' : *s);
  }
}

void
bench_row(const char *metric, double ours, const char *unit, const char *base_name,
          double base, enum bench_goal goal, double goal_value)
{
  static const char *const goal_names[] = { "-", "min", "max" };

  fputs("row\t", stdout);
  put_field(metric);
  printf("\t%.6g\t", ours);
  put_field(unit);
  putchar('\t');
  put_field(base_name != NULL ? base_name : "-");
  if (base_name != NULL) {
    printf("\t%.6g", base);
  } else {
    fputs("\t-", stdout);
  }
  printf("\t%s\t%.6g\n", goal_names[goal], goal_value);
  fflush(stdout);
}

void
bench_skip(const char *metric, const char *reason)
{
  fputs("skip\t", stdout);
  put_field(metric);
  putchar('\t');
  put_field(reason);
  putchar('\n');
  fflush(stdout);
}

void
bench_note(const char *fmt, ...)
{
  char buf[512];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  fputs("note\t", stdout);
  put_field(buf);
  putchar('\n');
  fflush(stdout);
}

void
bench_die(const char *fmt, ...)
{
  va_list ap;

  fflush(stdout);
  fputs("bench: ", stderr);
  va_start(ap, fmt);
  vfprintf(stderr, fmt, ap);
  va_end(ap);
  fputc('\n', stderr);
  exit(EXIT_FAILURE);
}

uint64_t
bench_parse_size(const char *opt, const char *s)
{
  char *end;
  unsigned long long v;

  if (s == NULL || *s < '0' || *s > '9') {
    bench_die("%s needs a number (e.g. 4096, 64k, 256M), got '%s'", opt, s ? s : "");
  }
  v = strtoull(s, &end, 10);
  if (*end == 'k' || *end == 'K') {
    v *= 1024u;
    end++;
  } else if (*end == 'm' || *end == 'M') {
    v *= 1024u * 1024u;
    end++;
  }
  if (*end != '\0') {
    bench_die("%s: '%s' is not a number (use e.g. 4096, 64k, 256M)", opt, s);
  }
  return v;
}

void
bench_parse_opts(int argc, char **argv, const char *usage, struct bench_opts *o,
                 int (*extra)(void *arg, const char *opt, const char *val), void *arg)
{
  static const char common[] =
    "Common options:\n"
    "  --reps N   repeat each measurement N times and report the best (default 5)\n"
    "  --quick    smaller byte and connection counts (a smoke run, not for figures)\n"
    "  --help     this text\n"
    "Output: raw result rows (see bench/bench_util.h); bench/run.sh prints the table.\n";
  int i;

  o->reps = 5;
  o->quick = 0;
  for (i = 1; i < argc; i++) {
    const char *a = argv[i];
    const char *v = (i + 1 < argc) ? argv[i + 1] : NULL;
    if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
      printf("%s%s", usage, common);
      exit(EXIT_SUCCESS);
    } else if (strcmp(a, "--quick") == 0) {
      o->quick = 1;
    } else if (strcmp(a, "--reps") == 0) {
      o->reps = (int)bench_parse_size(a, v);
      if (o->reps < 1 || o->reps > 64) {
        bench_die("--reps must be 1..64, got %s", v);
      }
      i++;
    } else {
      int used = extra != NULL ? extra(arg, a, v) : 0;
      if (used == 0) {
        fprintf(stderr, "%s%s", usage, common);
        bench_die("unknown option '%s' (see --help)", a);
      }
      i += used - 1;
    }
  }
}

void
bench_pcb_pool(struct lwvsock_pcb_pool_stats *st)
{
  if (lwvsock_pcb_pool_get_stats(st) != ERR_OK) {
    bench_die("the pcb pool keeps no statistics: build with MEMP_STATS 1");
  }
}
