# SPDX-License-Identifier: BSD-3-Clause
# port/baremetal-x86/local.mk: the appliance, a bare-metal x86 image that QEMU
# boots with -kernel (`make appliance`; not part of `all`).
#
# It is the proof that lwvsock embeds in a foreign lwIP build: everything is
# compiled here with the image's own flags and lwipopts.h
# (port/baremetal-x86/include), against gcc's freestanding headers and the
# image's few libc functions only (-nostdinc, -nostdlib; libgcc for 64-bit
# division). A firmware author adds the same lwvsock files to their build:
APPLIANCE_LWVSOCK_SRCS = \
	src/devbase.c src/device.c src/pcb.c src/rxbuf.c src/txbuf.c src/virtq.c src/vsock_hdr.c \
	src/strerror.c src/log.c src/virtio_mmio.c src/virtio_pci.c
# ... the lwIP core files lwvsock uses (no IP, TCP or netif traffic):
APPLIANCE_LWIP_SRCS = \
	core/init.c core/def.c core/mem.c core/memp.c core/pbuf.c core/timeouts.c \
	core/stats.c core/netif.c
# ... the platform (entry, console, clock, devices, allocator, libc) ...
APPLIANCE_PORT_ASM = port/baremetal-x86/entry.S
APPLIANCE_PORT_SRCS = \
	port/baremetal-x86/serial.c port/baremetal-x86/clock.c \
	port/baremetal-x86/platform.c port/baremetal-x86/heap.c port/baremetal-x86/libc.c \
	port/baremetal-x86/mmio.c port/baremetal-x86/pci.c
# ... and the program, with the servers the hosted examples use.
APPLIANCE_APP_SRCS = \
	examples/appliance.c examples/conn.c examples/http_server.c examples/echo_server.c
APPLIANCE_HDRS = \
	port/baremetal-x86/bm.h port/baremetal-x86/include/lwipopts.h \
	port/baremetal-x86/include/arch/cc.h port/baremetal-x86/include/errno.h \
	port/baremetal-x86/include/limits.h port/baremetal-x86/include/stdio.h \
	port/baremetal-x86/include/stdlib.h \
	port/baremetal-x86/include/string.h port/baremetal-x86/include/strings.h
# Everything the objects include from this tree (no dependency files: a rebuild
# after any header change is cheap).
APPLIANCE_DEPS = $(APPLIANCE_HDRS) include/lwvsock/lwvsock_export.h \
	src/lwvsock_priv.h src/virtio_defs.h src/virtq.h src/vsock_hdr.h \
	src/core.h src/device.h src/pcb.h src/rxbuf.h src/txbuf.h \
	include/lwvsock/port/backend.h include/lwvsock/port/bus.h include/lwvsock/lwvsock.h \
	include/lwvsock/lwvsock_opts.h include/lwvsock/vsock.h include/lwvsock/port/virtio_mmio.h \
	include/lwvsock/port/virtio_pci.h \
	examples/conn.h examples/echo_server.h examples/http_server.h
APPLIANCE_LDSCRIPT = port/baremetal-x86/link.ld

# The netif image (lwvsock-appliance-netif.elf): the same program and platform
# built with BM_NETIF=1 (lwipopts.h turns on IPv4, TCP, UDP, DHCP and
# Ethernet) plus the vsock netif, lwIP's TCP/IP and the TCP/IP apps.
APPLIANCE_NETIF_SRCS = src/netif_vsock.c examples/netif_apps.c
APPLIANCE_NETIF_LWIP_SRCS = \
	core/ip.c core/inet_chksum.c core/tcp.c core/tcp_in.c core/tcp_out.c core/udp.c \
	core/ipv4/ip4.c core/ipv4/ip4_addr.c core/ipv4/dhcp.c core/ipv4/etharp.c netif/ethernet.c
APPLIANCE_NETIF_DEPS = include/lwvsock/netif_vsock.h include/lwvsock/netif_vsock_opts.h \
	examples/netif_apps.h

APPLIANCE_ELF = examples/lwvsock-appliance.elf
APPLIANCE_OBJDIR = appliance-obj
APPLIANCE_OBJS = \
	$(APPLIANCE_LWVSOCK_SRCS:%.c=$(APPLIANCE_OBJDIR)/%.o) \
	$(APPLIANCE_APP_SRCS:%.c=$(APPLIANCE_OBJDIR)/%.o) \
	$(APPLIANCE_PORT_SRCS:%.c=$(APPLIANCE_OBJDIR)/%.o) \
	$(APPLIANCE_PORT_ASM:%.S=$(APPLIANCE_OBJDIR)/%.o) \
	$(APPLIANCE_LWIP_SRCS:%.c=$(APPLIANCE_OBJDIR)/lwip/%.o)
APPLIANCE_NETIF_ELF = examples/lwvsock-appliance-netif.elf
APPLIANCE_NETIF_OBJDIR = appliance-netif-obj
APPLIANCE_NETIF_OBJS = \
	$(APPLIANCE_LWVSOCK_SRCS:%.c=$(APPLIANCE_NETIF_OBJDIR)/%.o) \
	$(APPLIANCE_APP_SRCS:%.c=$(APPLIANCE_NETIF_OBJDIR)/%.o) \
	$(APPLIANCE_PORT_SRCS:%.c=$(APPLIANCE_NETIF_OBJDIR)/%.o) \
	$(APPLIANCE_PORT_ASM:%.S=$(APPLIANCE_NETIF_OBJDIR)/%.o) \
	$(APPLIANCE_LWIP_SRCS:%.c=$(APPLIANCE_NETIF_OBJDIR)/lwip/%.o) \
	$(APPLIANCE_NETIF_SRCS:%.c=$(APPLIANCE_NETIF_OBJDIR)/%.o) \
	$(APPLIANCE_NETIF_LWIP_SRCS:%.c=$(APPLIANCE_NETIF_OBJDIR)/lwip/%.o)

