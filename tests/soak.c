/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Soak test (`make soak`, not part of make check): random connection churn
 * through the simulated host for SOAK_SECONDS (default 600) of wall time.
 *
 * Slots of connections are opened from either side, carry pattern bytes both
 * ways (a different pattern per connection and direction, checked byte by byte
 * at the receiving end), and end by every route: orderly close from either
 * side, half-close in either direction then close, abort (RST) from either
 * side. An orderly end must deliver every byte written before it. Time inside
 * the driver is the fake clock (1 ms per loop), so close and connect timers
 * run as they would.
 *
 * Progress every 30 s and a summary at the end: operations, bytes moved and
 * checked, and memory (lwIP heap, our pcb pool, malloc'd bytes) at start and
 * end, which must be equal. Exit status 0 only when every check held.
 */
#include <errno.h>
#include <malloc.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lwvsock_check.h"
#include "proto_fixture.h"
#include "virtio_defs.h"
#include "lwip/def.h"
#include "lwip/init.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"

#define NSLOTS        64
#define HOST_PORT     9000u  /* host listener: guest-initiated connections */
#define GUEST_PORT    9001u  /* guest listener: host-initiated connections */
#define MAX_WRITE     16384u
#define REPORT_EVERY  30

struct slot {
  bool used;
  bool g_open, h_open;       /* guest pcb / host socket usable by the application */
  bool g_conn, h_conn;       /* established */
  bool g_wdone, h_wdone;     /* side sends no more (shutdown or close) */
  bool g_eof, h_eof;         /* end of stream seen */
  bool g_closed, h_closed;   /* orderly close called */
  bool reset;                /* aborted by either side: no completeness check */
  struct lwvsock_pcb *pcb;
  int h;
  uint32_t want_port;        /* host-initiated: host port the accepted pcb must have */
  uint64_t g2h_base, h2g_base;
  uint64_t g2h_w, g2h_r, h2g_w, h2g_r;
};

static struct lwvsock_sim *sim;
static struct lwvsock_dev *dev;
static struct slot slots[NSLOTS];
static uint64_t serial;
static uint64_t ops, bytes_checked, conns_done, failures;
static uint64_t ends[6];     /* how connections ended, see end_names */
static const char *const end_names[] = {
  "guest close", "host close", "guest abort", "host reset", "half-close guest", "half-close host"
};

static void
soak_fail(const struct slot *s, const char *what)
{
  failures++;
  if (failures <= 20) {
    fprintf(stderr, "soak: FAIL slot %d: %s (g2h %llu/%llu h2g %llu/%llu)\n", (int)(s - slots), what,
            (unsigned long long)s->g2h_r, (unsigned long long)s->g2h_w,
            (unsigned long long)s->h2g_r, (unsigned long long)s->h2g_w);
  }
}

static uint32_t
rnd(uint32_t n)
{
  return (uint32_t)random() % n;
}

static uint64_t
pattern_base(void)
{
  uint64_t k = ++serial;
  /* A 64 KiB block step changes the pattern's xor key, the odd offset its phase. */
  return k * 0x10000ull + ((k * 7919u) & 0xffffu);
}

static bool
check_bytes(const uint8_t *d, size_t n, uint64_t off)
{
  uint8_t expect[4096];
  size_t done, k;

  for (done = 0; done < n; done += k) {
    k = LWIP_MIN(sizeof(expect), n - done);
    pattern_fill(expect, off + done, k);
    if (memcmp(expect, d + done, k) != 0) {
      return false;
    }
  }
  bytes_checked += n;
  return true;
}

/* ---- guest callbacks --------------------------------------------------------------- */

static err_t
g_recv(void *arg, struct lwvsock_pcb *pcb, struct pbuf *p, err_t err)
{
  struct slot *s = (struct slot *)arg;
  struct pbuf *q;

  LWIP_UNUSED_ARG(err);
  if (p == NULL) {
    s->g_eof = true;
    if (!s->reset && !s->h_wdone) {
      soak_fail(s, "guest saw end of stream the host never sent");
    } else if (!s->reset && s->h2g_r != s->h2g_w) {
      soak_fail(s, "guest saw end of stream before every byte");
    }
    return ERR_OK;
  }
  if (rnd(20) == 0) {
    return ERR_MEM; /* a busy application: lwvsock offers it again later */
  }
  for (q = p; q != NULL; q = q->next) {
    if (!check_bytes((const uint8_t *)q->payload, q->len, s->h2g_base + s->h2g_r)) {
      soak_fail(s, "host-to-guest bytes differ");
    }
    s->h2g_r += q->len;
  }
  lwvsock_recved(pcb, p->tot_len);
  pbuf_free(p);
  return ERR_OK;
}

static void
g_err(void *arg, err_t err)
{
  struct slot *s = (struct slot *)arg;

  s->g_open = false;
  s->pcb = NULL;
  if (!s->reset && !(err == ERR_RST && s->h_closed)) {
    char msg[64];
    snprintf(msg, sizeof(msg), "unexpected guest error %d (%s)", err, lwvsock_strerror(err));
    soak_fail(s, msg);
  }
}

static void
g_attach(struct slot *s, struct lwvsock_pcb *pcb)
{
  s->pcb = pcb;
  s->g_open = true;
  lwvsock_arg(pcb, s);
  lwvsock_recv(pcb, g_recv);
  lwvsock_err(pcb, g_err);
}

static err_t
g_connected(void *arg, struct lwvsock_pcb *pcb, err_t err)
{
  struct slot *s = (struct slot *)arg;

  LWIP_UNUSED_ARG(pcb);
  s->g_conn = err == ERR_OK;
  return ERR_OK;
}

static err_t
g_accept(void *arg, struct lwvsock_pcb *newpcb, err_t err)
{
  int i;

  LWIP_UNUSED_ARG(arg);
  if (err != ERR_OK) {
    return ERR_VAL;
  }
  for (i = 0; i < NSLOTS; i++) {
    struct slot *s = &slots[i];
    if (s->used && s->pcb == NULL && !s->g_conn && s->want_port == lwvsock_remote_port(newpcb)) {
      g_attach(s, newpcb);
      s->g_conn = true;
      return ERR_OK;
    }
  }
  return ERR_VAL; /* its host socket was given up already */
}

/* ---- slot life ------------------------------------------------------------------------ */

static void
slot_open(struct slot *s)
{
  memset(s, 0, sizeof(*s));
  s->used = true;
  s->h = -1;
  s->g2h_base = pattern_base();
  s->h2g_base = pattern_base();
  if (rnd(2) == 0) {
    struct lwvsock_pcb *pcb = lwvsock_new(dev, LWVSOCK_STREAM);
    if (pcb == NULL) {
      soak_fail(s, "lwvsock_new failed");
      s->used = false;
      return;
    }
    g_attach(s, pcb);
    if (lwvsock_connect(pcb, LWVSOCK_CID_HOST, HOST_PORT, g_connected) != ERR_OK) {
      soak_fail(s, "lwvsock_connect failed");
      s->reset = true;
      lwvsock_abort(pcb);
    }
  } else {
    s->h = lwvsock_sim_connect(sim, GUEST_PORT, LWVSOCK_STREAM);
    if (s->h < 0) {
      soak_fail(s, "lwvsock_sim_connect failed");
      s->used = false;
      return;
    }
    s->h_open = true;
    s->want_port = lwvsock_sim_local_port(sim, s->h);
  }
  ops++;
}

static void
guest_write(struct slot *s)
{
  static uint8_t buf[MAX_WRITE];
  uint32_t n = rnd(4) == 0 ? 1 + rnd(64) : 1 + rnd(MAX_WRITE);

  if (!s->g_open || !s->g_conn || s->g_wdone || lwvsock_sndbuf(s->pcb) < n) {
    return;
  }
  if (rnd(3) == 0) {
    /* zero-copy: the library references the pbuf until the device has read it */
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_RAM);
    err_t e;

    if (p == NULL) {
      return;
    }
    pattern_fill((uint8_t *)p->payload, s->g2h_base + s->g2h_w, n);
    e = lwvsock_write_pbuf(s->pcb, p, LWVSOCK_WRITE_FLAG_NOCOPY);
    pbuf_free(p);
    if (e == ERR_OK) {
      s->g2h_w += n;
      ops++;
    }
    return;
  }
  pattern_fill(buf, s->g2h_base + s->g2h_w, n);
  if (lwvsock_write(s->pcb, buf, n, rnd(3) == 0 ? LWVSOCK_WRITE_FLAG_MORE : 0) == ERR_OK) {
    s->g2h_w += n;
    ops++;
  }
}

