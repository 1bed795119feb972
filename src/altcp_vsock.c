/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * altcp provider over the raw vsock pcb API, modelled on lwIP's altcp_tcp.c.
 *
 * conn->state is the struct lwvsock_pcb while the conn owns it. It is NULL
 * only while the err callback runs (the pcb is gone; the conn is freed when the
 * callback returns), and every slot tolerates that. The pcb's arg is the conn,
 * and events are dispatched through the conn's callback fields at event time
 * (never cached), so layers stacked on top can swap them at will.
 *
 * Application callbacks may close, abort or free the conn they are called for.
 * Each dispatch therefore registers a guard that close/err/dealloc update, and
 * the value returned to the core is made truthful from it: ERR_ABRT exactly
 * when the pcb no longer exists.
 */
#include "lwip/opt.h"

#if LWIP_ALTCP /* don't build if not configured for use in lwipopts.h */

#if !LWIP_IPV4
#error "lwvsock's altcp provider carries CIDs in IPv4 addresses: set LWIP_IPV4 to 1"
#endif
#if LWIP_EVENT_API
#error "altcp needs the callback API: set LWIP_EVENT_API to 0"
#endif

#include "lwip/altcp.h"
#include "lwip/priv/altcp_priv.h"
#include "lwip/def.h"
#include "lwip/pbuf.h"
#include "lwvsock/altcp_vsock.h"

#define ALTCP_VSOCK_ASSERT_CONN(conn) do { \
  LWIP_ASSERT("conn->inner_conn == NULL", (conn)->inner_conn == NULL); \
  LWIP_ASSERT("conn->fns == &lwvsock_altcp_functions", (conn)->fns == &lwvsock_altcp_functions); \
  LWIP_UNUSED_ARG(conn); /* for LWIP_NOASSERT */ } while (0)

/** What became of a conn's pcb during an application callback. */
enum altcp_vsock_fate {
  ALTCP_VSOCK_OWNED = 0, /**< still the conn's */
  ALTCP_VSOCK_CLOSED,    /**< closed: the core owns it, the conn is freed */
  ALTCP_VSOCK_GONE       /**< aborted or reset: freed, and so is the conn */
};

/** One dispatch in progress (dispatches nest when a callback causes events). */
struct altcp_vsock_guard {
  struct altcp_pcb *conn;
  enum altcp_vsock_fate fate;
  struct altcp_vsock_guard *next;
};

/* Dispatches in progress, innermost first. Single-threaded like lwIP NO_SYS. */
static struct altcp_vsock_guard *altcp_vsock_guards;
/* The device lwvsock_altcp_new_ip_type() uses (see the header for why). */
static struct lwvsock_dev *altcp_vsock_default_dev;
/* altcp_get_ip() must return a pointer; the pcb holds CIDs as numbers. */
static ip_addr_t altcp_vsock_ip[2];

static void altcp_vsock_setup(struct altcp_pcb *conn, struct lwvsock_pcb *pcb);

static void
altcp_vsock_guard_push(struct altcp_vsock_guard *g, struct altcp_pcb *conn)
{
  g->conn = conn;
  g->fate = ALTCP_VSOCK_OWNED;
  g->next = altcp_vsock_guards;
  altcp_vsock_guards = g;
}

/** Record that @p conn lost its pcb in every dispatch that still owns it. */
static void
altcp_vsock_guard_mark(struct altcp_pcb *conn, enum altcp_vsock_fate fate)
{
  struct altcp_vsock_guard *g;
  for (g = altcp_vsock_guards; g != NULL; g = g->next) {
    /* a freed conn's memory may be reused by a newer conn: only the owner's guard changes */
    if (g->conn == conn && g->fate == ALTCP_VSOCK_OWNED) {
      g->fate = fate;
    }
  }
}

/**
 * Pop @p g and turn the application's @p ret into what the core must hear.
 * With @p refuse_on_error (accept), any error refuses the connection.
 */
