/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The backend log: the application's callback (lwvsock_backend_set_log())
 * and the formatter backends report through. The library never prints by
 * itself; without a callback, reports are dropped.
 */
#include <stdarg.h>
#include <stdio.h>

#include "lwvsock/lwvsock.h"
#include "lwvsock/port/backend.h"

/* Long enough for every report; a longer one is cut, never overrun. */
#define LOG_LINE_MAX 256

void
lwvsock_backend_set_log(struct lwvsock_backend *be, lwvsock_log_fn fn, void *arg)
{
  if (be != NULL) {
    be->log = fn;
    be->log_arg = arg;
  }
}

void
lwvsock_backend_log(struct lwvsock_backend *be, const char *fmt, ...)
{
  char line[LOG_LINE_MAX];
  va_list ap;

  if (be == NULL || be->log == NULL) {
    return;
  }
  va_start(ap, fmt);
  (void)vsnprintf(line, sizeof(line), fmt, ap);
  va_end(ap);
  be->log(be->log_arg, be->ops != NULL && be->ops->name != NULL ? be->ops->name : "backend", line);
}
