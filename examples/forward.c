/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The simulated host's TCP forwards (see forward.h). Everything is
 * non-blocking: each pass moves what both sides take now, and the loop's
 * ppoll() on ex_fwd_wait_set()'s fds wakes it for more.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* accept4 */
#endif
#include "forward.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "lwvsock/sim.h"
#include "options.h"

/** Buffer per direction of one forwarded TCP connection. */
#define EX_FWD_BUF (64 * 1024)

/** One forwarded TCP connection and its host vsock socket. */
struct ex_pair {
  struct ex_pair *next;
  int fd;                 /**< accepted TCP socket (non-blocking) */
  int s;                  /**< sim host socket */
  int connected;          /**< the vsock connection was established */
  int tcp_eof;            /**< TCP client sent FIN */
  int vsock_eof;          /**< the guest will send no more */
  int up_shut;            /**< SHUTDOWN(SEND) passed to the guest */
  int down_shut;          /**< FIN passed to the TCP client */
  int dead;               /**< 1: finished orderly, -1: aborted */
  size_t up_off, up_len;  /**< TCP -> vsock bytes waiting */
  size_t down_off, down_len; /**< vsock -> TCP bytes waiting */
  uint8_t up[EX_FWD_BUF];
  uint8_t down[EX_FWD_BUF];
};

/** One --forward TCP:VSOCK rule. */
struct ex_fwd {
  uint16_t tcp_port;
  uint32_t vsock_port;
  int lfd;
  int npairs;
  struct ex_pair *pairs;
};

static struct ex_fwd ex_forwards[EX_MAX_FORWARDS];

void
ex_fwd_add(struct ex_ctx *ctx, const char *arg)
{
  const char *colon = strchr(arg, ':');
  char tcp[16];
  uint64_t tport, vport;
  struct ex_fwd *f;

  if (colon == NULL || (size_t)(colon - arg) >= sizeof(tcp)) {
    ex_usage_error(ctx, "--forward '%s': expected TCP:VSOCK, e.g. --forward 8080:80", ex_shown(arg));
  }
  memcpy(tcp, arg, (size_t)(colon - arg));
  tcp[colon - arg] = '\0';
  if (ex_parse_u64(tcp, 1, 65535, 0, &tport) != 0) {
    ex_usage_error(ctx, "--forward '%s': TCP port '%s' is not in 1..65535", ex_shown(arg), tcp);
  }
  if (ex_parse_u64(colon + 1, 0, 0xfffffffeu, 0, &vport) != 0) {
    ex_usage_error(ctx, "--forward '%s': vsock port '%s' is not in 0..4294967294", ex_shown(arg),
                   ex_shown(colon + 1));
  }
  if (ctx->nfwd >= EX_MAX_FORWARDS) {
    ex_usage_error(ctx, "--forward: at most %d forwards", EX_MAX_FORWARDS);
  }
  ctx->fwd = ex_forwards;
  f = &ctx->fwd[ctx->nfwd++];
  f->tcp_port = (uint16_t)tport;
  f->vsock_port = (uint32_t)vport;
  f->lfd = -1;
}

void
ex_check_forwards(const struct ex_ctx *ctx, int listening, uint32_t port)
{
  int i;

  for (i = 0; i < ctx->nfwd; i++) {
    const struct ex_fwd *f = &ctx->fwd[i];
    if (!listening) {
      ex_usage_error(ctx, "--forward %u:%u: %s does not listen here, so nothing would answer",
                     f->tcp_port, (unsigned)f->vsock_port, ctx->prog);
    }
    if (f->vsock_port != port) {
      ex_usage_error(ctx, "--forward %u:%u: nothing listens on vsock port %u (%s listens on %u);"
                     " use --forward %u:%u", f->tcp_port, (unsigned)f->vsock_port,
                     (unsigned)f->vsock_port, ctx->prog, (unsigned)port, f->tcp_port, (unsigned)port);
    }
  }
}

