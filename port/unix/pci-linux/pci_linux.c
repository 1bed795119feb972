/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Linux userspace PCI bus for the virtio-pci transport (see lwvsock/pci_linux.h).
 *
 * Every check that can refuse runs before the device is touched: interlock,
 * BDF syntax, the function exists, no kernel driver owns it, no IOMMU
 * translates for it, root, free hugepages, a readable pagemap. Then
 * lwvsock_virtio_pci_open() takes over the bus.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lwvsock/port/bus.h"
#include "lwvsock/pci_linux.h"
#include "lwvsock/port/virtio_pci.h"

#define SYSFS_PCI "/sys/bus/pci/devices"
#define PCI_NBARS 6u
/* Room for any sysfs path we build (SYSFS_PCI, a BDF, a file name). */
#define PL_PATH 96
#define PCI_COMMAND 0x04u
#define PCI_COMMAND_MASTER 0x4u
/* Hugepages the device memory takes with 2 MiB pages (rings + ~6 MiB of buffers). */
#define PL_HUGEPAGES_NEEDED 4u
/* dma_alloc hugepages dma_map translates into (more are served, not translated). */
#define PL_DMA_MAX 16u

struct pl_bus {
  struct lwvsock_bus bus; /* first: the transport gets &bus */
  char bdf[16];
  int cfg_fd, pagemap_fd;
  size_t hugepage;
  volatile void *bar_va[PCI_NBARS];
  uint64_t bar_len[PCI_NBARS];
  struct lwvsock_mem dma[PL_DMA_MAX]; /* live dma_alloc hugepages, for dma_map (va NULL: free) */
};

static struct pl_bus *
pl_of(struct lwvsock_bus *bus)
{
  return (struct pl_bus *)(void *)bus;
}

/* ---- bus ops ------------------------------------------------------------------- */

static int
pl_cfg_read(struct lwvsock_bus *bus, uint32_t off, void *buf, uint32_t len)
{
  return pread(pl_of(bus)->cfg_fd, buf, len, off) == (ssize_t)len ? 0 : -EIO;
}

static int
pl_cfg_write(struct lwvsock_bus *bus, uint32_t off, const void *buf, uint32_t len)
{
  return pwrite(pl_of(bus)->cfg_fd, buf, len, off) == (ssize_t)len ? 0 : -EIO;
}

static int
pl_map(struct lwvsock_bus *bus, unsigned index, volatile void **va, uint64_t *len)
{
  struct pl_bus *p = pl_of(bus);
  char path[PL_PATH];
  struct stat st;
  void *m;
  int fd, e;

  if (index >= PCI_NBARS) {
    return -ENOENT;
  }
  if (p->bar_va[index] == NULL) {
    snprintf(path, sizeof(path), SYSFS_PCI "/%s/resource%u", p->bdf, index);
    if ((fd = open(path, O_RDWR | O_SYNC | O_CLOEXEC)) < 0) {
      e = errno;
      snprintf(bus->err, sizeof(bus->err), "%s: %s", path, strerror(e));
      return e == ENOENT ? -ENOENT : -e;
    }
    if (fstat(fd, &st) != 0 || st.st_size <= 0) {
      close(fd);
      snprintf(bus->err, sizeof(bus->err), "%s: an empty BAR", path);
      return -ENOENT;
    }
    m = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    e = errno;
    close(fd);
    if (m == MAP_FAILED) {
      /* sysfs refuses to mmap an I/O port BAR */
      snprintf(bus->err, sizeof(bus->err), "cannot mmap %s: %s", path, strerror(e));
      return -ENOTSUP;
    }
    p->bar_va[index] = m;
    p->bar_len[index] = (uint64_t)st.st_size;
  }
  *va = p->bar_va[index];
  *len = p->bar_len[index];
  return 0;
}

/** Physical address of @p va through /proc/self/pagemap (0 when hidden or absent). */
static uint64_t
pl_phys(struct pl_bus *p, const void *va)
{
  long pg = sysconf(_SC_PAGESIZE);
  uint64_t ent;
  off_t off = (off_t)((uintptr_t)va / (uintptr_t)pg) * 8;

  if (pread(p->pagemap_fd, &ent, sizeof(ent), off) != (ssize_t)sizeof(ent) || !(ent & (1ull << 63))) {
    return 0;
  }
  /* bits 0-54: page frame number; zero when the kernel hides it (not root) */
  return (ent & ((1ull << 55) - 1)) * (uint64_t)pg + (uintptr_t)va % (uintptr_t)pg;
}

