/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * lwIP compiler/platform abstraction of the bare-metal x86 appliance: no libc
 * headers beyond the image's own (port/baremetal-x86/include), output on the
 * serial console, assertions stop the machine with a message.
 */
#ifndef BM_ARCH_CC_H
#define BM_ARCH_CC_H

#include <stdio.h>
#include <stdlib.h>

#define BYTE_ORDER LITTLE_ENDIAN

/* gcc's freestanding headers have no <inttypes.h>, <ctype.h> or <unistd.h>. */
#define LWIP_NO_INTTYPES_H 1
#define LWIP_NO_CTYPE_H    1
#define LWIP_NO_UNISTD_H   1
#define X8_F  "02x"
#define U16_F "hu"
#define S16_F "hd"
#define X16_F "hx"
#define U32_F "u"
#define S32_F "d"
#define X32_F "x"
#define SZT_F "zu"

/* lwvsock's ops return negative errno values: the image's errno.h has them. */
#define LWIP_ERRNO_STDINCLUDE 1

#define LWIP_PLATFORM_DIAG(x) do { printf x; } while (0)
#define LWIP_PLATFORM_ASSERT(x) do { \
    printf("%s:%d: lwIP assertion failed: %s\n", __FILE__, __LINE__, (x)); \
    abort(); \
  } while (0)

/** Initial ports and ISNs only: nothing security-relevant (platform.c). */
unsigned int bm_rand(void);
#define LWIP_RAND() ((u32_t)bm_rand())

#endif /* BM_ARCH_CC_H */
