/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * lwvsock_strerror(): sentences for lwIP's err_t, which lwIP itself only
 * provides with LWIP_DEBUG; lwvsock_bus_fail(), the porting layer's
 * error-sentence helper.
 */
#include <stdarg.h>
#include <stdio.h>

#include "lwvsock/port/bus.h"
#include "lwvsock/lwvsock.h"

int
lwvsock_bus_fail(char *err, size_t errlen, int rc, const char *fmt, ...)
{
  va_list ap;

  if (err != NULL && errlen > 0) {
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
  }
  return rc;
}

const char *
lwvsock_strerror(err_t err)
{
  switch (err) {
    case ERR_OK: return "ok";
    case ERR_MEM: return "out of memory (pool, device memory or send buffer full)";
    case ERR_BUF: return "buffer error";
    case ERR_TIMEOUT: return "timed out";
    case ERR_RTE: return "no route to the peer";
    case ERR_INPROGRESS: return "operation in progress";
    case ERR_VAL: return "illegal value";
    case ERR_WOULDBLOCK: return "operation would block";
    case ERR_USE: return "address (port) in use";
    case ERR_ALREADY: return "already connecting";
    case ERR_ISCONN: return "already connected or bound";
    case ERR_CONN: return "not connected";
    case ERR_IF: return "device error";
    case ERR_ABRT: return "connection aborted";
    case ERR_RST: return "connection reset";
    case ERR_CLSD: return "connection closed";
    case ERR_ARG: return "illegal argument";
    default: return "unknown error";
  }
}
