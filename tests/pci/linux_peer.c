/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * linux_peer: the guest-side programs of the PCI suite when Linux's own guest
 * driver (vmw_vsock_virtio_transport) owns the vsock device of the nested
 * guest ("L3"). They do what lwvsock-echo and lwvsock-perf do there, over
 * AF_VSOCK, so the host side runs the very same checks against both drivers.
 *
 *   linux_peer echo PORT              echo every connection back; EOF -> close
 *   linux_peer perf PORT              lwvsock-perf's server: the 24-byte hello
 *                                     ("LWVPERF1", le64 count, le32 flags with
 *                                     1 = reverse) then sink, or send the count
 *   linux_peer client CID PORT BYTES  lwvsock-perf -c: BYTES of the pattern
 *                                     (byte o is o % 251) and nothing else,
 *                                     SHUT_WR, wait for the server's EOF
 *
 * It refuses (exit 99) outside the nested guest of tests/pci (hostname
 * lwvsock-l3 and the marker /lwvsock-l3 of that guest's initramfs) and the
 * test VM (bench/qemu.sh's Linux baseline there: hostname lwvsock-testvm, /
 * the hostroot 9p mount, the marker /run/lwvsock-testvm and guard.sh's
 * LWVSOCK_ALLOW_VHOST_VSOCK=1), so it never opens AF_VSOCK on a build machine.
 * Servers print "listening on port N", one "connection ended: ..." line per
 * connection, and run until SIGTERM (exit 0). Exit status: 0 ok, 1 error, 2 usage.
 */
#define _GNU_SOURCE 1
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#define HELLO_LEN 24
#define PATTERN_MOD 251u
#define CHUNK 65536u
#define IO_TIMEOUT_S 60

static uint8_t pattern[CHUNK + PATTERN_MOD];

static void
say(const char *fmt, ...)
{
  va_list ap;

  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
  putchar('\n');
  fflush(stdout);
}

/* Every blocking call is bounded, so a stuck peer ends a connection, not the test. */
static int
vsock_socket(void)
{
  struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
  int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

  if (fd >= 0) {
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
  }
  return fd;
}

/* Sends all n bytes (out) or reads exactly n bytes (in, an early EOF is an
 * error); 0 on success, -1 otherwise. */
static int
xfer_all(int fd, uint8_t *p, size_t n, int out)
{
  while (n > 0) {
    ssize_t k = out ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);
    if (k < 0 && errno == EINTR) {
      continue;
    }
    if (k <= 0) {
      return -1;
    }
    p += k;
    n -= (size_t)k;
  }
  return 0;
}

/* Sends bytes off..off+count of the pattern. */
static int
send_pattern(int fd, uint64_t count)
{
  uint64_t off = 0;

  while (off < count) {
    size_t n = count - off < CHUNK ? (size_t)(count - off) : CHUNK;
    if (xfer_all(fd, pattern + off % PATTERN_MOD, n, 1) != 0) {
      return -1;
    }
    off += n;
  }
  return 0;
}

/* Reads to EOF; returns the byte count, or -1 on an error. */
static int64_t
drain(int fd)
{
  static __thread uint8_t buf[CHUNK];
  int64_t total = 0;

  for (;;) {
    ssize_t k = recv(fd, buf, sizeof(buf), 0);
    if (k < 0 && errno == EINTR) {
      continue;
    }
    if (k < 0) {
      return -1;
    }
    if (k == 0) {
      return total;
    }
    total += k;
  }
}

static uint64_t
le_load(const uint8_t *p, unsigned n)
{
  uint64_t v = 0;

  while (n-- > 0) {
    v = (v << 8) | p[n];
  }
  return v;
}

static void *
serve_echo(void *arg)
{
  static __thread uint8_t buf[CHUNK];
  int fd = (int)(intptr_t)arg;
  uint64_t total = 0;
  const char *how = "peer closed";

  for (;;) {
    ssize_t k = recv(fd, buf, sizeof(buf), 0);
    if (k < 0 && errno == EINTR) {
      continue;
    }
    if (k < 0) {
      how = strerror(errno);
      break;
    }
    if (k == 0) {
      break;
    }
    if (xfer_all(fd, buf, (size_t)k, 1) != 0) {
      how = strerror(errno);
      break;
    }
    total += (uint64_t)k;
  }
  close(fd);
  say("connection ended: %s after %llu bytes echoed", how, (unsigned long long)total);
  return NULL;
}

