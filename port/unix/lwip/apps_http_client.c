/* SPDX-License-Identifier: BSD-3-Clause */
/** @file lwIP apps/http/http_client.c compiled with lwvsock's lwipopts.h (see Makefile.am). */
#include "apps/http/http_client.c"