static void
host_send(struct slot *s)
{
  static uint8_t buf[MAX_WRITE];
  uint32_t n = rnd(4) == 0 ? 1 + rnd(64) : 1 + rnd(MAX_WRITE);
  ssize_t r;

  if (!s->h_open || !s->h_conn || s->h_wdone) {
    return;
  }
  pattern_fill(buf, s->h2g_base + s->h2g_w, n);
  r = lwvsock_sim_send(sim, s->h, buf, n);
  if (r > 0) {
    s->h2g_w += (uint64_t)r;
    ops++;
  }
}

static void
guest_close(struct slot *s)
{
  s->g_closed = s->g_wdone = true;
  s->g_open = false;
  lwvsock_close(s->pcb);
  s->pcb = NULL;
}

static void
host_close(struct slot *s)
{
  s->h_closed = s->h_wdone = true;
  s->h_open = false;
  lwvsock_sim_close(sim, s->h);
  s->h = -1;
}

/* One random action on an open slot; endings are rare so connections carry data. */
static void
slot_act(struct slot *s)
{
  uint32_t r = rnd(1000);

  if (r < 450) {
    guest_write(s);
  } else if (r < 900) {
    host_send(s);
  } else if (r < 990) {
    /* nothing: let the other side catch up */
  } else if (!s->g_conn || !s->h_conn) {
    /* endings only once both ends are established */
  } else if (r < 992 && s->g_open && !s->g_wdone) {
    s->g_wdone = true;
    lwvsock_shutdown(s->pcb, 0, 1);
    ends[4]++;
    ops++;
  } else if (r < 994 && s->h_open && !s->h_wdone) {
    s->h_wdone = true;
    lwvsock_sim_shutdown(sim, s->h, VIRTIO_VSOCK_SHUTDOWN_SEND);
    ends[5]++;
    ops++;
  } else if (r < 996 && s->g_open) {
    guest_close(s);
    ends[0]++;
    ops++;
  } else if (r < 998 && s->h_open) {
    host_close(s);
    ends[1]++;
    ops++;
  } else if (r == 998 && s->g_open) {
    s->reset = true;
    lwvsock_abort(s->pcb);
    ends[2]++;
    ops++;
  } else if (r == 999 && s->h_open) {
    s->reset = true;
    lwvsock_sim_reset(sim, s->h);
    s->h_open = false;
    s->h = -1;
    ends[3]++;
    ops++;
  }
}

