/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * libFuzzer target: device bring-up from the input (offered features, config
 * space with the CID, queue sizes, failing backend operations), then a short
 * session on whatever came up (see fuzzdev.c).
 */
#include "fuzzdev.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct fuzz_in in = { data, size };

  fuzzdev_run(&in, true);
  return 0;
}
