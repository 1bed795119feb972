/* SPDX-License-Identifier: BSD-3-Clause */
/** @file lwIP core/altcp_alloc.c compiled with lwvsock's lwipopts.h (see Makefile.am). */
#include "core/altcp_alloc.c"
