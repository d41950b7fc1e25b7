/*
 * tile_cache.h: decoded tiles (8-bit interleaved pixels) shared by all requests, bounded in bytes,
 * least recently used out first. Source-agnostic: the key names the file by identity (device,
 * inode, mtime, size), so a replaced file never serves its old pixels, and the decoder by a
 * producer id, so TIFF/JPEG and JPEG 2000 tiles can share one cache. Pixel memory comes from
 * tile_memory.h (mapped, not from malloc's arenas), so the bound is what the cache really holds.
 */
#ifndef IIIFD_IMAGE_TILE_CACHE_H
#define IIIFD_IMAGE_TILE_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* Which decoder made a tile's pixels: one file decoded two ways gives two different tiles. */
enum tile_cache_producer {
	TILE_CACHE_TIFF_JPEG = 1, /* tiled JPEG TIFF, decoded by render_tiff.c */
	TILE_CACHE_JP2 = 2,       /* JPEG 2000 / HTJ2K codestream tiles */
};

/*
 * What a tile is. Fill every field (unused ones 0): keys are compared field by field, never as
 * bytes, so padding does not matter.
 */
struct tile_cache_key {
	uint64_t dev, ino;        /* the file's identity (stat) */
	int64_t mtime_sec, mtime_nsec, size;
	int32_t producer;         /* enum tile_cache_producer */
	int32_t page;             /* TIFF directory / document page, 0 if unused */
	int32_t level;            /* stored resolution level */
	int32_t reduce;           /* extra reduction applied while decoding (DCT 1/2^n, JP2 reduce) */
	int64_t tile;             /* tile index within the level */
};

/* Decoded pixels, immutable once in the cache; read them while holding a reference. */
struct tile_cache_tile {
	int width, height, bands; /* bands 1 (grey) or 3 (RGB), 8 bits each */
	size_t stride;            /* bytes per row */
	uint8_t *pixels;          /* owned by the tile */
};

struct tile_cache;

/*
 * max_bytes = memory the kept tiles occupy at most: their pixel buffers as allocated (whole pages
 * for mapped ones, tile_memory.h) and the bookkeeping of each; 0 disables keeping (fetch still
 * decodes). Free with _free.
 */
struct tile_cache *tile_cache_new(size_t max_bytes);
void tile_cache_free(struct tile_cache *cache);

/*
 * A new tile of width x height x bands with uninitialised pixels (stride = width * bands), for a
 * decoder to fill; NULL when out of memory. Hand it to tile_cache_put() or free it with
 * tile_cache_tile_free().
 */
struct tile_cache_tile *tile_cache_tile_new(int width, int height, int bands);
void tile_cache_tile_free(struct tile_cache_tile *tile);

/*
 * The cached tile for key with a reference taken (give it back with _release), or NULL (not
 * counted as a miss: the fetch that follows counts it).
 */
const struct tile_cache_tile *tile_cache_get(struct tile_cache *cache,
					     const struct tile_cache_key *key);

/*
 * Stores tile (ownership passes to the cache, also on failure) under key and returns it with a
 * reference taken. When key is already there, tile is freed and the cached one returned.
 * cache may be NULL: then the tile is returned uncached and _release frees it.
 */
const struct tile_cache_tile *tile_cache_put(struct tile_cache *cache,
					     const struct tile_cache_key *key,
					     struct tile_cache_tile *tile);

/* Gives back a reference from get/put/fetch; cache may be NULL for uncached tiles. */
void tile_cache_release(struct tile_cache *cache, const struct tile_cache_tile *tile);

/*
 * Makes one tile: returns 0 with *out a new tile (from tile_cache_tile_new), or -1 with err set.
 * Runs without the cache's lock held; may run on any thread.
 */
typedef int (*tile_cache_decode_fn)(void *user, const struct tile_cache_key *key,
				    struct tile_cache_tile **out, struct iiifd_error *err);

/*
 * The tile for key, decoded with decode(user, ...) on a miss. Concurrent fetches of one missing
 * key decode it once: the others wait for the first. Returns the tile with a reference taken,
 * or NULL with err set by decode (a failed decode is not cached). cache may be NULL.
 */
const struct tile_cache_tile *tile_cache_fetch(struct tile_cache *cache,
					       const struct tile_cache_key *key,
					       tile_cache_decode_fn decode, void *user,
					       struct iiifd_error *err);

struct tile_cache_stats {
	uint64_t hits, misses, evictions;
	size_t bytes, entries;
};
void tile_cache_get_stats(struct tile_cache *cache, struct tile_cache_stats *out);

#endif
