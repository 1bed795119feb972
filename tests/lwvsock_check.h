/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Common header of the lwvsock unit tests (libcheck), in the style of lwIP's
 * test/unit/lwip_check.h.
 *
 * A test program defines one suite factory, lwvsock_test_suite(), usually with
 * create_suite(); tests/check_main.c runs it. Every test should end with
 * lwvsock_check_ensure_no_alloc() (typically in the teardown) so a leak of lwIP
 * heap or pool memory fails the test that caused it.
 */
#ifndef LWVSOCK_CHECK_H
#define LWVSOCK_CHECK_H

#ifdef LWVSOCK_NO_LIBCHECK /* set by configure when it found no libcheck */
#error "the unit tests need libcheck >= 0.13: apt-get install check pkg-config, then re-run configure"
#endif
#include <check.h>
#include <stddef.h>
#include <stdint.h>

#include "lwip/opt.h"
#include "lwip/arch.h"
#include "lwip/memp.h"

/* check >= 0.13 records each test's name itself (START_TEST makes a TTest). */
typedef const TTest *testfunc;
#define TESTFUNC(x) x

/** Build a suite with one test case per test, each with the same fixture. */
Suite *create_suite(const char *name, testfunc *tests, size_t num_tests,
                    SFun setup, SFun teardown);

/** The suite a test program runs; each program defines it. */
Suite *lwvsock_test_suite(void);

/* Skip mask for lwvsock_check_ensure_no_alloc(). */
#define SKIP_POOL(x) (1ull << (x))
#define SKIP_HEAP    (1ull << MEMP_MAX)
#define SKIP_LWVSOCK_PCB (1ull << 63)

/** Note lwIP's heap and pool use as the leak check's baseline (right after lwip_init()). */
void lwvsock_check_record_baseline(void);

/**
 * Fail the running test when lwIP's heap or any memp pool (except those in
 * @p skip) has more in use than right after lwip_init() (which main() calls
 * once), or when lwvsock's pcb pool is not empty, naming the pool and counts.
 */
void lwvsock_check_ensure_no_alloc(unsigned long long skip);

/* ---- the fake clock (tests/fake_clock.c): sys_now() returns lwvsock_test_now ---- */

/** Current fake time in ms. Tests set it directly or through the helpers. */
extern u32_t lwvsock_test_now;

/** Set the fake clock to @p ms. */
void lwvsock_test_clock_set(u32_t ms);

/** Advance the fake clock by @p ms (wraps at 2^32, as the real one does). */
void lwvsock_test_clock_advance(u32_t ms);

#endif /* LWVSOCK_CHECK_H */
