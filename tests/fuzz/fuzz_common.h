/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Shared pieces of the libFuzzer targets (tests/fuzz/fuzz_*.c): a fake clock,
 * lwIP brought up once per process, a leak check of lwIP's heap and pools
 * (libFuzzer's own leak check sees only malloc), and a reader that turns the
 * fuzzer's bytes into values (zeros once the input runs out).
 */
#ifndef LWVSOCK_FUZZ_COMMON_H
#define LWVSOCK_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/** The fuzzer's input, consumed front to back. */
struct fuzz_in {
  const uint8_t *p;
  size_t n;
};

uint8_t in_u8(struct fuzz_in *in);
uint16_t in_u16(struct fuzz_in *in);
uint32_t in_u32(struct fuzz_in *in);
/** Copy up to @p len bytes into @p dst, zero-filling what the input lacks. */
void in_bytes(struct fuzz_in *in, void *dst, size_t len);

/** lwip_init() on the first call; reset the clock and LWIP_RAND on every call. */
void fuzz_begin(void);
/** Abort when lwIP's heap, a memp pool or the lwvsock pcb pool holds more than at the start. */
void fuzz_check_no_leak(void);
/** Move the fake sys_now() clock. */
void fuzz_clock_advance(uint32_t ms);

/* ---- a small application on the guest side ------------------------------------- */

struct lwvsock_dev;
struct lwvsock_pcb;

#define FUZZ_CONNS 8
#define FUZZ_HELD  8

/** The application's pcbs; a slot's pcb is NULL once closed or failed. */
struct fuzz_conn {
  struct lwvsock_pcb *pcb;
  int hold;                       /* keep received pbufs instead of consuming them */
  struct pbuf *held[FUZZ_HELD];
  int nheld;
  uint32_t held_bytes;
};
extern struct fuzz_conn fuzz_conns[FUZZ_CONNS];

/** Forget all slots (call before a device is opened). */
void fuzz_app_reset(void);
/** Give @p pcb a slot and the application's callbacks; aborts it when none is free. */
void fuzz_app_attach(struct lwvsock_pcb *pcb);
/** Open a guest listener on @p port whose connections get slots. NULL on failure. */
struct lwvsock_pcb *fuzz_app_listen(struct lwvsock_dev *dev, uint32_t port);
/** One application action chosen by the input: write, consume, close, shutdown, abort, connect... */
void fuzz_app_action(struct lwvsock_dev *dev, struct fuzz_in *in);
/** Close every slot (orderly), as an application would at the end. */
void fuzz_app_close_all(void);
/** Free pbufs the application still holds (may run after the device is closed). */
void fuzz_app_release(void);

#endif
