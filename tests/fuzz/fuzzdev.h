/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * A scriptable virtio-vsock device for the fuzz targets: the fuzzer's bytes
 * decide what the device does (see fuzzdev.c).
 */
#ifndef LWVSOCK_FUZZDEV_H
#define LWVSOCK_FUZZDEV_H

#include <stdbool.h>

#include "fuzz_common.h"

/**
 * Run one input: bring a device up (with bring-up parameters from the input
 * when @p fuzz_bringup, else a well-behaved device), then replay the rest as
 * device actions (rx/tx/event completions, raw used-ring writes) and
 * application actions; close and check for leaks.
 */
void fuzzdev_run(struct fuzz_in *in, bool fuzz_bringup);

#endif
