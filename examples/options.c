/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The hosted examples' command line (see options.h).
 */
#include "options.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "forward.h"
#include "lwvsock/devspec.h"

/** getopt_long values of the common long-only options. */
enum { EX_OPT_DEVICE = 0x1000, EX_OPT_PCAP, EX_OPT_FORWARD };

/** Short options of the common set. */
#define EX_COMMON_SHORTOPTS "qh"

/** The common long options, appended to every program's own. */
static const struct option ex_common_longopts[] = {
  { "device",  required_argument, NULL, EX_OPT_DEVICE },
  { "pcap",    required_argument, NULL, EX_OPT_PCAP },
  { "forward", required_argument, NULL, EX_OPT_FORWARD },
  { "quiet",   no_argument,       NULL, 'q' },
  { "help",    no_argument,       NULL, 'h' },
  { NULL, 0, NULL, 0 }
};

/** Most long options of a program, the common ones and the end entry included. */
#define EX_MAX_LONGOPTS 32

void
ex_init(struct ex_ctx *ctx, const char *prog)
{
  ex_ctx_init(ctx, prog);
  ctx->device_spec = "sim";
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

/**
 * getopt_long() that reports a missing argument or an unknown option itself,
 * in one line naming the option, and exits with EX_EXIT_USAGE. @p shortopts
 * starts with ':'.
 */
static int
ex_getopt(const struct ex_ctx *ctx, int argc, char **argv, const char *shortopts,
          const struct option *longopts)
{
  const char *as_typed;
  int opt;

  /* The leading ':' makes getopt report instead of print (its lines would name
   * the libtool wrapper's .libs/lt-* path and be followed by ours). */
  opt = getopt_long(argc, argv, shortopts, longopts, NULL);
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

/** Take option @p opt if it is a common one; returns 1 when taken, 0 otherwise. */
static int
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
      ex_fwd_add(ctx, arg);
      return 1;
    case 'q':
      ctx->quiet = 1;
      return 1;
    default:
      return 0;
  }
}

void
ex_parse_options(struct ex_ctx *ctx, int argc, char **argv, const struct ex_options *opts)
{
  struct option longopts[EX_MAX_LONGOPTS];
  char shortopts[64];
  size_t n = 0, i;
  int opt, len;

  for (i = 0; opts->longopts[i].name != NULL; i++) {
    LWIP_ASSERT("EX_MAX_LONGOPTS holds the program's options", n < EX_MAX_LONGOPTS);
    longopts[n++] = opts->longopts[i];
  }
  for (i = 0; i < sizeof(ex_common_longopts) / sizeof(ex_common_longopts[0]); i++) {
    LWIP_ASSERT("EX_MAX_LONGOPTS holds the common options", n < EX_MAX_LONGOPTS);
    longopts[n++] = ex_common_longopts[i];
  }
  len = snprintf(shortopts, sizeof(shortopts), ":%s" EX_COMMON_SHORTOPTS, opts->shortopts);
  LWIP_ASSERT("short options fit", len > 0 && (size_t)len < sizeof(shortopts));
  while ((opt = ex_getopt(ctx, argc, argv, shortopts, longopts)) != -1) {
    if (opt == 'h') {
      opts->usage(stdout);
      exit(EX_EXIT_OK);
    }
    if (!ex_common_option(ctx, opt, optarg)) {
      opts->option(ctx, opt, optarg);
    }
  }
  if (optind < argc) {
    ex_usage_error(ctx, "unexpected argument '%s'", ex_shown(argv[optind]));
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
        LWVSOCK_DEVSPEC_HELP
        "Numbers (ports, CIDs, counts) are decimal, also with leading zeros; 0x for hex.\n"
        "On SIGINT/SIGTERM the program prints the device's and the open connections'\n"
        "counters and exits. Exit status: 0 ok, 1 runtime error, 2 usage error.\n", f);
}
