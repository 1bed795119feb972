/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * libFuzzer target: the virtio-pci transport's capability parsing and
 * bring-up over the fake PCI bus (tests/fakepci.c). The input is
 *   [capability pointer][knobs][BAR length / 16, le16][config space from 0x40]
 * so capability lists, windows, BAR bounds and queue sizes are arbitrary;
 * a device that comes up is opened and polled a few times, then closed.
 */
#include <string.h>

#include "fakepci.h"
#include "lwvsock/lwvsock.h"
#include "lwvsock/port/virtio_pci.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  struct fakepci *f;
  struct lwvsock_backend *be;
  struct lwvsock_dev *dev = NULL;
  size_t n;
  int i;

  if (size < 4 || (f = fakepci_new(NULL)) == NULL) {
    return 0;
  }
  f->cfg[0x34] = data[0];
  f->num_queues = (uint16_t)(2 + (data[1] & 3));
  f->qmax[((data[1] >> 2) & 3) % 3] = (uint16_t)(1u << (data[1] >> 4)) + (data[1] & 0x80 ? 1 : 0);
  f->barlen = (uint64_t)(data[2] | data[3] << 8) * 16u;
  if (f->barlen > FAKEPCI_BAR_LEN) {
    f->barlen = FAKEPCI_BAR_LEN;
  }
  n = size - 4 < sizeof(f->cfg) - 0x40 ? size - 4 : sizeof(f->cfg) - 0x40;
  memcpy(f->cfg + 0x40, data + 4, n);
  if (lwvsock_virtio_pci_open(&f->bus, &be, NULL, 0) != 0) {
    return 0; /* the transport closed the bus */
  }
  if (lwvsock_dev_open(be, &dev) == ERR_OK) {
    for (i = 0; i < 4; i++) {
      fakepci_poll(f);
      lwvsock_dev_poll(dev, 0);
    }
  }
  lwvsock_dev_close(dev);
  return 0;
}