# 32-bit protected mode, paging off (entry.S): no SSE/x87 state is set up, so none is used.
APPLIANCE_CC = $(CC) -m32
APPLIANCE_CFLAGS = -std=gnu11 -O2 -g -march=i686 -ffreestanding -fno-pic -fno-pie \
	-fno-stack-protector -fno-asynchronous-unwind-tables -mno-sse -mno-mmx -mno-80387 \
	-ffunction-sections -fdata-sections \
	$(WARN_CFLAGS)
# lwIP 2.1.3 with TCP and UDP off: netif.c leaves its address-change hook
# unused, timeouts.c loops over an empty cyclic-timer table.
APPLIANCE_LWIP_CFLAGS = -Wno-unused-parameter -Wno-type-limits
APPLIANCE_CPPFLAGS = -nostdinc -I$(top_srcdir)/port/baremetal-x86/include \
	-I$(top_srcdir)/port/baremetal-x86 -I$(top_srcdir)/include -I$(top_srcdir)/src \
	-I$(top_srcdir)/examples -I$(LWIP_DIR)/src/include
APPLIANCE_COMPILE = $(APPLIANCE_CC) -isystem "`$(APPLIANCE_CC) -print-file-name=include`" \
	$(APPLIANCE_CPPFLAGS) $(APPLIANCE_CFLAGS)

if HAVE_APPLIANCE
appliance: $(APPLIANCE_ELF) $(APPLIANCE_NETIF_ELF)
else
appliance:
	@echo "make appliance: $(CC) cannot build a 32-bit freestanding x86 image here (x86 only;" \
	  "Debian: apt-get install gcc-multilib, then re-run configure)" >&2; exit 1
endif
.PHONY: appliance

APPLIANCE_LINK = $(APPLIANCE_CC) -nostdlib -static -no-pie -Wl,--build-id=none -Wl,--gc-sections \
	-T $(top_srcdir)/$(APPLIANCE_LDSCRIPT)
$(APPLIANCE_ELF): $(APPLIANCE_OBJS) $(top_srcdir)/$(APPLIANCE_LDSCRIPT)
	@$(MKDIR_P) $(@D)
	$(AM_V_CCLD)$(APPLIANCE_LINK) -o $@ $(APPLIANCE_OBJS) -lgcc
	@size $@ 2>/dev/null || :
$(APPLIANCE_NETIF_ELF): $(APPLIANCE_NETIF_OBJS) $(top_srcdir)/$(APPLIANCE_LDSCRIPT)
	@$(MKDIR_P) $(@D)
	$(AM_V_CCLD)$(APPLIANCE_LINK) -o $@ $(APPLIANCE_NETIF_OBJS) -lgcc
	@size $@ 2>/dev/null || :

$(APPLIANCE_OBJDIR)/lwip/%.o: $(LWIP_DIR)/src/%.c $(APPLIANCE_DEPS:%=$(top_srcdir)/%)
	@$(MKDIR_P) $(@D)
	$(AM_V_CC)$(APPLIANCE_COMPILE) $(APPLIANCE_LWIP_CFLAGS) -c -o $@ $<
$(APPLIANCE_OBJDIR)/%.o: $(top_srcdir)/%.c $(APPLIANCE_DEPS:%=$(top_srcdir)/%)
	@$(MKDIR_P) $(@D)
	$(AM_V_CC)$(APPLIANCE_COMPILE) -c -o $@ $<
$(APPLIANCE_OBJDIR)/%.o: $(top_srcdir)/%.S
	@$(MKDIR_P) $(@D)
	$(AM_V_CC)$(APPLIANCE_COMPILE) -c -o $@ $<
# the netif image's objects: the same rules with BM_NETIF=1
APPLIANCE_NETIF_COMPILE = $(APPLIANCE_COMPILE) -DBM_NETIF=1
APPLIANCE_NETIF_ALLDEPS = $(APPLIANCE_DEPS:%=$(top_srcdir)/%) $(APPLIANCE_NETIF_DEPS:%=$(top_srcdir)/%)
$(APPLIANCE_NETIF_OBJDIR)/lwip/%.o: $(LWIP_DIR)/src/%.c $(APPLIANCE_NETIF_ALLDEPS)
	@$(MKDIR_P) $(@D)
	$(AM_V_CC)$(APPLIANCE_NETIF_COMPILE) $(APPLIANCE_LWIP_CFLAGS) -c -o $@ $<
$(APPLIANCE_NETIF_OBJDIR)/%.o: $(top_srcdir)/%.c $(APPLIANCE_NETIF_ALLDEPS)
	@$(MKDIR_P) $(@D)
	$(AM_V_CC)$(APPLIANCE_NETIF_COMPILE) -c -o $@ $<
$(APPLIANCE_NETIF_OBJDIR)/%.o: $(top_srcdir)/%.S
	@$(MKDIR_P) $(@D)
	$(AM_V_CC)$(APPLIANCE_NETIF_COMPILE) -c -o $@ $<

clean-local: clean-appliance
clean-appliance:
	rm -rf $(APPLIANCE_OBJDIR) $(APPLIANCE_ELF) $(APPLIANCE_NETIF_OBJDIR) $(APPLIANCE_NETIF_ELF)
.PHONY: clean-appliance

EXTRA_DIST += $(APPLIANCE_PORT_ASM) $(APPLIANCE_PORT_SRCS) $(APPLIANCE_HDRS) $(APPLIANCE_LDSCRIPT) examples/appliance.c \
	examples/netif_apps.c examples/netif_apps.h
