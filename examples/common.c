/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Shared part of the example programs: options, device bring-up, the polled
 * main loop, the pcap tap (LINKTYPE_VSOCK, Linux vsockmon format) and the
 * simulated host's TCP forwards.
 *
 * The loop never spins when idle: it sleeps in ppoll() on the device's fds and
 * the forward sockets for at most the next lwvsock/lwIP timer. An in-process
 * device (sim) has no fds and only runs when polled, so then the sleep is
 * capped at EX_SIM_IDLE_MS.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1 /* ppoll, accept4 */
#endif
#include "common.h"

#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "lwip/init.h"
#include "lwip/pbuf.h"
#include "lwip/timeouts.h"
#include "lwvsock/pcap.h"
#include "lwvsock/port.h"

/** Idle sleep when the device is in-process and offers no fd to wait on. */
#define EX_SIM_IDLE_MS     5
/** Longest single sleep, so timers of a device without fds stay accurate. */
#define EX_MAX_SLEEP_MS    1000
/** Received packets handled per lwvsock_poll() call. */
#define EX_POLL_BUDGET     64
/** Buffer per direction of one forwarded TCP connection. */
#define EX_FWD_BUF         (64 * 1024)
/** Forwarded connections open at once per --forward rule. */
#define EX_FWD_MAX_PAIRS   256
/** Device fds we wait on. */
#define EX_MAX_DEV_FDS     8

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

void
ex_init(struct ex_ctx *ctx, const char *prog)
{
  ex_ctx_init(ctx, prog);
  ctx->device_spec = "sim";
  ctx->fwd = ex_forwards;
}

void
ex_usage_error(const struct ex_ctx *ctx, const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  ex_vlog(ctx, fmt, ap);
  va_end(ap);
  ex_try_help(ctx);
  exit(EX_EXIT_USAGE);
}

void
ex_try_help(const struct ex_ctx *ctx)
{
  fprintf(stderr, "Try '%s --help'.\n", ctx->prog);
}

const char *
ex_shown(const char *arg)
{
  /* Rotating buffers: one message may quote several arguments. */
  static char bufs[4][EX_SHOWN_MAX + 32];
  static unsigned next;
  char *b = bufs[next++ % 4];
  size_t n = strlen(arg);

  if (n <= EX_SHOWN_MAX) {
    return arg;
  }
  snprintf(b, sizeof(bufs[0]), "%.*s... (%zu bytes)", EX_SHOWN_MAX, arg, n);
  return b;
}

int
ex_parse_u64(const char *s, uint64_t min, uint64_t max, int suffixes, uint64_t *out)
{
  char *end;
  unsigned long long v;
  uint64_t mult = 1;
  int base = 10;

  if (s == NULL || *s == '\0' || *s == '-' || *s == '+' || *s == ' ') {
    return -1;
  }
  /* Decimal unless 0x: a leading zero is not octal (010 is ten). */
  if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    base = 16;
    s += 2;
    if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f') || (*s >= 'A' && *s <= 'F'))) {
      return -1;
    }
  }
  errno = 0;
  v = strtoull(s, &end, base);
  if (errno != 0 || end == s) {
    return -1;
  }
  if (suffixes && *end != '\0' && end[1] == '\0') {
    switch (*end) {
      case 'k': case 'K': mult = 1024u; end++; break;
      case 'm': case 'M': mult = 1024u * 1024u; end++; break;
      case 'g': case 'G': mult = 1024u * 1024u * 1024u; end++; break;
      default: break;
    }
  }
  if (*end != '\0' || v > UINT64_MAX / mult) {
    return -1;
  }
  v *= mult;
  if (v < min || v > max) {
    return -1;
  }
  *out = v;
  return 0;
}

uint32_t
ex_port_arg(const struct ex_ctx *ctx, const char *arg)
{
  uint64_t v;

  if (ex_parse_u64(arg, 0, 0xfffffffeu, 0, &v) != 0) {
    ex_usage_error(ctx, "--port '%s': not a vsock port (0..4294967294)", ex_shown(arg));
  }
  return (uint32_t)v;
}

