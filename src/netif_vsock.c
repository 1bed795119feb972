/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The vsock netif: lwIP Ethernet frames over one lwvsock STREAM connection
 * (see netif_vsock.h). Uses only the raw pcb API and lwIP.
 *
 * Invariants:
 * - vn->pcb is the link connection (connecting or established) or NULL; the
 *   link is up exactly while it is established.
 * - Every path that ends the link while its pcb lives aborts it (RST), except
 *   the peer's own close, so a recv callback that finds vn->pcb changed knows
 *   its pcb was aborted and returns ERR_ABRT.
 * - The receive parser is reset whenever the link changes: framing restarts
 *   with each connection.
 */
#include <string.h>

#include "lwvsock/netif_vsock.h"
#include "lwip/dhcp.h"
#include "lwip/etharp.h"
#include "lwip/mem.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

/* Like lwIP's own modules, the netif compiles to nothing in a build whose
   lwipopts.h leaves out what it stands on (an lwIP without Ethernet). */
#if LWIP_ETHERNET && LWIP_ARP && LWIP_IPV4

/* An 802.1Q tag may ride on top of the MTU. */
#define NV_VLAN_HLEN      4
/* A length above this is no frame any daemon sends (QEMU's own limit is
   4096 + 65536): the stream is out of step. */
#define NV_LEN_SANE       (64u * 1024u + 4096u)
#define NV_MTU_MIN        576u
/* The largest frame (MTU + Ethernet + VLAN headers) fits both length fields. */
#define NV_MTU_MAX        65500u

/* gvisor-tap-vsock's guest (gvforwarder) opens with this request; the daemon
   hijacks the connection and answers nothing. */
static const char nv_gvproxy_connect[] =
  "POST /connect HTTP/1.1\r\nHost: vsock\r\nContent-Length: 0\r\n\r\n";

static void nv_start_connect(struct lwvsock_netif *vn);

static uint8_t
nv_hdr_size(const struct lwvsock_netif *vn)
{
  return vn->cfg.framing == LWVSOCK_NETIF_FRAMING_GVPROXY ? 2 : 4;
}

/* Largest frame (Ethernet header + payload) accepted either way. */
static uint32_t
nv_frame_max(const struct lwvsock_netif *vn)
{
  return (uint32_t)vn->cfg.mtu + SIZEOF_ETH_HDR + NV_VLAN_HLEN;
}

void
lwvsock_netif_config_init(struct lwvsock_netif_config *cfg)
{
  static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

  memset(cfg, 0, sizeof(*cfg));
  cfg->framing = LWVSOCK_NETIF_FRAMING_QEMU;
  cfg->cid = LWVSOCK_CID_HOST;
  cfg->port = LWVSOCK_NETIF_PORT_DEFAULT;
  cfg->mtu = LWVSOCK_NETIF_MTU_DEFAULT;
  memcpy(cfg->hwaddr, mac, sizeof(mac));
  cfg->backoff_min_ms = LWVSOCK_NETIF_BACKOFF_MIN_MS;
  cfg->backoff_max_ms = LWVSOCK_NETIF_BACKOFF_MAX_MS;
}

/* ---- receive: length-prefixed frames across packets and pbuf chains ------- */

/* Forget a partly received frame; counted when the stream ends inside it. */
static void
nv_rx_reset(struct lwvsock_netif *vn, int count_truncated)
{
  if (count_truncated && (vn->hdr_have > 0 || vn->frame_have > 0 || vn->frame != NULL)) {
    vn->stats.rx_truncated++;
  }
  if (vn->frame != NULL) {
    pbuf_free(vn->frame);
    vn->frame = NULL;
  }
  vn->hdr_have = 0;
  vn->frame_len = 0;
  vn->frame_have = 0;
  vn->frame_skip = 0;
}

/* A frame lent in place: the received pbuf segment it lies in stays referenced. */
struct nv_zc {
  struct pbuf_custom pc;  /* first: lwIP frees through it */
  struct pbuf *held;
};

static void
nv_zc_free(struct pbuf *p)
{
  struct nv_zc *zc = (struct nv_zc *)p;

  pbuf_free(zc->held);
  mem_free(zc);
}

