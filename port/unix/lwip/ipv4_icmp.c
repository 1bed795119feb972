/* SPDX-License-Identifier: BSD-3-Clause */
/** @file lwIP core/ipv4/icmp.c compiled with lwvsock's lwipopts.h (see Makefile.am). */
#include "core/ipv4/icmp.c"
