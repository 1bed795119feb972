/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The appliance's freestanding <stdlib.h>: the image's own allocator (a
 * first-fit free list over a static heap, port/baremetal-x86/heap.c) and abort.
 */
#ifndef BM_STDLIB_H
#define BM_STDLIB_H

#include <stddef.h>

void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void free(void *p);
/** @p size bytes aligned to @p align (a power of two); release with free(). */
void *aligned_alloc(size_t align, size_t size);
_Noreturn void abort(void);
/** Decimal digits at the start of @p s (lwIP parses interface names with it). */
int atoi(const char *s);

#endif /* BM_STDLIB_H */
