# SPDX-License-Identifier: BSD-3-Clause
# port/unix/local.mk: the hosted Unix platform (as lwIP contrib's ports/unix):
# lwIP compiled with the hosted lwipopts.h, its arch/cc.h, sys_now() and the
# device-spec parser. The hosted ways to reach a device have their own
# fragments: sim/ (in-process simulated host), vhost-vsock/ and pci-linux/.

# ---- lwIP, compiled from $(LWIP_DIR) with the configured lwipopts.h -------------
# Automake allows no configure substitution in _SOURCES, so each lwIP source is
# reached through a committed one-line wrapper in port/unix/lwip/. liblwvsock.la
# carries this copy of lwIP: applications must not link another liblwip.
# The Ethernet netif (src/netif_vsock.c) needs udp, dhcp, etharp and ethernet.
liblwipcore_la_SOURCES += \
	port/unix/lwip/core_altcp.c \
	port/unix/lwip/core_altcp_alloc.c \
	port/unix/lwip/core_altcp_tcp.c \
	port/unix/lwip/core_def.c \
	port/unix/lwip/core_inet_chksum.c \
	port/unix/lwip/core_init.c \
	port/unix/lwip/core_ip.c \
	port/unix/lwip/core_mem.c \
	port/unix/lwip/core_memp.c \
	port/unix/lwip/core_netif.c \
	port/unix/lwip/core_pbuf.c \
	port/unix/lwip/core_stats.c \
	port/unix/lwip/core_sys.c \
	port/unix/lwip/core_tcp.c \
	port/unix/lwip/core_tcp_in.c \
	port/unix/lwip/core_tcp_out.c \
	port/unix/lwip/core_timeouts.c \
	port/unix/lwip/core_udp.c \
	port/unix/lwip/ipv4_dhcp.c \
	port/unix/lwip/ipv4_etharp.c \
	port/unix/lwip/ipv4_icmp.c \
	port/unix/lwip/ipv4_ip4.c \
	port/unix/lwip/ipv4_ip4_addr.c \
	port/unix/lwip/ipv4_ip4_frag.c \
	port/unix/lwip/netif_ethernet.c
# The test library adds lwIP's http_client for the altcp suite.
libtestlwipcore_la_SOURCES += port/unix/lwip/apps_http_client.c

# The hosted configuration (configure's default --with-lwipopts) and the arch
# header installed with lwIP's headers.
EXTRA_DIST += port/unix/lwipopts/lwipopts.h
lwiparch_HEADERS = port/unix/include/arch/cc.h

# ---- sys_now() from CLOCK_MONOTONIC ---------------------------------------------
# For programs that run on a host: examples and benchmarks add $(UNIX_PORT_SRCS)
# to their _SOURCES. Tests use tests/fake_clock.c.
UNIX_PORT_SRCS = port/unix/sys_arch.c

# ---- the device-spec parser ("sim", "vhost-vsock:cid=N", "pci:BDF") -------------
liblwvsock_la_SOURCES += port/unix/devspec.c
pkginclude_HEADERS += include/lwvsock/devspec.h