static err_t
altcp_vsock_guard_pop(struct altcp_vsock_guard *g, err_t ret, int refuse_on_error)
{
  LWIP_ASSERT("guards nest", altcp_vsock_guards == g);
  altcp_vsock_guards = g->next;
  switch (g->fate) {
    case ALTCP_VSOCK_GONE:
      return ERR_ABRT;
    case ALTCP_VSOCK_CLOSED:
      /* the core owns the pcb now; ERR_ABRT would claim it is freed */
      return (ret == ERR_ABRT) ? ERR_OK : ret;
    default:
      break;
  }
  if ((ret == ERR_ABRT) || (refuse_on_error && (ret != ERR_OK))) {
    /* ERR_ABRT without an abort, or a refused accept: make it true */
    LWIP_DEBUGF(LWVSOCK_DEBUG, ("altcp_vsock: callback returned %d, aborting conn %p\n",
                                (int)ret, (void *)g->conn));
    altcp_abort(g->conn);
    return ERR_ABRT;
  }
  return ret;
}

/* ---- callbacks from the vsock core ------------------------------------------ */

static err_t
altcp_vsock_accept(void *arg, struct lwvsock_pcb *newpcb, err_t err)
{
  struct altcp_pcb *listen_conn = (struct altcp_pcb *)arg;
  struct altcp_pcb *new_conn;
  struct altcp_vsock_guard g;
  err_t ret;

  /* the core refuses connections it cannot allocate itself: newpcb is never NULL */
  LWIP_ERROR("altcp_vsock_accept: newpcb != NULL", newpcb != NULL, return ERR_VAL;);
  if ((listen_conn == NULL) || (listen_conn->accept == NULL)) {
    new_conn = NULL;
  } else {
    new_conn = altcp_alloc();
  }
  if (new_conn == NULL) {
    /* no one to take it, or no memory: refuse it (newpcb has no callbacks yet) */
    LWIP_DEBUGF(LWVSOCK_DEBUG, ("altcp_vsock: refusing connection (%s)\n",
                                ((listen_conn != NULL) && (listen_conn->accept != NULL)) ?
                                "altcp_pcb pool empty" : "no accept callback"));
    lwvsock_abort(newpcb);
    return ERR_ABRT;
  }
  altcp_vsock_setup(new_conn, newpcb);
  altcp_vsock_guard_push(&g, new_conn);
  ret = listen_conn->accept(listen_conn->arg, new_conn, err);
  return altcp_vsock_guard_pop(&g, ret, 1);
}

static err_t
altcp_vsock_connected(void *arg, struct lwvsock_pcb *pcb, err_t err)
{
  struct altcp_pcb *conn = (struct altcp_pcb *)arg;
  struct altcp_vsock_guard g;
  err_t ret = ERR_OK;

  LWIP_UNUSED_ARG(pcb);
  if ((conn != NULL) && (conn->connected != NULL)) {
    LWIP_ASSERT("pcb mismatch", conn->state == pcb);
    altcp_vsock_guard_push(&g, conn);
    ret = conn->connected(conn->arg, conn, err);
    ret = altcp_vsock_guard_pop(&g, ret, 0);
  }
  return ret;
}

static err_t
altcp_vsock_recv(void *arg, struct lwvsock_pcb *pcb, struct pbuf *p, err_t err)
{
  struct altcp_pcb *conn = (struct altcp_pcb *)arg;
  struct altcp_vsock_guard g;
  err_t ret;

  if ((conn != NULL) && (conn->recv != NULL)) {
    LWIP_ASSERT("pcb mismatch", conn->state == pcb);
    altcp_vsock_guard_push(&g, conn);
    ret = conn->recv(conn->arg, conn, p, err);
    return altcp_vsock_guard_pop(&g, ret, 0);
  }
  if (p != NULL) {
    /* nobody reads: drop the data but return its credit, or the peer stalls */
    lwvsock_recved(pcb, p->tot_len);
    pbuf_free(p);
  }
  return ERR_OK;
}

