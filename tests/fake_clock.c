/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * sys_now() for the unit tests: time moves only when a test moves it, so timer
 * behaviour (timeouts, poll ticks, retries) is deterministic.
 */
#include "lwvsock_check.h"

#include "lwip/sys.h"

u32_t lwvsock_test_now;

u32_t
sys_now(void)
{
  return lwvsock_test_now;
}

void
lwvsock_test_clock_set(u32_t ms)
{
  lwvsock_test_now = ms;
}

void
lwvsock_test_clock_advance(u32_t ms)
{
  lwvsock_test_now += ms;
}
