/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The console: COM1 (16550 UART at 0x3f8), polled, 115200 8N1. Present on
 * q35 and, with -serial, on microvm.
 */
#include "bm.h"

#define COM1 0x3f8u

/** Bounded wait for room in the transmitter (a missing UART reads 0xff: ready). */
#define SERIAL_SPIN_MAX 100000u

void
bm_serial_init(void)
{
  bm_outb(COM1 + 1, 0x00); /* no interrupts */
  bm_outb(COM1 + 3, 0x80); /* DLAB */
  bm_outb(COM1 + 0, 0x01); /* divisor 1: 115200 */
  bm_outb(COM1 + 1, 0x00);
  bm_outb(COM1 + 3, 0x03); /* 8N1 */
  bm_outb(COM1 + 2, 0xc7); /* FIFOs on and cleared */
  bm_outb(COM1 + 4, 0x03); /* DTR, RTS */
}

static void
serial_putc(char c)
{
  unsigned i;

  for (i = 0; i < SERIAL_SPIN_MAX && !(bm_inb(COM1 + 5) & 0x20); i++) {
  }
  bm_outb(COM1, (uint8_t)c);
}

void
bm_serial_write(const char *s, size_t n)
{
  size_t i;

  for (i = 0; i < n; i++) {
    if (s[i] == '\n') {
      serial_putc('\r');
    }
    serial_putc(s[i]);
  }
}
