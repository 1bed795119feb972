/* SPDX-License-Identifier: BSD-3-Clause */
/** @file lwIP core/init.c compiled with lwvsock's lwipopts.h (see Makefile.am). */
#include "core/init.c"
