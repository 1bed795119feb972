/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Load suite: 1000 connections open at once, and 1 GiB moved each way through
 * the simulated host with every byte checked.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwvsock_check.h"
#include "proto_fixture.h"
#include "lwip/def.h"

#define NCONN 1000
#define GIB   (1024ull * 1024ull * 1024ull)

static struct fx f;

static void
load_setup(void)
{
  fx_setup(&f);
}

static void
load_teardown(void)
{
  fx_teardown(&f);
}

START_TEST(test_1000_connections)
{
  static struct app acc[NCONN];
  static int hs[NCONN];
  struct app l = {0};
  struct lwvsock_pcb *lp = lwvsock_new(f.dev, LWVSOCK_STREAM);
  struct lwvsock_dev_stats st;
  int i, echoed = 0;
  uint8_t b;

  memset(acc, 0, sizeof(acc));
  ck_assert_int_eq(lwvsock_bind(lp, LWVSOCK_CID_ANY, 80), ERR_OK);
  ck_assert_ptr_eq(lwvsock_listen_with_backlog(lp, 255, NULL), lp);
  l.accepted = acc;
  l.max_accepted = NCONN;
  lwvsock_arg(lp, &l);
  lwvsock_accept(lp, app_accept);
  for (i = 0; i < NCONN; i++) {
    hs[i] = lwvsock_sim_connect(f.sim, 80, LWVSOCK_STREAM);
    ck_assert_int_ge(hs[i], 0);
    if (i % 64 == 63) {
      fx_run(&f, 2);
    }
  }
  fx_run(&f, 20);
  ck_assert_int_eq(l.naccepted, NCONN);
  lwvsock_dev_get_stats(f.dev, &st);
  ck_assert_uint_eq(st.conns_active, NCONN);
  /* Every connection carries a byte each way, all open at the same time. */
  for (i = 0; i < NCONN; i++) {
    ck_assert_int_eq(lwvsock_sim_state(f.sim, hs[i]), LWVSOCK_SIM_CONNECTED);
    b = (uint8_t)i;
    ck_assert_int_eq(lwvsock_sim_send(f.sim, hs[i], &b, 1), 1);
    ck_assert_int_eq(lwvsock_write(acc[i].pcb, &b, 1, 0), ERR_OK);
  }
  fx_run(&f, 40);
  for (i = 0; i < NCONN; i++) {
    ck_assert_uint_eq(acc[i].total, 1);
    if (lwvsock_sim_recv(f.sim, hs[i], &b, 1) == 1 && b == (uint8_t)i) {
      echoed++;
    }
  }
  ck_assert_int_eq(echoed, NCONN);
  for (i = 0; i < NCONN; i++) {
    ck_assert_int_eq(lwvsock_close(acc[i].pcb), ERR_OK);
  }
  lwvsock_close(lp);
  fx_run(&f, 40);
  for (i = 0; i < NCONN; i++) {
    ck_assert_int_eq(lwvsock_sim_state(f.sim, hs[i]), LWVSOCK_SIM_CLOSED);
    lwvsock_sim_close(f.sim, hs[i]);
  }
  fx_run(&f, 5);
  lwvsock_dev_get_stats(f.dev, &st);
  ck_assert_uint_eq(st.conns_active, 0);
}
END_TEST

START_TEST(test_1gib_guest_to_host)
{
  static uint8_t chunk[64 * 1024], got[256 * 1024], expect[256 * 1024];
  struct app a = {0};
  uint64_t sent = 0, recvd = 0;
  int h = fx_guest_connect(&f, &a, LWVSOCK_STREAM, 7000), iters = 0;

  while (recvd < GIB && iters++ < 2000000) {
    uint32_t room = lwvsock_sndbuf(a.pcb);
    while (sent < GIB && room > 0) {
      uint32_t n = (uint32_t)LWIP_MIN((uint64_t)LWIP_MIN(room, sizeof(chunk)), GIB - sent);
      pattern_fill(chunk, sent, n);
      ck_assert_int_eq(lwvsock_write(a.pcb, chunk, n, 0), ERR_OK);
      sent += n;
      room = lwvsock_sndbuf(a.pcb);
    }
    lwvsock_dev_poll(f.dev, 0);
    for (;;) {
      ssize_t r = lwvsock_sim_recv(f.sim, h, got, sizeof(got));
      if (r <= 0) {
        break;
      }
      pattern_fill(expect, recvd, (size_t)r);
      ck_assert_msg(memcmp(got, expect, (size_t)r) == 0, "stream corrupt near offset %llu",
                    (unsigned long long)recvd);
      recvd += (uint64_t)r;
    }
  }
  ck_assert_uint_eq(recvd, GIB);
  ck_assert_uint_eq(a.sent, (uint32_t)GIB); /* sent() reported every byte (mod 2^32) */
  ck_assert_int_eq(a.err_called, 0);
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

START_TEST(test_1gib_host_to_guest)
{
  static uint8_t chunk[256 * 1024];
  struct app a = {0};
  uint64_t sent = 0;
  int h = fx_guest_connect(&f, &a, LWVSOCK_STREAM, 7001), iters = 0;

  a.check_pattern = 1;
  while (a.total < GIB && iters++ < 2000000) {
    while (sent < GIB) {
      size_t n = (size_t)LWIP_MIN((uint64_t)sizeof(chunk), GIB - sent);
      ssize_t r;
      pattern_fill(chunk, sent, n);
      r = lwvsock_sim_send(f.sim, h, chunk, n);
      if (r <= 0) {
        break;
      }
      sent += (uint64_t)r;
    }
    lwvsock_dev_poll(f.dev, 0);
  }
  ck_assert_uint_eq(a.total, GIB);
  ck_assert_uint_eq(a.verified, GIB);
  ck_assert_int_eq(a.mismatch, 0);
  ck_assert_int_eq(a.err_called, 0);
  fx_end_pair(&f, a.pcb, h);
}
END_TEST

Suite *
lwvsock_test_suite(void)
{
  Suite *s = suite_create("LOAD");
  TCase *tc = tcase_create("LOAD");

  tcase_add_checked_fixture(tc, load_setup, load_teardown);
  tcase_set_timeout(tc, 600);
  tcase_add_test(tc, test_1000_connections);
  tcase_add_test(tc, test_1gib_guest_to_host);
  tcase_add_test(tc, test_1gib_host_to_guest);
  suite_add_tcase(s, tc);
  return s;
}