int
ex_getopt(const struct ex_ctx *ctx, int argc, char **argv, const char *shortopts,
          const struct option *longopts)
{
  char opts[64];
  const char *as_typed;
  int opt;

  /* A leading ':' makes getopt report instead of print (its lines would name
   * the libtool wrapper's .libs/lt-* path and be followed by ours). */
  snprintf(opts, sizeof(opts), ":%s", shortopts);
  opt = getopt_long(argc, argv, opts, longopts, NULL);
  if (opt != ':' && opt != '?') {
    return opt;
  }
  as_typed = argv[optind - 1];
  if (optopt != 0 && strncmp(as_typed, "--", 2) != 0) {
    ex_usage_error(ctx, opt == ':' ? "option '-%c' needs an argument" : "unknown option '-%c'",
                   optopt);
  }
  if (opt == ':') {
    ex_usage_error(ctx, "option '%s' needs an argument", ex_shown(as_typed));
  }
  if (optopt != 0) {
    /* a known long option given "=VALUE" although it takes none */
    ex_usage_error(ctx, "option '%s' takes no argument", ex_shown(as_typed));
  }
  ex_usage_error(ctx, "unknown or ambiguous option '%s'", ex_shown(as_typed));
}

void
ex_no_operands(const struct ex_ctx *ctx, int argc, char **argv)
{
  if (optind < argc) {
    ex_usage_error(ctx, "unexpected argument '%s'", ex_shown(argv[optind]));
  }
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

static void
ex_add_forward(struct ex_ctx *ctx, const char *arg)
{
  const char *colon = strchr(arg, ':');
  char tcp[16];
  uint64_t tport, vport;

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
  ctx->fwd[ctx->nfwd].tcp_port = (uint16_t)tport;
  ctx->fwd[ctx->nfwd].vsock_port = (uint32_t)vport;
  ctx->fwd[ctx->nfwd].lfd = -1;
  ctx->nfwd++;
}

int
ex_common_option(struct ex_ctx *ctx, int opt, const char *arg)
{
  switch (opt) {
    case EX_OPT_DEVICE:
      if (*arg == '\0') {
        ex_usage_error(ctx, "--device '': empty; give a device SPEC (see --help), e.g. sim");
      }
      ctx->device_spec = arg;
      return 1;
    case EX_OPT_PCAP:
      ctx->pcap_path = arg;
      return 1;
    case EX_OPT_FORWARD:
      ex_add_forward(ctx, arg);
      return 1;
    case 'q':
      ctx->quiet = 1;
      return 1;
    default:
      return 0;
  }
}

void
ex_common_usage(FILE *f)
{
  fputs("Common options:\n"
        "  --device SPEC       the virtio-vsock device (default: sim)\n"
        "  --forward TCP:VSOCK (sim only, repeatable) the simulated host listens on\n"
        "                      127.0.0.1:TCP and connects each TCP client to our\n"
        "                      vsock port VSOCK (the port this program listens on),\n"
        "                      copying bytes both ways\n"
        "  --pcap FILE         write every packet the driver sends or receives to FILE\n"
        "                      (pcap, LINKTYPE_VSOCK as Linux vsockmon; tshark reads it)\n"
        "  -q, --quiet         no line per connection\n"
        "  -h, --help          this help\n"
        LWVSOCK_PORT_SPEC_HELP
        "Numbers (ports, CIDs, counts) are decimal, also with leading zeros; 0x for hex.\n"
        "On SIGINT/SIGTERM the program prints the device's and the open connections'\n"
        "counters and exits. Exit status: 0 ok, 1 runtime error, 2 usage error.\n", f);
}

/* ---- pcap: the library's writer into a FILE ------------------------------- */

static int
ex_pcap_write(void *arg, const void *data, size_t len)
{
  struct ex_ctx *ctx = (struct ex_ctx *)arg;

  if (fwrite(data, len, 1, ctx->pcap) != 1) {
    ex_log(ctx, "--pcap %s: write failed: %s; capture stopped", ex_shown(ctx->pcap_path), strerror(errno));
    return -1;
  }
  return 0;
}

static void
ex_pcap_clock(void *arg, uint32_t *sec, uint32_t *usec)
{
  struct timeval tv;

  LWIP_UNUSED_ARG(arg);
  gettimeofday(&tv, NULL);
  *sec = (uint32_t)tv.tv_sec;
  *usec = (uint32_t)tv.tv_usec;
}

static int
ex_pcap_open(struct ex_ctx *ctx)
{
  ctx->pcap = fopen(ctx->pcap_path, "wb");
  if (ctx->pcap == NULL) {
    ex_log(ctx, "--pcap %s: cannot create: %s", ex_shown(ctx->pcap_path), strerror(errno));
    return -1;
  }
  if (lwvsock_pcap_start(&ctx->cap, ex_pcap_write, ex_pcap_clock, ctx) != ERR_OK) {
    return -1;
  }
  lwvsock_dev_set_tap(ctx->dev, lwvsock_pcap_tap, &ctx->cap);
  return 0;
}

/* ---- forwards (sim only) ---------------------------------------------------- */

static int
ex_fwd_listen(struct ex_ctx *ctx, struct ex_fwd *f)
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

static int
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

static void
ex_fwd_close_all(struct ex_ctx *ctx)
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

/* ---- device and loop -------------------------------------------------------- */

int
ex_start(struct ex_ctx *ctx)
{
  struct lwvsock_backend *be = NULL;
  struct sigaction sa;
  sigset_t block;
  char err[256];
  err_t e;
  int i, rc;

  lwip_init();
  err[0] = '\0';
  rc = lwvsock_port_open(ctx->device_spec, &be, err, sizeof(err));
  if (rc != 0) {
    ex_log(ctx, "--device %s: %s", ex_shown(ctx->device_spec), err[0] ? err : strerror(rc < 0 ? -rc : rc));
    if (rc == -EINVAL || rc == -ENOTSUP) {
      ex_try_help(ctx);
      return EX_EXIT_USAGE;
    }
    return EX_EXIT_FAIL;
  }
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
  if (ctx->pcap_path != NULL) {
    if (ex_pcap_open(ctx) != 0) {
      return EX_EXIT_FAIL;
    }
  }
  for (i = 0; i < ctx->nfwd; i++) {
    if (ex_fwd_listen(ctx, &ctx->fwd[i]) != 0) {
      return EX_EXIT_FAIL;
    }
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
ex_wait_set(struct ex_ctx *ctx, struct pollfd *pfd, int max, int *ndev)
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
  for (i = 0; i < ctx->nfwd; i++) {
    struct ex_fwd *f = &ctx->fwd[i];
    struct ex_pair *pr;
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

int
ex_run(struct ex_ctx *ctx, int (*done)(void *arg), void *arg)
{
  struct pollfd pfd[EX_MAX_DEV_FDS + EX_MAX_FORWARDS * (EX_FWD_MAX_PAIRS + 1)];
  sigset_t unblocked;

  sigemptyset(&unblocked);
  ctx->running = 1;
  while (!ex_stop) {
    int work, n, ndev;
    uint32_t t, tl;
    struct timespec ts;

    work = lwvsock_poll(ctx->dev, EX_POLL_BUDGET);
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
      continue;
    }
    t = lwvsock_next_timeout(ctx->dev);
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

int
ex_finish(struct ex_ctx *ctx, int rc)
{
  struct ex_conn *c;

  ex_fwd_close_all(ctx);
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
  if (ctx->pcap != NULL && fclose(ctx->pcap) != 0) {
    ex_log(ctx, "--pcap %s: %s", ex_shown(ctx->pcap_path), strerror(errno));
    rc = EX_EXIT_FAIL;
  }
  ctx->pcap = NULL;
  return rc;
}

