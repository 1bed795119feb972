/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The appliance's freestanding <stdio.h>: formatting (vsnprintf: flags
 * "-0", width, precision, length hh/h/l/ll/z, conversions d i u x X c s p %)
 * and output to the serial console. stdout and stderr are both the console.
 */
#ifndef BM_STDIO_H
#define BM_STDIO_H

#include <stdarg.h>
#include <stddef.h>

typedef struct bm_file FILE;
extern FILE *const stdout;
extern FILE *const stderr;

int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
  __attribute__((format(printf, 3, 0)));
int snprintf(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int vfprintf(FILE *f, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
int fprintf(FILE *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int fputs(const char *s, FILE *f);
int fputc(int c, FILE *f);
/** The console is unbuffered: nothing to flush. */
int fflush(FILE *f);

#endif /* BM_STDIO_H */
