/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * LWVSOCK_API: what the shared library exports.
 *
 * liblwvsock.so is built with -fvisibility=hidden: of lwvsock's own symbols it
 * exports only those declared with LWVSOCK_API, i.e. the public API of these
 * headers (as libuv's UV_EXTERN and nghttp2's NGHTTP2_EXTERN). lwIP's API,
 * which the library carries, stays exported. In a firmware build the sources
 * compile as they are: the attribute changes nothing in a static link.
 */
#ifndef LWVSOCK_EXPORT_H
#define LWVSOCK_EXPORT_H

/**
 * @defgroup lwvsock_export Exported symbols (lwvsock_export.h)
 * @{
 */

#ifndef LWVSOCK_API
#if defined(__GNUC__) && __GNUC__ >= 4
/** Marks a public declaration: exported from the shared library. */
#define LWVSOCK_API __attribute__((visibility("default")))
#else
#define LWVSOCK_API
#endif
#endif

/** @} */

#endif /* LWVSOCK_EXPORT_H */
