/** @file lwIP core/memp.c compiled with lwvsock's lwipopts.h (see Makefile.am). */
#include "core/memp.c"
