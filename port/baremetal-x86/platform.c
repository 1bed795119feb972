/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Boot information and the rest of what the platform owes lwIP: the PVH
 * start_info (Xen's arch-x86/hvm/start_info.h, version 0 fields only),
 * halting, and LWIP_RAND.
 */
#include <stdlib.h>

#include "arch/cc.h"
#include "bm.h"

#define HVM_START_MAGIC 0x336ec578u

struct hvm_start_info {
  uint32_t magic;
  uint32_t version;
  uint32_t flags;
  uint32_t nr_modules;
  uint64_t modlist_paddr;
  uint64_t cmdline_paddr;
  uint64_t rsdp_paddr;
};

const char *
bm_boot_cmdline(const void *start_info)
{
  const struct hvm_start_info *si = (const struct hvm_start_info *)start_info;

  /* Paging is off: a physical address below 4 GiB is a pointer. */
  if (si == NULL || si->magic != HVM_START_MAGIC || si->cmdline_paddr == 0 ||
      si->cmdline_paddr > 0xffffffffu) {
    return "";
  }
  return (const char *)(uintptr_t)si->cmdline_paddr;
}

_Noreturn void
bm_halt(void)
{
  for (;;) {
    __asm__ volatile("cli; hlt");
  }
}

_Noreturn void
abort(void)
{
  static const char msg[] = "lwvsock-appliance: abort: halted\n";

  bm_serial_write(msg, sizeof(msg) - 1);
  bm_halt();
}

/** xorshift32 seeded from the TSC: varies per boot, which is all ports and ISNs need. */
unsigned int
bm_rand(void)
{
  static uint32_t s;

  if (s == 0) {
    s = (uint32_t)bm_rdtsc() | 1u;
  }
  s ^= s << 13;
  s ^= s >> 17;
  s ^= s << 5;
  return s;
}
