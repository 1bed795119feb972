/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The altcp provider (src/altcp_vsock.c) against the simulated host: raw altcp
 * connect/listen/echo, callback dispatch, freeing rules, 32-bit ports, and two
 * unmodified lwIP apps: http_client (through an allocator) and httpd (through
 * -Daltcp_tcp_new_ip_type=lwvsock_altcp_new_ip_type, see tests/altcp.mk).
 *
 * Everything runs in one loop: lwvsock_dev_poll() drives the guest and the sim
 * device, sys_check_timeouts() lwIP's timers, and the fake clock moves 1 ms per
 * turn, so each test is deterministic and bounded.
 */
#include "lwvsock_check.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "lwip/altcp.h"
#include "lwip/priv/altcp_priv.h"
#include "lwip/apps/fs.h"
#include "lwip/apps/http_client.h"
#include "lwip/apps/httpd.h"
#include "lwip/stats.h"
#include "lwip/timeouts.h"
#include "lwvsock/altcp_vsock.h"
#include "lwvsock/sim.h"
#include "lwvsock_priv.h"

#if !LWIP_HTTPD_CUSTOM_FILES
#error "tests/altcp.mk builds test_altcp with LWIP_HTTPD_CUSTOM_FILES=1"
#endif

/* The custom-file hooks of httpd's fs.c (it declares them itself, not in a header). */
int fs_open_custom(struct fs_file *file, const char *name);
void fs_close_custom(struct fs_file *file);

/* Loop turns a wait may take (1 ms of fake time each). */
#define TURNS_MAX 20000

static struct lwvsock_sim *sim;
static struct lwvsock_dev *dev;
static altcp_allocator_t vsock_allocator;

/* ---- the loop ------------------------------------------------------------------ */

static void
loop_once(void)
{
  lwvsock_test_clock_advance(1);
  lwvsock_dev_poll(dev, 0);
  sys_check_timeouts();
}

/**
 * Run the loop until @p cond holds or TURNS_MAX turns have passed; evaluates to
 * the last value of cond (which is evaluated once per turn: it may have effects).
 */
#define RUN_UNTIL(cond) \
  ({ int turns_ = 0, ok_; \
     while (!(ok_ = (cond)) && (turns_++ < TURNS_MAX)) { loop_once(); } \
     ok_; })

static void
run_turns(int turns)
{
  while (turns-- > 0) {
    loop_once();
  }
}

static u16_t
altcp_pcbs_used(void)
{
  return lwip_stats.memp[MEMP_ALTCP_PCB]->used;
}

/** lwvsock pcbs in use: a closed pcb is freed once its close handshake is over. */
static u16_t
vsock_pcbs_used(void)
{
  return memp_LWVSOCK_PCB.stats->used;
}

static u64_t
conns_active(void)
{
  struct lwvsock_dev_stats st;
  lwvsock_dev_get_stats(dev, &st);
  return st.conns_active;
}

static ip_addr_t
cid_ip(u32_t cid)
{
  ip_addr_t a;
  lwvsock_altcp_cid_to_ip(cid, &a);
  return a;
}

/* ---- an application that records what happens to one conn ---------------------- */

#define LOG_RX_MAX (512 * 1024)

struct conn_log {
  struct altcp_pcb *conn;
  int connected;
  err_t connected_err;
  int errs;
  err_t err;
  int fin;                /* recv(NULL) seen */
  u8_t *rx;               /* received bytes (LOG_RX_MAX) */
  u32_t rx_len;
  u32_t sent;             /* bytes reported by sent */
  int sent_calls;
  int polls;
  int other_recvs;        /* calls of log_recv_other */
  err_t recv_ret;         /* what log_recv returns (ERR_OK: consume) */
  int close_on_fin;       /* close the conn from recv(NULL) */
  u32_t close_after_sent; /* close the conn from sent once this many bytes are sent */
};

static u8_t rx_store[2][LOG_RX_MAX];

static void
log_init(struct conn_log *lg, int slot)
{
  memset(lg, 0, sizeof(*lg));
  lg->rx = rx_store[slot];
  lg->err = ERR_OK;
  lg->connected_err = ERR_INPROGRESS;
}

static err_t
log_connected(void *arg, struct altcp_pcb *conn, err_t err)
{
  struct conn_log *lg = (struct conn_log *)arg;
  ck_assert_ptr_eq(conn, lg->conn);
  lg->connected++;
  lg->connected_err = err;
  return ERR_OK;
}

