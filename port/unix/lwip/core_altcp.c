/* SPDX-License-Identifier: BSD-3-Clause */
/** @file lwIP core/altcp.c compiled with lwvsock's lwipopts.h (see Makefile.am). */
#include "core/altcp.c"
