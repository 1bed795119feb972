/* SPDX-License-Identifier: BSD-3-Clause */
/** @file lwIP core/inet_chksum.c compiled with lwvsock's lwipopts.h (see Makefile.am). */
#include "core/inet_chksum.c"