/* The host application: accept, read and check, answer the guest's end. */
static void
host_service(struct slot *s)
{
  static uint8_t buf[65536];
  ssize_t r;

  if (!s->h_open) {
    return;
  }
  if (!s->h_conn) {
    enum lwvsock_sim_state st = lwvsock_sim_state(sim, s->h);
    if (st == LWVSOCK_SIM_CONNECTED) {
      s->h_conn = true;
    } else if (st == LWVSOCK_SIM_CLOSED) {
      soak_fail(s, "the guest refused a host connection");
      host_close(s);
      return;
    } else {
      return;
    }
  }
  while (!s->h_eof && (r = lwvsock_sim_recv(sim, s->h, buf, sizeof(buf))) != -EAGAIN) {
    if (r > 0) {
      if (!check_bytes(buf, (size_t)r, s->g2h_base + s->g2h_r)) {
        soak_fail(s, "guest-to-host bytes differ");
      }
      s->g2h_r += (uint64_t)r;
      continue;
    }
    s->h_eof = true;
    if (r == 0 && !s->reset && s->g2h_r != s->g2h_w) {
      soak_fail(s, "host saw end of stream before every byte");
    } else if (r == 0 && !s->reset && !s->g_wdone) {
      soak_fail(s, "host saw end of stream the guest never sent");
    } else if (r < 0 && !s->reset) {
      soak_fail(s, "host socket failed without an abort");
    }
  }
}