/*
 * The frame of @p len bytes at @p off of @p p, without copying, when it lies
 * whole in one segment of the chain (lwIP needs its headers contiguous); NULL
 * otherwise or when memory is short (the caller copies then).
 */
static struct pbuf *
nv_rx_in_place(struct pbuf *p, uint32_t off, uint32_t len)
{
  struct pbuf *q = p;
  struct nv_zc *zc;

  while (q != NULL && off >= q->len) {
    off -= q->len;
    q = q->next;
  }
  if (ETH_PAD_SIZE != 0 || q == NULL || off + len > q->len) {
    return NULL;
  }
  zc = (struct nv_zc *)mem_malloc(sizeof(*zc));
  if (zc == NULL) {
    return NULL;
  }
  zc->pc.custom_free_function = nv_zc_free;
  zc->held = q;
  pbuf_ref(q);
  return pbuf_alloced_custom(PBUF_RAW, (u16_t)len, PBUF_REF, &zc->pc, (uint8_t *)q->payload + off, (u16_t)len);
}

/* A length header is complete: 0, or -1 for a length that means the framing is lost. */
static int
nv_rx_len(struct lwvsock_netif *vn)
{
  if (vn->cfg.framing == LWVSOCK_NETIF_FRAMING_GVPROXY) {
    vn->frame_len = (uint32_t)vn->hdr[0] | ((uint32_t)vn->hdr[1] << 8);
  } else {
    vn->frame_len = ((uint32_t)vn->hdr[0] << 24) | ((uint32_t)vn->hdr[1] << 16) |
                    ((uint32_t)vn->hdr[2] << 8) | vn->hdr[3];
  }
  vn->frame_have = 0;
  if (vn->frame_len > NV_LEN_SANE) {
    vn->stats.rx_desync++;
    return -1;
  }
  return 0;
}

/*
 * The frame's first byte is at @p off of @p p: lend the frame in place, or
 * start a copy, or decide to skip it. A frame lent in place is complete at
 * once (frame_have == frame_len).
 */
static void
nv_rx_begin(struct lwvsock_netif *vn, struct pbuf *p, uint32_t off)
{
  uint32_t len = vn->frame_len;

  vn->frame_skip = 1;
  if (len < SIZEOF_ETH_HDR) {
    vn->stats.rx_runt++;
  } else if (len > nv_frame_max(vn)) {
    vn->stats.rx_oversize++;
  } else if ((vn->frame = nv_rx_in_place(p, off, len)) != NULL) {
    vn->stats.rx_in_place++;
    vn->frame_have = len;
    vn->frame_skip = 0;
  } else {
    /* One contiguous pbuf: lwIP's input wants the headers in the first one. */
    vn->frame = pbuf_alloc(PBUF_RAW, (u16_t)(len + ETH_PAD_SIZE), PBUF_RAM);
    if (vn->frame == NULL) {
      vn->stats.rx_nomem++;
    } else {
      vn->frame_skip = 0;
    }
  }
}

/* The frame is complete: hand it to lwIP (which may send, or drop the link). */
static void
nv_rx_deliver(struct lwvsock_netif *vn)
{
  struct pbuf *frame = vn->frame;

  vn->frame = NULL;
  vn->hdr_have = 0;
  vn->frame_have = 0;
  vn->frame_skip = 0;
  if (frame == NULL) {
    return;
  }
  vn->stats.rx_frames++;
  vn->stats.rx_bytes += vn->frame_len;
  if (vn->netif.input(frame, &vn->netif) != ERR_OK) {
    pbuf_free(frame);
  }
}

/*
 * Feed the bytes of @p p to the parser. Stops early when the link is dropped
 * (framing lost here, or the application reset it from lwIP's input).
 */
