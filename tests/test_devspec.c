/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Unit tests of the device-spec parser (port/unix/devspec.c): good specs open the
 * right backend, bad ones fail with an errno and a sentence that quotes them.
 *
 * Never touches vhost or PCI: setup() removes LWVSOCK_ALLOW_VHOST_VSOCK and
 * LWVSOCK_ALLOW_PCI from the environment, so every vhost-vsock and pci spec
 * stops at the interlock (or earlier) before any device file could be opened.
 */
#include "lwvsock_check.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lwvsock/devspec.h"
#include "lwvsock/port/backend.h"
#include "lwvsock/sim.h"
#include "virtio_defs.h"
#ifdef LWVSOCK_HAVE_VHOST_VSOCK
#include "lwvsock/vhost_vsock.h"
#endif

#define ALLOW_ENV "LWVSOCK_ALLOW_VHOST_VSOCK"
#define PCI_ALLOW_ENV "LWVSOCK_ALLOW_PCI"

static char err[512];

static void
setup(void)
{
  unsetenv(ALLOW_ENV);
  unsetenv(PCI_ALLOW_ENV);
  memset(err, 0, sizeof(err));
}

static void
teardown(void)
{
  lwvsock_check_ensure_no_alloc(0);
}

/** Open @p spec, expect a sim with guest CID @p cid, and destroy it. */
static void
expect_sim(const char *spec, uint32_t cid)
{
  struct lwvsock_backend *be = NULL;
  uint8_t cfg[8];
  int rc;

  rc = lwvsock_devspec_open(spec, &be, err, sizeof(err));
  ck_assert_msg(rc == 0, "spec '%s': rc %d, err '%s'", spec ? spec : "(null)", rc, err);
  ck_assert_ptr_nonnull(be);
  ck_assert_ptr_nonnull(lwvsock_sim_from_backend(be));
  ck_assert_str_eq(be->ops->name, "sim");
  ck_assert_int_eq(be->ops->read_config(be, VIRTIO_VSOCK_CFG_GUEST_CID, cfg, sizeof(cfg)), 0);
  ck_assert_uint_eq(le64_load(cfg), cid);
  be->ops->destroy(be);
}

/** Open @p spec, expect -@p errnum, no backend, and an error that quotes the spec and has @p needle. */
static void
expect_error(const char *spec, int errnum, const char *needle)
{
  struct lwvsock_backend *be = (struct lwvsock_backend *)&be; /* must be cleared */
  char quoted[300];
  int rc;

  memset(err, 0, sizeof(err));
  rc = lwvsock_devspec_open(spec, &be, err, sizeof(err));
  ck_assert_msg(rc == -errnum, "spec '%s': rc %d, want %d (err '%s')", spec, rc, -errnum, err);
  ck_assert_ptr_null(be);
  snprintf(quoted, sizeof(quoted), "'%s'", spec);
  ck_assert_msg(strstr(err, quoted) != NULL, "spec '%s': error does not quote it: '%s'", spec, err);
  ck_assert_msg(strstr(err, needle) != NULL, "spec '%s': error lacks '%s': '%s'", spec, needle, err);
}

START_TEST(test_sim_default)
{
  expect_sim(NULL, 3);
  expect_sim("", 3);
  expect_sim("sim", 3);
}
END_TEST

START_TEST(test_sim_cid)
{
  expect_sim("sim:cid=7", 7);
  expect_sim("sim:cid=4294967294", 0xfffffffeu);
  expect_sim("sim:cid=3", 3);
}
END_TEST

START_TEST(test_unknown_device)
{
  expect_error("bogus", EINVAL, "unknown device 'bogus'");
  expect_error("Sim", EINVAL, "unknown device");
  expect_error(":cid=3", EINVAL, "unknown device");
  expect_error("simx:cid=3", EINVAL, "unknown device 'simx'");
}
END_TEST

START_TEST(test_bad_cid)
{
  static const char *const bad[] = {
    "sim:cid=", "sim:cid=abc", "sim:cid=0", "sim:cid=1", "sim:cid=2", "sim:cid=4294967295",
    "sim:cid=4294967296", "sim:cid=99999999999999999999", "sim:cid=-3", "sim:cid=3x",
    "sim:cid= 3", "sim:cid=0x10", "vhost-vsock:cid=2", "vhost-vsock:cid=", "vhost-vsock:cid=abc"
  };
  size_t i;

  for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
    expect_error(bad[i], EINVAL, "is not a guest CID");
  }
}
END_TEST

START_TEST(test_bad_options)
{
  expect_error("sim:port=3", EINVAL, "unknown option 'port=3'");
  expect_error("sim:cid", EINVAL, "unknown option 'cid'");
  expect_error("sim:cidx=3", EINVAL, "unknown option");
  expect_error("sim:ci=3", EINVAL, "unknown option");
  expect_error("sim:cid=3,cid=4", EINVAL, "given twice");
  expect_error("vhost-vsock", EINVAL, "vhost-vsock:cid=N");
  expect_error("vhost-vsock:", EINVAL, "vhost-vsock:cid=N");
}
END_TEST

START_TEST(test_reserved_types)
{
  expect_error("vhost-user:/run/vsock.sock", ENOTSUP, "not supported yet");
  expect_error("vfio:0000:00:04.0", ENOTSUP, "not supported yet");
  expect_error("mmio:0xfeb00000", ENOTSUP, "not supported yet");
  expect_error("vhost-user", EINVAL, "vhost-user:PATH");
  expect_error("vfio:", EINVAL, "vfio:BDF");
  expect_error("mmio", EINVAL, "mmio:ADDR");
}
END_TEST

