/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * sys_now(): the TSC, calibrated against the PIT at boot.
 *
 * The PIT counts at 1193182 Hz on every PC machine QEMU emulates (q35 and
 * microvm). Channel 0 is put in rate-generator mode with the full 65536 count
 * and its latched value read until 50 ms of PIT ticks have passed; the TSC
 * ticks counted over the same span give its rate. The PIT is read, never
 * waited on through port 0x61, which microvm does not have. Interrupts stay
 * off: nothing else uses the PIT.
 */
#include "bm.h"
#include "lwip/sys.h"

#define PIT_HZ          1193182u
#define PIT_CH0         0x40u
#define PIT_CMD         0x43u
#define CAL_PIT_TICKS   (PIT_HZ / 20u)  /* 50 ms */
/** Reads of an unchanging counter before concluding there is no PIT. */
#define CAL_STUCK_MAX   1000000u

static uint32_t tsc_khz;   /**< TSC ticks per millisecond */
static uint64_t tsc_base;  /**< TSC at calibration: sys_now() counts from there */

static uint16_t
pit_read(void)
{
  uint8_t lo, hi;

  bm_outb(PIT_CMD, 0x00); /* latch channel 0 */
  lo = bm_inb(PIT_CH0);
  hi = bm_inb(PIT_CH0);
  return (uint16_t)(lo | (hi << 8));
}

int
bm_clock_init(void)
{
  uint32_t elapsed = 0, stuck = 0;
  uint16_t prev, cur;
  uint64_t t0, t1;

  bm_outb(PIT_CMD, 0x34); /* channel 0, lobyte/hibyte, mode 2, binary */
  bm_outb(PIT_CH0, 0);
  bm_outb(PIT_CH0, 0);    /* count 65536 */
  prev = pit_read();
  t0 = bm_rdtsc();
  while (elapsed < CAL_PIT_TICKS) {
    cur = pit_read();
    if (cur == prev) {
      if (++stuck > CAL_STUCK_MAX) {
        return -1;
      }
      continue;
    }
    stuck = 0;
    elapsed += (uint16_t)(prev - cur); /* counts down, wraps at 65536 */
    prev = cur;
  }
  t1 = bm_rdtsc();
  tsc_khz = (uint32_t)((t1 - t0) * PIT_HZ / ((uint64_t)elapsed * 1000u));
  tsc_base = t0;
  return tsc_khz == 0 ? -1 : 0;
}

uint32_t
bm_clock_khz(void)
{
  return tsc_khz;
}

/** Milliseconds since calibration; wraps at 2^32 as lwIP expects. */
u32_t
sys_now(void)
{
  return (u32_t)((bm_rdtsc() - tsc_base) / tsc_khz);
}