static err_t
altcp_vsock_sent(void *arg, struct lwvsock_pcb *pcb, uint32_t len)
{
  struct altcp_pcb *conn = (struct altcp_pcb *)arg;
  struct altcp_vsock_guard g;
  err_t ret = ERR_OK;

  LWIP_UNUSED_ARG(pcb);
  if (conn == NULL) {
    return ERR_OK;
  }
  LWIP_ASSERT("pcb mismatch", conn->state == pcb);
  altcp_vsock_guard_push(&g, conn);
  /* altcp counts in u16: hand over big completions in pieces, while the conn lives */
  while ((len > 0) && (g.fate == ALTCP_VSOCK_OWNED) && (ret == ERR_OK) && (conn->sent != NULL)) {
    u16_t part = (u16_t)LWIP_MIN(len, 0xFFFFu);
    len -= part;
    ret = conn->sent(conn->arg, conn, part);
  }
  return altcp_vsock_guard_pop(&g, ret, 0);
}

static err_t
altcp_vsock_poll(void *arg, struct lwvsock_pcb *pcb)
{
  struct altcp_pcb *conn = (struct altcp_pcb *)arg;
  struct altcp_vsock_guard g;
  err_t ret = ERR_OK;

  LWIP_UNUSED_ARG(pcb);
  if ((conn != NULL) && (conn->poll != NULL)) {
    LWIP_ASSERT("pcb mismatch", conn->state == pcb);
    altcp_vsock_guard_push(&g, conn);
    ret = conn->poll(conn->arg, conn);
    ret = altcp_vsock_guard_pop(&g, ret, 0);
  }
  return ret;
}

static void
altcp_vsock_err(void *arg, err_t err)
{
  struct altcp_pcb *conn = (struct altcp_pcb *)arg;
  if (conn != NULL) {
    conn->state = NULL; /* the core has freed the pcb */
    altcp_vsock_guard_mark(conn, ALTCP_VSOCK_GONE);
    if (conn->err != NULL) {
      conn->err(conn->arg, err);
    }
    altcp_free(conn);
  }
}

/* ---- setup ------------------------------------------------------------------ */

static void
altcp_vsock_remove_callbacks(struct lwvsock_pcb *pcb)
{
  lwvsock_arg(pcb, NULL);
  lwvsock_accept(pcb, NULL);
  lwvsock_recv(pcb, NULL);
  lwvsock_sent(pcb, NULL);
  lwvsock_err(pcb, NULL);
  lwvsock_poll(pcb, NULL, 0);
}

static void
altcp_vsock_setup_callbacks(struct altcp_pcb *conn, struct lwvsock_pcb *pcb)
{
  lwvsock_arg(pcb, conn);
  lwvsock_recv(pcb, altcp_vsock_recv);
  lwvsock_sent(pcb, altcp_vsock_sent);
  lwvsock_err(pcb, altcp_vsock_err);
  if (lwvsock_state(pcb) == LWVSOCK_LISTEN) {
    lwvsock_accept(pcb, altcp_vsock_accept);
  }
  /* interval 0 (a fresh conn) disarms whatever the pcb had */
  lwvsock_poll(pcb, altcp_vsock_poll, conn->pollinterval);
}

static void
altcp_vsock_setup(struct altcp_pcb *conn, struct lwvsock_pcb *pcb)
{
  altcp_vsock_setup_callbacks(conn, pcb);
  conn->state = pcb;
  conn->fns = &lwvsock_altcp_functions;
}

/** The conn's pcb, or NULL when @p conn is NULL or has lost its pcb. */
static struct lwvsock_pcb *
altcp_vsock_pcb_of(struct altcp_pcb *conn)
{
  if (conn == NULL) {
    return NULL;
  }
  ALTCP_VSOCK_ASSERT_CONN(conn);
  return (struct lwvsock_pcb *)conn->state;
}

/* ---- public helpers ------------------------------------------------------- */

