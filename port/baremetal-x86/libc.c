/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The few C library functions the image needs, freestanding: string and
 * memory functions, vsnprintf, and console output. Written for clarity, not
 * speed, except memcpy/memset (rep movs/stos), which move every payload.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bm.h"

/* ---- memory and strings ---------------------------------------------------------- */

void *
memcpy(void *dst, const void *src, size_t n)
{
  void *d = dst;

  __asm__ volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
  return dst;
}

void *
memmove(void *dst, const void *src, size_t n)
{
  uint8_t *d = (uint8_t *)dst;
  const uint8_t *s = (const uint8_t *)src;

  if (d <= s || d >= s + n) {
    return memcpy(dst, src, n);
  }
  while (n-- > 0) {
    d[n] = s[n];
  }
  return dst;
}

void *
memset(void *dst, int c, size_t n)
{
  void *d = dst;

  __asm__ volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(c) : "memory");
  return dst;
}

int
memcmp(const void *a, const void *b, size_t n)
{
  const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
  size_t i;

  for (i = 0; i < n; i++) {
    if (x[i] != y[i]) {
      return x[i] - y[i];
    }
  }
  return 0;
}

size_t
strlen(const char *s)
{
  size_t n = 0;

  while (s[n] != '\0') {
    n++;
  }
  return n;
}

int
strncmp(const char *a, const char *b, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++) {
    if (a[i] != b[i] || a[i] == '\0') {
      return (unsigned char)a[i] - (unsigned char)b[i];
    }
  }
  return 0;
}

int
strcmp(const char *a, const char *b)
{
  return strncmp(a, b, SIZE_MAX);
}

static int
lower(int c)
{
  return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c;
}

int
strncasecmp(const char *a, const char *b, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++) {
    int x = lower((unsigned char)a[i]), y = lower((unsigned char)b[i]);
    if (x != y || x == '\0') {
      return x - y;
    }
  }
  return 0;
}

int
strcasecmp(const char *a, const char *b)
{
  return strncasecmp(a, b, SIZE_MAX);
}

char *
strchr(const char *s, int c)
{
  for (;; s++) {
    if (*s == (char)c) {
      return (char *)(uintptr_t)s;
    }
    if (*s == '\0') {
      return NULL;
    }
  }
}

char *
strrchr(const char *s, int c)
{
  const char *last = NULL;

  for (;; s++) {
    if (*s == (char)c) {
      last = s;
    }
    if (*s == '\0') {
      return (char *)(uintptr_t)last;
    }
  }
}

size_t
strcspn(const char *s, const char *reject)
{
  size_t n = 0;

  while (s[n] != '\0' && strchr(reject, s[n]) == NULL) {
    n++;
  }
  return n;
}

char *
strpbrk(const char *s, const char *accept)
{
  s += strcspn(s, accept);
  return *s != '\0' ? (char *)(uintptr_t)s : NULL;
}

char *
strstr(const char *hay, const char *needle)
{
  size_t n = strlen(needle);

  for (; *hay != '\0'; hay++) {
    if (strncmp(hay, needle, n) == 0) {
      return (char *)(uintptr_t)hay;
    }
  }
  return n == 0 ? (char *)(uintptr_t)hay : NULL;
}

int
atoi(const char *s)
{
  int v = 0, neg = *s == '-';

  for (s += neg; *s >= '0' && *s <= '9'; s++) {
    v = v * 10 + (*s - '0');
  }
  return neg ? -v : v;
}

/* ---- formatting -------------------------------------------------------------------- */

/** Output cursor: counts every byte, stores those that fit (C99 snprintf). */
struct fmt_out {
  char *buf;
  size_t size;
  size_t n;
};

static void
fmt_put(struct fmt_out *o, char c)
{
  if (o->n + 1 < o->size) {
    o->buf[o->n] = c;
  }
  o->n++;
}

static void
fmt_pad(struct fmt_out *o, char c, int count)
{
  while (count-- > 0) {
    fmt_put(o, c);
  }
}

/** One number: @p v in @p base, with sign, width and zero padding. */
static void
fmt_num(struct fmt_out *o, unsigned long long v, unsigned base, int neg, int upper,
        int width, int left, int zero)
{
  const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char tmp[24];
  int len = 0, total;

  do {
    tmp[len++] = digits[v % base];
    v /= base;
  } while (v != 0);
  total = len + (neg ? 1 : 0);
  if (!left && !zero) {
    fmt_pad(o, ' ', width - total);
  }
  if (neg) {
    fmt_put(o, '-');
  }
  if (!left && zero) {
    fmt_pad(o, '0', width - total);
  }
  while (len > 0) {
    fmt_put(o, tmp[--len]);
  }
  if (left) {
    fmt_pad(o, ' ', width - total);
  }
}

