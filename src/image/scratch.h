/*
 * scratch.h: large temporary buffers (a render's output image) kept between requests. A fresh
 * buffer above the malloc mmap threshold comes from the kernel page by page: on a thumbnail the
 * page faults cost as much as a tenth of the render. A few buffers (SCRATCH_KEEP, each at most
 * SCRATCH_MAX_BYTES) are kept for reuse, so what this holds is bounded. Thread-safe.
 */
#ifndef IIIFD_IMAGE_SCRATCH_H
#define IIIFD_IMAGE_SCRATCH_H

#include <stddef.h>

#define SCRATCH_KEEP 4
#define SCRATCH_MAX_BYTES (8u << 20)

/* A buffer of at least bytes (uninitialised) and its *capacity; NULL when out of memory. */
void *scratch_get(size_t bytes, size_t *capacity);

/* Gives back a buffer of scratch_get() (NULL is ignored): kept for reuse or freed. */
void scratch_put(void *buf, size_t capacity);

#endif
