/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Test fixture for the protocol suites: a simulated host and an lwvsock device
 * on it, a bounded poll loop on the fake clock, and a small application that
 * records what its callbacks saw.
 */
#ifndef LWVSOCK_PROTO_FIXTURE_H
#define LWVSOCK_PROTO_FIXTURE_H

#include <stddef.h>
#include <stdint.h>

#include "lwvsock/vsock.h"
#include "lwvsock/sim.h"

struct fx {
  struct lwvsock_sim *sim;
  struct lwvsock_dev *dev;
  unsigned pcbs_before;  /* pcbs in use when fx_setup() ran */
};

/** Open a device on a new sim (cfg NULL: defaults). Fails the test on error. */
void fx_open(struct fx *f, const struct lwvsock_sim_config *cfg);
/** Close the device (destroys the sim). */
void fx_close(struct fx *f);
/** A suite's setup: the fake clock at 1000 ms, then fx_open() with defaults. */
void fx_setup(struct fx *f);
/** A suite's teardown: fx_close(), then fail on any pcb or lwIP memory leaked since fx_setup(). */
void fx_teardown(struct fx *f);
/** Poll @p n times without moving the clock. */
void fx_run(struct fx *f, int n);
/** Poll while advancing the fake clock by @p ms in 10 ms steps. */
void fx_advance(struct fx *f, uint32_t ms);
/** Poll until @p cond(arg) holds, at most @p max polls; returns whether it held. */
int fx_until(struct fx *f, int (*cond)(void *), void *arg, int max);

/** What one connection's callbacks saw. */
struct app {
  struct lwvsock_pcb *pcb;
  uint8_t *buf;          /* received bytes, up to cap */
  size_t cap, len;
  uint64_t total;        /* all bytes received */
  uint64_t verified;     /* bytes matching the pattern (when check_pattern) */
  int check_pattern;
  int mismatch;
  int hold;              /* do not call recved: the application is slow */
  uint64_t held;         /* bytes received and not recved */
  int refuse;            /* return ERR_MEM from recv this many times */
  int fin;               /* recv(NULL) seen */
  int connected;
  int err_called;
  err_t err;
  uint32_t sent;         /* bytes reported by sent() */
  int msgs;              /* recv calls with data */
  uint32_t msg_len[64];  /* their lengths (first 64) */
  struct app *accepted;  /* listeners: where accepted connections go */
  int naccepted, max_accepted;
  int delay_backlog;
};

/** Set callbacks of @p pcb to record into @p a. */
void app_attach(struct app *a, struct lwvsock_pcb *pcb);
/** Listener accept callback target: accepted pcbs go to l->accepted[l->naccepted++]. */
err_t app_accept(void *arg, struct lwvsock_pcb *newpcb, err_t err);
err_t app_connected(void *arg, struct lwvsock_pcb *pcb, err_t err);
/** The application consumes everything it held. */
void app_release(struct app *a);

/** Deterministic test data: byte at stream offset @p off. */
uint8_t pattern_byte(uint64_t off);
void pattern_fill(uint8_t *dst, uint64_t off, size_t len);

/**
 * Connect a new guest pcb of @p type (callbacks recording into @p a) to a host
 * listener on @p port; returns the host's accepted socket. Fails the test on error.
 */
int fx_guest_connect(struct fx *f, struct app *a, uint16_t type, uint32_t port);

/**
 * Read up to @p cap bytes from host socket @p h into @p buf, polling between
 * reads (bounded); stops early at end of stream. Returns the bytes read.
 */
size_t fx_host_read(struct fx *f, int h, uint8_t *buf, size_t cap);

/**
 * Two pcbs of this device connected to each other through @p cid (the
 * in-driver loopback): a listener on port 7 recording into @p l, its one
 * accepted connection in @p acc[0], and a client recording into @p c whose
 * received bytes go to @p buf (up to @p cap). Fails the test unless the
 * client is connected and accepted. The pcbs are returned in @p lp and @p cp.
 */
void fx_loopback_pair(struct fx *f, uint32_t cid, struct app *l, struct app *acc, struct app *c,
                      uint8_t *buf, size_t cap, struct lwvsock_pcb **lp, struct lwvsock_pcb **cp);

/** End a connection from both sides: the guest closes @p pcb, then the host closes @p h. */
void fx_end_pair(struct fx *f, struct lwvsock_pcb *pcb, int h);

struct vsock_hdr;
/**
 * Hand header @p h, exactly as given, and @p len payload bytes to the device as
 * the sim's host would deliver a packet. Fails the test if the sim refuses.
 */
void fx_inject(struct fx *f, const struct vsock_hdr *h, const void *payload, uint32_t len);

/** lwvsock pcbs in use (our pool). */
unsigned fx_pcbs_in_use(void);

#endif
