/* SPDX-License-Identifier: BSD-3-Clause */
/** @file lwIP core/tcp_in.c compiled with lwvsock's lwipopts.h (see Makefile.am). */
#include "core/tcp_in.c"