static void
slot_service(struct slot *s)
{
  host_service(s);
  /* Each side closes once the other is done with it. */
  if (s->h_open && (s->h_eof || s->reset) && (s->g_closed || !s->g_open || s->reset)) {
    host_close(s);
  }
  if (s->g_open && (s->g_eof || s->reset) && !s->h_open) {
    guest_close(s);
  }
  if (!s->g_open && !s->h_open && s->pcb == NULL) {
    s->used = false;
    conns_done++;
  }
}

static void
host_accept(int lsock)
{
  int h, i;

  while ((h = lwvsock_sim_accept(sim, lsock)) >= 0) {
    uint32_t gport = lwvsock_sim_remote_port(sim, h);
    for (i = 0; i < NSLOTS; i++) {
      struct slot *s = &slots[i];
      if (s->used && s->pcb != NULL && !s->h_open && !s->h_closed &&
          lwvsock_local_port(s->pcb) == gport) {
        s->h = h;
        s->h_open = s->h_conn = true;
        break;
      }
    }
    if (i == NSLOTS) {
      lwvsock_sim_close(sim, h); /* the guest gave up already */
    }
  }
}

/* ---- memory and reporting --------------------------------------------------------------- */

struct mem {
  unsigned long heap, pcbs, malloced;
};

static struct mem
mem_now(void)
{
  struct mem m;

  m.heap = (unsigned long)lwip_stats.mem.used;
  m.pcbs = fx_pcbs_in_use();
  m.malloced = (unsigned long)mallinfo2().uordblks;
  return m;
}