#ifdef LWVSOCK_HAVE_PCI_LINUX
/* Every case stops before any device file is opened: syntax, then the interlock. */
START_TEST(test_pci_refused)
{
  unsetenv(PCI_ALLOW_ENV);
  expect_error("pci", EINVAL, "pci:BDF");
  expect_error("pci:", EINVAL, "pci:BDF");
  expect_error("pci:zz:03.0", EINVAL, "not a PCI address");
  expect_error("pci:0000:00:20.0", EINVAL, "not a PCI address");   /* device > 1f */
  expect_error("pci:0000:00:03.8", EINVAL, "not a PCI address");   /* function > 7 */
  expect_error("pci:0000:00:03.0x", EINVAL, "not a PCI address");
  expect_error("pci:0000:00:03.0", EPERM, PCI_ALLOW_ENV "=1");
  expect_error("pci:00:03.0", EPERM, "function 0000:00:03.0");
  setenv(PCI_ALLOW_ENV, "yes", 1);
  expect_error("pci:00:03.0", EPERM, PCI_ALLOW_ENV "=1");
  unsetenv(PCI_ALLOW_ENV);
}
END_TEST
#endif

START_TEST(test_too_long)
{
  char spec[1024];
  struct lwvsock_backend *be = NULL;

  memset(spec, 'a', sizeof(spec) - 1);
  spec[sizeof(spec) - 1] = '\0';
  ck_assert_int_eq(lwvsock_devspec_open(spec, &be, err, sizeof(err)), -EINVAL);
  ck_assert_ptr_null(be);
  ck_assert_ptr_nonnull(strstr(err, "longer than"));
}
END_TEST

START_TEST(test_null_and_short_err)
{
  struct lwvsock_backend *be = NULL;
  char tiny[8];

  ck_assert_int_eq(lwvsock_devspec_open("sim", NULL, err, sizeof(err)), -EINVAL);
  /* no error buffer at all, and a truncating one: still a clean failure */
  ck_assert_int_eq(lwvsock_devspec_open("bogus", &be, NULL, 0), -EINVAL);
  ck_assert_int_eq(lwvsock_devspec_open("bogus", &be, tiny, sizeof(tiny)), -EINVAL);
  ck_assert_uint_eq(strlen(tiny), sizeof(tiny) - 1);
  ck_assert_ptr_null(be);
}
END_TEST

#ifdef LWVSOCK_HAVE_VHOST_VSOCK
START_TEST(test_vhost_interlock)
{
  struct lwvsock_backend *be = NULL;

  /* refused without the interlock: the message names the variable and the spec */
  expect_error("vhost-vsock:cid=3", EPERM, ALLOW_ENV "=1");
  expect_error("vhost-vsock:cid=1000", EPERM, "refusing to open /dev/vhost-vsock");
  /* only exactly "1" counts */
  ck_assert_int_eq(setenv(ALLOW_ENV, "yes", 1), 0);
  expect_error("vhost-vsock:cid=3", EPERM, ALLOW_ENV);
  ck_assert_int_eq(setenv(ALLOW_ENV, "", 1), 0);
  ck_assert_int_eq(lwvsock_vhost_vsock_open(3, &be, err, sizeof(err)), -EPERM);
  unsetenv(ALLOW_ENV);
  ck_assert_ptr_null(be);
}
END_TEST

/* LWVSOCK_DEVSPEC_ERR_SIZE holds the longest message (the interlock's) whole;
 * the 160 bytes the README once used cut it off. */
START_TEST(test_vhost_err_size)
{
  char buf[LWVSOCK_DEVSPEC_ERR_SIZE];
  struct lwvsock_backend *be = NULL;

  ck_assert_int_eq(lwvsock_devspec_open("vhost-vsock:cid=4294967294", &be, buf, sizeof(buf)), -EPERM);
  ck_assert_ptr_null(be);
  ck_assert_uint_gt(strlen(buf), 160);
  ck_assert_uint_lt(strlen(buf), sizeof(buf) - 64);
  ck_assert_ptr_nonnull(strstr(buf, ALLOW_ENV "=1"));
}
END_TEST

START_TEST(test_vhost_reserved_cid)
{
  static const uint32_t reserved[] = { 0, 1, 2, 0xffffffffu };
  struct lwvsock_backend *be = NULL;
  size_t i;

  for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++) {
    ck_assert_int_eq(lwvsock_vhost_vsock_open(reserved[i], &be, err, sizeof(err)), -EINVAL);
    ck_assert_ptr_null(be);
    ck_assert_ptr_nonnull(strstr(err, "reserved"));
  }
  ck_assert_int_eq(lwvsock_vhost_vsock_open(3, NULL, err, sizeof(err)), -EINVAL);
}
END_TEST
#endif

Suite *
lwvsock_test_suite(void)
{
  testfunc tests[] = {
    TESTFUNC(test_sim_default),
    TESTFUNC(test_sim_cid),
    TESTFUNC(test_unknown_device),
    TESTFUNC(test_bad_cid),
    TESTFUNC(test_bad_options),
    TESTFUNC(test_reserved_types),
    TESTFUNC(test_too_long),
#ifdef LWVSOCK_HAVE_PCI_LINUX
    TESTFUNC(test_pci_refused),
#endif
    TESTFUNC(test_null_and_short_err),
#ifdef LWVSOCK_HAVE_VHOST_VSOCK
    TESTFUNC(test_vhost_interlock),
    TESTFUNC(test_vhost_err_size),
    TESTFUNC(test_vhost_reserved_cid),
#endif
  };
  return create_suite("devspec", tests, sizeof(tests) / sizeof(tests[0]), setup, teardown);
}