static void *
serve_perf(void *arg)
{
  int fd = (int)(intptr_t)arg;
  uint8_t hello[HELLO_LEN];
  const char *what = "failed";
  uint64_t count = 0;

  if (xfer_all(fd, hello, sizeof(hello), 0) == 0 && memcmp(hello, "LWVPERF1", 8) == 0) {
    count = le_load(hello + 8, 8);
    if (le_load(hello + 16, 4) & 1u) {
      if (send_pattern(fd, count) == 0 && shutdown(fd, SHUT_WR) == 0 && drain(fd) >= 0) {
        what = "sent";
      }
    } else {
      int64_t got = drain(fd);
      if (got >= 0 && (uint64_t)got == count) {
        what = "received";
      }
    }
  }
  close(fd);
  say("connection ended: %s %llu bytes", what, (unsigned long long)count);
  return NULL;
}

static int
server(unsigned port, void *(*handle)(void *))
{
  struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port };
  int ls = socket(AF_VSOCK, SOCK_STREAM, 0);

  if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(ls, 128) != 0) {
    perror("linux_peer: listen");
    return 1;
  }
  say("listening on port %u", port);
  for (;;) {
    pthread_t t;
    int fd = accept(ls, NULL, NULL);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) {
        continue;
      }
      perror("linux_peer: accept");
      return 1;
    }
    struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (pthread_create(&t, NULL, handle, (void *)(intptr_t)fd) != 0) {
      say("connection ended: no thread for it");
      close(fd);
      continue;
    }
    pthread_detach(t);
  }
}

static int
client(unsigned cid, unsigned port, uint64_t count)
{
  struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = cid, .svm_port = port };
  int fd = vsock_socket();

  if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
    perror("linux_peer: connect");
    return 1;
  }
  if (send_pattern(fd, count) != 0 ||
      shutdown(fd, SHUT_WR) != 0 || drain(fd) < 0) {
    perror("linux_peer: client transfer");
    return 1;
  }
  close(fd);
  say("summary: sent %llu bytes", (unsigned long long)count);
  return 0;
}

/* SIGTERM ends the servers with status 0, as it ends lwvsock's programs. */
static void
on_term(int sig)
{
  (void)sig;
  _exit(0);
}

/* Whether / is the test VM's read-only share of the build machine (tests/interop/guard.sh). */
static int
root_is_hostroot(void)
{
  char line[512];
  int found = 0;
  FILE *f = fopen("/proc/mounts", "r");

  while (f != NULL && !found && fgets(line, sizeof(line), f) != NULL) {
    found = strncmp(line, "hostroot / 9p ", 14) == 0;
  }
  if (f != NULL) {
    fclose(f);
  }
  return found;
}

static int
in_test_guest(void)
{
  char host[64] = "";
  const char *allow = getenv("LWVSOCK_ALLOW_VHOST_VSOCK");

  if (gethostname(host, sizeof(host) - 1) != 0) {
    return 0;
  }
  if (strcmp(host, "lwvsock-l3") == 0) {
    return access("/lwvsock-l3", F_OK) == 0;
  }
  return strcmp(host, "lwvsock-testvm") == 0 && access("/run/lwvsock-testvm", F_OK) == 0 &&
         root_is_hostroot() && allow != NULL && strcmp(allow, "1") == 0;
}

static int
number(const char *s, unsigned long long max, unsigned long long *out)
{
  char *end;

  errno = 0;
  *out = strtoull(s, &end, 10);
  return errno == 0 && end != s && *end == '\0' && *out <= max ? 0 : -1;
}

int
main(int argc, char **argv)
{
  unsigned long long port, cid, count;

  if (argc == 3 && (strcmp(argv[1], "echo") == 0 || strcmp(argv[1], "perf") == 0) &&
      number(argv[2], UINT32_MAX - 1, &port) == 0) {
    cid = count = 0;
  } else if (argc == 5 && strcmp(argv[1], "client") == 0 && number(argv[2], UINT32_MAX, &cid) == 0 &&
             number(argv[3], UINT32_MAX - 1, &port) == 0 && number(argv[4], UINT64_MAX, &count) == 0) {
  } else {
    fprintf(stderr, "usage: linux_peer echo PORT | perf PORT | client CID PORT BYTES\n");
    return 2;
  }
  if (!in_test_guest()) {
    fprintf(stderr, "linux_peer: REFUSING: it opens AF_VSOCK and runs only in the nested guest "
                    "of tests/pci (hostname lwvsock-l3, marker /lwvsock-l3) or in the test VM "
                    "under tests/interop/guard.sh\n");
    return 99;
  }
  signal(SIGPIPE, SIG_IGN);
  signal(SIGTERM, on_term);
  for (size_t i = 0; i < sizeof(pattern); i++) {
    pattern[i] = (uint8_t)(i % PATTERN_MOD);
  }
  if (strcmp(argv[1], "client") == 0) {
    return client((unsigned)cid, (unsigned)port, count);
  }
  return server((unsigned)port, strcmp(argv[1], "echo") == 0 ? serve_echo : serve_perf);
}
