# SPDX-License-Identifier: BSD-3-Clause
# lwvsock_cflags.m4 - probe compiler flags one at a time.
#
# LWVSOCK_CFLAGS_ADD(VAR, FLAGS)
# For each flag in FLAGS, append it to the shell variable VAR when the C
# compiler accepts it without a warning (-Werror is in force while probing, so
# a flag the compiler merely ignores with a warning is not taken; -Wall too, as
# some flags only mean something on top of it).
# The result of each probe is cached in lwvsock_cv_cflag_<flag>.
AC_DEFUN([LWVSOCK_CFLAGS_ADD],
[AC_REQUIRE([AC_PROG_CC])dnl
AC_LANG_PUSH([C])
for lwvsock_flag in m4_normalize([$2]); do
  AS_VAR_PUSHDEF([lwvsock_cv], [lwvsock_cv_cflag_$lwvsock_flag])dnl
  AC_CACHE_CHECK([whether $CC accepts $lwvsock_flag], [lwvsock_cv],
    [lwvsock_save_CFLAGS=$CFLAGS
     dnl -Wno-foo is accepted silently by gcc even when unknown: probe -Wfoo.
     lwvsock_probe=`echo "$lwvsock_flag" | sed 's/^-Wno-error=/-W/; s/^-Wno-/-W/'`
     CFLAGS="$CFLAGS -Werror -Wall $lwvsock_probe"
     AC_COMPILE_IFELSE([AC_LANG_PROGRAM([], [])],
       [AS_VAR_SET([lwvsock_cv], [yes])],
       [AS_VAR_SET([lwvsock_cv], [no])])
     CFLAGS=$lwvsock_save_CFLAGS])
  AS_VAR_IF([lwvsock_cv], [yes], [$1="$[]$1 $lwvsock_flag"])
  AS_VAR_POPDEF([lwvsock_cv])dnl
done
AC_LANG_POP([C])
])
