/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Private state of the simulated host device (see include/lwvsock/sim.h).
 *
 * Layout: sim_vring.c is the device side of the split rings (address
 * translation, chain walking, used-ring writes), sim_bq.c the host sockets'
 * byte queues, sim_conn.c the host sockets and the protocol, sim.c the backend
 * ops and device-level controls.
 *
 * Everything the guest driver put in shared memory is untrusted: it is read
 * only through sim_vq_pop(), which validates every descriptor against the
 * regions handed out by mem_alloc.
 */
#ifndef LWVSOCK_SIM_PRIV_H
#define LWVSOCK_SIM_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lwvsock/port/backend.h"
#include "lwvsock/sim.h"
#include "vsock_hdr.h"

/* ---- memory regions ---------------------------------------------------------- */

/** Regions the sim hands out; region k is seen by the device at (k + 1) << 32. */
#define SIM_MAX_REGIONS    16
#define SIM_REGION_SHIFT   32

struct sim_region {
  uint8_t *va;    /**< NULL: slot free */
  size_t size;
};

/* ---- rings --------------------------------------------------------------------- */

/** One piece of a descriptor chain, already translated and bounds-checked. */
struct sim_iov {
  uint8_t *base;
  uint32_t len;
};

/** A popped chain: nout device-readable pieces, then nin device-writable ones. */
struct sim_chain {
  uint16_t head;
  unsigned nout, nin;
  uint32_t out_len, in_len;
  struct sim_iov *iov;     /**< points into the sim's scratch array */
};

/** Cursor over a list of pieces (gather reads, scatter writes). */
struct sim_iter {
  const struct sim_iov *iov;
  unsigned n;
  unsigned i;
  uint32_t off;
};

/** Device view of one split virtqueue. */
struct sim_vq {
  bool ready;              /**< set up by setup_queue */
  bool broken;             /**< the driver violated the ring protocol: no more processing */
  bool need_kick;          /**< found the ring empty: wait for a notify before looking again */
  uint16_t num;
  uint8_t *desc;           /**< translated ring parts */
  uint8_t *avail;
  uint8_t *used;
  uint16_t last_avail;     /**< next avail entry to take */
  uint16_t used_idx;       /**< next used entry to write */
  uint32_t last_id;        /**< head of the last used entry (for the used_id_dup fault) */
  uint16_t signalled_used; /**< used_idx at the last notification decision */
  uint64_t kicks;          /**< notifications of this queue since setup */
};

/* ---- byte queues ------------------------------------------------------------------ */

/** Chunk payload size; queues grow chunk by chunk so idle sockets cost nothing. */
#define SIM_CHUNK_SIZE     (16u * 1024u)
/** Free chunks kept for reuse (beyond this they go back to malloc). */
#define SIM_CHUNK_CACHE    256u

struct sim_chunk {
  struct sim_chunk *next;
  uint32_t rd, wr;
  uint8_t data[SIM_CHUNK_SIZE];
};

struct sim_bq {
  struct sim_chunk *head, *tail;
  size_t len;
};

/** Growable FIFO of u32 (SEQPACKET message lengths). */
struct sim_u32q {
  uint32_t *v;
  uint32_t head, count, cap;
};

/* ---- host sockets ------------------------------------------------------------------- */

/** Control packets a socket owes the guest (bits of sim_sock.pend). */
#define SIM_PEND_REQUEST        0x01u
#define SIM_PEND_RESPONSE       0x02u
#define SIM_PEND_CREDIT_UPDATE  0x04u
#define SIM_PEND_CREDIT_REQUEST 0x08u
#define SIM_PEND_RST            0x10u

struct sim_sock {
  int id;
  enum lwvsock_sim_state state;
  bool established;          /**< reached CONNECTED: in Linux's connected table until released */
  uint16_t type;
  uint32_t local_port;       /**< host port */
  uint32_t remote_port;      /**< guest port (VMADDR_PORT_ANY for listeners) */
  uint64_t remote_cid;       /**< where host packets go (normally the guest CID) */
  int err;
  int rx_err;                /**< Linux's sk_err: recv's answer once drained (set when the device goes away) */

  bool hashed;
  int hnext;                 /**< next id in the hash bucket, 0 ends */

  bool queued;               /**< on the send list */
  int snext, sprev;          /**< send list links, 0 ends */

  uint8_t pend;              /**< SIM_PEND_* */
  bool released;             /**< the application closed it: free once the protocol is done */

