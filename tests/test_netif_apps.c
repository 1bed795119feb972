/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Unit tests of examples/netif_apps.c, the lwIP TCP/IP side of the netif
 * programs: its page server and its fetch talk to each other over lwIP's
 * loopback interface (127.0.0.1), driven by the fake clock.
 */
#include "lwvsock_check.h"

#include <string.h>

#include "lwip/netif.h"
#include "lwip/tcp.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/timeouts.h"
#include "netif_apps.h"

/* Loop turns a wait may take (1 ms of fake time each). */
#define TURNS_MAX 20000
#define PORT 8081

struct got {
  uint8_t *buf;
  size_t len, cap;
  int done;
  char status[16];
  uint64_t body_len;
  const char *why;
};

static struct ex_ctx ctx;
static uint8_t page[200000];
static uint8_t body[sizeof(page) + 16];

static void
loop_turns(int turns, u32_t ms)
{
  while (turns-- > 0) {
    lwvsock_test_clock_advance(ms);
    netif_poll_all();
    sys_check_timeouts();
  }
}

static void
on_body(void *arg, const uint8_t *data, size_t len)
{
  struct got *g = (struct got *)arg;

  ck_assert_uint_le(g->len + len, g->cap);
  memcpy(g->buf + g->len, data, len);
  g->len += len;
}

static void
on_done(void *arg, const char *status, uint64_t body_len, const char *why)
{
  struct got *g = (struct got *)arg;

  ck_assert_int_eq(g->done, 0);
  g->done = 1;
  strncpy(g->status, status, sizeof(g->status) - 1);
  g->body_len = body_len;
  g->why = why;
}

/* Fetch "127.0.0.1:PORT/" into @p g and run the loop until it is done. */
static void
fetch_local(struct na_fetch *f, struct got *g, uint16_t port)
{
  char target[32];
  int turns = 0;

  snprintf(target, sizeof(target), "127.0.0.1:%u/index.html", (unsigned)port);
  memset(f, 0, sizeof(*f));
  ck_assert_int_eq(na_fetch_parse(f, target), 0);
  ck_assert_str_eq(f->path, "/index.html");
  f->body = on_body;
  f->done = on_done;
  f->arg = g;
  ck_assert_int_eq(na_fetch_start(f), ERR_OK);
  while (!g->done && turns++ < TURNS_MAX) {
    loop_turns(1, 1);
  }
  ck_assert_int_eq(g->done, 1);
}

static void
setup(void)
{
  ex_ctx_init(&ctx, "test_netif_apps");
  for (size_t i = 0; i < sizeof(page); i++) {
    page[i] = (uint8_t)(i * 7 + (i >> 9));
  }
}

static void
teardown(void)
{
  /* TIME_WAIT pcbs go after 2 * TCP_MSL */
  loop_turns(2 * TCP_MSL / 250 + 100, 250);
  lwvsock_check_ensure_no_alloc(0);
}

START_TEST(test_netif_apps_fetch_page)
{
  /* 200000 bytes: several windows; the page goes out in place, the header copied */
  struct tcp_pcb *l = na_page_server_start(PORT, page, sizeof(page));
  struct got g = { .buf = body, .cap = sizeof(body) };
  struct na_fetch f;

  ck_assert_ptr_nonnull(l);
  fetch_local(&f, &g, PORT);
  ck_assert_ptr_null(g.why);
  ck_assert_str_eq(g.status, "HTTP/1.0 200");
  ck_assert_uint_eq(g.body_len, sizeof(page));
  ck_assert_uint_eq(g.len, sizeof(page));
  ck_assert(memcmp(body, page, sizeof(page)) == 0);
  /* a second client is served the same */
  memset(&g, 0, sizeof(g));
  g.buf = body;
  g.cap = sizeof(body);
  fetch_local(&f, &g, PORT);
  ck_assert_ptr_null(g.why);
  ck_assert_uint_eq(g.len, sizeof(page));
  ck_assert(memcmp(body, page, sizeof(page)) == 0);
  ck_assert_int_eq(tcp_close(l), ERR_OK);
}
END_TEST

START_TEST(test_netif_apps_fetch_refused)
{
  /* nothing listens: the RST ends the fetch with a reason, once */
  struct got g = { .buf = body, .cap = sizeof(body) };
  struct na_fetch f;

  fetch_local(&f, &g, PORT + 1);
  ck_assert_ptr_nonnull(g.why);
  ck_assert_uint_eq(g.len, 0);
}
END_TEST

START_TEST(test_netif_apps_server_port_taken)
{
  struct tcp_pcb *l = na_page_server_start(PORT, page, 10);

  ck_assert_ptr_nonnull(l);
  ck_assert_ptr_null(na_page_server_start(PORT, page, 10));
  ck_assert_int_eq(tcp_close(l), ERR_OK);
}
END_TEST

START_TEST(test_netif_apps_fetch_parse)
{
  static const char *const bad[] = {
    "", "10.0.2.2", "10.0.2.2:", "10.0.2.2:0", "10.0.2.2:65536", "10.0.2.2:99999999999",
    "10.0.2.2:80x", "10.0.2.2:x80", "host:80", "10.0.2.2.7:80", "1234567890123456:80", ":80/",
  };
  struct na_fetch f;

  memset(&f, 0, sizeof(f));
  ck_assert_int_eq(na_fetch_parse(&f, "10.0.2.2:8000"), 0);
  ck_assert_uint_eq(f.port, 8000);
  ck_assert_str_eq(f.path, "/");
  ck_assert_str_eq(ip4addr_ntoa(&f.ip), "10.0.2.2");
  ck_assert_int_eq(na_fetch_parse(&f, "192.168.1.20:65535/a/b.bin"), 0);
  ck_assert_uint_eq(f.port, 65535);
  ck_assert_str_eq(f.path, "/a/b.bin");
  for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    ck_assert_msg(na_fetch_parse(&f, bad[i]) == -1, "'%s' was accepted", bad[i]);
    /* f is unchanged by a failure */
    ck_assert_uint_eq(f.port, 65535);
  }
}
END_TEST

Suite *
lwvsock_test_suite(void)
{
  testfunc tests[] = {
    TESTFUNC(test_netif_apps_fetch_page),
    TESTFUNC(test_netif_apps_fetch_refused),
    TESTFUNC(test_netif_apps_server_port_taken),
    TESTFUNC(test_netif_apps_fetch_parse),
  };
  return create_suite("netif_apps", tests, sizeof(tests) / sizeof(tests[0]), setup, teardown);
}