int
vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
  struct fmt_out o = { buf, size, 0 };

  for (; *fmt != '\0'; fmt++) {
    int left = 0, zero = 0, width = 0, prec = -1, lng = 0;
    unsigned long long u;
    long long s;

    if (*fmt != '%') {
      fmt_put(&o, *fmt);
      continue;
    }
    for (fmt++; *fmt == '-' || *fmt == '0'; fmt++) {
      left |= *fmt == '-';
      zero |= *fmt == '0';
    }
    if (*fmt == '*') {
      width = va_arg(ap, int);
      fmt++;
    }
    for (; *fmt >= '0' && *fmt <= '9'; fmt++) {
      width = width * 10 + (*fmt - '0');
    }
    if (*fmt == '.') {
      fmt++;
      prec = 0;
      if (*fmt == '*') {
        prec = va_arg(ap, int);
        fmt++;
      }
      for (; *fmt >= '0' && *fmt <= '9'; fmt++) {
        prec = prec * 10 + (*fmt - '0');
      }
    }
    /* lng: 0 int, 1 long, 2 long long, 3 size_t; hh and h promote to int. */
    for (; *fmt == 'l' || *fmt == 'h' || *fmt == 'z'; fmt++) {
      lng = *fmt == 'l' ? lng + 1 : *fmt == 'z' ? 3 : lng;
    }
    switch (*fmt) {
      case 'd':
      case 'i':
        s = lng == 2 ? va_arg(ap, long long) : lng == 1 ? va_arg(ap, long)
          : lng == 3 ? (long long)va_arg(ap, size_t) : va_arg(ap, int);
        u = s < 0 ? 0ull - (unsigned long long)s : (unsigned long long)s;
        fmt_num(&o, u, 10, s < 0, 0, width, left, zero);
        break;
      case 'u':
      case 'x':
      case 'X':
        u = lng == 2 ? va_arg(ap, unsigned long long) : lng == 1 ? va_arg(ap, unsigned long)
          : lng == 3 ? va_arg(ap, size_t) : va_arg(ap, unsigned);
        fmt_num(&o, u, *fmt == 'u' ? 10u : 16u, 0, *fmt == 'X', width, left, zero);
        break;
      case 'p':
        fmt_put(&o, '0');
        fmt_put(&o, 'x');
        fmt_num(&o, (uintptr_t)va_arg(ap, void *), 16, 0, 0, 0, 0, 0);
        break;
      case 'c':
        fmt_put(&o, (char)va_arg(ap, int));
        break;
      case 's': {
        const char *str = va_arg(ap, const char *);
        int len = 0;
        if (str == NULL) {
          str = "(null)";
        }
        while (str[len] != '\0' && (prec < 0 || len < prec)) {
          len++;
        }
        if (!left) {
          fmt_pad(&o, ' ', width - len);
        }
        for (s = 0; s < len; s++) {
          fmt_put(&o, str[s]);
        }
        if (left) {
          fmt_pad(&o, ' ', width - len);
        }
        break;
      }
      case '%':
        fmt_put(&o, '%');
        break;
      default:
        /* An unknown conversion is shown, not silently dropped. */
        fmt_put(&o, '%');
        if (*fmt == '\0') {
          fmt--;
        } else {
          fmt_put(&o, *fmt);
        }
        break;
    }
  }
  if (size > 0) {
    buf[o.n < size ? o.n : size - 1] = '\0';
  }
  return (int)o.n;
}

int
snprintf(char *buf, size_t size, const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vsnprintf(buf, size, fmt, ap);
  va_end(ap);
  return n;
}

/* ---- console output ------------------------------------------------------------------ */

/** Both streams are the serial console; the type only has to exist. */
struct bm_file {
  int unused;
};
static struct bm_file console;
FILE *const stdout = &console;
FILE *const stderr = &console;

int
vfprintf(FILE *f, const char *fmt, va_list ap)
{
  char line[512];
  int n;

  (void)f;
  n = vsnprintf(line, sizeof(line), fmt, ap);
  if (n >= (int)sizeof(line)) {
    /* Longer lines are cut, and the cut is shown. */
    bm_serial_write(line, sizeof(line) - 1);
    bm_serial_write("...\n", 4);
  } else {
    bm_serial_write(line, (size_t)n);
  }
  return n;
}

int
fprintf(FILE *f, const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vfprintf(f, fmt, ap);
  va_end(ap);
  return n;
}

int
printf(const char *fmt, ...)
{
  va_list ap;
  int n;

  va_start(ap, fmt);
  n = vfprintf(stdout, fmt, ap);
  va_end(ap);
  return n;
}

int
fputs(const char *s, FILE *f)
{
  (void)f;
  bm_serial_write(s, strlen(s));
  return 0;
}

int
fputc(int c, FILE *f)
{
  char ch = (char)c;

  (void)f;
  bm_serial_write(&ch, 1);
  return (unsigned char)ch;
}

int
fflush(FILE *f)
{
  (void)f;
  return 0;
}