static int
ex_fwd_listen_one(const struct ex_ctx *ctx, struct ex_fwd *f)
{
  struct sockaddr_in sa;
  int one = 1;

  f->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (f->lfd < 0) {
    ex_log(ctx, "--forward %u:%u: socket: %s", f->tcp_port, (unsigned)f->vsock_port, strerror(errno));
    return -1;
  }
  setsockopt(f->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  memset(&sa, 0, sizeof(sa));
  sa.sin_family = AF_INET;
  sa.sin_port = htons(f->tcp_port);
  /* Loopback only: the forward is a local test convenience, never a public service. */
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(f->lfd, (struct sockaddr *)&sa, sizeof(sa)) != 0 || listen(f->lfd, 64) != 0) {
    ex_log(ctx, "--forward %u:%u: cannot listen on 127.0.0.1:%u: %s (pick another TCP port)",
           f->tcp_port, (unsigned)f->vsock_port, f->tcp_port, strerror(errno));
    close(f->lfd);
    f->lfd = -1;
    return -1;
  }
  ex_log(ctx, "forwarding 127.0.0.1:%u (TCP) -> vsock port %u", f->tcp_port, (unsigned)f->vsock_port);
  return 0;
}

int
ex_fwd_listen(struct ex_ctx *ctx)
{
  int i;

  for (i = 0; i < ctx->nfwd; i++) {
    if (ex_fwd_listen_one(ctx, &ctx->fwd[i]) != 0) {
      return -1;
    }
  }
  return 0;
}

static void
ex_pair_free(struct ex_ctx *ctx, struct ex_fwd *f, struct ex_pair *pr)
{
  if (pr->dead < 0) {
    /* Abortive: the TCP client sees a reset, as the guest side did. */
    struct linger lg = { 1, 0 };
    setsockopt(pr->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
  }
  close(pr->fd);
  if (pr->s >= 0) {
    lwvsock_sim_close(ctx->sim, pr->s);
  }
  f->npairs--;
  free(pr);
}

static int
ex_fwd_accept(struct ex_ctx *ctx, struct ex_fwd *f)
{
  int work = 0;

  while (f->npairs < EX_FWD_MAX_PAIRS) {
    struct ex_pair *pr;
    int fd = accept4(f->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno != EAGAIN && errno != ECONNABORTED && errno != EINTR) {
        ex_log(ctx, "--forward %u: accept: %s", f->tcp_port, strerror(errno));
      }
      break;
    }
    work++;
    pr = (struct ex_pair *)calloc(1, sizeof(*pr));
    if (pr == NULL) {
      ex_log(ctx, "--forward %u: out of memory, TCP client dropped", f->tcp_port);
      close(fd);
      continue;
    }
    pr->fd = fd;
    pr->s = lwvsock_sim_connect(ctx->sim, f->vsock_port, LWVSOCK_STREAM);
    if (pr->s < 0) {
      ex_log(ctx, "--forward %u: simulated host cannot connect to vsock port %u: %s",
             f->tcp_port, (unsigned)f->vsock_port, strerror(-pr->s));
      close(fd);
      free(pr);
      continue;
    }
    pr->next = f->pairs;
    f->pairs = pr;
    f->npairs++;
  }
  return work;
}