static double
now_s(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
report(const char *what, double elapsed)
{
  struct mem m = mem_now();
  int i, active = 0;

  for (i = 0; i < NSLOTS; i++) {
    active += slots[i].used;
  }
  printf("soak %s %6.0fs: ops %llu, connections done %llu (active %d), bytes checked %llu, "
         "heap %lu, pcbs %lu, malloc %lu, failures %llu\n",
         what, elapsed, (unsigned long long)ops, (unsigned long long)conns_done, active,
         (unsigned long long)bytes_checked, m.heap, m.pcbs, m.malloced,
         (unsigned long long)failures);
  fflush(stdout);
}

static void
poll_once(int lsock)
{
  int i;

  host_accept(lsock);
  for (i = 0; i < NSLOTS; i++) {
    if (slots[i].used) {
      slot_service(&slots[i]);
    }
  }
  lwvsock_dev_poll(dev, 0);
  lwvsock_test_clock_advance(1);
}

int
main(int argc, char **argv)
{
  const char *env = getenv("SOAK_SECONDS");
  long seconds = env != NULL ? strtol(env, NULL, 10) : 600;
  unsigned seed = 1;
  double start, last, elapsed;
  struct mem m0, m1;
  struct lwvsock_pcb *lp;
  int lsock, i, k;

  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      printf("usage: %s [--seed N]\n"
             "Random connection churn and byte-checked transfers through the simulated host.\n"
             "Runs SOAK_SECONDS seconds (environment; default 600) and exits 0 only when\n"
             "every byte arrived as sent and memory at the end equals memory at the start.\n",
             argv[0]);
      return 0;
    } else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc) {
      seed = (unsigned)strtoul(argv[++i], NULL, 10);
    } else {
      fprintf(stderr, "%s: unknown argument '%s' (try --help)\n", argv[0], argv[i]);
      return 2;
    }
  }
  if (seconds <= 0) {
    fprintf(stderr, "%s: SOAK_SECONDS must be a positive number of seconds, not '%s'\n", argv[0], env);
    return 2;
  }
  /* glibc counts blocks parked in its per-thread cache as in use; without the
     cache mallinfo2() shows exactly what the program holds. */
  if (getenv("LWVSOCK_SOAK_REEXEC") == NULL) {
    setenv("LWVSOCK_SOAK_REEXEC", "1", 1);
    setenv("GLIBC_TUNABLES", "glibc.malloc.tcache_count=0", 1);
    execv("/proc/self/exe", argv);
    fprintf(stderr, "soak: cannot re-execute itself (%s); malloc counts may include glibc's cache\n",
            strerror(errno));
  }
  srandom(seed);
  lwip_init();
  printf("soak: %ld s, %d connection slots, seed %u\n", seconds, NSLOTS, seed);
  fflush(stdout);
  m0 = mem_now();

  if (lwvsock_sim_new(NULL, &sim) != 0 || lwvsock_dev_open(lwvsock_sim_backend(sim), &dev) != ERR_OK) {
    fprintf(stderr, "soak: cannot open the simulated device: %s\n", dev ? lwvsock_dev_error(dev) : "out of memory");
    return 1;
  }
  lsock = lwvsock_sim_listen(sim, HOST_PORT, LWVSOCK_STREAM);
  lp = lwvsock_new(dev, LWVSOCK_STREAM);
  if (lsock < 0 || lp == NULL || lwvsock_bind(lp, LWVSOCK_CID_ANY, GUEST_PORT) != ERR_OK ||
      lwvsock_listen_with_backlog(lp, 255, NULL) == NULL) {
    fprintf(stderr, "soak: cannot set up the listeners\n");
    return 1;
  }
  lwvsock_accept(lp, g_accept);

  start = last = now_s();
  for (elapsed = 0; elapsed < (double)seconds; elapsed = now_s() - start) {
    for (k = 0; k < 64; k++) {
      struct slot *s = &slots[rnd(NSLOTS)];
      if (!s->used) {
        slot_open(s);
      } else {
        slot_act(s);
      }
      poll_once(lsock);
    }
    if (now_s() - last >= REPORT_EVERY) {
      last = now_s();
      report("progress", elapsed);
    }
  }

  /* Wind down: everyone closes, both sides finish within the close timeouts. */
  for (i = 0; i < NSLOTS; i++) {
    struct slot *s = &slots[i];
    if (s->used && s->g_open && s->g_conn) {
      guest_close(s);
    }
    if (s->used && s->h_open && s->h_conn && !s->h_closed) {
      host_close(s);
    }
  }
  for (k = 0; k < 30000; k++) {
    int busy = 0;
    poll_once(lsock);
    for (i = 0; i < NSLOTS; i++) {
      busy += slots[i].used;
    }
    if (busy == 0) {
      break;
    }
  }
  for (i = 0; i < NSLOTS; i++) {
    if (slots[i].used) {
      soak_fail(&slots[i], "connection did not finish after the close timeouts");
    }
  }
  lwvsock_close(lp);
  lwvsock_sim_close(sim, lsock);
  for (k = 0; k < 100; k++) {
    poll_once(lsock);
  }
  report("end", now_s() - start);
  lwvsock_dev_close(dev);
  m1 = mem_now();
  printf("soak summary: %llu operations, %llu connections, %llu bytes moved and checked\n",
         (unsigned long long)ops, (unsigned long long)conns_done, (unsigned long long)bytes_checked);
  printf("soak endings:");
  for (i = 0; i < (int)LWIP_ARRAYSIZE(end_names); i++) {
    printf(" %s %llu%s", end_names[i], (unsigned long long)ends[i],
           i + 1 < (int)LWIP_ARRAYSIZE(end_names) ? "," : "\n");
  }
  printf("soak memory start: heap %lu, pcbs %lu, malloc %lu\n", m0.heap, m0.pcbs, m0.malloced);
  printf("soak memory end:   heap %lu, pcbs %lu, malloc %lu\n", m1.heap, m1.pcbs, m1.malloced);
  if (m0.heap != m1.heap || m0.pcbs != m1.pcbs || m0.malloced != m1.malloced) {
    fprintf(stderr, "soak: FAIL: memory at the end differs from the start\n");
    failures++;
  }
  if (bytes_checked == 0 || conns_done == 0) {
    fprintf(stderr, "soak: FAIL: no traffic moved\n");
    failures++;
  }
  printf("soak %s: %llu failures\n", failures == 0 ? "PASS" : "FAIL", (unsigned long long)failures);
  return failures == 0 ? 0 : 1;
}
