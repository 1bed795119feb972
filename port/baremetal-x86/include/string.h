/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The appliance's freestanding <string.h>: only what lwIP, lwvsock and the
 * example servers call (port/baremetal-x86/libc.c).
 */
#ifndef BM_STRING_H
#define BM_STRING_H

#include <stddef.h>

void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
char *strchr(const char *s, int c);
char *strrchr(const char *s, int c);
char *strpbrk(const char *s, const char *accept);
size_t strcspn(const char *s, const char *reject);
char *strstr(const char *hay, const char *needle);

#endif /* BM_STRING_H */
