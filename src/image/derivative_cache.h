/*
 * derivative_cache.h: rendered images kept on disk, size-capped with least-recently-used eviction.
 * Files are written to a temporary name and renamed, so a reader never sees half a file.
 *
 * Layout: DIR/<sha256(source path), 32 hex>/<sha256(variant), 40 hex>; one folder per source
 * file lets `iiifd cache purge IDENTIFIER` remove every derivative of one image. The stills of
 * media files (DIR/derived/, written by media/derived.c) count against the same limit once
 * adopted; pyramids (DIR/pyramids/) have their own limit (image/pyramid_queue.c) but are purged
 * here too.
 */
#ifndef IIIFD_IMAGE_DERIVATIVE_CACHE_H
#define IIIFD_IMAGE_DERIVATIVE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

struct derivative_cache;

/*
 * Opens (creating) dir and indexes what is already there (DIR/derived/ included), oldest first,
 * deleting temporary files a crash left behind. max_bytes caps the total size. Returns NULL with
 * err set when dir cannot be created or read.
 */
struct derivative_cache *derivative_cache_open(const char *dir, int64_t max_bytes,
					       struct iiifd_error *err);
void derivative_cache_close(struct derivative_cache *cache);

/*
 * Looks up the derivative of source_path described by variant (which must include everything
 * the bytes depend on: the canonical request, the source's version, encoder settings).
 * Returns 1 and *out (free with free()) / *len on a hit, 0 on a miss.
 */
int derivative_cache_get(struct derivative_cache *cache, const char *source_path,
			 const char *variant, void **out, size_t *len);

/*
 * Stores a copy of data (the caller keeps data). The file is written by a background thread
 * soon after, in order; when more than 64 MiB wait to be written the store is skipped. Failures
 * are logged, and a full disk switches the cache off. derivative_cache_close() writes what waits.
 */
void derivative_cache_put(struct derivative_cache *cache, const char *source_path,
			  const char *variant, const void *data, size_t len);

/*
 * Counts the file at path (a media still under DIR/derived/, written by someone else) as just
 * used, evicting what no longer fits. cache may be NULL; paths outside DIR/derived/ are ignored.
 */
void derivative_cache_adopt(struct derivative_cache *cache, const char *path);

/*
 * Removes every cached derivative, pyramid and media still (source_path NULL) or those of one
 * source, from the folder dir; for use without a running cache (the `cache purge` command).
 * Returns the number of files removed, or -1 with err set.
 */
int derivative_cache_purge(const char *dir, const char *source_path, struct iiifd_error *err);

/* The same for the pyramids in a pyramid-dir of its own (every file but the lock file). */
int derivative_cache_purge_pyramids(const char *pyramid_dir, const char *source_path);

#endif
