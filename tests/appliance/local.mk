# SPDX-License-Identifier: BSD-3-Clause
# tests/appliance/local.mk: the appliance image booted on q35 and microvm in a
# nested QEMU inside the test VM, checked from the VM's AF_VSOCK (skipped
# without QEMU, or with LWVSOCK_SKIP_VM_TESTS=1). `make check` builds the image.
if HAVE_APPLIANCE
check_DATA = $(APPLIANCE_ELF) $(APPLIANCE_NETIF_ELF)
TESTS += tests/appliance/run.sh
# One test VM at a time: the nested QEMUs under TCG starve when another VM
# suite runs beside them on a small machine (make -j check).
if HAVE_LINUX
tests/appliance/run.log: tests/interop/run.log
if ENABLE_EXAMPLES
tests/appliance/run.log: examples/test-vm.log
endif
endif
endif
EXTRA_DIST += tests/appliance/run.sh tests/appliance/cases.sh tests/appliance/appliance_peer.py