struct altcp_pcb *
lwvsock_altcp_alloc(void *arg, u8_t ip_type)
{
  struct lwvsock_dev *dev = (struct lwvsock_dev *)arg;
  struct lwvsock_pcb *pcb;
  struct altcp_pcb *conn;

  if (dev == NULL) {
    LWIP_DEBUGF(LWVSOCK_DEBUG, ("lwvsock_altcp_alloc: no device (allocator arg is NULL)\n"));
    return NULL;
  }
  if ((ip_type != IPADDR_TYPE_V4) && (ip_type != IPADDR_TYPE_ANY)) {
    LWIP_DEBUGF(LWVSOCK_DEBUG, ("lwvsock_altcp_alloc: ip_type %u: CIDs are IPv4 addresses\n",
                                (unsigned)ip_type));
    return NULL;
  }
  /* the pcb first, as altcp_tcp does: its pool is the scarcer one */
  pcb = lwvsock_new(dev, LWVSOCK_STREAM);
  if (pcb == NULL) {
    return NULL;
  }
  conn = altcp_alloc();
  if (conn == NULL) {
    lwvsock_close(pcb);
    return NULL;
  }
  altcp_vsock_setup(conn, pcb);
  return conn;
}

void
lwvsock_altcp_set_default_dev(struct lwvsock_dev *dev)
{
  altcp_vsock_default_dev = dev;
}

struct altcp_pcb *
lwvsock_altcp_new_ip_type(u8_t ip_type)
{
  if (altcp_vsock_default_dev == NULL) {
    LWIP_DEBUGF(LWVSOCK_DEBUG, ("lwvsock_altcp_new_ip_type: no default device; "
                                "call lwvsock_altcp_set_default_dev() first\n"));
    return NULL;
  }
  return lwvsock_altcp_alloc(altcp_vsock_default_dev, ip_type);
}

void
lwvsock_altcp_cid_to_ip(u32_t cid, ip_addr_t *addr)
{
  LWIP_ASSERT("addr != NULL", addr != NULL);
  ip_addr_set_ip4_u32(addr, lwip_htonl(cid));
}

err_t
lwvsock_altcp_ip_to_cid(const ip_addr_t *addr, u32_t *cid)
{
  LWIP_ASSERT("cid != NULL", cid != NULL);
  if (ip_addr_isany(addr)) {
    *cid = LWVSOCK_CID_ANY;
    return ERR_OK;
  }
  if (!IP_IS_V4(addr)) {
    return ERR_VAL;
  }
  *cid = lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(addr)));
  return ERR_OK;
}

struct lwvsock_pcb *
lwvsock_altcp_pcb(struct altcp_pcb *conn)
{
  if ((conn == NULL) || (conn->fns != &lwvsock_altcp_functions)) {
    return NULL;
  }
  return altcp_vsock_pcb_of(conn);
}

err_t
lwvsock_altcp_bind32(struct altcp_pcb *conn, u32_t cid, u32_t port)
{
  struct lwvsock_pcb *pcb = lwvsock_altcp_pcb(conn);
  if (pcb == NULL) {
    return ERR_VAL;
  }
  return lwvsock_bind(pcb, cid, port);
}

err_t
lwvsock_altcp_connect32(struct altcp_pcb *conn, u32_t cid, u32_t port,
                        altcp_connected_fn connected)
{
  struct lwvsock_pcb *pcb = lwvsock_altcp_pcb(conn);
  if (pcb == NULL) {
    return ERR_VAL;
  }
  conn->connected = connected;
  return lwvsock_connect(pcb, cid, port, altcp_vsock_connected);
}

u32_t
lwvsock_altcp_port32(struct altcp_pcb *conn, int local)
{
  struct lwvsock_pcb *pcb = lwvsock_altcp_pcb(conn);
  if (pcb == NULL) {
    return LWVSOCK_PORT_ANY;
  }
  return local ? lwvsock_local_port(pcb) : lwvsock_remote_port(pcb);
}

/* ---- the altcp_functions slots -------------------------------------------- */

