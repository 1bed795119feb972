/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * A fake PCI bus for the virtio-pci transport's tests: config space with the
 * modern vendor capabilities, and a BAR whose registers follow the virtio 1.x
 * common-config semantics (trapped through reg_read/reg_write), bridged to a
 * simulated host (port/unix/sim) so real traffic flows through the transport.
 * Knobs make it hostile.
 */
#ifndef LWVSOCK_TESTS_FAKEPCI_H
#define LWVSOCK_TESTS_FAKEPCI_H

#include <stdbool.h>
#include <stdint.h>

#include "lwvsock/port/bus.h"
#include "lwvsock/sim.h"

/** The BAR holding every capability window. */
#define FAKEPCI_BAR      4u
#define FAKEPCI_BAR_LEN  0x4000u
/* default layout inside the BAR */
#define FAKEPCI_COMMON   0x0000u
#define FAKEPCI_ISR      0x1000u
#define FAKEPCI_DEVICE   0x2000u
#define FAKEPCI_NOTIFY   0x3000u
/* default capability positions in config space */
#define FAKEPCI_CAP_COMMON 0x40u
#define FAKEPCI_CAP_NOTIFY 0x50u
#define FAKEPCI_CAP_ISR    0x64u
#define FAKEPCI_CAP_DEVICE 0x74u

struct fakepci {
  struct lwvsock_bus bus;       /* first: the transport gets &bus */
  struct lwvsock_sim *sim;      /* the device behind the registers (owned) */
  struct lwvsock_backend *simbe;
  uint8_t cfg[256];             /* config space, edit freely before open */
  uint64_t barlen;              /* FAKEPCI_BAR's length */
  uint8_t barmem[FAKEPCI_BAR_LEN]; /* what map() hands out (never touched: registers trap) */

  /* knobs */
  uint16_t qmax[3];             /* queue_size the device reports (default 64) */
  uint16_t num_queues;          /* default 3 */
  uint64_t feat_drop, feat_add; /* taken from / added to the sim's offer */
  bool refuse_features_ok;      /* FEATURES_OK does not stick */
  bool never_reset;             /* status never reads 0 after a reset */
  bool vanished;                /* every register and config read is all ones */
  unsigned gen_flips;           /* config_generation changes on this many reads */
  int wait_fd;                  /* >= 0: offered as the interrupt fd (default -1: none) */

  /* device state (registers) */
  uint32_t dfsel, gfsel;
  uint64_t gf;
  uint8_t status, gen;
  uint16_t qsel;
  struct {
    uint16_t size, enable;
    uint64_t desc, avail, used;
  } q[3];

  /* what the driver did */
  unsigned notifies[3];
  unsigned bad_access;          /* misaligned, wrong width or unknown register accesses */
  unsigned dma_allocs, dma_live;
  unsigned isr_reads, irq_acks;
  uint64_t negotiated;          /* gf when FEATURES_OK was accepted */
};

/** A fake with a new sim (cfg NULL: defaults) and the default capabilities. */
struct fakepci *fakepci_new(const struct lwvsock_sim_config *cfg);
/** Write one vendor capability at @p pos of config space (next pointer @p next). */
void fakepci_put_cap(struct fakepci *f, uint32_t pos, uint32_t next, uint8_t type, uint8_t bar, uint32_t off,
                     uint32_t len);
/** Let the simulated device run once. */
void fakepci_poll(struct fakepci *f);
/** Buses closed so far (the transport closes the fake; close frees it). */
extern unsigned fakepci_closed;

#endif /* LWVSOCK_TESTS_FAKEPCI_H */
