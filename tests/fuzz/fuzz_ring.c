/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * libFuzzer target: a well-configured device that then does whatever the input
 * says with the rings: used entries with any id and length on rx, tx and the
 * event queue, rx buffers filled with arbitrary packets, event-queue entries
 * and CID changes (see fuzzdev.c).
 */
#include "fuzzdev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct fuzz_in in = { data, size };

  fuzzdev_run(&in, false);
  return 0;
}