static void
altcp_vsock_set_poll(struct altcp_pcb *conn, u8_t interval)
{
  struct lwvsock_pcb *pcb = altcp_vsock_pcb_of(conn);
  if (pcb != NULL) {
    lwvsock_poll(pcb, altcp_vsock_poll, interval);
  }
}

static void
altcp_vsock_recved(struct altcp_pcb *conn, u16_t len)
{
  struct lwvsock_pcb *pcb = altcp_vsock_pcb_of(conn);
  if (pcb != NULL) {
    lwvsock_recved(pcb, len);
  }
}

static err_t
altcp_vsock_bind(struct altcp_pcb *conn, const ip_addr_t *ipaddr, u16_t port)
{
  u32_t cid;
  if (lwvsock_altcp_ip_to_cid(ipaddr, &cid) != ERR_OK) {
    return ERR_VAL;
  }
  /* port 0 asks for an ephemeral port, as with tcp_bind() */
  return lwvsock_altcp_bind32(conn, cid, (port == 0) ? LWVSOCK_PORT_ANY : port);
}

static err_t
altcp_vsock_connect(struct altcp_pcb *conn, const ip_addr_t *ipaddr, u16_t port,
                    altcp_connected_fn connected)
{
  u32_t cid;
  if ((ipaddr == NULL) || (lwvsock_altcp_ip_to_cid(ipaddr, &cid) != ERR_OK) ||
      (cid == LWVSOCK_CID_ANY)) {
    return ERR_VAL;
  }
  return lwvsock_altcp_connect32(conn, cid, port, connected);
}

static struct altcp_pcb *
altcp_vsock_listen(struct altcp_pcb *conn, u8_t backlog, err_t *err)
{
  struct lwvsock_pcb *pcb = altcp_vsock_pcb_of(conn);
  if (pcb == NULL) {
    if (err != NULL) {
      *err = ERR_VAL;
    }
    return NULL;
  }
  if (lwvsock_listen_with_backlog(pcb, backlog, err) == NULL) {
    return NULL;
  }
  lwvsock_accept(pcb, altcp_vsock_accept);
  /* the same conn: apps write pcb = altcp_listen(pcb) */
  return conn;
}

static void
altcp_vsock_abort(struct altcp_pcb *conn)
{
  struct lwvsock_pcb *pcb = altcp_vsock_pcb_of(conn);
  if (pcb != NULL) {
    /* err(ERR_ABRT) follows from the core and frees conn */
    lwvsock_abort(pcb);
  }
}

static err_t
altcp_vsock_close(struct altcp_pcb *conn)
{
  struct lwvsock_pcb *pcb;
  err_t err;
  if (conn == NULL) {
    return ERR_VAL;
  }
  pcb = altcp_vsock_pcb_of(conn);
  if (pcb == NULL) {
    /* only inside the err callback: altcp_vsock_err() frees conn when it returns */
    return ERR_OK;
  }
  altcp_vsock_remove_callbacks(pcb);
  err = lwvsock_close(pcb);
  if (err != ERR_OK) {
    /* not closed: keep serving the conn */
    altcp_vsock_setup_callbacks(conn, pcb);
    return err;
  }
  conn->state = NULL; /* the core finishes the close on its own */
  altcp_vsock_guard_mark(conn, ALTCP_VSOCK_CLOSED);
  altcp_free(conn);
  return ERR_OK;
}

static err_t
altcp_vsock_shutdown(struct altcp_pcb *conn, int shut_rx, int shut_tx)
{
  struct lwvsock_pcb *pcb = altcp_vsock_pcb_of(conn);
  if (pcb == NULL) {
    return ERR_VAL;
  }
  return lwvsock_shutdown(pcb, shut_rx, shut_tx);
}

