/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Every public header with lwIP's, in strict ISO C (built twice, with -std=c99
 * and -std=c11, by tests/sim.mk): lwvsock/sim.h first, so a system
 * ssize_t would meet lwIP's own (arch.h defines one when the C library's
 * limits.h is strict). Then a short host-to-guest exchange on the sim, using
 * the sim's long-returning send/recv. Prints TAP.
 */
#include "lwvsock/sim.h"

#include "lwip/init.h"
#include "lwip/altcp.h"
#include "lwip/pbuf.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "lwvsock/altcp_vsock.h"
#include "lwvsock/port/backend.h"
#include "lwvsock/port/bus.h"
#include "lwvsock/lwvsock.h"
#include "lwvsock/pcap.h"
#include "lwvsock/vsock.h"

#include <stdio.h>

static u32_t now_ms;
static size_t got;

/* lwIP's NO_SYS clock; this program moves it itself. */
u32_t
sys_now(void)
{
  return now_ms;
}

static err_t
on_recv(void *arg, struct lwvsock_pcb *pcb, struct pbuf *p, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  LWIP_UNUSED_ARG(err);
  if (p != NULL) {
    got += p->tot_len;
    lwvsock_recved(pcb, p->tot_len);
    pbuf_free(p);
  }
  return ERR_OK;
}

static err_t
on_accept(void *arg, struct lwvsock_pcb *pcb, err_t err)
{
  LWIP_UNUSED_ARG(arg);
  if (err != ERR_OK || pcb == NULL) {
    return ERR_VAL;
  }
  lwvsock_recv(pcb, on_recv);
  return ERR_OK;
}

int
main(void)
{
  struct lwvsock_sim *sim;
  struct lwvsock_dev *dev;
  struct lwvsock_pcb *pcb;
  long sent = -1;
  int h, i;

  lwip_init();
  if (lwvsock_sim_new(NULL, &sim) != 0 || lwvsock_dev_open(lwvsock_sim_backend(sim), &dev) != ERR_OK) {
    printf("1..1\nnot ok 1 - cannot open the simulated device\n");
    return 1;
  }
  pcb = lwvsock_new(dev, LWVSOCK_STREAM);
  if (pcb == NULL || lwvsock_bind(pcb, LWVSOCK_CID_ANY, 1234) != ERR_OK ||
      (pcb = lwvsock_listen(pcb)) == NULL) {
    printf("1..1\nnot ok 1 - cannot listen\n");
    return 1;
  }
  lwvsock_accept(pcb, on_accept);
  h = lwvsock_sim_connect(sim, 1234, LWVSOCK_STREAM);
  for (i = 0; i < 1000 && got < 5; i++) {
    lwvsock_dev_poll(dev, 64);
    sys_check_timeouts();
    now_ms++;
    if (sent < 0 && lwvsock_sim_state(sim, h) == LWVSOCK_SIM_CONNECTED) {
      sent = lwvsock_sim_send(sim, h, "hello", 5);
    }
  }
  printf("1..1\n%s 1 - strict C (__STDC_VERSION__ %ld): host sent %ld, guest got %u bytes\n",
         sent == 5 && got == 5 ? "ok" : "not ok", (long)__STDC_VERSION__, sent, (unsigned)got);
  lwvsock_dev_close(dev);
  return sent == 5 && got == 5 ? 0 : 1;
}