static err_t
log_recv(void *arg, struct altcp_pcb *conn, struct pbuf *p, err_t err)
{
  struct conn_log *lg = (struct conn_log *)arg;
  ck_assert_ptr_eq(conn, lg->conn);
  ck_assert_int_eq(err, ERR_OK);
  if (p == NULL) {
    lg->fin++;
    if (lg->close_on_fin) {
      lg->conn = NULL;
      ck_assert_int_eq(altcp_close(conn), ERR_OK);
    }
    return ERR_OK;
  }
  if (lg->recv_ret != ERR_OK) {
    return lg->recv_ret;
  }
  ck_assert_uint_le(lg->rx_len + p->tot_len, LOG_RX_MAX);
  pbuf_copy_partial(p, lg->rx + lg->rx_len, p->tot_len, 0);
  lg->rx_len += p->tot_len;
  altcp_recved(conn, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static err_t
log_recv_other(void *arg, struct altcp_pcb *conn, struct pbuf *p, err_t err)
{
  struct conn_log *lg = (struct conn_log *)arg;
  lg->other_recvs++;
  return log_recv(arg, conn, p, err);
}

static err_t
log_sent(void *arg, struct altcp_pcb *conn, u16_t len)
{
  struct conn_log *lg = (struct conn_log *)arg;
  ck_assert_ptr_eq(conn, lg->conn);
  lg->sent += len;
  lg->sent_calls++;
  if ((lg->close_after_sent != 0) && (lg->sent >= lg->close_after_sent)) {
    lg->conn = NULL;
    ck_assert_int_eq(altcp_close(conn), ERR_OK);
  }
  return ERR_OK;
}

static err_t
log_poll(void *arg, struct altcp_pcb *conn)
{
  struct conn_log *lg = (struct conn_log *)arg;
  ck_assert_ptr_eq(conn, lg->conn);
  lg->polls++;
  return ERR_OK;
}

static void
log_err(void *arg, err_t err)
{
  struct conn_log *lg = (struct conn_log *)arg;
  lg->errs++;
  lg->err = err;
  lg->conn = NULL;
}

/** err callback that uses its conn, as layered apps may: state is NULL by then. */
static struct altcp_pcb *err_conn;
static void
log_err_poke(void *arg, err_t err)
{
  struct altcp_pcb *conn = err_conn;
  ip_addr_t a;
  u16_t port;

  ck_assert_ptr_nonnull(conn);
  ck_assert_ptr_null(conn->state);
  ck_assert_int_eq(altcp_write(conn, "x", 1, TCP_WRITE_FLAG_COPY), ERR_VAL);
  ck_assert_int_eq(altcp_output(conn), ERR_VAL);
  ck_assert_int_eq(altcp_shutdown(conn, 1, 1), ERR_VAL);
  ck_assert_int_eq(altcp_mss(conn), 0);
  ck_assert_int_eq(altcp_sndbuf(conn), 0);
  ck_assert_int_eq(altcp_sndqueuelen(conn), 0);
  ck_assert_ptr_null(altcp_get_ip(conn, 1));
  ck_assert_int_eq(altcp_get_port(conn, 0), 0);
  ck_assert_int_eq(altcp_get_tcp_addrinfo(conn, 0, &a, &port), ERR_VAL);
  ck_assert_int_eq(lwvsock_altcp_port32(conn, 1), LWVSOCK_PORT_ANY);
  ck_assert_ptr_null(lwvsock_altcp_pcb(conn));
  altcp_recved(conn, 10);
  altcp_poll(conn, log_poll, 1);
  altcp_abort(conn);
  /* the provider frees conn when this returns: close must not free it too */
  ck_assert_int_eq(altcp_close(conn), ERR_OK);
  log_err(arg, err);
}

/** A conn to @p cid : @p port, set up with the log callbacks. */
static struct altcp_pcb *
log_connect_cid(struct conn_log *lg, u32_t cid, u16_t port)
{
  ip_addr_t host = cid_ip(cid);
  struct altcp_pcb *conn = altcp_new(&vsock_allocator);
  ck_assert_ptr_nonnull(conn);
  lg->conn = conn;
  altcp_arg(conn, lg);
  altcp_recv(conn, log_recv);
  altcp_sent(conn, log_sent);
  altcp_err(conn, log_err);
  ck_assert_int_eq(altcp_connect(conn, &host, port, log_connected), ERR_OK);
  return conn;
}

/** A conn to the host's @p port, set up with the log callbacks. */
static struct altcp_pcb *
log_connect(struct conn_log *lg, u16_t port)
{
  return log_connect_cid(lg, LWVSOCK_CID_HOST, port);
}

/** Host side: listen on @p port, connect @p lg to it, return the accepted host socket. */
static int
host_pair(struct conn_log *lg, u32_t port, int *lsock)
{
  struct altcp_pcb *conn;
  int ok, hs = -EAGAIN;
  *lsock = lwvsock_sim_listen(sim, port, LWVSOCK_STREAM);
  ck_assert_int_ge(*lsock, 0);
  conn = log_connect(lg, (u16_t)port);
  ck_assert_ptr_nonnull(conn);
  ok = RUN_UNTIL(lg->connected && (hs = lwvsock_sim_accept(sim, *lsock)) >= 0);
  ck_assert(ok);
  ck_assert_int_eq(lg->connected_err, ERR_OK);
  return hs;
}

/** Host side: send all @p len bytes, running the loop while the send buffer is full. */
static int
host_send_all(int hs, const void *buf, size_t len)
{
  const u8_t *b = (const u8_t *)buf;
  size_t off = 0;
  int turns = 0;
  while ((off < len) && (turns++ < TURNS_MAX)) {
    ssize_t n = lwvsock_sim_send(sim, hs, b + off, len - off);
    if (n > 0) {
      off += (size_t)n;
    } else if (n != -EAGAIN) {
      return 0;
    }
    loop_once();
  }
  return off == len;
}

/** Host side: read until @p len bytes or end of stream; returns the bytes read. */
static size_t
host_recv_upto(int hs, void *buf, size_t len, int *eof)
{
  u8_t *b = (u8_t *)buf;
  size_t off = 0;
  int turns = 0;
  *eof = 0;
  while ((off < len) && (turns++ < TURNS_MAX)) {
    ssize_t n = lwvsock_sim_recv(sim, hs, b + off, len - off);
    if (n > 0) {
      off += (size_t)n;
      continue;
    }
    if (n == 0) {
      *eof = 1;
      break;
    }
    if (n != -EAGAIN) {
      break;
    }
    loop_once();
  }
  return off;
}

static void
fill_pattern(u8_t *buf, size_t len, u32_t seed)
{
  size_t i;
  for (i = 0; i < len; i++) {
    buf[i] = (u8_t)((i * 131u + seed) ^ (i >> 9));
  }
}

/* ---- fixture --------------------------------------------------------------------- */

static void
altcp_setup(void)
{
  struct lwvsock_sim *s = NULL;
  lwvsock_check_ensure_no_alloc(SKIP_POOL(MEMP_SYS_TIMEOUT));
  lwvsock_test_clock_set(1000);
  ck_assert_int_eq(lwvsock_sim_new(NULL, &s), 0);
  sim = s;
  ck_assert_int_eq(lwvsock_dev_open(lwvsock_sim_backend(sim), &dev), ERR_OK);
  vsock_allocator.alloc = lwvsock_altcp_alloc;
  vsock_allocator.arg = dev;
  err_conn = NULL;
}

static void
altcp_teardown(void)
{
  lwvsock_altcp_set_default_dev(NULL);
  lwvsock_dev_close(dev);
  dev = NULL;
  sim = NULL;
  lwvsock_check_ensure_no_alloc(SKIP_POOL(MEMP_SYS_TIMEOUT));
}

/* ---- tests ------------------------------------------------------------------------ */

START_TEST(test_altcp_cid_addresses)
{
  ip_addr_t a;
  u32_t cid = 0;
  LWIP_UNUSED_ARG(_i);

  /* CID 2 reads as the number 2 */
  lwvsock_altcp_cid_to_ip(2, &a);
  ck_assert_int_eq(ip4_addr_get_u32(ip_2_ip4(&a)), PP_HTONL(2));
  ck_assert_str_eq(ipaddr_ntoa(&a), "0.0.0.2");
  ck_assert_int_eq(lwvsock_altcp_ip_to_cid(&a, &cid), ERR_OK);
  ck_assert_int_eq(cid, 2);
  lwvsock_altcp_cid_to_ip(0x01020304u, &a);
  ck_assert_str_eq(ipaddr_ntoa(&a), "1.2.3.4");
  ck_assert_int_eq(lwvsock_altcp_ip_to_cid(&a, &cid), ERR_OK);
  ck_assert_int_eq(cid, 0x01020304u);
  /* any address and NULL are the wildcard */
  ck_assert_int_eq(lwvsock_altcp_ip_to_cid(IP_ANY_TYPE, &cid), ERR_OK);
  ck_assert_int_eq(cid, LWVSOCK_CID_ANY);
  cid = 0;
  ck_assert_int_eq(lwvsock_altcp_ip_to_cid(NULL, &cid), ERR_OK);
  ck_assert_int_eq(cid, LWVSOCK_CID_ANY);
}
END_TEST

START_TEST(test_altcp_alloc)
{
  struct altcp_pcb *conn;
  ip_addr_t any;
  LWIP_UNUSED_ARG(_i);

  ck_assert_ptr_null(lwvsock_altcp_alloc(NULL, IPADDR_TYPE_V4));
  ck_assert_ptr_null(lwvsock_altcp_alloc(dev, IPADDR_TYPE_V6));
  ck_assert_ptr_null(lwvsock_altcp_new_ip_type(IPADDR_TYPE_ANY)); /* no default device */
  ck_assert_int_eq(altcp_pcbs_used(), 0);

  lwvsock_altcp_set_default_dev(dev);
  conn = lwvsock_altcp_new_ip_type(IPADDR_TYPE_ANY);
  ck_assert_ptr_nonnull(conn);
  ck_assert_ptr_eq(conn->fns, &lwvsock_altcp_functions);
  ck_assert_ptr_null(conn->inner_conn);
  ck_assert_ptr_nonnull(lwvsock_altcp_pcb(conn));
  ck_assert_int_eq(lwvsock_type(lwvsock_altcp_pcb(conn)), LWVSOCK_STREAM);
  ck_assert_int_eq(altcp_pcbs_used(), 1);
  /* no peer to connect to at the wildcard */
  ip_addr_set_any(0, &any);
  ck_assert_int_eq(altcp_connect(conn, &any, 80, log_connected), ERR_VAL);
  /* port 0 binds an ephemeral port */
  ck_assert_int_eq(altcp_bind(conn, IP_ADDR_ANY, 0), ERR_OK);
  ck_assert_uint_gt(lwvsock_altcp_port32(conn, 1), 1023);
  ck_assert_int_ne(lwvsock_altcp_port32(conn, 1), LWVSOCK_PORT_ANY);
  ck_assert_int_eq(altcp_close(conn), ERR_OK);
  ck_assert_int_eq(altcp_pcbs_used(), 0);

  /* the slots refuse a NULL conn as altcp.c does */
  ck_assert_int_eq(lwvsock_altcp_bind32(NULL, LWVSOCK_CID_ANY, 1), ERR_VAL);
  ck_assert_int_eq(lwvsock_altcp_connect32(NULL, 2, 1, NULL), ERR_VAL);
  ck_assert_int_eq(lwvsock_altcp_port32(NULL, 0), LWVSOCK_PORT_ANY);
}
END_TEST

START_TEST(test_altcp_connect_echo)
{
  struct conn_log lg;
  struct altcp_pcb *conn;
  ip_addr_t a;
  u16_t port;
  u8_t buf[16];
  int lsock, hs, eof;
  LWIP_UNUSED_ARG(_i);

  log_init(&lg, 0);
  hs = host_pair(&lg, 1234, &lsock);
  ck_assert_int_ge(hs, 0);
  conn = lg.conn;

  /* addresses: the remote end is CID 2 port 1234, we are the guest CID */
  ck_assert_int_eq(ip4_addr_get_u32(ip_2_ip4(altcp_get_ip(conn, 0))), PP_HTONL(LWVSOCK_CID_HOST));
  ck_assert_int_eq(altcp_get_port(conn, 0), 1234);
  ck_assert_int_eq(ip4_addr_get_u32(ip_2_ip4(altcp_get_ip(conn, 1))), lwip_htonl(lwvsock_dev_cid(dev)));
  ck_assert_int_eq(lwvsock_altcp_port32(conn, 1), lwvsock_sim_remote_port(sim, hs));
  ck_assert_int_eq(altcp_get_tcp_addrinfo(conn, 1, &a, &port), ERR_OK);
  ck_assert_int_eq(ip4_addr_get_u32(ip_2_ip4(&a)), lwip_htonl(lwvsock_dev_cid(dev)));
  ck_assert_int_eq(port, (u16_t)lwvsock_sim_remote_port(sim, hs));

  /* the sizes apps plan writes with */
  ck_assert_uint_gt(altcp_mss(conn), 0);
  ck_assert_uint_le(altcp_mss(conn), 0x7FFF);
  ck_assert_uint_ge((u16_t)(2 * altcp_mss(conn)), altcp_mss(conn));
  ck_assert_uint_gt(altcp_sndbuf(conn), 0);
  ck_assert_int_eq(altcp_sndqueuelen(conn), 0);
  /* small-packet coalescing is on by default and can be switched, as TCP's Nagle */
  ck_assert_int_eq(altcp_nagle_disabled(conn), 0);
  altcp_nagle_disable(conn);
  ck_assert_int_eq(altcp_nagle_disabled(conn), 1);
  altcp_nagle_enable(conn);
  ck_assert_int_eq(altcp_nagle_disabled(conn), 0);
  altcp_setprio(conn, TCP_PRIO_MAX);

  /* guest -> host */
  ck_assert_int_eq(altcp_write(conn, "hello", 5, TCP_WRITE_FLAG_COPY), ERR_OK);
  ck_assert_int_eq(altcp_output(conn), ERR_OK);
  ck_assert_int_eq(host_recv_upto(hs, buf, 5, &eof), 5);
  ck_assert_mem_eq(buf, "hello", 5);
  ck_assert(RUN_UNTIL(lg.sent == 5));

  /* host -> guest */
  ck_assert(host_send_all(hs, "world!", 6));
  ck_assert(RUN_UNTIL(lg.rx_len == 6));
  ck_assert_mem_eq(lg.rx, "world!", 6);

  /* close frees the conn at once; the host sees the end of the stream */
  ck_assert_int_eq(altcp_close(conn), ERR_OK);
  ck_assert_int_eq(altcp_pcbs_used(), 0);
  ck_assert_int_eq(host_recv_upto(hs, buf, sizeof(buf), &eof), 0);
  ck_assert(eof);
  ck_assert_int_eq(lwvsock_sim_close(sim, hs), 0);
  ck_assert(RUN_UNTIL(conns_active() == 0));
  ck_assert(RUN_UNTIL(vsock_pcbs_used() == 0));
  /* and no callback reached the closed conn */
  ck_assert_int_eq(lg.errs, 0);
  ck_assert_int_eq(lg.fin, 0);
  ck_assert_int_eq(lwvsock_sim_close(sim, lsock), 0);
}
END_TEST

START_TEST(test_altcp_callbacks_read_at_event_time)
{
  struct conn_log lg, lg2;
  int lsock, hs;
  LWIP_UNUSED_ARG(_i);

  log_init(&lg, 0);
  log_init(&lg2, 1);
  hs = host_pair(&lg, 1234, &lsock);
  ck_assert_int_ge(hs, 0);

  /* swap the callback and its arg after setup, as a layer on top would */
  lg2.conn = lg.conn;
  altcp_recv(lg.conn, log_recv_other);
  altcp_arg(lg.conn, &lg2);
  ck_assert(host_send_all(hs, "abc", 3));
  ck_assert(RUN_UNTIL(lg2.rx_len == 3));
  ck_assert_int_eq(lg2.other_recvs, 1);
  ck_assert_int_eq(lg.rx_len, 0);

  /* no recv callback: data is dropped and its credit returned, so more than
     the receive buffer gets through */
  altcp_recv(lg.conn, NULL);
  {
    static u8_t big[600 * 1024];
    fill_pattern(big, sizeof(big), 1);
    ck_assert_uint_gt(sizeof(big), lwvsock_get_rcvbuf(lwvsock_altcp_pcb(lg.conn)));
    ck_assert(host_send_all(hs, big, sizeof(big)));
    ck_assert(RUN_UNTIL(lwvsock_sim_tx_pending(sim, hs) == 0));
  }
  ck_assert_int_eq(lg2.rx_len, 3);
  altcp_abort(lg2.conn);
  ck_assert_int_eq(lg2.errs, 1);
  ck_assert_int_eq(lg2.err, ERR_ABRT);
  ck_assert_int_eq(altcp_pcbs_used(), 0);
  ck_assert(RUN_UNTIL(vsock_pcbs_used() == 0));
  ck_assert(RUN_UNTIL(lwvsock_sim_state(sim, hs) == LWVSOCK_SIM_CLOSED));
  ck_assert_int_eq(lwvsock_sim_error(sim, hs), -ECONNRESET);
  lwvsock_sim_close(sim, hs);
  lwvsock_sim_close(sim, lsock);
}
END_TEST

START_TEST(test_altcp_poll)
{
  struct conn_log lg;
  int lsock, hs;
  LWIP_UNUSED_ARG(_i);

  log_init(&lg, 0);
  hs = host_pair(&lg, 1234, &lsock);
  ck_assert_int_ge(hs, 0);
  /* every 2 ticks of 500 ms: 4 or 5 calls in 5 s, depending on the phase */
  altcp_poll(lg.conn, log_poll, 2);
  run_turns(5000);
  ck_assert_int_ge(lg.polls, 4);
  ck_assert_int_le(lg.polls, 5);
  altcp_poll(lg.conn, NULL, 0);
  lg.polls = 0;
  run_turns(2000);
  ck_assert_int_eq(lg.polls, 0);
  ck_assert_int_eq(altcp_close(lg.conn), ERR_OK);
  lwvsock_sim_close(sim, hs);
  lwvsock_sim_close(sim, lsock);
}
END_TEST

START_TEST(test_altcp_refused_connect_frees)
{
  struct conn_log lg;
  struct altcp_pcb *conn;
  LWIP_UNUSED_ARG(_i);

  log_init(&lg, 0);
  conn = log_connect(&lg, 4321); /* nobody listens there */
  ck_assert_ptr_nonnull(conn);
  ck_assert_int_eq(altcp_pcbs_used(), 1);
  ck_assert(RUN_UNTIL(lg.errs > 0));
  ck_assert_int_eq(lg.errs, 1);
  ck_assert_int_eq(lg.err, ERR_RST);
  ck_assert_int_eq(lg.connected, 0);
  ck_assert_int_eq(altcp_pcbs_used(), 0);
  ck_assert(RUN_UNTIL(vsock_pcbs_used() == 0));

  /* the same, with an err callback that still uses the conn */
  log_init(&lg, 0);
  err_conn = log_connect(&lg, 4321);
  ck_assert_ptr_nonnull(err_conn);
  altcp_err(err_conn, log_err_poke);
  ck_assert(RUN_UNTIL(lg.errs > 0));
  ck_assert_int_eq(lg.err, ERR_RST);
  ck_assert_int_eq(altcp_pcbs_used(), 0);
  ck_assert(RUN_UNTIL(vsock_pcbs_used() == 0));
}
END_TEST

START_TEST(test_altcp_ports32)
{
  struct conn_log lg;
  struct altcp_pcb *conn;
  int lsock, hs = -EAGAIN;
  LWIP_UNUSED_ARG(_i);

  log_init(&lg, 0);
  lsock = lwvsock_sim_listen(sim, 0x12345u, LWVSOCK_STREAM);
  ck_assert_int_ge(lsock, 0);
  conn = altcp_new(&vsock_allocator);
  ck_assert_ptr_nonnull(conn);
  lg.conn = conn;
  altcp_arg(conn, &lg);
  altcp_err(conn, log_err);
  ck_assert_int_eq(lwvsock_altcp_bind32(conn, LWVSOCK_CID_ANY, 0x10001u), ERR_OK);
  ck_assert_int_eq(lwvsock_altcp_port32(conn, 1), 0x10001u);
  ck_assert_int_eq(altcp_get_port(conn, 1), 0x0001); /* truncated */
  ck_assert_int_eq(lwvsock_altcp_connect32(conn, LWVSOCK_CID_HOST, 0x12345u, log_connected), ERR_OK);
  ck_assert(RUN_UNTIL(lg.connected && (hs = lwvsock_sim_accept(sim, lsock)) >= 0));
  ck_assert_int_eq(lg.connected_err, ERR_OK);
  ck_assert_int_eq(lwvsock_altcp_port32(conn, 0), 0x12345u);
  ck_assert_int_eq(altcp_get_port(conn, 0), 0x2345);
  ck_assert_int_eq(lwvsock_sim_remote_port(sim, hs), 0x10001u);
  ck_assert_int_eq(altcp_close(conn), ERR_OK);
  lwvsock_sim_close(sim, hs);
  lwvsock_sim_close(sim, lsock);
}
END_TEST

/* ---- a listening echo server in altcp ---------------------------------------- */

struct server {
  struct altcp_pcb *listener;
  struct altcp_pcb *conn;
  int accepts;
  err_t accept_ret;     /* returned from accept */
  int lie_abrt;         /* recv returns ERR_ABRT without aborting */
  int abort_in_recv;    /* recv aborts its conn (and says so) */
  int errs;
  err_t err;
};

static void
server_err(void *arg, err_t err)
{
  struct server *srv = (struct server *)arg;
  srv->errs++;
  srv->err = err;
  srv->conn = NULL;
}

static err_t
server_recv(void *arg, struct altcp_pcb *conn, struct pbuf *p, err_t err)
{
  struct server *srv = (struct server *)arg;
  struct pbuf *q;
  LWIP_UNUSED_ARG(err);
  ck_assert_ptr_eq(conn, srv->conn);
  if (p == NULL) {
    /* the peer is done: close from inside the callback */
    srv->conn = NULL;
    return altcp_close(conn);
  }
  if (srv->lie_abrt) {
    pbuf_free(p);
    return ERR_ABRT;
  }
  if (srv->abort_in_recv) {
    pbuf_free(p);
    altcp_abort(conn);
    return ERR_ABRT;
  }
  if (altcp_sndbuf(conn) < p->tot_len) {
    return ERR_MEM; /* keep p; it comes back */
  }
  for (q = p; q != NULL; q = q->next) {
    ck_assert_int_eq(altcp_write(conn, q->payload, q->len, TCP_WRITE_FLAG_COPY), ERR_OK);
  }
  altcp_recved(conn, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static err_t
server_accept(void *arg, struct altcp_pcb *conn, err_t err)
{
  struct server *srv = (struct server *)arg;
  ck_assert_ptr_nonnull(conn);
  ck_assert_int_eq(err, ERR_OK);
  ck_assert_ptr_ne(conn, srv->listener);
  ck_assert_ptr_eq(conn->fns, &lwvsock_altcp_functions);
  srv->accepts++;
  if (srv->accept_ret != ERR_OK) {
    return srv->accept_ret;
  }
  srv->conn = conn;
  altcp_arg(conn, srv);
  altcp_recv(conn, server_recv);
  altcp_err(conn, server_err);
  return ERR_OK;
}

static int
server_start(struct server *srv, u16_t port)
{
  struct altcp_pcb *conn = altcp_new_ip_type(&vsock_allocator, IPADDR_TYPE_ANY);
  struct altcp_pcb *l;
  err_t err = ERR_VAL;
  ck_assert_ptr_nonnull(conn);
  ck_assert_int_eq(altcp_bind(conn, IP_ANY_TYPE, port), ERR_OK);
  l = altcp_listen_with_backlog_and_err(conn, 4, &err);
  ck_assert_int_eq(err, ERR_OK);
  /* the same conn, as apps' `pcb = altcp_listen(pcb)` expects */
  ck_assert_ptr_eq(l, conn);
  srv->listener = l;
  altcp_arg(l, srv);
  altcp_accept(l, server_accept);
  return 1;
}

START_TEST(test_altcp_listen_accept_echo)
{
  struct server srv;
  int started;
  u8_t buf[8];
  int hs, eof;
  LWIP_UNUSED_ARG(_i);

  memset(&srv, 0, sizeof(srv));
  started = server_start(&srv, 5000);
  ck_assert(started);
  hs = lwvsock_sim_connect(sim, 5000, LWVSOCK_STREAM);
  ck_assert_int_ge(hs, 0);
  ck_assert(RUN_UNTIL(srv.accepts == 1 && lwvsock_sim_state(sim, hs) == LWVSOCK_SIM_CONNECTED));
  ck_assert_ptr_nonnull(srv.conn);
  ck_assert_int_eq(altcp_pcbs_used(), 2);

  /* the sim's host ports fit 16 bits by default: altcp_get_port shows them */
  ck_assert_uint_ge(lwvsock_sim_local_port(sim, hs), 49152u);
  ck_assert_int_eq(lwvsock_altcp_port32(srv.conn, 0), lwvsock_sim_local_port(sim, hs));
  ck_assert_int_eq(altcp_get_port(srv.conn, 0), lwvsock_sim_local_port(sim, hs));
  ck_assert_int_eq(altcp_get_port(srv.conn, 1), 5000);
  ck_assert_int_eq(ip4_addr_get_u32(ip_2_ip4(altcp_get_ip(srv.conn, 0))), PP_HTONL(LWVSOCK_CID_HOST));

  ck_assert(host_send_all(hs, "ping", 4));
  ck_assert_int_eq(host_recv_upto(hs, buf, 4, &eof), 4);
  ck_assert_mem_eq(buf, "ping", 4);

  /* host closes; the server closes from recv(NULL) and its conn is freed */
  ck_assert_int_eq(lwvsock_sim_close(sim, hs), 0);
  ck_assert(RUN_UNTIL(srv.conn == NULL && conns_active() == 0));
  ck_assert_int_eq(srv.errs, 0);
  ck_assert_int_eq(altcp_pcbs_used(), 1);
  ck_assert_int_eq(altcp_close(srv.listener), ERR_OK);
  ck_assert_int_eq(altcp_pcbs_used(), 0);
  ck_assert(RUN_UNTIL(vsock_pcbs_used() == 0));
}
END_TEST

START_TEST(test_altcp_accept_refused)
{
  struct server srv;
  int started;
  int hs;
  LWIP_UNUSED_ARG(_i);

  memset(&srv, 0, sizeof(srv));
  srv.accept_ret = ERR_MEM;
  started = server_start(&srv, 5000);
  ck_assert(started);
  hs = lwvsock_sim_connect(sim, 5000, LWVSOCK_STREAM);
  ck_assert_int_ge(hs, 0);
  ck_assert(RUN_UNTIL(lwvsock_sim_state(sim, hs) == LWVSOCK_SIM_CLOSED));
  ck_assert_int_eq(srv.accepts, 1);
  ck_assert_int_eq(lwvsock_sim_error(sim, hs), -ECONNRESET);
  ck_assert(RUN_UNTIL(conns_active() == 0));
  ck_assert_int_eq(altcp_pcbs_used(), 1); /* the refused conn was freed */
  ck_assert(RUN_UNTIL(vsock_pcbs_used() == 1));
  lwvsock_sim_close(sim, hs);

  /* the listener still serves */
  srv.accept_ret = ERR_OK;
  hs = lwvsock_sim_connect(sim, 5000, LWVSOCK_STREAM);
  ck_assert_int_ge(hs, 0);
  ck_assert(RUN_UNTIL(srv.accepts == 2 && lwvsock_sim_state(sim, hs) == LWVSOCK_SIM_CONNECTED));
  ck_assert_int_eq(altcp_pcbs_used(), 2);

  /* a recv that returns ERR_ABRT without aborting gets its conn aborted */
  srv.lie_abrt = 1;
  ck_assert(host_send_all(hs, "x", 1));
  ck_assert(RUN_UNTIL(srv.errs == 1));
  ck_assert_int_eq(srv.err, ERR_ABRT);
  ck_assert_int_eq(altcp_pcbs_used(), 1);
  ck_assert(RUN_UNTIL(lwvsock_sim_state(sim, hs) == LWVSOCK_SIM_CLOSED));
  ck_assert_int_eq(lwvsock_sim_error(sim, hs), -ECONNRESET);
  lwvsock_sim_close(sim, hs);
  ck_assert_int_eq(altcp_close(srv.listener), ERR_OK);
}
END_TEST

START_TEST(test_altcp_bulk_sent_and_close_in_sent)
{
  static u8_t data[300 * 1024];
  static u8_t got[sizeof(data)];
  struct conn_log lg;
  size_t off = 0, n = 0;
  ssize_t r;
  int lsock, hs, eof, turns = 0;
  LWIP_UNUSED_ARG(_i);

  log_init(&lg, 0);
  hs = host_pair(&lg, 1234, &lsock);
  ck_assert_int_ge(hs, 0);
  fill_pattern(data, sizeof(data), 7);
  /* close from the sent callback once everything is out */
  lg.close_after_sent = sizeof(data);

  /* fill the send buffer in u16 pieces before each turn, so one turn completes
     more than 0xFFFF bytes, while the host reads */
  while ((off < sizeof(data) || n < sizeof(data)) && (turns++ < TURNS_MAX)) {
    u16_t room;
    while ((off < sizeof(data)) && ((room = altcp_sndbuf(lg.conn)) > 0)) {
      u16_t len = (u16_t)LWIP_MIN((size_t)room, sizeof(data) - off);
      ck_assert_int_eq(altcp_write(lg.conn, data + off, len, TCP_WRITE_FLAG_COPY), ERR_OK);
      off += len;
    }
    r = lwvsock_sim_recv(sim, hs, got + n, sizeof(got) - n);
    if (r > 0) {
      n += (size_t)r;
    }
    loop_once();
  }
  ck_assert_int_eq(off, sizeof(data));
  ck_assert_int_eq(n, sizeof(data));
  ck_assert_mem_eq(got, data, sizeof(data));
  /* every byte reported, in u16-sized pieces, and the conn closed from sent */
  ck_assert(RUN_UNTIL(lg.conn == NULL));
  ck_assert_int_eq(lg.sent, sizeof(data));
  ck_assert_int_eq(altcp_pcbs_used(), 0);
  ck_assert_int_eq(host_recv_upto(hs, got, 1, &eof), 0);
  ck_assert(eof);
  ck_assert_int_eq(lg.errs, 0);
  lwvsock_sim_close(sim, hs);
  lwvsock_sim_close(sim, lsock);
  ck_assert(RUN_UNTIL(vsock_pcbs_used() == 0));
}
END_TEST

START_TEST(test_altcp_abort_and_free_in_use)
{
  struct server srv;
  struct conn_log lg;
  int started, lsock, hs;
  LWIP_UNUSED_ARG(_i);

  /* a recv callback that aborts its own conn: err(ERR_ABRT) follows, conn freed */
  memset(&srv, 0, sizeof(srv));
  srv.abort_in_recv = 1;
  started = server_start(&srv, 5000);
  ck_assert(started);
  hs = lwvsock_sim_connect(sim, 5000, LWVSOCK_STREAM);
  ck_assert_int_ge(hs, 0);
  ck_assert(RUN_UNTIL(srv.accepts == 1 && lwvsock_sim_state(sim, hs) == LWVSOCK_SIM_CONNECTED));
  ck_assert(host_send_all(hs, "x", 1));
  ck_assert(RUN_UNTIL(srv.errs == 1));
  ck_assert_int_eq(srv.err, ERR_ABRT);
  ck_assert(RUN_UNTIL(lwvsock_sim_state(sim, hs) == LWVSOCK_SIM_CLOSED));
  ck_assert_int_eq(lwvsock_sim_error(sim, hs), -ECONNRESET);
  ck_assert_int_eq(altcp_pcbs_used(), 1);
  ck_assert(RUN_UNTIL(vsock_pcbs_used() == 1));
  lwvsock_sim_close(sim, hs);
  ck_assert_int_eq(altcp_close(srv.listener), ERR_OK);

  /* altcp_free() of an open conn (what a layer above may do) resets its pcb,
     with no callback into the freed conn */
  log_init(&lg, 0);
  hs = host_pair(&lg, 1234, &lsock);
  ck_assert_int_ge(hs, 0);
  altcp_free(lg.conn);
  ck_assert_int_eq(altcp_pcbs_used(), 0);
  ck_assert(RUN_UNTIL(lwvsock_sim_state(sim, hs) == LWVSOCK_SIM_CLOSED));
  ck_assert_int_eq(lwvsock_sim_error(sim, hs), -ECONNRESET);
  ck_assert(RUN_UNTIL(vsock_pcbs_used() == 0));
  ck_assert_int_eq(lg.errs, 0);
  lwvsock_sim_close(sim, hs);
  lwvsock_sim_close(sim, lsock);
}
END_TEST

START_TEST(test_altcp_loopback_both_ends)
{
  struct server srv;
  struct conn_log lg;
  struct altcp_pcb *conn;
  int started;
  LWIP_UNUSED_ARG(_i);

  /* altcp on both ends: CID 1 goes through the driver's loopback */
  memset(&srv, 0, sizeof(srv));
  started = server_start(&srv, 5000);
  ck_assert(started);
  log_init(&lg, 0);
  conn = log_connect_cid(&lg, LWVSOCK_CID_LOCAL, 5000);
  ck_assert_ptr_nonnull(conn);
  ck_assert(RUN_UNTIL(lg.connected && srv.accepts == 1));
  ck_assert_int_eq(lg.connected_err, ERR_OK);
  ck_assert_ptr_nonnull(srv.conn);
  ck_assert_int_eq(altcp_get_port(srv.conn, 0), altcp_get_port(lg.conn, 1));
  ck_assert_int_eq(altcp_write(lg.conn, "loop", 4, TCP_WRITE_FLAG_COPY), ERR_OK);
  ck_assert(RUN_UNTIL(lg.rx_len == 4));
  ck_assert_mem_eq(lg.rx, "loop", 4);
  /* the client closes; the server closes from recv(NULL) */
  ck_assert_int_eq(altcp_close(lg.conn), ERR_OK);
  ck_assert(RUN_UNTIL(srv.conn == NULL && vsock_pcbs_used() == 1));
  ck_assert_int_eq(altcp_pcbs_used(), 1);
  ck_assert_int_eq(srv.errs, 0);
  ck_assert_int_eq(lg.errs, 0);
  ck_assert_int_eq(altcp_close(srv.listener), ERR_OK);
  ck_assert(RUN_UNTIL(vsock_pcbs_used() == 0));
}
END_TEST

START_TEST(test_altcp_shutdown_tx)
{
  struct conn_log lg;
  u8_t buf[4];
  int lsock, hs, eof;
  LWIP_UNUSED_ARG(_i);

  log_init(&lg, 0);
  hs = host_pair(&lg, 1234, &lsock);
  ck_assert_int_ge(hs, 0);
  ck_assert_int_eq(altcp_write(lg.conn, "bye", 3, TCP_WRITE_FLAG_COPY), ERR_OK);
  ck_assert_int_eq(altcp_shutdown(lg.conn, 0, 1), ERR_OK);
  ck_assert_int_eq(host_recv_upto(hs, buf, sizeof(buf), &eof), 3);
  ck_assert(eof);
  /* still receiving after the half-close */
  ck_assert(host_send_all(hs, "ok", 2));
  ck_assert(RUN_UNTIL(lg.rx_len == 2));
  ck_assert_mem_eq(lg.rx, "ok", 2);
  lg.close_on_fin = 1;
  ck_assert_int_eq(lwvsock_sim_close(sim, hs), 0);
  ck_assert(RUN_UNTIL(lg.fin == 1 && conns_active() == 0));
  ck_assert_int_eq(altcp_pcbs_used(), 0);
  ck_assert(RUN_UNTIL(vsock_pcbs_used() == 0));
  ck_assert_int_eq(lg.errs, 0);
  lwvsock_sim_close(sim, lsock);
}
END_TEST

START_TEST(test_altcp_dev_close_aborts)
{
  struct conn_log lg;
  struct server srv;
  int started;
  int lsock, hs;
  LWIP_UNUSED_ARG(_i);

  log_init(&lg, 0);
  memset(&srv, 0, sizeof(srv));
  started = server_start(&srv, 5000);
  ck_assert(started);
  altcp_err(srv.listener, server_err);
  hs = host_pair(&lg, 1234, &lsock);
  ck_assert_int_ge(hs, 0);
  ck_assert_int_eq(altcp_pcbs_used(), 2);
  /* closing the device aborts every conn through its err callback */
  lwvsock_dev_close(dev);
  dev = NULL;
  ck_assert_int_eq(lg.errs, 1);
  ck_assert_int_eq(lg.err, ERR_ABRT);
  ck_assert_int_eq(srv.errs, 1);
  ck_assert_int_eq(srv.err, ERR_ABRT);
  ck_assert_int_eq(altcp_pcbs_used(), 0);
  /* teardown closes dev: give it a fresh one */
  {
    struct lwvsock_sim *s = NULL;
    ck_assert_int_eq(lwvsock_sim_new(NULL, &s), 0);
    sim = s;
    ck_assert_int_eq(lwvsock_dev_open(lwvsock_sim_backend(sim), &dev), ERR_OK);
  }
}
END_TEST

/* ---- lwIP's http_client against a host-side responder ------------------------- */

#define HTTP_BODY_LEN (100 * 1024)

struct httpc_run {
  int done;
  httpc_result_t result;
  u32_t rx_content_len;
  u32_t srv_res;
  err_t err;
  u8_t *body;
  u32_t body_len;
};

static err_t
httpc_body_recv(void *arg, struct altcp_pcb *conn, struct pbuf *p, err_t err)
{
  struct httpc_run *run = (struct httpc_run *)arg;
  LWIP_UNUSED_ARG(err);
  if (p != NULL) {
    ck_assert_uint_le(run->body_len + p->tot_len, HTTP_BODY_LEN);
    pbuf_copy_partial(p, run->body + run->body_len, p->tot_len, 0);
    run->body_len += p->tot_len;
    altcp_recved(conn, p->tot_len);
    pbuf_free(p);
  }
  return ERR_OK;
}

static void
httpc_result(void *arg, httpc_result_t result, u32_t rx_content_len, u32_t srv_res, err_t err)
{
  struct httpc_run *run = (struct httpc_run *)arg;
  run->done++;
  run->result = result;
  run->rx_content_len = rx_content_len;
  run->srv_res = srv_res;
  run->err = err;
}

/** Read one request head (up to the blank line) from @p hs into @p buf (NUL-terminated). */
static size_t
host_read_request(int hs, char *buf, size_t size)
{
  size_t len = 0;
  int turns = 0;
  buf[0] = '\0';
  while ((strstr(buf, "\r\n\r\n") == NULL) && (len + 1 < size) && (turns++ < TURNS_MAX)) {
    ssize_t n = lwvsock_sim_recv(sim, hs, buf + len, 1); /* byte by byte: never read past the head */
    if (n == 1) {
      len++;
      buf[len] = '\0';
    } else if (n == -EAGAIN) {
      loop_once();
    } else {
      break;
    }
  }
  return len;
}

START_TEST(test_altcp_http_client)
{
  static u8_t body[HTTP_BODY_LEN];
  static u8_t got[HTTP_BODY_LEN];
  struct httpc_run run;
  httpc_connection_t settings;
  err_t err;
  httpc_state_t *state = NULL;
  ip_addr_t host = cid_ip(LWVSOCK_CID_HOST);
  char req[1024], head[128];
  int lsock, hs = -EAGAIN;
  LWIP_UNUSED_ARG(_i);

  memset(&run, 0, sizeof(run));
  run.body = got;
  fill_pattern(body, sizeof(body), 3);
  lsock = lwvsock_sim_listen(sim, 80, LWVSOCK_STREAM);
  ck_assert_int_ge(lsock, 0);

  memset(&settings, 0, sizeof(settings));
  settings.altcp_allocator = &vsock_allocator;
  settings.result_fn = httpc_result;
  err = httpc_get_file(&host, 80, "/page.bin", &settings, httpc_body_recv, &run, &state);
  ck_assert_int_eq(err, ERR_OK);
  ck_assert_ptr_nonnull(state);

  /* the responder: one HTTP/1.1 request, one response, then close */
  ck_assert(RUN_UNTIL((hs = lwvsock_sim_accept(sim, lsock)) >= 0));
  ck_assert_int_ge(hs, 0);
  ck_assert_uint_gt(host_read_request(hs, req, sizeof(req)), 0);
  ck_assert_int_eq(strncmp(req, "GET /page.bin HTTP/1.1\r\n", 24), 0);
  ck_assert_ptr_nonnull(strstr(req, "\r\nHost: 0.0.0.2\r\n"));
  snprintf(head, sizeof(head), "HTTP/1.1 200 OK\r\nContent-Length: %u\r\nConnection: close\r\n\r\n",
           (unsigned)HTTP_BODY_LEN);
  ck_assert(host_send_all(hs, head, strlen(head)));
  ck_assert(host_send_all(hs, body, sizeof(body)));
  ck_assert(RUN_UNTIL(lwvsock_sim_tx_pending(sim, hs) == 0));
  ck_assert_int_eq(lwvsock_sim_close(sim, hs), 0);

  ck_assert(RUN_UNTIL(run.done > 0));
  ck_assert_int_eq(run.done, 1);
  ck_assert_int_eq(run.result, HTTPC_RESULT_OK);
  ck_assert_int_eq(run.srv_res, 200);
  ck_assert_int_eq(run.rx_content_len, HTTP_BODY_LEN);
  ck_assert_int_eq(run.body_len, HTTP_BODY_LEN);
  ck_assert_mem_eq(got, body, sizeof(body));
  ck_assert(RUN_UNTIL(conns_active() == 0));
  ck_assert_int_eq(altcp_pcbs_used(), 0);
  ck_assert(RUN_UNTIL(vsock_pcbs_used() == 0));
  lwvsock_sim_close(sim, lsock);
}
END_TEST

/* ---- lwIP's httpd, unmodified ----------------------------------------------------- */

#define HTTPD_BIG_LEN (200 * 1024)
static u8_t httpd_big[128 + HTTPD_BIG_LEN];
static size_t httpd_big_len;
static size_t httpd_big_head;

/* /big.bin: a generated page larger than every buffer on the way (sndbuf, 2*mss, credit) */
int
fs_open_custom(struct fs_file *file, const char *name)
{
  if (strcmp(name, "/big.bin") != 0) {
    return 0;
  }
  memset(file, 0, sizeof(*file));
  file->data = (const char *)httpd_big;
  file->len = (int)httpd_big_len;
  file->index = file->len;
  file->flags = FS_FILE_FLAGS_HEADER_INCLUDED;
  return 1;
}

void
fs_close_custom(struct fs_file *file)
{
  LWIP_UNUSED_ARG(file);
}

/** GET @p path from the guest's port 80; the response (read to EOF) goes into @p buf. */
static size_t
httpd_fetch(const char *path, u8_t *buf, size_t size)
{
  char req[64];
  size_t n;
  int eof, hs = lwvsock_sim_connect(sim, 80, LWVSOCK_STREAM);
  ck_assert_int_ge(hs, 0);
  ck_assert(RUN_UNTIL(lwvsock_sim_state(sim, hs) != LWVSOCK_SIM_CONNECTING));
  ck_assert_int_eq(lwvsock_sim_state(sim, hs), LWVSOCK_SIM_CONNECTED);
  snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\n\r\n", path);
  ck_assert(host_send_all(hs, req, strlen(req)));
  n = host_recv_upto(hs, buf, size, &eof);
  ck_assert(eof); /* HTTP/1.0: httpd closes after the response */
  lwvsock_sim_close(sim, hs);
  return n;
}

START_TEST(test_altcp_httpd)
{
  static u8_t resp[sizeof(httpd_big) + 1];
  const char *body = "<html><body>hello from lwIP httpd over vsock</body></html>\n";
  size_t n, blen = strlen(body);
  LWIP_UNUSED_ARG(_i);

  httpd_big_head = (size_t)snprintf((char *)httpd_big, 128,
                                    "HTTP/1.0 200 OK\r\nContent-Length: %u\r\n\r\n", (unsigned)HTTPD_BIG_LEN);
  fill_pattern(httpd_big + httpd_big_head, HTTPD_BIG_LEN, 11);
  httpd_big_len = httpd_big_head + HTTPD_BIG_LEN;

  lwvsock_altcp_set_default_dev(dev);
  httpd_init();
  ck_assert_int_eq(altcp_pcbs_used(), 1); /* the listener, made through the redirect */

  /* GET / serves /index.html from tests/altcp_fsdata.c */
  n = httpd_fetch("/", resp, sizeof(resp) - 1);
  resp[n] = '\0';
  ck_assert_int_eq(strncmp((const char *)resp, "HTTP/1.0 200 OK\r\n", 17), 0);
  ck_assert_uint_gt(n, blen);
  ck_assert_str_eq((const char *)resp + n - blen, body);

  /* a page that takes many writes, sndbuf and sent rounds */
  n = httpd_fetch("/big.bin", resp, sizeof(resp));
  ck_assert_int_eq(n, httpd_big_len);
  ck_assert_mem_eq(resp, httpd_big, httpd_big_len);

  ck_assert(RUN_UNTIL(conns_active() == 0));
  ck_assert_int_eq(altcp_pcbs_used(), 1);
  ck_assert(RUN_UNTIL(vsock_pcbs_used() == 1));
  /* teardown closes the device, which aborts and frees the listener */
}
END_TEST

START_TEST(test_altcp_http_client_to_httpd_loopback)
{
  static u8_t got[HTTP_BODY_LEN];
  const char *body = "<html><body>hello from lwIP httpd over vsock</body></html>\n";
  struct httpc_run run;
  httpc_connection_t settings;
  httpc_state_t *state = NULL;
  ip_addr_t self = cid_ip(LWVSOCK_CID_LOCAL);
  err_t err;
  LWIP_UNUSED_ARG(_i);

  /* both of lwIP's HTTP apps in this process, talking over vsock loopback */
  lwvsock_altcp_set_default_dev(dev);
  httpd_init();
  memset(&run, 0, sizeof(run));
  run.body = got;
  memset(&settings, 0, sizeof(settings));
  settings.altcp_allocator = &vsock_allocator;
  settings.result_fn = httpc_result;
  err = httpc_get_file(&self, 80, "/index.html", &settings, httpc_body_recv, &run, &state);
  ck_assert_int_eq(err, ERR_OK);
  ck_assert(RUN_UNTIL(run.done > 0));
  ck_assert_int_eq(run.result, HTTPC_RESULT_OK);
  ck_assert_int_eq(run.srv_res, 200);
  ck_assert_int_eq(run.body_len, strlen(body));
  ck_assert_mem_eq(got, body, strlen(body));
  ck_assert(RUN_UNTIL(vsock_pcbs_used() == 1));
  ck_assert_int_eq(altcp_pcbs_used(), 1);
}
END_TEST

Suite *
lwvsock_test_suite(void)
{
  testfunc tests[] = {
    TESTFUNC(test_altcp_cid_addresses),
    TESTFUNC(test_altcp_alloc),
    TESTFUNC(test_altcp_connect_echo),
    TESTFUNC(test_altcp_callbacks_read_at_event_time),
    TESTFUNC(test_altcp_poll),
    TESTFUNC(test_altcp_refused_connect_frees),
    TESTFUNC(test_altcp_ports32),
    TESTFUNC(test_altcp_listen_accept_echo),
    TESTFUNC(test_altcp_accept_refused),
    TESTFUNC(test_altcp_bulk_sent_and_close_in_sent),
    TESTFUNC(test_altcp_abort_and_free_in_use),
    TESTFUNC(test_altcp_loopback_both_ends),
    TESTFUNC(test_altcp_shutdown_tx),
    TESTFUNC(test_altcp_dev_close_aborts),
    TESTFUNC(test_altcp_http_client),
    TESTFUNC(test_altcp_httpd),
    TESTFUNC(test_altcp_http_client_to_httpd_loopback),
  };
  return create_suite("ALTCP", tests, sizeof(tests) / sizeof(testfunc), altcp_setup, altcp_teardown);
}