static err_t
altcp_vsock_write(struct altcp_pcb *conn, const void *dataptr, u16_t len, u8_t apiflags)
{
  struct lwvsock_pcb *pcb = altcp_vsock_pcb_of(conn);
  if (pcb == NULL) {
    return ERR_VAL;
  }
  /* TCP_WRITE_FLAG_* and LWVSOCK_WRITE_FLAG_* share their values. Always
     copied (no NOCOPY): altcp users have not been verified to keep their
     buffers until the sent callback; the flag is lwvsock_write()'s only. */
  return lwvsock_write(pcb, dataptr, len,
                       apiflags & (LWVSOCK_WRITE_FLAG_COPY | LWVSOCK_WRITE_FLAG_MORE));
}

static err_t
altcp_vsock_output(struct altcp_pcb *conn)
{
  struct lwvsock_pcb *pcb = altcp_vsock_pcb_of(conn);
  if (pcb == NULL) {
    return ERR_VAL;
  }
  return lwvsock_output(pcb);
}

/** Capped at 0x7FFF: apps size writes as 2 * mss in a u16 (httpd's HTTPD_MAX_WRITE_LEN). */
static u16_t
altcp_vsock_mss(struct altcp_pcb *conn)
{
  struct lwvsock_pcb *pcb = altcp_vsock_pcb_of(conn);
  if (pcb == NULL) {
    return 0;
  }
  return (u16_t)LWIP_MIN(lwvsock_mss(pcb), 0x7FFFu);
}

static u16_t
altcp_vsock_sndbuf(struct altcp_pcb *conn)
{
  struct lwvsock_pcb *pcb = altcp_vsock_pcb_of(conn);
  if (pcb == NULL) {
    return 0;
  }
  return (u16_t)LWIP_MIN(lwvsock_sndbuf(pcb), 0xFFFFu);
}

static u16_t
altcp_vsock_sndqueuelen(struct altcp_pcb *conn)
{
  struct lwvsock_pcb *pcb = altcp_vsock_pcb_of(conn);
  if (pcb == NULL) {
    return 0;
  }
  return (u16_t)LWIP_MIN(lwvsock_sndqueuelen(pcb), 0xFFFFu);
}

/** The core's small-packet coalescing (lwvsock_nagle_disable()). */
static void
altcp_vsock_nagle_disable(struct altcp_pcb *conn)
{
  lwvsock_nagle_disable(altcp_vsock_pcb_of(conn));
}

static void
altcp_vsock_nagle_enable(struct altcp_pcb *conn)
{
  lwvsock_nagle_enable(altcp_vsock_pcb_of(conn));
}

static int
altcp_vsock_nagle_disabled(struct altcp_pcb *conn)
{
  return lwvsock_nagle_disabled(altcp_vsock_pcb_of(conn));
}

/** Connections are never reclaimed for priority, so there is nothing to set. */
static void
altcp_vsock_setprio(struct altcp_pcb *conn, u8_t prio)
{
  LWIP_UNUSED_ARG(conn);
  LWIP_UNUSED_ARG(prio);
}

#if LWIP_TCP_KEEPALIVE
/** No keepalive: the device reports a dead peer by RST or transport reset. */
static void
altcp_vsock_keepalive_disable(struct altcp_pcb *conn)
{
  LWIP_UNUSED_ARG(conn);
}

static void
altcp_vsock_keepalive_enable(struct altcp_pcb *conn, u32_t idle, u32_t intvl, u32_t cnt)
{
  LWIP_UNUSED_ARG(conn);
  LWIP_UNUSED_ARG(idle);
  LWIP_UNUSED_ARG(intvl);
  LWIP_UNUSED_ARG(cnt);
}
#endif /* LWIP_TCP_KEEPALIVE */

/** Called by altcp_free(). A conn freed while it still owns a pcb aborts the pcb. */
static void
altcp_vsock_dealloc(struct altcp_pcb *conn)
{
  struct lwvsock_pcb *pcb = altcp_vsock_pcb_of(conn);
  if (pcb != NULL) {
    LWIP_DEBUGF(LWVSOCK_DEBUG, ("altcp_vsock: conn %p freed while open, aborting its pcb\n",
                                (void *)conn));
    conn->state = NULL;
    altcp_vsock_remove_callbacks(pcb);
    lwvsock_abort(pcb);
    altcp_vsock_guard_mark(conn, ALTCP_VSOCK_GONE);
  }
}

