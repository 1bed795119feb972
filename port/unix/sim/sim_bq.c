/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Simulated device: chunked byte queues for the host sockets.
 *
 * A queue grows one chunk at a time and gives chunks back as soon as they are
 * drained, so a thousand idle sockets cost nothing; a small cache of free
 * chunks keeps bulk transfers away from malloc.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim_priv.h"

static struct sim_chunk *
sim_chunk_get(struct lwvsock_sim *sim)
{
  struct sim_chunk *c = sim->chunk_cache;

  if (c != NULL) {
    sim->chunk_cache = c->next;
    sim->nchunks_cached--;
  } else {
    c = (struct sim_chunk *)malloc(sizeof(*c));
    if (c == NULL) {
      return NULL;
    }
  }
  c->next = NULL;
  c->rd = c->wr = 0;
  return c;
}

static void
sim_chunk_put(struct lwvsock_sim *sim, struct sim_chunk *c)
{
  if (sim->nchunks_cached < SIM_CHUNK_CACHE) {
    c->next = sim->chunk_cache;
    sim->chunk_cache = c;
    sim->nchunks_cached++;
  } else {
    free(c);
  }
}

void
sim_chunk_cache_free(struct lwvsock_sim *sim)
{
  while (sim->chunk_cache != NULL) {
    struct sim_chunk *c = sim->chunk_cache;
    sim->chunk_cache = c->next;
    free(c);
  }
  sim->nchunks_cached = 0;
}

void
sim_bq_clear(struct lwvsock_sim *sim, struct sim_bq *q)
{
  while (q->head != NULL) {
    struct sim_chunk *c = q->head;
    q->head = c->next;
    sim_chunk_put(sim, c);
  }
  q->tail = NULL;
  q->len = 0;
}

/** Room at the tail for at least one byte (adds a chunk when needed); NULL when out of memory. */
static struct sim_chunk *
sim_bq_tail_room(struct lwvsock_sim *sim, struct sim_bq *q)
{
  struct sim_chunk *c = q->tail;

  if (c == NULL || c->wr == SIM_CHUNK_SIZE) {
    c = sim_chunk_get(sim);
    if (c == NULL) {
      return NULL;
    }
    if (q->tail != NULL) {
      q->tail->next = c;
    } else {
      q->head = c;
    }
    q->tail = c;
  }
  return c;
}

/** Cut the queue back to its first @p keep bytes (undoes a failed append). */
static void
sim_bq_trim(struct lwvsock_sim *sim, struct sim_bq *q, size_t keep)
{
  struct sim_chunk *c = q->head, *rest;
  size_t seen = 0;

  if (keep == 0) {
    sim_bq_clear(sim, q);
    return;
  }
  while (seen + (c->wr - c->rd) < keep) {
    seen += c->wr - c->rd;
    c = c->next;
  }
  c->wr = c->rd + (uint32_t)(keep - seen);
  rest = c->next;
  c->next = NULL;
  q->tail = c;
  q->len = keep;
  while (rest != NULL) {
    struct sim_chunk *n = rest->next;
    sim_chunk_put(sim, rest);
    rest = n;
  }
}

int
sim_bq_append(struct lwvsock_sim *sim, struct sim_bq *q, const void *src, uint32_t len)
{
  const uint8_t *s = (const uint8_t *)src;
  size_t keep = q->len;

  while (len > 0) {
    struct sim_chunk *c = sim_bq_tail_room(sim, q);
    uint32_t n;
    if (c == NULL) {
      sim_bq_trim(sim, q, keep);
      return -ENOMEM;
    }
    n = SIM_CHUNK_SIZE - c->wr;
    if (n > len) {
      n = len;
    }
    memcpy(c->data + c->wr, s, n);
    c->wr += n;
    q->len += n;
    s += n;
    len -= n;
  }
  return 0;
}

/* Piece by piece: a guest packet is normally one piece, so one append. */
int
sim_bq_append_iter(struct lwvsock_sim *sim, struct sim_bq *q, struct sim_iter *it, uint32_t len)
{
  size_t keep = q->len;

  while (len > 0) {
    uint8_t *p;
    uint32_t n = sim_iter_span(it, &p, len);
    int err = n == 0 ? -EINVAL : sim_bq_append(sim, q, p, n);
    if (err != 0) {
      sim_bq_trim(sim, q, keep);
      return err;
    }
    len -= n;
  }
  return 0;
}

/** Drop the head chunk once it is drained (only the tail chunk is ever partly filled). */
static void
sim_bq_pop_drained(struct lwvsock_sim *sim, struct sim_bq *q)
{
  struct sim_chunk *c = q->head;

  if (c->rd == c->wr) {
    q->head = c->next;
    if (q->head == NULL) {
      q->tail = NULL;
    }
    sim_chunk_put(sim, c);
  }
}

size_t
sim_bq_read(struct lwvsock_sim *sim, struct sim_bq *q, void *dst, size_t len)
{
  uint8_t *d = (uint8_t *)dst;
  size_t done = 0;

  while (done < len && q->len > 0) {
    struct sim_chunk *c = q->head;
    size_t n = c->wr - c->rd;
    if (n > len - done) {
      n = len - done;
    }
    if (d != NULL) {
      memcpy(d + done, c->data + c->rd, n);
    }
    c->rd += (uint32_t)n;
    q->len -= n;
    done += n;
    sim_bq_pop_drained(sim, q);
  }
  return done;
}

uint32_t
sim_bq_read_iter(struct lwvsock_sim *sim, struct sim_bq *q, struct sim_iter *it, uint32_t len)
{
  uint32_t done = 0;

  while (done < len && q->len > 0) {
    struct sim_chunk *c = q->head;
    uint32_t n = c->wr - c->rd, put;
    if (n > len - done) {
      n = len - done;
    }
    put = sim_iter_write(it, c->data + c->rd, n);
    c->rd += put;
    q->len -= put;
    done += put;
    sim_bq_pop_drained(sim, q);
    if (put < n) {
      break;
    }
  }
  return done;
}

int
sim_u32q_push(struct sim_u32q *q, uint32_t v)
{
  if (q->count == q->cap) {
    uint32_t ncap = q->cap ? q->cap * 2 : 8;
    uint32_t *nv = (uint32_t *)malloc(ncap * sizeof(*nv));
    uint32_t k;
    if (nv == NULL) {
      return -ENOMEM;
    }
    for (k = 0; k < q->count; k++) {
      nv[k] = q->v[(q->head + k) % q->cap];
    }
    free(q->v);
    q->v = nv;
    q->cap = ncap;
    q->head = 0;
  }
  q->v[(q->head + q->count) % q->cap] = v;
  q->count++;
  return 0;
}

uint32_t
sim_u32q_pop(struct sim_u32q *q)
{
  uint32_t v = q->v[q->head];
  q->head = (q->head + 1) % q->cap;
  q->count--;
  return v;
}

void
sim_u32q_free(struct sim_u32q *q)
{
  free(q->v);
  memset(q, 0, sizeof(*q));
}
