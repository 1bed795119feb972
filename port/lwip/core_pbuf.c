/** @file lwIP core/pbuf.c compiled with lwvsock's lwipopts.h (see Makefile.am). */
#include "core/pbuf.c"
