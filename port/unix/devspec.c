/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Device specs ("sim", "sim:cid=N", "vhost-vsock:cid=N", ...): parsed here and
 * nowhere else, so every program accepts the same syntax and reports a bad
 * spec with the same sentence. See lwvsock/devspec.h for the grammar.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lwvsock/port/bus.h"
#include "lwvsock/devspec.h"
#include "lwvsock/sim.h"
#ifdef LWVSOCK_HAVE_VHOST_VSOCK
#include "lwvsock/vhost_vsock.h"
#endif
#ifdef LWVSOCK_HAVE_PCI_LINUX
#include "lwvsock/pci_linux.h"
#endif

/** Longest spec we look at (a vhost-user socket path fits easily). */
#define DEVSPEC_MAX 256

/** Parse a decimal guest CID in [3, 0xfffffffe]; false when it is not one. */
static bool
devspec_cid(const char *s, uint32_t *cid)
{
  uint64_t v = 0;

  if (*s == '\0') {
    return false;
  }
  for (; *s != '\0'; s++) {
    if (*s < '0' || *s > '9') {
      return false;
    }
    v = v * 10u + (uint64_t)(*s - '0');
    if (v > 0xffffffffu) {
      return false;
    }
  }
  if (v <= 2u || v == 0xffffffffu) {
    return false;
  }
  *cid = (uint32_t)v;
  return true;
}

/**
 * Parse the options "key=value[,key=value...]" after the colon. Only cid= is
 * known. *has_cid says whether one was given.
 */
static int
devspec_opts(const char *spec, char *opts, uint32_t *cid, bool *has_cid, char *err, size_t errlen)
{
  char *save = NULL;
  char *kv;

  *has_cid = false;
  for (kv = strtok_r(opts, ",", &save); kv != NULL; kv = strtok_r(NULL, ",", &save)) {
    char *eq = strchr(kv, '=');
    if (eq == NULL || strncmp(kv, "cid", (size_t)(eq - kv)) != 0 || eq - kv != 3) {
      return lwvsock_bus_fail(err, errlen, -EINVAL,
                              "device spec '%s': unknown option '%s' (the only option is cid=N)", spec, kv);
    }
    if (*has_cid) {
      return lwvsock_bus_fail(err, errlen, -EINVAL, "device spec '%s': cid= is given twice", spec);
    }
    if (!devspec_cid(eq + 1, cid)) {
      return lwvsock_bus_fail(err, errlen, -EINVAL,
                              "device spec '%s': cid '%s' is not a guest CID (a decimal number from 3 to "
                              "4294967294; 0, 1, 2 and 4294967295 are reserved)", spec, eq + 1);
    }
    *has_cid = true;
  }
  return 0;
}

static int
devspec_sim(const char *spec, char *opts, struct lwvsock_backend **bep, char *err, size_t errlen)
{
  struct lwvsock_sim_config cfg;
  struct lwvsock_sim *sim;
  uint32_t cid;
  bool has_cid;
  int rc;

  lwvsock_sim_config_init(&cfg);
  if (opts != NULL) {
    rc = devspec_opts(spec, opts, &cid, &has_cid, err, errlen);
    if (rc != 0) {
      return rc;
    }
    if (has_cid) {
      cfg.guest_cid = cid;
    }
  }
  rc = lwvsock_sim_new(&cfg, &sim);
  if (rc != 0) {
    return lwvsock_bus_fail(err, errlen, rc, "device spec '%s': cannot create the simulated device: %s",
                            spec, strerror(-rc));
  }
  *bep = lwvsock_sim_backend(sim);
  return 0;
}

#if defined(LWVSOCK_HAVE_VHOST_VSOCK) || defined(LWVSOCK_HAVE_PCI_LINUX)
/** A backend's open result: 0, or its sentence (why) quoted with the spec. */
static int
devspec_opened(const char *spec, int rc, const char *why, char *err, size_t errlen)
{
  if (rc == 0) {
    return 0;
  }
  return lwvsock_bus_fail(err, errlen, rc, "device spec '%s': %s", spec, why[0] ? why : strerror(-rc));
}
#endif