static void
nv_rx_bytes(struct lwvsock_netif *vn, struct lwvsock_pcb *pcb, struct pbuf *p)
{
  const uint8_t hsz = nv_hdr_size(vn);
  uint32_t off = 0;

  while (off < p->tot_len && vn->pcb == pcb) {
    uint32_t n;

    if (vn->hdr_have < hsz) {
      n = LWIP_MIN((uint32_t)(hsz - vn->hdr_have), p->tot_len - off);
      pbuf_copy_partial(p, vn->hdr + vn->hdr_have, (u16_t)n, (u16_t)off);
      off += n;
      vn->hdr_have = (uint8_t)(vn->hdr_have + n);
      if (vn->hdr_have == hsz) {
        if (nv_rx_len(vn) != 0) {
          lwvsock_netif_reset_link(vn);
          break;
        }
        if (vn->frame_len == 0) {
          vn->stats.rx_runt++;
          nv_rx_deliver(vn);
        }
      }
      /* The frame begins with its first byte in hand, so that one starting
         a packet can still be lent in place. */
      continue;
    }
    if (vn->frame == NULL && !vn->frame_skip) {
      nv_rx_begin(vn, p, off);
      off += vn->frame_have;  /* a frame lent in place */
    } else {
      n = LWIP_MIN(vn->frame_len - vn->frame_have, p->tot_len - off);
      if (!vn->frame_skip) {
        pbuf_copy_partial(p, (uint8_t *)vn->frame->payload + ETH_PAD_SIZE + vn->frame_have,
                          (u16_t)n, (u16_t)off);
      }
      off += n;
      vn->frame_have += n;
    }
    if (vn->frame_have == vn->frame_len) {
      nv_rx_deliver(vn);
    }
  }
}

/* ---- link life cycle ---------------------------------------------------------- */

static void
nv_timer(void *arg)
{
  struct lwvsock_netif *vn = (struct lwvsock_netif *)arg;

  vn->timer_armed = 0;
  nv_start_connect(vn);
}

static void
nv_schedule_reconnect(struct lwvsock_netif *vn)
{
  if (vn->cfg.listen || vn->timer_armed) {
    return;
  }
  vn->timer_armed = 1;
  sys_timeout(vn->backoff_ms, nv_timer, vn);
  vn->backoff_ms = LWIP_MIN(vn->backoff_ms * 2, vn->cfg.backoff_max_ms);
}

/* The link pcb is gone (freed or handed back): link down, try again later. */
static void
nv_link_lost(struct lwvsock_netif *vn)
{
  vn->pcb = NULL;
  nv_rx_reset(vn, 1);
  if (netif_is_link_up(&vn->netif)) {
    vn->stats.link_downs++;
    netif_set_link_down(&vn->netif);
  }
  nv_schedule_reconnect(vn);
}

static void
nv_err(void *arg, err_t err)
{
  struct lwvsock_netif *vn = (struct lwvsock_netif *)arg;

  LWIP_DEBUGF(LWVSOCK_NETIF_DEBUG, ("netif_vsock: link error %d\n", (int)err));
  LWIP_UNUSED_ARG(err);
  if (!netif_is_link_up(&vn->netif)) {
    vn->stats.connect_fails++;
  }
  nv_link_lost(vn);
}

static err_t
nv_recv(void *arg, struct lwvsock_pcb *pcb, struct pbuf *p, err_t err)
{
  struct lwvsock_netif *vn = (struct lwvsock_netif *)arg;
  uint32_t len;

  LWIP_UNUSED_ARG(err);
  if (p == NULL) {
    /* The daemon closed: finish the close, the link is down. */
    lwvsock_close(pcb);
    nv_link_lost(vn);
    return ERR_OK;
  }
  len = p->tot_len;
  nv_rx_bytes(vn, pcb, p);
  pbuf_free(p);
  if (vn->pcb != pcb) {
    return ERR_ABRT;  /* aborted meanwhile (see the file comment) */
  }
  lwvsock_recved(pcb, len);
  return ERR_OK;
}

