/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The lwIP configuration of the test suites, the benchmarks and the fuzz
 * targets: the hosted one (port/unix/lwipopts/lwipopts.h) with room for what they
 * do. The load suite opens 1000 connections at once, the benchmark 10000. The
 * test library (libtestlwvsock.la) is built with it; the installed one is not.
 */
#ifndef LWVSOCK_TEST_LWIPOPTS_H
#define LWVSOCK_TEST_LWIPOPTS_H

#include "../../port/unix/lwipopts/lwipopts.h"

#undef MEM_SIZE
#define MEM_SIZE                    (8 * 1024 * 1024)
#undef MEMP_NUM_PBUF
#define MEMP_NUM_PBUF               1024
#undef MEMP_NUM_ALTCP_PCB
#define MEMP_NUM_ALTCP_PCB          10240
#undef MEMP_NUM_LWVSOCK_PCB
#define MEMP_NUM_LWVSOCK_PCB        10240

#endif /* LWVSOCK_TEST_LWIPOPTS_H */