/** Move bytes of one forwarded connection as far as both sides allow. Returns work done. */
static int
ex_pair_pump(struct ex_ctx *ctx, struct ex_fwd *f, struct ex_pair *pr)
{
  struct lwvsock_sim *sim = ctx->sim;
  int work = 0;
  ssize_t n;

  if (!pr->connected) {
    enum lwvsock_sim_state st = lwvsock_sim_state(sim, pr->s);
    if (st == LWVSOCK_SIM_CONNECTING) {
      return 0;
    }
    if (st != LWVSOCK_SIM_CONNECTED) {
      int e = lwvsock_sim_error(sim, pr->s);
      ex_log(ctx, "--forward %u: vsock connection to port %u failed: %s",
             f->tcp_port, (unsigned)f->vsock_port, e ? strerror(-e) : "closed");
      pr->dead = -1;
      return 1;
    }
    pr->connected = 1;
    work++;
  }

  /* An emptied buffer starts over at offset 0. */
  if (pr->up_len == 0) {
    pr->up_off = 0;
  }
  if (pr->down_len == 0) {
    pr->down_off = 0;
  }

  /* TCP -> vsock */
  if (!pr->tcp_eof && pr->up_off + pr->up_len < sizeof(pr->up)) {
    n = read(pr->fd, pr->up + pr->up_off + pr->up_len, sizeof(pr->up) - pr->up_off - pr->up_len);
    if (n > 0) {
      pr->up_len += (size_t)n;
      work++;
    } else if (n == 0) {
      pr->tcp_eof = 1;
      work++;
    } else if (errno != EAGAIN && errno != EINTR) {
      pr->dead = -1;
      return 1;
    }
  }
  if (pr->up_len > 0) {
    n = lwvsock_sim_send(sim, pr->s, pr->up + pr->up_off, pr->up_len);
    if (n > 0) {
      pr->up_off += (size_t)n;
      pr->up_len -= (size_t)n;
      work++;
    } else if (n != -EAGAIN) {
      /* The guest shut down its receive side or reset: nowhere to put the bytes. */
      pr->dead = -1;
      return 1;
    }
  }
  /* The sim sends SHUTDOWN only after the data queued before it. */
  if (pr->tcp_eof && pr->up_len == 0 && !pr->up_shut) {
    lwvsock_sim_shutdown(sim, pr->s, 2);
    pr->up_shut = 1;
    work++;
  }

  /* vsock -> TCP */
  if (!pr->vsock_eof && pr->down_off + pr->down_len < sizeof(pr->down)) {
    n = lwvsock_sim_recv(sim, pr->s, pr->down + pr->down_off + pr->down_len,
                         sizeof(pr->down) - pr->down_off - pr->down_len);
    if (n > 0) {
      pr->down_len += (size_t)n;
      work++;
    } else if (n == 0) {
      if (lwvsock_sim_error(sim, pr->s) < 0) {
        pr->dead = -1;
        return 1;
      }
      pr->vsock_eof = 1;
      work++;
    } else if (n != -EAGAIN) {
      pr->dead = -1;
      return 1;
    }
  }
  if (pr->down_len > 0) {
    n = send(pr->fd, pr->down + pr->down_off, pr->down_len, MSG_NOSIGNAL);
    if (n > 0) {
      pr->down_off += (size_t)n;
      pr->down_len -= (size_t)n;
      work++;
    } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
      pr->dead = -1;
      return 1;
    }
  }
  if (pr->vsock_eof && pr->down_len == 0 && !pr->down_shut) {
    shutdown(pr->fd, SHUT_WR);
    pr->down_shut = 1;
    work++;
  }
  if (pr->down_shut && (pr->up_shut || lwvsock_sim_state(sim, pr->s) == LWVSOCK_SIM_CLOSED)) {
    pr->dead = 1;
    work++;
  }
  return work;
}

int
ex_fwd_pump(struct ex_ctx *ctx)
{
  int i, work = 0;

  for (i = 0; i < ctx->nfwd; i++) {
    struct ex_fwd *f = &ctx->fwd[i];
    struct ex_pair **pp = &f->pairs;
    work += ex_fwd_accept(ctx, f);
    while (*pp != NULL) {
      struct ex_pair *pr = *pp;
      work += ex_pair_pump(ctx, f, pr);
      if (pr->dead) {
        *pp = pr->next;
        ex_pair_free(ctx, f, pr);
      } else {
        pp = &pr->next;
      }
    }
  }
  return work;
}

int
ex_fwd_wait_set(const struct ex_ctx *ctx, struct pollfd *pfd, int max)
{
  int i, n = 0;

  for (i = 0; i < ctx->nfwd; i++) {
    const struct ex_fwd *f = &ctx->fwd[i];
    const struct ex_pair *pr;
    if (n < max && f->npairs < EX_FWD_MAX_PAIRS) {
      pfd[n].fd = f->lfd;
      pfd[n].events = POLLIN;
      n++;
    }
    for (pr = f->pairs; pr != NULL && n < max; pr = pr->next) {
      short ev = 0;
      if (pr->connected && !pr->tcp_eof && pr->up_off + pr->up_len < sizeof(pr->up)) {
        ev |= POLLIN;
      }
      if (pr->down_len > 0) {
        ev |= POLLOUT;
      }
      if (ev) {
        pfd[n].fd = pr->fd;
        pfd[n].events = ev;
        n++;
      }
    }
  }
  return n;
}

void
ex_fwd_close(struct ex_ctx *ctx)
{
  int i;

  for (i = 0; i < ctx->nfwd; i++) {
    struct ex_fwd *f = &ctx->fwd[i];
    while (f->pairs != NULL) {
      struct ex_pair *pr = f->pairs;
      f->pairs = pr->next;
      pr->dead = -1;
      ex_pair_free(ctx, f, pr);
    }
    if (f->lfd >= 0) {
      close(f->lfd);
      f->lfd = -1;
    }
  }
}
