/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Device bring-up and the polled main loop of the hosted examples (see
 * loop.h).
 *
 * The loop never spins when idle: it sleeps in ppoll() on the device's fds and
 * the forward sockets for at most the next lwvsock/lwIP timer. An in-process
 * device (sim) has no fds and only runs when polled, so then the sleep is
 * capped at EX_SIM_IDLE_MS. A device that cannot wake the loop at all (PCI
 * without an interrupt) is polled after naps that start at EX_NAP_MIN_US after
 * the last progress and double up to the device's idle interval.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* ppoll */
#endif
#include "loop.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>

#include "forward.h"
#include "lwip/init.h"
#include "lwip/sys.h"
#include "lwip/timeouts.h"
#include "lwvsock/devspec.h"
#include "lwvsock/sim.h"
#include "options.h"
#include "pcap_file.h"

/** Idle sleep when the device is in-process and offers no fd to wait on. */
#define EX_SIM_IDLE_MS     5
/** Longest single sleep, so timers of a device without fds stay accurate. */
#define EX_MAX_SLEEP_MS    1000
/** Received packets handled per lwvsock_dev_poll() call. */
#define EX_POLL_BUDGET     64
/** Device fds we wait on. */
#define EX_MAX_DEV_FDS     8
/**
 * A device that cannot wake us (no wait fds, not in-process: a PCI function
 * without an interrupt) is polled at its idle interval, which a request or a
 * connection would wait for. So after the last progress the loop naps this
 * long first, doubling each idle round up to that interval: a busy
 * connection's next packet waits a few tens of microseconds, an idle program
 * reaches the interval after a few naps. It always sleeps, never spins: in a
 * VM a spinning vCPU takes the CPU from the host side that would answer.
 */
#define EX_NAP_MIN_US      50u
/**
 * How long ex_finish() keeps polling for connections the program has closed
 * to finish (the peer's RST). Exiting first would reset them: closing
 * /dev/vhost-vsock resets every host socket of the CID (ECONNRESET), even
 * after an orderly SHUTDOWN the peer has not read yet.
 */
#define EX_DRAIN_MS        2000u

static volatile sig_atomic_t ex_stop;

static void
ex_on_signal(int sig)
{
  (void)sig;
  ex_stop = 1;
}

int
ex_stop_requested(void)
{
  return ex_stop != 0;
}

/* The backends' reports (lwvsock_backend_set_log()), on stderr as always. */
static void
ex_backend_log(void *arg, const char *who, const char *msg)
{
  (void)arg;
  fprintf(stderr, "lwvsock %s: %s\n", who, msg);
}

/** Open the backend and the device of --device; 0, or an exit code after logging why. */
static int
ex_open_device(struct ex_ctx *ctx)
{
  struct lwvsock_backend *be = NULL;
  char err[256];
  err_t e;
  int rc;

  err[0] = '\0';
  rc = lwvsock_devspec_open(ctx->device_spec, &be, err, sizeof(err));
  if (rc != 0) {
    ex_log(ctx, "--device %s: %s", ex_shown(ctx->device_spec), err[0] ? err : strerror(rc < 0 ? -rc : rc));
    if (rc == -EINVAL || rc == -ENOTSUP) {
      ex_try_help(ctx);
      return EX_EXIT_USAGE;
    }
    return EX_EXIT_FAIL;
  }
  lwvsock_backend_set_log(be, ex_backend_log, NULL);
  ctx->sim = lwvsock_sim_from_backend(be);
  if (ctx->nfwd > 0 && ctx->sim == NULL) {
    lwvsock_backend_destroy(be);
    ex_log(ctx, "--forward works only with --device sim (a real device's host is the hypervisor;"
           " use socat there)");
    ex_try_help(ctx);
    return EX_EXIT_USAGE;
  }
  e = lwvsock_dev_open(be, &ctx->dev);
  if (e != ERR_OK) {
    if (e == ERR_IF && ctx->dev != NULL) {
      ex_log(ctx, "--device %s: the device refused to start: %s", ex_shown(ctx->device_spec),
             lwvsock_dev_error(ctx->dev));
      lwvsock_dev_close(ctx->dev);
    } else {
      ex_log(ctx, "--device %s: cannot open the device: %s", ex_shown(ctx->device_spec), lwvsock_strerror(e));
      lwvsock_backend_destroy(be);
    }
    ctx->dev = NULL;
    ctx->sim = NULL;
    return EX_EXIT_FAIL;
  }
  return 0;
}

int
ex_start(struct ex_ctx *ctx)
{
  struct sigaction sa;
  sigset_t block;
  int rc;

  lwip_init();
  rc = ex_open_device(ctx);
  if (rc != 0) {
    return rc;
  }
  if (ctx->pcap_path != NULL && ex_pcap_open(ctx) != 0) {
    return EX_EXIT_FAIL;
  }
  if (ex_fwd_listen(ctx) != 0) {
    return EX_EXIT_FAIL;
  }
  /* SIGINT/SIGTERM stay blocked except inside ppoll(), so a signal can never
   * slip in between the stop check and the sleep. */
  memset(&sa, 0, sizeof(sa));
  sa.sa_handler = ex_on_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
  sigaction(SIGTERM, &sa, NULL);
  sigemptyset(&block);
  sigaddset(&block, SIGINT);
  sigaddset(&block, SIGTERM);
  sigprocmask(SIG_BLOCK, &block, NULL);
  signal(SIGPIPE, SIG_IGN);
  return 0;
}

