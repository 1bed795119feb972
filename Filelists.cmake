# SPDX-License-Identifier: BSD-3-Clause
# Filelists.cmake: the files of lwvsock to add to an existing lwIP build, in
# the style of lwIP's own src/Filelists.cmake. Set LWVSOCK_DIR to the top of
# the lwvsock tree, then include this file:
#
#   set(LWVSOCK_DIR path/to/lwvsock)
#   include(${LWVSOCK_DIR}/Filelists.cmake)
#   target_sources(app PRIVATE ${lwvsock_SRCS} ${lwvsockaltcp_SRCS})
#   target_include_directories(app PRIVATE ${LWVSOCK_INCLUDE_DIRS})
#
# The requirements on lwipopts.h are those listed in Filelists.mk.
# Like lwIP's, this file only sets variables: it is not meant for add_subdirectory().

# lwvsock_SRCS: the driver (virtqueues, connections, credit): no OS calls.
set(lwvsock_SRCS
    ${LWVSOCK_DIR}/src/vsock_hdr.c
    ${LWVSOCK_DIR}/src/virtq.c
    ${LWVSOCK_DIR}/src/devbase.c
    ${LWVSOCK_DIR}/src/device.c
    ${LWVSOCK_DIR}/src/rxbuf.c
    ${LWVSOCK_DIR}/src/txbuf.c
    ${LWVSOCK_DIR}/src/pcb.c
    ${LWVSOCK_DIR}/src/strerror.c
    ${LWVSOCK_DIR}/src/log.c
    ${LWVSOCK_DIR}/src/pcap.c
)

# lwvsocktransport_SRCS: the generic virtio transports over a platform's bus
# (lwvsock/port/bus.h): virtio-pci modern and virtio-mmio. No OS calls.
set(lwvsocktransport_SRCS
    ${LWVSOCK_DIR}/src/virtio_pci.c
    ${LWVSOCK_DIR}/src/virtio_mmio.c
)

# lwvsocknetif_SRCS: the lwIP Ethernet netif over a vsock stream
# (lwvsock/netif_vsock.h); needs LWIP_ETHERNET and LWIP_ARP (LWIP_UDP and
# LWIP_DHCP for DHCP).
set(lwvsocknetif_SRCS
    ${LWVSOCK_DIR}/src/netif_vsock.c
)

# lwvsockaltcp_SRCS: the altcp provider (lwvsock/altcp_vsock.h).
set(lwvsockaltcp_SRCS
    ${LWVSOCK_DIR}/src/altcp_vsock.c
)

# lwvsocksim_SRCS: the simulated host device (lwvsock/sim.h) and the device-spec
# parser (lwvsock/devspec.h: "sim"), for tests on a host build; they use the C
# library (malloc, snprintf).
set(lwvsocksim_SRCS
    ${LWVSOCK_DIR}/port/unix/devspec.c
    ${LWVSOCK_DIR}/port/unix/sim/sim.c
    ${LWVSOCK_DIR}/port/unix/sim/sim_vring.c
    ${LWVSOCK_DIR}/port/unix/sim/sim_iommu.c
    ${LWVSOCK_DIR}/port/unix/sim/sim_bq.c
    ${LWVSOCK_DIR}/port/unix/sim/sim_conn.c
)

# LWVSOCK_INCLUDE_DIRS: the include path the files above need.
set(LWVSOCK_INCLUDE_DIRS
    ${LWVSOCK_DIR}/include
    ${LWVSOCK_DIR}/src
)
