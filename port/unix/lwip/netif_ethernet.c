/* SPDX-License-Identifier: BSD-3-Clause */
/** @file lwIP netif/ethernet.c compiled with lwvsock's lwipopts.h (see Makefile.am). */
#include "netif/ethernet.c"
