/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The helpers of lwvsock_check.h: suites of one test case per test, and the
 * leak check against what lwip_init() itself leaves allocated. Linked by every
 * test program (tests/check_main.c) and by programs that reuse the fixtures.
 */
#include "lwvsock_check.h"

#include "lwip/stats.h"
#include "lwvsock_priv.h"

/* Pool names in memp_t order, from the same list lwIP builds memp_t from. */
static const char *const pool_names[] = {
#define LWIP_MEMPOOL(name, num, size, desc) #name,
#include "lwip/priv/memp_std.h"
};

/* Usage right after lwip_init(): lwIP's own cyclic timers (SYS_TIMEOUT) are not leaks. */
static mem_size_t mem_baseline;
static u16_t memp_baseline[MEMP_MAX];

_Static_assert(MEMP_MAX < 63, "SKIP_POOL() bits stay below SKIP_LWVSOCK_PCB");
_Static_assert(sizeof(pool_names) / sizeof(pool_names[0]) == MEMP_MAX, "pool name table matches memp_t");

Suite *
create_suite(const char *name, testfunc *tests, size_t num_tests, SFun setup, SFun teardown)
{
  size_t i;
  Suite *s = suite_create(name);

  /* One test case per test, tagged with the test's name: CK_INCLUDE_TAGS=name runs just it. */
  for (i = 0; i < num_tests; i++) {
    TCase *tc = tcase_create(name);
    tcase_set_tags(tc, tests[i]->name);
    if ((setup != NULL) || (teardown != NULL)) {
      tcase_add_checked_fixture(tc, setup, teardown);
    }
    tcase_add_test(tc, tests[i]);
    suite_add_tcase(s, tc);
  }
  return s;
}

void
lwvsock_check_ensure_no_alloc(unsigned long long skip)
{
  int i;

  if (!(skip & SKIP_HEAP)) {
    ck_assert_msg(lwip_stats.mem.used == mem_baseline,
                  "lwIP heap: %lu bytes in use, %lu after lwip_init()",
                  (unsigned long)lwip_stats.mem.used, (unsigned long)mem_baseline);
  }
  for (i = 0; i < MEMP_MAX; i++) {
    if (!(skip & SKIP_POOL(i))) {
      ck_assert_msg(lwip_stats.memp[i]->used == memp_baseline[i],
                    "memp pool %s: %lu in use, %lu after lwip_init()", pool_names[i],
                    (unsigned long)lwip_stats.memp[i]->used, (unsigned long)memp_baseline[i]);
    }
  }
  /* lwvsock's private pool (src/pcb.c) is not one of lwIP's memp_t pools. */
  if (!(skip & SKIP_LWVSOCK_PCB)) {
    ck_assert_msg(memp_LWVSOCK_PCB.stats->used == 0, "lwvsock pcb pool: %lu in use",
                  (unsigned long)memp_LWVSOCK_PCB.stats->used);
  }
}

void
lwvsock_check_record_baseline(void)
{
  int i;

  mem_baseline = lwip_stats.mem.used;
  for (i = 0; i < MEMP_MAX; i++) {
    memp_baseline[i] = lwip_stats.memp[i]->used;
  }
}