  uint32_t peer_shutdown;    /**< SHUTDOWN flags the guest sent (sticky) */
  uint32_t local_shutdown;   /**< SHUTDOWN flags the host application asked for */
  uint32_t shut_sent;        /**< SHUTDOWN flags already sent */

  /* credit: our receive side */
  uint32_t buf_alloc, fwd_cnt, last_fwd_cnt;
  /* credit: the guest's receive side */
  uint32_t peer_buf_alloc, peer_fwd_cnt, tx_cnt;

  struct sim_bq rxq;         /**< received, unread */
  struct sim_bq txq;         /**< queued to the guest, unsent */
  struct sim_u32q rx_msgs;   /**< SEQPACKET: lengths of complete received messages */
  struct sim_u32q tx_msgs;   /**< SEQPACKET: lengths of queued messages */
  struct sim_u32q rx_skbs;   /**< STREAM: unread bytes of each queued packet (Linux's skbs) */
  uint32_t rx_msg_partial;   /**< SEQPACKET: bytes of the message being received */
  uint32_t tx_msg_off;       /**< SEQPACKET: bytes of the head message already sent */

  /* listeners */
  int acc_head, acc_tail;    /**< accept queue of children */
  int acc_next;              /**< link in the parent's accept queue */
  uint32_t acc_len;

  bool timer;                /**< deadline armed */
  uint32_t deadline;         /**< sys_now() value */
  bool credit_req_sent;      /**< CREDIT_REQUEST outstanding */
};

/** Largest number of host sockets (guest REQUESTs beyond it get RST). */
#define SIM_MAX_SOCKS        65536
/** Hash buckets (power of two). */
#define SIM_HASH_BUCKETS     4096u
/** Pending accepts per listener (Linux SOMAXCONN). */
#define SIM_BACKLOG          4096u
/** Host send buffer per socket. */
#define SIM_SNDBUF           (256u * 1024u)
/** Default host ports of host-initiated connections: IANA's dynamic range, 16-bit like TCP's. */
#define SIM_HOST_PORT_MIN    49152u
#define SIM_HOST_PORT_MAX    65535u
#define SIM_CONNECT_TIMEOUT_MS  2000u
#define SIM_CLOSE_TIMEOUT_MS    8000u
#define SIM_CREDIT_REQUEST_INTERVAL_MS 1000u
/** Linux's credit-update threshold (free space the peer does not know of). */
#define SIM_CREDIT_UPDATE_THRESHOLD (64u * 1024u)
/** Linux 2026: per-skb metadata that must fit in buf_alloc (SKB_TRUESIZE(0)). */
#define SIM_SKB_OVERHEAD     576u
/** Linux's GOOD_COPY_LEN: an RW this small is copied into the tail skb when it has room. */
#define SIM_GOOD_COPY_LEN    128u
/** Packets taken from / given to the guest per poll call (vhost: VHOST_VSOCK_PKT_WEIGHT). */
#define SIM_PKT_WEIGHT       256
/** Largest injected payload. */
#define SIM_INJECT_MAX       (1u << 20)

/** A raw packet waiting for lwvsock_sim_inject delivery, or an RST reply without a socket. */
struct sim_raw {
  struct sim_raw *next;
  uint32_t len;              /**< payload bytes after the 44-byte header */
  uint8_t hdr[VIRTIO_VSOCK_HDR_LEN];
  uint8_t payload[];
};

/** A live zero-copy mapping (sim_iommu.c): device-read-only bytes of the driver. */
struct sim_map {
  const uint8_t *va;           /**< NULL: free */
  size_t len;
};

struct lwvsock_sim {
  struct lwvsock_backend be;   /**< must be first */
  struct lwvsock_sim_config cfg;
  uint32_t cid;                /**< current guest CID */

  uint64_t driver_features;
  bool features_set;
  bool started;
  bool event_idx;
  int error;                   /**< reported once by the check op */
  const char *broken_reason;

  struct sim_region regions[SIM_MAX_REGIONS];
  struct sim_map *maps;        /**< zero-copy mappings, nmaps windows (sim_iommu.c) */
  uint32_t nmaps;
  uint32_t *map_free;          /**< free window indices, a stack of map_nfree */
  uint32_t map_nfree;
  struct sim_vq vq[3];
  struct sim_iov *scratch;     /**< chain pieces, queue_size_max entries */
  uint8_t *tap_buf;            /**< payload gathered for the tap */

