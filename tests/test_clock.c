/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Tests of the test framework's fake clock (tests/fake_clock.c): sys_now()
 * moves only when a test moves it, and it drives lwIP's timers exactly,
 * across the 2^32 ms wrap, without leaking timeout entries.
 */
#include "lwvsock_check.h"

#include "lwip/sys.h"
#include "lwip/timeouts.h"

static int fired;

static void
count_cb(void *arg)
{
  LWIP_UNUSED_ARG(arg);
  fired++;
}

static void
setup(void)
{
  fired = 0;
}

static void
teardown(void)
{
  sys_untimeout(count_cb, NULL);
  lwvsock_check_ensure_no_alloc(0);
}

START_TEST(test_clock_set_advance)
{
  lwvsock_test_clock_set(1000);
  ck_assert_uint_eq(sys_now(), 1000);
  ck_assert_uint_eq(sys_now(), 1000);
  lwvsock_test_clock_advance(234);
  ck_assert_uint_eq(sys_now(), 1234);
  lwvsock_test_clock_set(0xfffffff0u);
  lwvsock_test_clock_advance(0x20);
  ck_assert_uint_eq(sys_now(), 0x10);
}
END_TEST

/* A timeout armed at @p start for @p ms fires at the deadline, not a tick earlier. */
static void
check_timeout_fires_at_deadline(u32_t start, u32_t ms)
{
  lwvsock_test_clock_set(start);
  /* Let lwIP's cyclic timers catch up with the jump, so they do not mask ours. */
  sys_restart_timeouts();
  sys_timeout(ms, count_cb, NULL);

  lwvsock_test_clock_advance(ms - 1);
  sys_check_timeouts();
  ck_assert_int_eq(fired, 0);
  ck_assert_uint_eq(sys_timeouts_sleeptime(), 1);

  lwvsock_test_clock_advance(1);
  sys_check_timeouts();
  ck_assert_int_eq(fired, 1);

  lwvsock_test_clock_advance(10 * ms);
  sys_check_timeouts();
  ck_assert_int_eq(fired, 1);
}

START_TEST(test_clock_drives_timeouts)
{
  check_timeout_fires_at_deadline(5000, 100);
}
END_TEST

START_TEST(test_clock_timeouts_across_wrap)
{
  check_timeout_fires_at_deadline(0xffffff00u, 0x200);
}
END_TEST

Suite *
lwvsock_test_suite(void)
{
  testfunc tests[] = {
    TESTFUNC(test_clock_set_advance),
    TESTFUNC(test_clock_drives_timeouts),
    TESTFUNC(test_clock_timeouts_across_wrap),
  };
  return create_suite("clock", tests, sizeof(tests) / sizeof(tests[0]), setup, teardown);
}
