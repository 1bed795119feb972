/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * sys_now() for programs running on a POSIX host (lwIP's NO_SYS port contract).
 */
#include <time.h>

#include "lwip/opt.h"
#include "lwip/sys.h"

/** Milliseconds from CLOCK_MONOTONIC; wraps at 2^32 as lwIP expects. */
u32_t
sys_now(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (u32_t)((u64_t)ts.tv_sec * 1000u + (u64_t)ts.tv_nsec / 1000000u);
}