static int
pl_dma_alloc(struct lwvsock_bus *bus, size_t size, struct lwvsock_mem *mem)
{
  struct pl_bus *p = pl_of(bus);
  void *va;
  uint64_t pa;
  unsigned i;

  if (size == 0 || size > p->hugepage) {
    snprintf(bus->err, sizeof(bus->err), "a DMA allocation of %zu bytes exceeds one hugepage", size);
    return -EINVAL;
  }
  /* One hugepage per allocation: physically contiguous, never swapped or
   * moved while locked; zeroed by the kernel. */
  va = mmap(NULL, p->hugepage, PROT_READ | PROT_WRITE,
            MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE | MAP_LOCKED, -1, 0);
  if (va == MAP_FAILED) {
    snprintf(bus->err, sizeof(bus->err),
             "no free hugepage (%s): reserve them with echo 8 > /proc/sys/vm/nr_hugepages", strerror(errno));
    return -ENOMEM;
  }
  if ((pa = pl_phys(p, va)) == 0) {
    munmap(va, p->hugepage);
    snprintf(bus->err, sizeof(bus->err), "/proc/self/pagemap gives no physical address (run as root)");
    return -EPERM;
  }
  mem->va = va;
  mem->dma = pa;
  mem->size = size;
  for (i = 0; i < PL_DMA_MAX; i++) {
    if (p->dma[i].va == NULL) {
      p->dma[i] = *mem;
      p->dma[i].size = p->hugepage;
      break;
    }
  }
  return 0;
}

/* Zero-copy tx: only inside our hugepages (physically contiguous, locked). */
static int
pl_dma_map(struct lwvsock_bus *bus, const void *va, size_t len, uint64_t *dma)
{
  const struct pl_bus *p = pl_of(bus);
  uintptr_t a = (uintptr_t)va;
  unsigned i;

  for (i = 0; i < PL_DMA_MAX; i++) {
    uintptr_t base = (uintptr_t)p->dma[i].va;
    if (base != 0 && a >= base && len <= p->dma[i].size && a - base <= p->dma[i].size - len) {
      *dma = p->dma[i].dma + (a - base);
      return 0;
    }
  }
  return -EFAULT;
}

static void
pl_dma_free(struct lwvsock_bus *bus, struct lwvsock_mem *mem)
{
  struct pl_bus *p = pl_of(bus);
  unsigned i;

  if (mem->va != NULL) {
    for (i = 0; i < PL_DMA_MAX; i++) {
      if (p->dma[i].va == mem->va) {
        memset(&p->dma[i], 0, sizeof(p->dma[i]));
      }
    }
    munmap(mem->va, p->hugepage);
  }
  memset(mem, 0, sizeof(*mem));
}

static void
pl_close(struct lwvsock_bus *bus)
{
  struct pl_bus *p = pl_of(bus);
  uint8_t cmd[2];
  unsigned i;

  /* The device was reset; stop its DMA for good and hand it back. */
  if (p->cfg_fd >= 0 && pread(p->cfg_fd, cmd, 2, PCI_COMMAND) == 2) {
    cmd[0] &= (uint8_t)~PCI_COMMAND_MASTER;
    (void)!pwrite(p->cfg_fd, cmd, 2, PCI_COMMAND);
  }
  for (i = 0; i < PCI_NBARS; i++) {
    if (p->bar_va[i] != NULL) {
      munmap((void *)(uintptr_t)p->bar_va[i], (size_t)p->bar_len[i]);
    }
  }
  if (p->cfg_fd >= 0) {
    close(p->cfg_fd);
  }
  if (p->pagemap_fd >= 0) {
    close(p->pagemap_fd);
  }
  free(p);
}

static const struct lwvsock_bus_ops pl_ops = {
  .name = "linux-sysfs",
  .cfg_read = pl_cfg_read,
  .cfg_write = pl_cfg_write,
  .map = pl_map,
  .dma_alloc = pl_dma_alloc,
  .dma_free = pl_dma_free,
  .close = pl_close,
  .dma_map = pl_dma_map,
};