  /* host sockets */
  struct sim_sock **socks;     /**< by id; [0] unused */
  int nsocks;                  /**< slots allocated in socks */
  int *free_ids;
  int nfree;
  int hash[SIM_HASH_BUCKETS];
  int send_head, send_tail;    /**< sockets with something to send */
  uint32_t ctl_pending;        /**< sockets owing control packets + orphan replies */
  uint32_t next_port;          /**< round-robin host port for connects */
  uint32_t ntimers;            /**< sockets with an armed deadline */
  uint32_t next_deadline;

  /* packets without a socket */
  struct sim_raw *orphan_head, *orphan_tail;
  struct sim_raw *inject_head, *inject_tail;
  uint32_t events_pending;

  struct sim_chunk *chunk_cache;
  uint32_t nchunks_cached;

  struct lwvsock_sim_faults faults;
  lwvsock_sim_tap_fn tap;
  void *tap_arg;
  struct lwvsock_sim_stats stats;
};

/* sim_iommu.c */
int sim_iommu_init(struct lwvsock_sim *sim);
void sim_iommu_fini(struct lwvsock_sim *sim);
/** Whether @p addr is in the mappings' address space (above every region). */
bool sim_iommu_owns(const struct lwvsock_sim *sim, uint64_t addr);
/** The bytes at device address [addr, addr + len) of one live mapping, or NULL. */
const uint8_t *sim_iommu_translate(const struct lwvsock_sim *sim, uint64_t addr, uint64_t len);
int sim_dma_map(struct lwvsock_backend *be, const void *va, size_t len, uint64_t *dma);
void sim_dma_unmap(struct lwvsock_backend *be, uint64_t dma, size_t len);

/* sim_vring.c */
void *sim_translate(struct lwvsock_sim *sim, uint64_t addr, uint64_t len);
int sim_vq_setup(struct lwvsock_sim *sim, struct sim_vq *vq, const struct lwvsock_vring_info *vr);
int sim_vq_pop(struct lwvsock_sim *sim, struct sim_vq *vq, struct sim_chain *c);
void sim_vq_unpop(struct sim_vq *vq);
void sim_vq_push(struct lwvsock_sim *sim, struct sim_vq *vq, uint32_t id, uint32_t len);
/** After a batch of pushes: count a used-buffer notification if the driver asked for one. */
void sim_vq_signal(struct lwvsock_sim *sim, struct sim_vq *vq);
void sim_vq_fail(struct lwvsock_sim *sim, struct sim_vq *vq, const char *why);
void sim_iter_init(struct sim_iter *it, const struct sim_iov *iov, unsigned n);
uint32_t sim_iter_read(struct sim_iter *it, void *dst, uint32_t len);
uint32_t sim_iter_write(struct sim_iter *it, const void *src, uint32_t len);
/** Contiguous span at the cursor (up to @p max bytes); advances past it. */
uint32_t sim_iter_span(struct sim_iter *it, uint8_t **p, uint32_t max);

/* sim_bq.c (appends are all or nothing: -ENOMEM leaves the queue as it was) */
void sim_bq_clear(struct lwvsock_sim *sim, struct sim_bq *q);
int sim_bq_append(struct lwvsock_sim *sim, struct sim_bq *q, const void *src, uint32_t len);
int sim_bq_append_iter(struct lwvsock_sim *sim, struct sim_bq *q, struct sim_iter *it, uint32_t len);
size_t sim_bq_read(struct lwvsock_sim *sim, struct sim_bq *q, void *dst, size_t len);
uint32_t sim_bq_read_iter(struct lwvsock_sim *sim, struct sim_bq *q, struct sim_iter *it, uint32_t len);
void sim_chunk_cache_free(struct lwvsock_sim *sim);
int sim_u32q_push(struct sim_u32q *q, uint32_t v);
uint32_t sim_u32q_pop(struct sim_u32q *q);
static inline uint32_t
sim_u32q_peek(const struct sim_u32q *q)
{
  return q->v[q->head];
}
void sim_u32q_free(struct sim_u32q *q);

/* sim_conn.c */
void sim_handle_guest_pkt(struct lwvsock_sim *sim, const struct vsock_hdr *h, struct sim_iter *payload);
int sim_deliver(struct lwvsock_sim *sim);
void sim_run_timers(struct lwvsock_sim *sim);
void sim_drop_connections(struct lwvsock_sim *sim);
void sim_free_all_socks(struct lwvsock_sim *sim);
/** Re-examine every socket (the faults changed what may be sent). */
void sim_reschedule_all(struct lwvsock_sim *sim);
bool sim_tx_blocked(const struct lwvsock_sim *sim);

#endif /* LWVSOCK_SIM_PRIV_H */
