/*
 * probe_cache.h: media probe results kept in memory, checked against each file's mtime and size.
 */
#ifndef IIIFD_MEDIA_PROBE_CACHE_H
#define IIIFD_MEDIA_PROBE_CACHE_H

#include <stddef.h>

#include "media/probe.h"

struct media_probe_cache;

/* capacity = most files remembered (the cache is emptied when it is reached). */
struct media_probe_cache *media_probe_cache_new(size_t capacity);
void media_probe_cache_free(struct media_probe_cache *cache);

/* media_probe() through the cache. */
int media_probe_cached(struct media_probe_cache *cache, const char *path, struct media_info *out,
		       struct iiifd_error *err);

#endif