static err_t
altcp_vsock_get_tcp_addrinfo(struct altcp_pcb *conn, int local, ip_addr_t *addr, u16_t *port)
{
  struct lwvsock_pcb *pcb = altcp_vsock_pcb_of(conn);
  if (pcb == NULL) {
    return ERR_VAL;
  }
  if (addr != NULL) {
    lwvsock_altcp_cid_to_ip(local ? lwvsock_local_cid(pcb) : lwvsock_remote_cid(pcb), addr);
  }
  if (port != NULL) {
    *port = (u16_t)(local ? lwvsock_local_port(pcb) : lwvsock_remote_port(pcb));
  }
  return ERR_OK;
}

/** Returns shared storage, overwritten by the next call for the same side. */
static ip_addr_t *
altcp_vsock_get_ip(struct altcp_pcb *conn, int local)
{
  ip_addr_t *addr = &altcp_vsock_ip[local ? 1 : 0];
  if (altcp_vsock_get_tcp_addrinfo(conn, local, addr, NULL) != ERR_OK) {
    return NULL;
  }
  return addr;
}

/** The port truncated to 16 bits; lwvsock_altcp_port32() has it whole. */
static u16_t
altcp_vsock_get_port(struct altcp_pcb *conn, int local)
{
  u16_t port;
  if (altcp_vsock_get_tcp_addrinfo(conn, local, NULL, &port) != ERR_OK) {
    return 0;
  }
  return port;
}

#ifdef LWIP_DEBUG
static enum tcp_state
altcp_vsock_dbg_get_tcp_state(struct altcp_pcb *conn)
{
  struct lwvsock_pcb *pcb = altcp_vsock_pcb_of(conn);
  if (pcb == NULL) {
    return CLOSED;
  }
  switch (lwvsock_state(pcb)) {
    case LWVSOCK_LISTEN:
      return LISTEN;
    case LWVSOCK_CONNECTING:
      return SYN_SENT;
    case LWVSOCK_ESTABLISHED:
      return ESTABLISHED;
    case LWVSOCK_CLOSING:
      return CLOSING;
    default:
      return CLOSED;
  }
}
#endif /* LWIP_DEBUG */

const struct altcp_functions lwvsock_altcp_functions = {
  .set_poll = altcp_vsock_set_poll,
  .recved = altcp_vsock_recved,
  .bind = altcp_vsock_bind,
  .connect = altcp_vsock_connect,
  .listen = altcp_vsock_listen,
  .abort = altcp_vsock_abort,
  .close = altcp_vsock_close,
  .shutdown = altcp_vsock_shutdown,
  .write = altcp_vsock_write,
  .output = altcp_vsock_output,
  .mss = altcp_vsock_mss,
  .sndbuf = altcp_vsock_sndbuf,
  .sndqueuelen = altcp_vsock_sndqueuelen,
  .nagle_disable = altcp_vsock_nagle_disable,
  .nagle_enable = altcp_vsock_nagle_enable,
  .nagle_disabled = altcp_vsock_nagle_disabled,
  .setprio = altcp_vsock_setprio,
  .dealloc = altcp_vsock_dealloc,
  .addrinfo = altcp_vsock_get_tcp_addrinfo,
  .getip = altcp_vsock_get_ip,
  .getport = altcp_vsock_get_port,
#if LWIP_TCP_KEEPALIVE
  .keepalive_disable = altcp_vsock_keepalive_disable,
  .keepalive_enable = altcp_vsock_keepalive_enable,
#endif
#ifdef LWIP_DEBUG
  .dbg_get_tcp_state = altcp_vsock_dbg_get_tcp_state,
#endif
};

#endif /* LWIP_ALTCP */
