/* SPDX-License-Identifier: BSD-3-Clause */
/** @file lwIP core/tcp.c compiled with lwvsock's lwipopts.h (see Makefile.am). */
#include "core/tcp.c"