/* ---- open ---------------------------------------------------------------------- */

/** Normalize @p s ("DDDD:BB:DD.F" or "BB:DD.F") into @p out; false when it is not a BDF. */
static bool
pl_parse_bdf(const char *s, char *out, size_t outlen)
{
  static const char pattern[] = "xxxx:xx:xx.x";
  char full[16];
  size_t i, n = strlen(s);

  if (n == sizeof(pattern) - 1 - 5) {
    snprintf(full, sizeof(full), "0000:%s", s);
  } else if (n == sizeof(pattern) - 1) {
    snprintf(full, sizeof(full), "%s", s);
  } else {
    return false;
  }
  for (i = 0; pattern[i] != '\0'; i++) {
    char c = full[i];
    if (pattern[i] == 'x' ? !isxdigit((unsigned char)c) : c != pattern[i]) {
      return false;
    }
    full[i] = (char)tolower((unsigned char)c);
  }
  /* device 0-1f, function 0-7 */
  if (strtoul(full + 8, NULL, 16) > 0x1f || full[11] > '7') {
    return false;
  }
  snprintf(out, outlen, "%s", full);
  return true;
}

/** The name of the driver bound to @p bdf into @p drv ("" when none). */
static void
pl_driver(const char *bdf, char *drv, size_t len)
{
  char path[PL_PATH], link[PATH_MAX];
  ssize_t n;
  const char *slash;

  snprintf(path, sizeof(path), SYSFS_PCI "/%s/driver", bdf);
  drv[0] = '\0';
  if ((n = readlink(path, link, sizeof(link) - 1)) <= 0) {
    return;
  }
  link[n] = '\0';
  slash = strrchr(link, '/');
  snprintf(drv, len, "%.63s", slash ? slash + 1 : link);
}

/** Read the first line of @p path into @p buf; false when it cannot be read. */
static bool
pl_read_line(const char *path, char *buf, size_t len)
{
  FILE *f = fopen(path, "re");
  bool ok;

  if (f == NULL) {
    return false;
  }
  ok = fgets(buf, (int)len, f) != NULL;
  fclose(f);
  buf[strcspn(buf, "\n")] = '\0';
  return ok;
}

/** Hugepage size and free count from /proc/meminfo. */
static void
pl_hugepages(size_t *size, unsigned long *free_pages)
{
  FILE *f = fopen("/proc/meminfo", "re");
  char line[128];
  unsigned long v;

  *size = 0;
  *free_pages = 0;
  if (f == NULL) {
    return;
  }
  while (fgets(line, sizeof(line), f) != NULL) {
    if (sscanf(line, "HugePages_Free: %lu", &v) == 1) {
      *free_pages = v;
    } else if (sscanf(line, "Hugepagesize: %lu kB", &v) == 1) {
      *size = (size_t)v * 1024u;
    }
  }
  fclose(f);
}