/* @p pcb is established: it becomes the link. */
static void
nv_link_up(struct lwvsock_netif *vn, struct lwvsock_pcb *pcb)
{
  vn->pcb = pcb;
  lwvsock_arg(pcb, vn);
  lwvsock_recv(pcb, nv_recv);
  lwvsock_err(pcb, nv_err);
  nv_rx_reset(vn, 0);
  vn->backoff_ms = vn->cfg.backoff_min_ms;
  vn->stats.connects++;
  if (vn->cfg.framing == LWVSOCK_NETIF_FRAMING_GVPROXY && !vn->cfg.listen) {
    /* A fresh connection has room for the request (the send buffer is >= 4 KiB). */
    if (lwvsock_write(pcb, nv_gvproxy_connect, sizeof(nv_gvproxy_connect) - 1, 0) != ERR_OK) {
      lwvsock_netif_reset_link(vn);
      return;
    }
  }
  netif_set_link_up(&vn->netif);
}

static err_t
nv_connected(void *arg, struct lwvsock_pcb *pcb, err_t err)
{
  struct lwvsock_netif *vn = (struct lwvsock_netif *)arg;

  LWIP_UNUSED_ARG(err);
  nv_link_up(vn, pcb);
  return vn->pcb == pcb ? ERR_OK : ERR_ABRT;
}

static void
nv_start_connect(struct lwvsock_netif *vn)
{
  struct lwvsock_pcb *pcb = lwvsock_new(vn->cfg.dev, LWVSOCK_STREAM);

  if (pcb == NULL) {
    vn->stats.connect_fails++;
    nv_schedule_reconnect(vn);
    return;
  }
  lwvsock_arg(pcb, vn);
  lwvsock_err(pcb, nv_err);
  vn->pcb = pcb;
  if (lwvsock_connect(pcb, vn->cfg.cid, vn->cfg.port, nv_connected) != ERR_OK) {
    lwvsock_close(pcb);
    vn->pcb = NULL;
    vn->stats.connect_fails++;
    nv_schedule_reconnect(vn);
  }
}

static err_t
nv_accept(void *arg, struct lwvsock_pcb *newpcb, err_t err)
{
  struct lwvsock_netif *vn = (struct lwvsock_netif *)arg;

  if (err != ERR_OK || newpcb == NULL) {
    return ERR_VAL;
  }
  if (vn->pcb != NULL) {
    /* One link at a time: a second daemon connection is refused. */
    lwvsock_abort(newpcb);
    return ERR_ABRT;
  }
  nv_link_up(vn, newpcb);
  return vn->pcb == newpcb ? ERR_OK : ERR_ABRT;
}

void
lwvsock_netif_reset_link(struct lwvsock_netif *vn)
{
  struct lwvsock_pcb *pcb;

  if (vn == NULL || vn->pcb == NULL) {
    return;
  }
  pcb = vn->pcb;
  lwvsock_err(pcb, NULL);
  lwvsock_abort(pcb);
  nv_link_lost(vn);
}

/* ---- the lwIP side -------------------------------------------------------------- */

static err_t
nv_linkoutput(struct netif *netif, struct pbuf *p)
{
  struct lwvsock_netif *vn = (struct lwvsock_netif *)netif->state;
  const uint8_t hsz = nv_hdr_size(vn);
  uint32_t len = (uint32_t)p->tot_len - ETH_PAD_SIZE;
  uint8_t hdr[4];
  err_t err;

  if (vn->pcb == NULL || !netif_is_link_up(netif)) {
    vn->stats.tx_nolink++;
    return ERR_IF;
  }
  if (len > nv_frame_max(vn)) {
    vn->stats.tx_oversize++;
    return ERR_VAL;
  }
  /* Header and frame go in together or not at all: a half-written frame
     would put the daemon's parser out of step. */
  if (lwvsock_sndbuf(vn->pcb) < hsz + len) {
    vn->stats.tx_full++;
    return ERR_MEM;
  }
  if (hsz == 2) {
    hdr[0] = (uint8_t)len;
    hdr[1] = (uint8_t)(len >> 8);
  } else {
    hdr[0] = (uint8_t)(len >> 24);
    hdr[1] = (uint8_t)(len >> 16);
    hdr[2] = (uint8_t)(len >> 8);
    hdr[3] = (uint8_t)len;
  }
#if ETH_PAD_SIZE
  pbuf_remove_header(p, ETH_PAD_SIZE);
#endif
  err = lwvsock_write(vn->pcb, hdr, hsz, LWVSOCK_WRITE_FLAG_MORE);
  if (err == ERR_OK) {
    err = lwvsock_write_pbuf(vn->pcb, p, 0);
  }
#if ETH_PAD_SIZE
  pbuf_add_header(p, ETH_PAD_SIZE);
#endif
  if (err != ERR_OK) {
    /* Room was checked; should the pcb disagree, resynchronise the hard way. */
    lwvsock_netif_reset_link(vn);
    return err;
  }
  vn->stats.tx_frames++;
  vn->stats.tx_bytes += len;
  return ERR_OK;
}

