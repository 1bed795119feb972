# SPDX-License-Identifier: BSD-3-Clause
# lwvsock_lwip.m4 - locate and validate the lwIP source tree.
#
# LWVSOCK_WITH_LWIP
# --with-lwip=DIR names an lwIP >= 2.1 *source* tree (the library compiles the
# lwIP sources it needs with its own lwipopts.h). Default: $srcdir/lwip when it
# holds one. Sets and substitutes LWIP_DIR (an absolute path).
AC_DEFUN([LWVSOCK_WITH_LWIP],
[AC_ARG_WITH([lwip],
  [AS_HELP_STRING([--with-lwip=DIR],
    [lwIP >= 2.1 source tree (default: $srcdir/lwip; fetch it with scripts/get-lwip.sh)])],
  [], [with_lwip=check])

lwvsock_lwip_hint="Run scripts/get-lwip.sh (it unpacks lwIP 2.1.3 from Debian's lwip source package into ./lwip) or pass --with-lwip=DIR naming an lwIP >= 2.1 source tree. Debian's binary liblwip-dev is not usable: it is built with NO_SYS=0 and without altcp (LWIP_ALTCP=0)."

AS_CASE([$with_lwip],
  [no], [AC_MSG_ERROR([lwvsock cannot be built without lwIP. $lwvsock_lwip_hint])],
  [check|yes], [LWIP_DIR=$srcdir/lwip],
  [LWIP_DIR=$with_lwip])

AC_MSG_CHECKING([for the lwIP source tree])
AS_IF([test -f "$LWIP_DIR/src/include/lwip/init.h"],
  [LWIP_DIR=`cd "$LWIP_DIR" && pwd`
   AC_MSG_RESULT([$LWIP_DIR])],
  [AC_MSG_RESULT([no])
   AC_MSG_ERROR([no lwIP source tree at $LWIP_DIR ($LWIP_DIR/src/include/lwip/init.h is missing). $lwvsock_lwip_hint])])

AC_MSG_CHECKING([whether the lwIP version is 2.1 or later])
lwvsock_save_CPPFLAGS=$CPPFLAGS
CPPFLAGS="$CPPFLAGS -I$LWIP_DIR/src/include"
AC_PREPROC_IFELSE([AC_LANG_SOURCE([[
#include "lwip/init.h"
#if !(LWIP_VERSION_MAJOR == 2 && LWIP_VERSION_MINOR >= 1)
#error lwIP too old or too new
#endif
]])],
  [AC_MSG_RESULT([yes])],
  [AC_MSG_RESULT([no])
   AC_MSG_ERROR([lwIP at $LWIP_DIR is not version 2.x with x >= 1. $lwvsock_lwip_hint])])
CPPFLAGS=$lwvsock_save_CPPFLAGS
AC_SUBST([LWIP_DIR])
])
