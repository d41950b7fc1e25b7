/*
 * source_cache.h: probed sources (size, levels, tile index) kept in memory, LRU-bounded, keyed by
 * path and page and checked against the file's mtime and size on every lookup.
 */
#ifndef IIIFD_IMAGE_SOURCE_CACHE_H
#define IIIFD_IMAGE_SOURCE_CACHE_H

#include <stddef.h>

#include "core/error.h"
#include "image/source.h"

struct image_source_cache;

/* capacity = most sources kept; 0 disables caching (every get probes). Free with _free(). */
struct image_source_cache *image_source_cache_new(size_t capacity);
void image_source_cache_free(struct image_source_cache *cache);

/*
 * The probed source for path/page: the cached one when the file is unchanged, else a new probe.
 * Errors as image_source_open(). The result stays valid until image_source_cache_put().
 */
const struct image_source *image_source_cache_get(struct image_source_cache *cache,
						  const char *path, int page,
						  struct iiifd_error *err);
/*
 * The cached source for path/page when it is there and the file unchanged, else NULL (no probe).
 * Unlike get(), not counted in the cache metrics: the caller counts the hit once it uses it.
 */
const struct image_source *image_source_cache_peek(struct image_source_cache *cache,
						   const char *path, int page);
/*
 * get() and peek() for a caller that has just stat'ed path (storage_stat() or its equal, known):
 * compared with the cached source's instead of a stat of its own.
 */
const struct image_source *image_source_cache_get_known(struct image_source_cache *cache,
							const char *path, int page,
							const struct storage_stat *known,
							struct iiifd_error *err);
const struct image_source *image_source_cache_peek_known(struct image_source_cache *cache,
							 const char *path, int page,
							 const struct storage_stat *known);
void image_source_cache_put(struct image_source_cache *cache, const struct image_source *src);

#endif
