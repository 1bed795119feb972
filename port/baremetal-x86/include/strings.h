/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The appliance's freestanding <strings.h> (ASCII case-insensitive compares).
 */
#ifndef BM_STRINGS_H
#define BM_STRINGS_H

#include <stddef.h>

int strcasecmp(const char *a, const char *b);
int strncasecmp(const char *a, const char *b, size_t n);

#endif /* BM_STRINGS_H */
