/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The image's allocator: first fit over an address-ordered free list in one
 * static heap, neighbours merged on free. lwvsock allocates only when a device
 * is opened or a connection accepted, so speed does not matter; exhaustion
 * returns NULL (callers handle it), a bad free() stops the machine.
 *
 * Each allocation is [gap][header][user bytes]: the header says how far back
 * the block starts (the gap is aligned_alloc's padding) and how big it is.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bm.h"

/** 16 MiB of the 64 MiB machine: device memory (~2.4 MiB) and connection state. */
#define HEAP_SIZE   (16u * 1024u * 1024u)
#define HEAP_ALIGN  16u
#define HDR_MAGIC   0x4c77484bu
/** Smallest remainder worth splitting off as a free block. */
#define SPLIT_MIN   64u

struct free_blk {
  size_t size;               /**< bytes of the block, this header included */
  struct free_blk *next;     /**< next free block at a higher address */
};

struct alloc_hdr {
  uint32_t magic;
  uint32_t back;             /**< bytes from the block start to this header */
  uint32_t size;             /**< bytes of the whole block */
  uint32_t pad;
};

/* Not zeroed at boot (.noinit, see link.ld): calloc and bm_dma_alloc clear what they hand out. */
static uint8_t heap[HEAP_SIZE] __attribute__((aligned(4096), section(".noinit")));
static struct free_blk *free_list;
static int heap_ready;
static size_t heap_used, heap_peak;

static size_t
align_up(size_t v, size_t a)
{
  return (v + a - 1) & ~(a - 1);
}

static void
heap_init(void)
{
  free_list = (struct free_blk *)(void *)heap;
  free_list->size = HEAP_SIZE;
  free_list->next = NULL;
  heap_ready = 1;
}

void *
aligned_alloc(size_t align, size_t size)
{
  struct free_blk **pp, *b;
  size_t need;

  if (!heap_ready) {
    heap_init();
  }
  if (align < HEAP_ALIGN) {
    align = HEAP_ALIGN;
  }
  if ((align & (align - 1)) != 0 || size > HEAP_SIZE) {
    return NULL;
  }
  /* Worst case: the user bytes must start up to align - 16 bytes further on. */
  need = align_up(size, HEAP_ALIGN) + sizeof(struct alloc_hdr) + (align - HEAP_ALIGN);
  for (pp = &free_list; (b = *pp) != NULL; pp = &b->next) {
    uintptr_t user;
    struct alloc_hdr *h;

    if (b->size < need) {
      continue;
    }
    if (b->size - need >= SPLIT_MIN) {
      struct free_blk *rest = (struct free_blk *)(void *)((uint8_t *)b + need);
      rest->size = b->size - need;
      rest->next = b->next;
      *pp = rest;
      b->size = need;
    } else {
      *pp = b->next;
    }
    user = align_up((uintptr_t)b + sizeof(struct alloc_hdr), align);
    h = (struct alloc_hdr *)(user - sizeof(struct alloc_hdr));
    h->magic = HDR_MAGIC;
    h->back = (uint32_t)((uintptr_t)h - (uintptr_t)b);
    h->size = (uint32_t)b->size;
    heap_used += h->size;
    if (heap_used > heap_peak) {
      heap_peak = heap_used;
    }
    return (void *)user;
  }
  return NULL;
}

void *
malloc(size_t size)
{
  return aligned_alloc(HEAP_ALIGN, size);
}

void *
calloc(size_t n, size_t size)
{
  void *p;

  if (size != 0 && n > HEAP_SIZE / size) {
    return NULL;
  }
  p = malloc(n * size);
  if (p != NULL) {
    memset(p, 0, n * size);
  }
  return p;
}

void
free(void *p)
{
  struct alloc_hdr *h;
  struct free_blk *b, **pp, *prev = NULL;

  if (p == NULL) {
    return;
  }
  h = (struct alloc_hdr *)((uint8_t *)p - sizeof(struct alloc_hdr));
  if ((uint8_t *)p < heap + sizeof(*h) || (uint8_t *)p >= heap + HEAP_SIZE || h->magic != HDR_MAGIC) {
    printf("lwvsock-appliance: free(%p): not an allocated block\n", p);
    abort();
  }
  h->magic = 0;
  b = (struct free_blk *)(void *)((uint8_t *)h - h->back);
  b->size = h->size;
  heap_used -= b->size;
  for (pp = &free_list; *pp != NULL && *pp < b; pp = &(*pp)->next) {
    prev = *pp;
  }
  b->next = *pp;
  *pp = b;
  if (b->next != NULL && (uint8_t *)b + b->size == (uint8_t *)b->next) {
    b->size += b->next->size;
    b->next = b->next->next;
  }
  if (prev != NULL && (uint8_t *)prev + prev->size == (uint8_t *)b) {
    prev->size += b->size;
    prev->next = b->next;
  }
}

int
bm_dma_alloc(struct lwvsock_bus *bus, size_t size, struct lwvsock_mem *mem)
{
  void *p = aligned_alloc(4096, size);

  if (p == NULL) {
    snprintf(bus->err, sizeof(bus->err), "heap exhausted (%lu bytes of DMA memory asked)",
             (unsigned long)size);
    return -ENOMEM;
  }
  memset(p, 0, size);
  mem->va = p;
  mem->dma = (uintptr_t)p;
  mem->size = size;
  return 0;
}

/* No IOMMU: the device reads any RAM at its physical (= virtual) address. */
int
bm_dma_map(struct lwvsock_bus *bus, const void *va, size_t len, uint64_t *dma)
{
  (void)bus;
  (void)len;
  *dma = (uintptr_t)va;
  return 0;
}

void
bm_dma_free(struct lwvsock_bus *bus, struct lwvsock_mem *mem)
{
  (void)bus;
  free(mem->va);
  mem->va = NULL;
}

void
bm_bus_free(struct lwvsock_bus *bus)
{
  free(bus);
}

void
bm_heap_usage(size_t *used, size_t *peak, size_t *size)
{
  *used = heap_used;
  *peak = heap_peak;
  *size = HEAP_SIZE;
}