/**
 * Fill @p pfd with what to wait for; returns the count (at most @p max) and
 * sets @p ndev to how many of them are the device's.
 */
static int
ex_wait_set(const struct ex_ctx *ctx, struct pollfd *pfd, int max, int *ndev)
{
  int fds[EX_MAX_DEV_FDS];
  int i, n = 0, nd;

  nd = lwvsock_dev_wait_fds(ctx->dev, fds, EX_MAX_DEV_FDS);
  *ndev = nd > 0 ? nd : 0;
  for (i = 0; i < nd && n < max; i++) {
    pfd[n].fd = fds[i];
    pfd[n].events = POLLIN;
    n++;
  }
  return n + ex_fwd_wait_set(ctx, pfd + n, max - n);
}

int
ex_run(struct ex_ctx *ctx, int (*done)(void *arg), void *arg)
{
  struct pollfd pfd[EX_MAX_DEV_FDS + EX_FWD_MAX_FDS];
  sigset_t unblocked;
  uint32_t nap_us = EX_NAP_MIN_US;

  sigemptyset(&unblocked);
  ctx->running = 1;
  while (!ex_stop) {
    int work, n, ndev;
    uint32_t t, tl;
    struct timespec ts;

    work = lwvsock_dev_poll(ctx->dev, EX_POLL_BUDGET);
    sys_check_timeouts();
    if (lwvsock_dev_status(ctx->dev) != ERR_OK) {
      ex_log(ctx, "device failed: %s", lwvsock_dev_error(ctx->dev));
      return EX_EXIT_FAIL;
    }
    work += ex_fwd_pump(ctx);
    if (done != NULL && done(arg)) {
      return EX_EXIT_OK;
    }
    if (work > 0) {
      nap_us = EX_NAP_MIN_US;
      continue;
    }
    t = lwvsock_dev_next_timeout(ctx->dev);
    tl = sys_timeouts_sleeptime();
    if (tl < t) {
      t = tl;
    }
    n = ex_wait_set(ctx, pfd, (int)(sizeof(pfd) / sizeof(pfd[0])), &ndev);
    if (ndev == 0 && t > EX_SIM_IDLE_MS) {
      t = EX_SIM_IDLE_MS;
    }
    if (t > EX_MAX_SLEEP_MS) {
      t = EX_MAX_SLEEP_MS;
    }
    ts.tv_sec = t / 1000;
    ts.tv_nsec = (long)(t % 1000) * 1000000L;
    if (t > 0 && ndev == 0 && ctx->sim == NULL && nap_us < t * 1000u) {
      ts.tv_sec = 0;
      ts.tv_nsec = (long)nap_us * 1000L;
      nap_us *= 2;
    }
    ctx->loop_syscalls++;
    if (ppoll(pfd, (nfds_t)n, &ts, &unblocked) < 0 && errno != EINTR) {
      ex_log(ctx, "ppoll: %s", strerror(errno));
      return EX_EXIT_FAIL;
    }
  }
  return EX_EXIT_OK;
}

static void
ex_print_dev_stats(const struct ex_ctx *ctx)
{
  char text[EX_DEV_STATS_LEN];

  ex_format_dev_stats(ctx->dev, text, sizeof(text));
  fprintf(stderr, "%s: device %s (CID %u) counters:\n%s", ctx->prog, ctx->device_spec,
          (unsigned)lwvsock_dev_cid(ctx->dev), text);
}

/* ex_run() end condition of the drain: no closed connection is still
 * finishing (whoever owns its pcb), or the drain's time is up. */
struct ex_drain {
  struct ex_ctx *ctx;
  uint32_t deadline;
};

static int
ex_drained(void *arg)
{
  const struct ex_drain *d = (const struct ex_drain *)arg;

  return lwvsock_dev_closing(d->ctx->dev) == 0 || (int32_t)(sys_now() - d->deadline) >= 0;
}

int
ex_finish(struct ex_ctx *ctx, int rc)
{
  struct ex_conn *c;

  ex_fwd_close(ctx);
  if (ctx->dev != NULL && ctx->running && lwvsock_dev_status(ctx->dev) == ERR_OK) {
    struct ex_drain d = { ctx, sys_now() + EX_DRAIN_MS };

    (void)ex_run(ctx, ex_drained, &d);
  }
  if (ctx->dev != NULL) {
    /* Counters only when there was a run to count: after a start-up failure
     * they are all zero and would bury the one line saying what went wrong. */
    if (ctx->running) {
      for (c = ctx->conns.next; c != &ctx->conns; c = c->next) {
        ex_print_pcb_stats(ctx, "open", c->pcb);
      }
      ex_print_dev_stats(ctx);
    }
    /* Aborts the remaining connections: their err callbacks unlink them. */
    lwvsock_dev_close(ctx->dev);
    ctx->dev = NULL;
    ctx->sim = NULL;
  }
  if (ex_pcap_close(ctx) != 0) {
    rc = EX_EXIT_FAIL;
  }
  return rc;
}
