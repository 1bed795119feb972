/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Split virtqueue, driver side (virtio 1.x section 2.7), with Linux's token API.
 *
 * Layout in the ring memory (offsets from its start):
 *  - descriptor table at 0, 16 * num bytes (16-byte aligned);
 *  - avail ring right after it: flags, idx, ring[num], used_event;
 *  - used ring at the next 4-byte boundary: flags, idx, ring[num], avail_event;
 * and the whole rounded up to 16 bytes.
 *
 * The rings are shared with a device that may be buggy or hostile: every value
 * read from them is copied into a local once and checked before use, and the
 * bookkeeping that decides what is in flight (tokens, chain lengths, the free
 * list) lives only in driver-private memory (struct virtq_state).
 *
 * The two free-running indices (avail->idx, used->idx) and the fields the
 * device updates asynchronously (used->flags, avail_event) are accessed as
 * single aligned 16-bit loads/stores so a concurrent writer can never make us
 * see a torn value; the byte order is still converted by the le16 helpers.
 */
#include "virtq.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

/** Driver-private state of one descriptor; only meaningful on a chain head unless noted. */
struct virtq_state {
  void *token;     /**< non-NULL exactly while this is the head of a chain in flight */
  uint32_t in_len; /**< total device-writable bytes of the chain */
  uint16_t ndescs; /**< descriptors in the chain */
  uint16_t last;   /**< last descriptor of the chain */
  uint16_t next;   /**< any descriptor: free-list link, or chain link while in flight */
};

#define VIRTQ_ALIGN_UP(x, a) (((x) + ((size_t)(a) - 1)) & ~((size_t)(a) - 1))

static size_t
virtq_avail_off(uint16_t num)
{
  return (size_t)num * sizeof(struct virtq_desc);
}

static size_t
virtq_used_off(uint16_t num)
{
  /* flags + idx + ring[num] + used_event */
  size_t avail_end = virtq_avail_off(num) + 4 + 2 * (size_t)num + 2;
  return VIRTQ_ALIGN_UP(avail_end, VIRTQ_USED_ALIGN);
}

size_t
virtq_ring_size(uint16_t num)
{
  /* flags + idx + ring[num] + avail_event */
  size_t used_end = virtq_used_off(num) + 4 + sizeof(struct virtq_used_elem) * (size_t)num + 2;
  return VIRTQ_ALIGN_UP(used_end, VIRTQ_DESC_ALIGN);
}

/* Single-access le16 store of a field the device may be reading right now. */
static void
virtq_shared_store16(uint16_t *p, uint16_t v)
{
  uint16_t raw;
  le16_store(&raw, v);
  *(volatile uint16_t *)p = raw;
}

static uint16_t *
virtq_used_event(const struct virtq *vq)
{
  return &vq->avail->ring[vq->num];
}

static uint16_t *
virtq_avail_event(const struct virtq *vq)
{
  /* Right after used->ring[num]; 4-aligned base + 4 + 8 * num keeps it 2-aligned. */
  return (uint16_t *)(void *)&vq->used->ring[vq->num];
}

/*
 * With EVENT_IDX the driver must leave avail->flags at 0 (spec 2.7.7.1) and
 * suppresses used-buffer notifications through used_event instead: pointing it
 * one behind the next entry we will consume asks for a notification only after
 * 65536 more entries, which can never be in flight at once.
 */
static void
virtq_suppress_used_event(struct virtq *vq)
{
  if (vq->event_idx) {
    virtq_shared_store16(virtq_used_event(vq), (uint16_t)(vq->last_used_idx - 1));
  }
}

static void
virtq_mark_broken(struct virtq *vq, const char *reason)
{
  vq->broken = true;
  vq->broken_reason = reason;
}

