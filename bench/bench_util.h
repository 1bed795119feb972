/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Shared helpers of the benchmark programs: the clock, repeated runs, options,
 * and the result rows bench/run.sh turns into the table.
 *
 * A program prints raw rows on stdout, one per line, tab-separated:
 *   row  METRIC  OURS  UNIT  BASELINE-NAME  BASELINE  GOAL  GOAL-VALUE
 *   skip METRIC  REASON
 *   note TEXT
 * GOAL is "min" (OURS / BASELINE must reach GOAL-VALUE), "max" (OURS must stay
 * at or below GOAL-VALUE) or "-" (no target). run.sh computes the ratios and
 * verdicts in one place; the programs only measure.
 */
#ifndef LWVSOCK_BENCH_UTIL_H
#define LWVSOCK_BENCH_UTIL_H

#include <stddef.h>
#include <stdint.h>

/** Monotonic wall clock in nanoseconds. */
uint64_t bench_now_ns(void);

/** A measurement: run once, return the figure (higher is better, e.g. MiB/s). */
typedef double (*bench_fn)(void *arg);

/**
 * Run @p fn @p reps times and return the best figure. On a shared machine other
 * work only ever slows a run down, so the best run is the closest to the cost
 * of the code itself (and the baseline gets the same treatment).
 */
double bench_best(bench_fn fn, void *arg, int reps);

/** The kinds of target a row can carry. */
enum bench_goal {
  BENCH_GOAL_NONE = 0,
  BENCH_GOAL_MIN_RATIO,  /**< ours / baseline >= goal value */
  BENCH_GOAL_MAX_ABS     /**< ours <= goal value */
};

/** Print one result row. @p base_name NULL: no baseline. */
void bench_row(const char *metric, double ours, const char *unit, const char *base_name,
               double base, enum bench_goal goal, double goal_value);
/** Print a row that could not be measured, with the reason. */
void bench_skip(const char *metric, const char *reason);
/** Print a note that run.sh shows under the table (printf-style). */
void bench_note(const char *fmt, ...)
#ifdef __GNUC__
  __attribute__((format(printf, 1, 2)))
#endif
  ;

/** Exit with a message naming the cause (printf-style). */
void bench_die(const char *fmt, ...)
#ifdef __GNUC__
  __attribute__((format(printf, 1, 2), noreturn))
#endif
  ;

/** Options every benchmark program takes. */
struct bench_opts {
  int reps;        /**< repetitions of each measurement (the best is taken) */
  int quick;       /**< smaller byte and connection counts */
};

/**
 * Parse the common options (--reps N, --quick, --help). @p usage is printed
 * for --help (with the common options appended) and after a bad option.
 * Options the program handles itself are left to it: it passes @p extra, which
 * is called with each unknown option and its argument (or NULL) and returns
 * how many of the two it used (0: unknown option).
 */
void bench_parse_opts(int argc, char **argv, const char *usage, struct bench_opts *o,
                      int (*extra)(void *arg, const char *opt, const char *val), void *arg);

/** Parse a decimal unsigned number with an optional k/K (1024) or m/M suffix; exits on error. */
uint64_t bench_parse_size(const char *opt, const char *s);

struct lwvsock_pcb_pool_stats;
/** The lwvsock pcb pool's figures; exits when the build keeps no pool statistics. */
void bench_pcb_pool(struct lwvsock_pcb_pool_stats *st);

#endif /* LWVSOCK_BENCH_UTIL_H */