static err_t
nv_netif_init(struct netif *netif)
{
  struct lwvsock_netif *vn = (struct lwvsock_netif *)netif->state;

  netif->name[0] = 'v';
  netif->name[1] = 's';
  netif->output = etharp_output;
  netif->linkoutput = nv_linkoutput;
  netif->mtu = vn->cfg.mtu;
  netif->hwaddr_len = ETH_HWADDR_LEN;
  memcpy(netif->hwaddr, vn->cfg.hwaddr, ETH_HWADDR_LEN);
  netif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
  return ERR_OK;
}

static int
nv_config_ok(const struct lwvsock_netif_config *cfg)
{
  return cfg->dev != NULL &&
         (cfg->framing == LWVSOCK_NETIF_FRAMING_QEMU || cfg->framing == LWVSOCK_NETIF_FRAMING_GVPROXY) &&
         cfg->mtu >= NV_MTU_MIN && cfg->mtu <= NV_MTU_MAX &&
         cfg->backoff_min_ms > 0 && cfg->backoff_max_ms >= cfg->backoff_min_ms;
}

err_t
lwvsock_netif_add(struct lwvsock_netif *vn, const struct lwvsock_netif_config *cfg)
{
  err_t err = ERR_OK;

  if (vn == NULL || cfg == NULL || !nv_config_ok(cfg)) {
    return ERR_ARG;
  }
  memset(vn, 0, sizeof(*vn));
  vn->cfg = *cfg;
  vn->backoff_ms = cfg->backoff_min_ms;
  if (cfg->listen) {
    struct lwvsock_pcb *l = lwvsock_new(cfg->dev, LWVSOCK_STREAM);
    if (l == NULL) {
      return ERR_MEM;
    }
    err = lwvsock_bind(l, LWVSOCK_CID_ANY, cfg->port);
    if (err == ERR_OK && lwvsock_listen_with_backlog(l, 1, &err) == NULL && err == ERR_OK) {
      err = ERR_VAL;
    }
    if (err != ERR_OK) {
      lwvsock_close(l);
      return err;
    }
    lwvsock_arg(l, vn);
    lwvsock_accept(l, nv_accept);
    vn->listener = l;
  }
  if (netif_add(&vn->netif, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, vn,
                nv_netif_init, ethernet_input) == NULL) {
    if (vn->listener != NULL) {
      lwvsock_close(vn->listener);
      vn->listener = NULL;
    }
    return ERR_IF;
  }
  netif_set_up(&vn->netif);
  if (!cfg->listen) {
    nv_start_connect(vn);
  }
  return ERR_OK;
}

void
lwvsock_netif_remove(struct lwvsock_netif *vn)
{
  if (vn == NULL) {
    return;
  }
  if (vn->timer_armed) {
    sys_untimeout(nv_timer, vn);
    vn->timer_armed = 0;
  }
  vn->cfg.listen = 1;  /* no reconnect from here on */
#if LWIP_DHCP
  dhcp_stop(&vn->netif);
  dhcp_cleanup(&vn->netif);
#endif
  lwvsock_netif_reset_link(vn);
  nv_rx_reset(vn, 0);
  if (vn->listener != NULL) {
    lwvsock_close(vn->listener);
    vn->listener = NULL;
  }
  netif_remove(&vn->netif);
}

struct netif *
lwvsock_netif_netif(struct lwvsock_netif *vn)
{
  return &vn->netif;
}

void
lwvsock_netif_get_stats(const struct lwvsock_netif *vn, struct lwvsock_netif_stats *st)
{
  *st = vn->stats;
}

#endif /* LWIP_ETHERNET && LWIP_ARP && LWIP_IPV4 */