int
virtq_init(struct virtq *vq, uint16_t index, uint16_t num, void *ring_mem,
           uint64_t ring_dma, bool event_idx)
{
  size_t size;
  uint16_t i;

  /* A power of two in 16 bits is at most 32768, the largest split ring. */
  if (vq == NULL || ring_mem == NULL || num == 0 || (num & (num - 1)) != 0 ||
      ((uintptr_t)ring_mem % VIRTQ_DESC_ALIGN) != 0 || (ring_dma % VIRTQ_DESC_ALIGN) != 0) {
    return -EINVAL;
  }
  size = virtq_ring_size(num);
  if (ring_dma > UINT64_MAX - size) {
    return -EINVAL;
  }

  memset(vq, 0, sizeof(*vq));
  vq->state = (struct virtq_state *)calloc(num, sizeof(struct virtq_state));
  if (vq->state == NULL) {
    virtq_mark_broken(vq, "out of memory for queue state");
    return -ENOMEM;
  }
  /* Never trust the caller's "zeroed": a stale used->idx would break the queue at once. */
  memset(ring_mem, 0, size);

  vq->index = index;
  vq->num = num;
  vq->event_idx = event_idx;
  vq->desc = (struct virtq_desc *)ring_mem;
  vq->avail = (struct virtq_avail *)(void *)((uint8_t *)ring_mem + virtq_avail_off(num));
  vq->used = (struct virtq_used *)(void *)((uint8_t *)ring_mem + virtq_used_off(num));
  vq->num_free = num;
  vq->free_head = 0;
  for (i = 0; i < num; i++) {
    vq->state[i].next = (uint16_t)(i + 1); /* the last link is never followed */
  }

  vq->info.index = index;
  vq->info.num = num;
  vq->info.desc = vq->desc;
  vq->info.avail = vq->avail;
  vq->info.used = vq->used;
  vq->info.desc_dma = ring_dma;
  vq->info.avail_dma = ring_dma + virtq_avail_off(num);
  vq->info.used_dma = ring_dma + virtq_used_off(num);

  /* Polled driver: ask the device not to interrupt. */
  if (event_idx) {
    virtq_suppress_used_event(vq);
  } else {
    virtq_shared_store16(&vq->avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
  }
  return 0;
}

void
virtq_fini(struct virtq *vq)
{
  if (vq == NULL) {
    return;
  }
  free(vq->state);
  vq->state = NULL;
  vq->num_free = 0;
  vq->in_flight = 0;
  /* Any later call fails cleanly instead of touching freed state. */
  if (!vq->broken) {
    virtq_mark_broken(vq, "queue torn down");
  }
}

/* Check one buffer list and add its lengths to *total; false if invalid. */
static bool
virtq_bufs_valid(const struct virtq_buf *bufs, unsigned n, uint64_t *total)
{
  unsigned k;

  if (n > 0 && bufs == NULL) {
    return false;
  }
  for (k = 0; k < n; k++) {
    if (bufs[k].len == 0) {
      return false;
    }
    *total += bufs[k].len;
  }
  return true;
}

int
virtq_add(struct virtq *vq, const struct virtq_buf *out, unsigned nout,
          const struct virtq_buf *in, unsigned nin, void *token)
{
  uint64_t out_len = 0, in_len = 0;
  unsigned total, k;
  uint16_t head, i, last;

  if (vq == NULL) {
    return -EINVAL;
  }
  if (vq->broken) {
    return -EIO;
  }
  /* A chain longer than the ring can never fit: a caller error, not a transient -ENOSPC. */
  if (token == NULL || nout > vq->num || nin > vq->num - nout || nout + nin == 0 ||
      !virtq_bufs_valid(out, nout, &out_len) || !virtq_bufs_valid(in, nin, &in_len) ||
      in_len > UINT32_MAX) {
    return -EINVAL;
  }
  total = nout + nin;
  if (total > vq->num_free) {
    return -ENOSPC;
  }

  /* Take descriptors in free-list order, so the private links also chain them. */
  head = vq->free_head;
  i = head;
  last = head;
  for (k = 0; k < total; k++) {
    const struct virtq_buf *b = (k < nout) ? &out[k] : &in[k - nout];
    struct virtq_desc *d = &vq->desc[i];
    uint16_t flags = (uint16_t)(k < nout ? 0 : VIRTQ_DESC_F_WRITE);

    if (k + 1 < total) {
      flags |= VIRTQ_DESC_F_NEXT;
    }
    le64_store(&d->addr, b->addr);
    le32_store(&d->len, b->len);
    le16_store(&d->flags, flags);
    le16_store(&d->next, (uint16_t)(k + 1 < total ? vq->state[i].next : 0));
    last = i;
    i = vq->state[i].next;
  }
  vq->free_head = i;
  vq->num_free = (uint16_t)(vq->num_free - total);

  vq->state[head].token = token;
  vq->state[head].in_len = (uint32_t)in_len;
  vq->state[head].ndescs = (uint16_t)total;
  vq->state[head].last = last;

  le16_store(&vq->avail->ring[vq->avail_idx & (vq->num - 1)], head);
  /* Descriptors and ring entry must be visible before the index that publishes them. */
  atomic_thread_fence(memory_order_release);
  vq->avail_idx++;
  virtq_shared_store16(&vq->avail->idx, vq->avail_idx);
  vq->in_flight++;
  return 0;
}

/* Return the chain at @p head to the free list and forget its token. */
static void *
virtq_detach(struct virtq *vq, uint16_t head)
{
  struct virtq_state *st = &vq->state[head];
  void *token = st->token;

  vq->state[st->last].next = vq->free_head;
  vq->free_head = head;
  vq->num_free = (uint16_t)(vq->num_free + st->ndescs);
  vq->in_flight--;
  st->token = NULL;
  return token;
}

void *
virtq_take_used(struct virtq *vq, uint32_t *len)
{
  struct virtq_used_elem *e;
  uint16_t used_idx;
  uint32_t id, written;
  void *token;

  if (vq == NULL || vq->broken) {
    return NULL;
  }
  used_idx = virtq_shared_load16(&vq->used->idx);
  if (used_idx == vq->last_used_idx) {
    return NULL;
  }
  if ((uint16_t)(used_idx - vq->last_used_idx) > vq->in_flight) {
    virtq_mark_broken(vq, "used index ran ahead");
    return NULL;
  }
  /* Entries up to used_idx may be read only after used_idx itself. */
  atomic_thread_fence(memory_order_acquire);

  e = &vq->used->ring[vq->last_used_idx & (vq->num - 1)];
  id = le32_load(&e->id);
  written = le32_load(&e->len);
  if (id >= vq->num) {
    virtq_mark_broken(vq, "used id out of range");
    return NULL;
  }
  if (vq->state[id].token == NULL) {
    virtq_mark_broken(vq, "used id not in flight");
    return NULL;
  }
  if (vq->state[id].in_len == 0) {
    /* Nothing was writable, so there is no length to believe: Linux's vhost
       reported header + payload for tx chains from 4.8 to late 2021, and
       Linux's own driver ignores the field on tx. */
    written = 0;
  } else if (written > vq->state[id].in_len) {
    virtq_mark_broken(vq, "used length beyond buffer");
    return NULL;
  }

  token = virtq_detach(vq, (uint16_t)id);
  vq->last_used_idx++;
  virtq_suppress_used_event(vq);
  if (len != NULL) {
    *len = written;
  }
  return token;
}

bool
virtq_enable_cb(struct virtq *vq)
{
  if (vq == NULL || vq->broken) {
    return false;
  }
  if (vq->event_idx) {
    /* Interrupt for the next entry we have not consumed. */
    virtq_shared_store16(virtq_used_event(vq), vq->last_used_idx);
  } else {
    virtq_shared_store16(&vq->avail->flags, 0);
  }
  /* The device must see the request before we look for entries it already
     wrote, or an entry written in between would wake no one. */
  atomic_thread_fence(memory_order_seq_cst);
  return virtq_shared_load16(&vq->used->idx) == vq->last_used_idx;
}

void
virtq_disable_cb(struct virtq *vq)
{
  if (vq == NULL || vq->broken) {
    return;
  }
  if (vq->event_idx) {
    virtq_suppress_used_event(vq);
  } else {
    virtq_shared_store16(&vq->avail->flags, VIRTQ_AVAIL_F_NO_INTERRUPT);
  }
}

/*
 * The caller must decide on a kick at least once per 65535 adds: beyond that
 * the u16 window between kicked_avail_idx and avail_idx cannot tell how much
 * was added (Linux forces a kick from inside add for the same reason).
 */
bool
virtq_kick_prepare(struct virtq *vq)
{
  uint16_t old_idx, new_idx;

  if (vq == NULL || vq->broken) {
    return false;
  }
  /* Our avail->idx store must be visible before we read the device's wish. */
  atomic_thread_fence(memory_order_seq_cst);
  old_idx = vq->kicked_avail_idx;
  new_idx = vq->avail_idx;
  vq->kicked_avail_idx = new_idx;
  if (old_idx == new_idx) {
    return false;
  }
  if (vq->event_idx) {
    return virtq_need_event(virtq_shared_load16(virtq_avail_event(vq)), new_idx, old_idx) != 0;
  }
  return (virtq_shared_load16(&vq->used->flags) & VIRTQ_USED_F_NO_NOTIFY) == 0;
}

void *
virtq_detach_unused(struct virtq *vq)
{
  uint16_t i;

  if (vq == NULL || vq->state == NULL) {
    return NULL;
  }
  for (i = 0; i < vq->num; i++) {
    if (vq->state[i].token != NULL) {
      return virtq_detach(vq, i);
    }
  }
  return NULL;
}