static int
devspec_vhost_vsock(const char *spec, char *opts, struct lwvsock_backend **bep, char *err, size_t errlen)
{
  uint32_t cid = 0;
  bool has_cid = false;
  int rc;

  if (opts != NULL) {
    rc = devspec_opts(spec, opts, &cid, &has_cid, err, errlen);
    if (rc != 0) {
      return rc;
    }
  }
  if (!has_cid) {
    return lwvsock_bus_fail(err, errlen, -EINVAL,
                            "device spec '%s': vhost-vsock needs the guest CID to register: "
                            "vhost-vsock:cid=N (N >= 3)", spec);
  }
#ifdef LWVSOCK_HAVE_VHOST_VSOCK
  {
    char why[384];
    why[0] = '\0';
    rc = lwvsock_vhost_vsock_open(cid, bep, why, sizeof(why));
    return devspec_opened(spec, rc, why, err, errlen);
  }
#else
  (void)bep;
  return lwvsock_bus_fail(err, errlen, -ENOTSUP,
                          "device spec '%s': this build of lwvsock has no vhost-vsock backend "
                          "(it needs Linux; configure found none)", spec);
#endif
}

static int
devspec_pci(const char *spec, const char *arg, struct lwvsock_backend **bep, char *err, size_t errlen)
{
  if (arg == NULL || *arg == '\0') {
    return lwvsock_bus_fail(err, errlen, -EINVAL, "device spec '%s': pci needs the function's address: pci:BDF "
                            "(e.g. pci:0000:00:03.0)", spec);
  }
#ifdef LWVSOCK_HAVE_PCI_LINUX
  {
    char why[384];
    why[0] = '\0';
    return devspec_opened(spec, lwvsock_pci_linux_open(arg, bep, why, sizeof(why)), why, err, errlen);
  }
#else
  (void)bep;
  return lwvsock_bus_fail(err, errlen, -ENOTSUP,
                          "device spec '%s': this build of lwvsock has no PCI access (it needs Linux)", spec);
#endif
}

/** A reserved device type: check that it has an argument, then say it is not there yet. */
static int
devspec_reserved(const char *spec, const char *type, const char *arg, const char *what,
                 char *err, size_t errlen)
{
  if (arg == NULL || *arg == '\0') {
    return lwvsock_bus_fail(err, errlen, -EINVAL, "device spec '%s': %s needs %s: %s:%s",
                            spec, type, what, type, what);
  }
  return lwvsock_bus_fail(err, errlen, -ENOTSUP,
                          "device spec '%s': the %s backend is not supported yet; use sim or vhost-vsock:cid=N",
                          spec, type);
}

int
lwvsock_devspec_open(const char *spec, struct lwvsock_backend **bep, char *err, size_t errlen)
{
  char buf[DEVSPEC_MAX];
  char *colon, *arg;
  size_t len;

  if (err != NULL && errlen > 0) {
    err[0] = '\0';
  }
  if (bep == NULL) {
    return lwvsock_bus_fail(err, errlen, -EINVAL, "lwvsock_devspec_open: bep is NULL");
  }
  *bep = NULL;
  if (spec == NULL || *spec == '\0') {
    spec = LWVSOCK_DEVSPEC_DEFAULT;
  }
  len = strlen(spec);
  if (len >= sizeof(buf)) {
    return lwvsock_bus_fail(err, errlen, -EINVAL, "device spec '%.40s...' is longer than %u characters",
                            spec, (unsigned)(sizeof(buf) - 1));
  }
  memcpy(buf, spec, len + 1);
  colon = strchr(buf, ':');
  arg = NULL;
  if (colon != NULL) {
    *colon = '\0';
    arg = colon + 1;
  }

  if (strcmp(buf, "sim") == 0) {
    return devspec_sim(spec, arg, bep, err, errlen);
  }
  if (strcmp(buf, "vhost-vsock") == 0) {
    return devspec_vhost_vsock(spec, arg, bep, err, errlen);
  }
  if (strcmp(buf, "pci") == 0) {
    return devspec_pci(spec, arg, bep, err, errlen);
  }
  if (strcmp(buf, "vhost-user") == 0) {
    return devspec_reserved(spec, "vhost-user", arg, "PATH", err, errlen);
  }
  if (strcmp(buf, "vfio") == 0) {
    return devspec_reserved(spec, "vfio", arg, "BDF", err, errlen);
  }
  if (strcmp(buf, "mmio") == 0) {
    return devspec_reserved(spec, "mmio", arg, "ADDR", err, errlen);
  }
  return lwvsock_bus_fail(err, errlen, -EINVAL,
                          "device spec '%s': unknown device '%s' (use sim, sim:cid=N, vhost-vsock:cid=N or pci:BDF)",
                          spec, buf);
}
