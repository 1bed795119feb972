# SPDX-License-Identifier: BSD-3-Clause
# Filelists.mk: the files of lwvsock to add to an existing lwIP build, in the
# style of lwIP's own src/Filelists.mk. Set LWVSOCKDIR to the top of the
# lwvsock tree, then include this file:
#
#   LWVSOCKDIR = path/to/lwvsock
#   include $(LWVSOCKDIR)/Filelists.mk
#   SRCS += $(LWVSOCKFILES) $(LWVSOCKALTCPFILES)
#   CFLAGS += $(LWVSOCKINCLUDES)
#
# The lwIP build supplies lwipopts.h and arch/cc.h as usual. lwipopts.h must set
# NO_SYS 1, LWIP_ALTCP 1 (for LWVSOCKALTCPFILES), LWIP_SUPPORT_CUSTOM_PBUF 1,
# LWIP_TCP 1 and LWIP_IPV4 1; the sources stop with an #error naming the option
# otherwise. lwvsock's own options (lwvsock/lwvsock_opts.h) go there as well.
# The application supplies sys_now() (lwIP's NO_SYS contract) and a backend
# (lwvsock/port/backend.h) that reaches its device.

# LWVSOCKFILES: the driver (virtqueues, connections, credit): no OS calls.
LWVSOCKFILES=$(LWVSOCKDIR)/src/vsock_hdr.c \
	$(LWVSOCKDIR)/src/virtq.c \
	$(LWVSOCKDIR)/src/devbase.c \
	$(LWVSOCKDIR)/src/device.c \
	$(LWVSOCKDIR)/src/rxbuf.c \
	$(LWVSOCKDIR)/src/txbuf.c \
	$(LWVSOCKDIR)/src/pcb.c \
	$(LWVSOCKDIR)/src/strerror.c \
	$(LWVSOCKDIR)/src/log.c \
	$(LWVSOCKDIR)/src/pcap.c

# LWVSOCKTRANSPORTFILES: the generic virtio transports over a platform's bus
# (lwvsock/port/bus.h): virtio-pci modern and virtio-mmio. No OS calls.
LWVSOCKTRANSPORTFILES=$(LWVSOCKDIR)/src/virtio_pci.c \
	$(LWVSOCKDIR)/src/virtio_mmio.c

# LWVSOCKNETIFFILES: the lwIP Ethernet netif over a vsock stream
# (lwvsock/netif_vsock.h); needs LWIP_ETHERNET, LWIP_ARP (and LWIP_UDP,
# LWIP_DHCP for DHCP) in lwipopts.h.
LWVSOCKNETIFFILES=$(LWVSOCKDIR)/src/netif_vsock.c

# LWVSOCKALTCPFILES: the altcp provider (lwvsock/altcp_vsock.h).
LWVSOCKALTCPFILES=$(LWVSOCKDIR)/src/altcp_vsock.c

# LWVSOCKSIMFILES: the simulated host device (lwvsock/sim.h) and the device-spec
# parser (lwvsock/devspec.h: "sim"), for tests on a host build; they use the C
# library (malloc, snprintf).
LWVSOCKSIMFILES=$(LWVSOCKDIR)/port/unix/devspec.c \
	$(LWVSOCKDIR)/port/unix/sim/sim.c \
	$(LWVSOCKDIR)/port/unix/sim/sim_vring.c \
	$(LWVSOCKDIR)/port/unix/sim/sim_iommu.c \
	$(LWVSOCKDIR)/port/unix/sim/sim_bq.c \
	$(LWVSOCKDIR)/port/unix/sim/sim_conn.c

# LWVSOCKINCLUDES: the include path the files above need.
LWVSOCKINCLUDES=-I$(LWVSOCKDIR)/include -I$(LWVSOCKDIR)/src
