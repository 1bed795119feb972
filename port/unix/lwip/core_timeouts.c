/* SPDX-License-Identifier: BSD-3-Clause */
/** @file lwIP core/timeouts.c compiled with lwvsock's lwipopts.h (see Makefile.am). */
#include "core/timeouts.c"
