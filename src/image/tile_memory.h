/*
 * tile_memory.h: the pixel memory of decoded tiles (tile_cache.h), mapped from the kernel rather
 * than taken from malloc.
 *
 * Why: a tile is allocated by whichever thread decodes it and freed, least recently used first,
 * by whichever thread lets go of it last. With glibc's per-thread arenas (two per core) the
 * memory a freed tile leaves in one arena is not reused by the threads allocating in another, so
 * the arenas kept holes next to their shares of the cache: with the 128 MiB cache full, 64 MB
 * lay free inside them and the server's peak RSS reached 287-309 MB in `make bench`'s TIFF crops
 * (docs/internals/rendering.md, "Memory"). A mapped tile's memory is reused by any thread or goes
 * back to the kernel, so what the cache holds is what it counts.
 *
 * A fresh mapping costs its pages' faults, so freed buffers are kept for reuse,
 * TILE_MEMORY_KEEP_BYTES in all: a decode after an eviction takes the evicted tile's memory.
 * Buffers under TILE_MEMORY_MAP_MIN come from malloc: a mapping per small tile would waste most
 * of a page and multiply the process's mappings. When the kernel refuses a mapping
 * (vm.max_map_count), malloc is used. Thread-safe.
 */
#ifndef IIIFD_IMAGE_TILE_MEMORY_H
#define IIIFD_IMAGE_TILE_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TILE_MEMORY_MAP_MIN (32u << 10)
#define TILE_MEMORY_KEEP_BYTES (8u << 20)

/* One buffer: bytes (at least what was asked for), size (what it occupies), how it was made. */
struct tile_memory {
	uint8_t *bytes;
	size_t size;
	bool mapped;
};

/* What a buffer of `bytes` occupies: whole pages when mapped, else malloc's chunk size. */
size_t tile_memory_size(size_t bytes);

/* A buffer of at least `bytes` (uninitialised) in *m; -1 when out of memory (*m zeroed). */
int tile_memory_get(struct tile_memory *m, size_t bytes);

/* Gives m's buffer back (kept for reuse, or unmapped/freed), zeroes *m; an empty m is ignored. */
void tile_memory_put(struct tile_memory *m);

struct tile_memory_stats {
	uint64_t mapped;   /* buffers mapped fresh from the kernel */
	uint64_t reused;   /* buffers handed out again from the kept ones */
	uint64_t unmapped; /* buffers given back to the kernel */
	size_t kept_bytes; /* sizes of the buffers kept now */
};
void tile_memory_get_stats(struct tile_memory_stats *out);

/* Unmaps every kept buffer (for tests). */
void tile_memory_drop_kept(void);

#endif