/** Every refusal that needs no device access; fills @p drv with the bound driver. */
static int
pl_precheck(const char *bdf, char *drv, size_t drvlen, char *err, size_t errlen)
{
  char path[PL_PATH], type[64];
  struct stat st;

  snprintf(path, sizeof(path), SYSFS_PCI "/%s", bdf);
  if (stat(path, &st) != 0) {
    return lwvsock_bus_fail(err, errlen, -ENODEV, "no PCI function %s (see ls " SYSFS_PCI ")", bdf);
  }
  pl_driver(bdf, drv, drvlen);
  if (strcmp(drv, "vfio-pci") == 0) {
    return lwvsock_bus_fail(err, errlen, -ENOTSUP,
                            "%s is bound to vfio-pci: VFIO is not supported (it needs an IOMMU that CI cannot test); "
                            "hand it over with: echo %s > /sys/bus/pci/drivers/vfio-pci/unbind", bdf, bdf);
  }
  if (strcmp(drv, "uio_pci_generic") == 0) {
    return lwvsock_bus_fail(err, errlen, -ENOTSUP,
                            "%s is bound to uio_pci_generic: interrupts through UIO are not supported yet "
                            "(untested); unbind it and lwvsock polls: echo %s > "
                            "/sys/bus/pci/drivers/uio_pci_generic/unbind", bdf, bdf);
  }
  if (drv[0] != '\0') {
    return lwvsock_bus_fail(err, errlen, -EBUSY,
                            "%s is bound to the kernel driver %s; release it first: "
                            "echo %s > /sys/bus/pci/drivers/%s/unbind",
                            bdf, drv, bdf, drv);
  }
  /* A translating IOMMU would not see our physical addresses. */
  snprintf(path, sizeof(path), SYSFS_PCI "/%s/iommu_group/type", bdf);
  if (pl_read_line(path, type, sizeof(type)) && strcmp(type, "identity") != 0) {
    return lwvsock_bus_fail(err, errlen, -ENOTSUP,
                            "%s sits behind an IOMMU that translates its DMA (domain type %s): physical "
                            "addresses would not reach memory; boot the guest with iommu=pt (VFIO is not "
                            "supported)", bdf, type);
  }
  if (geteuid() != 0) {
    return lwvsock_bus_fail(err, errlen, -EPERM,
                            "taking %s needs root (sysfs resource files, physical addresses from "
                            "/proc/self/pagemap)", bdf);
  }
  return 0;
}

int
lwvsock_pci_linux_open(const char *spec_bdf, struct lwvsock_backend **bep, char *err, size_t errlen)
{
  const char *allow = getenv(LWVSOCK_PCI_ALLOW_ENV);
  char bdf[16], drv[64], path[PL_PATH];
  struct pl_bus *p;
  unsigned long free_pages;
  int r;

  if (err != NULL && errlen > 0) {
    err[0] = '\0';
  }
  if (bep == NULL || spec_bdf == NULL) {
    return lwvsock_bus_fail(err, errlen, -EINVAL, "lwvsock_pci_linux_open: NULL argument");
  }
  *bep = NULL;
  if (!pl_parse_bdf(spec_bdf, bdf, sizeof(bdf))) {
    return lwvsock_bus_fail(err, errlen, -EINVAL, "'%s' is not a PCI address (DDDD:BB:DD.F or BB:DD.F, hexadecimal)",
                            spec_bdf);
  }
  if (allow == NULL || strcmp(allow, "1") != 0) {
    return lwvsock_bus_fail(err, errlen, -EPERM,
                            "refusing to take PCI function %s from the kernel: set " LWVSOCK_PCI_ALLOW_ENV
                            "=1 to allow it (the project's tests do so only inside the nested test VM)", bdf);
  }
  if ((r = pl_precheck(bdf, drv, sizeof(drv), err, errlen)) != 0) {
    return r;
  }
  p = (struct pl_bus *)calloc(1, sizeof(*p));
  if (p == NULL) {
    return lwvsock_bus_fail(err, errlen, -ENOMEM, "out of memory");
  }
  snprintf(p->bdf, sizeof(p->bdf), "%s", bdf);
  p->bus.kind = LWVSOCK_BUS_PCI;
  p->bus.ops = &pl_ops;
  pl_hugepages(&p->hugepage, &free_pages);
  p->bus.seg_max = p->hugepage;
  snprintf(path, sizeof(path), SYSFS_PCI "/%s/config", bdf);
  p->cfg_fd = open(path, O_RDWR | O_CLOEXEC);
  p->pagemap_fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (p->hugepage == 0 || free_pages < PL_HUGEPAGES_NEEDED) {
    r = lwvsock_bus_fail(err, errlen, -ENOMEM,
                         "%lu free hugepages, lwvsock needs %u: reserve them with echo 8 > /proc/sys/vm/nr_hugepages",
                         free_pages, PL_HUGEPAGES_NEEDED);
  } else if (p->cfg_fd < 0 || p->pagemap_fd < 0) {
    r = lwvsock_bus_fail(err, errlen, -EPERM, "cannot open %s: %s", p->cfg_fd < 0 ? path : "/proc/self/pagemap",
                         strerror(errno));
  } else {
    /* the transport owns the bus from here, and closes it on failure */
    return lwvsock_virtio_pci_open(&p->bus, bep, err, errlen);
  }
  pl_close(&p->bus);
  return r;
}
