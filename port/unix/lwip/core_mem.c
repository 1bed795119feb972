/* SPDX-License-Identifier: BSD-3-Clause */
/** @file lwIP core/mem.c compiled with lwvsock's lwipopts.h (see Makefile.am). */
#include "core/mem.c"
