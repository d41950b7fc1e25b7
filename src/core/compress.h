/*
 * compress.h: gzip (RFC 1952) of a buffer in memory, with zlib.
 */
#ifndef IIIFD_CORE_COMPRESS_H
#define IIIFD_CORE_COMPRESS_H

#include <stddef.h>

/* Returns a malloc'd gzip stream of data (caller frees) and its length, or NULL on failure. */
void *compress_gzip(const void *data, size_t len, size_t *out_len);

#endif
