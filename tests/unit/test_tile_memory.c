/*
 * test_tile_memory.c: tile pixel memory (image/tile_memory.h) and what the decoded-tile cache
 * counts against its bound: tile-sized buffers are page-aligned mappings, not malloc's; a freed
 * one is handed out again to the next tile of its size, from any thread; the kept ones stay
 * within TILE_MEMORY_KEEP_BYTES; every mapping is given back; the cache counts whole pages.
 */
#include "image/tile_cache.h"
#include "image/tile_memory.h"
#include "unit.h"

#include <pthread.h>
#include <stdint.h>
#include <unistd.h>

#define TILE_BYTES (256 * 256 * 3) /* a 256x256 RGB tile: 48 pages exactly */

static size_t page(void)
{
	return (size_t)sysconf(_SC_PAGESIZE);
}

static void test_sizes(void)
{
	CHECK_INT(tile_memory_size(TILE_BYTES), TILE_BYTES, "a 256x256 RGB tile is whole pages");
	CHECK_INT(tile_memory_size(150 * 150 * 3), 17 * page(), "67,500 bytes occupy 17 pages");
	CHECK_INT(tile_memory_size(16 * 16 * 3), 784, "a small tile: malloc's chunk");
	CHECK_INT(tile_memory_size(1), 32, "malloc's smallest chunk");
}

static void test_mapped_and_reused(void)
{
	tile_memory_drop_kept();
	struct tile_memory a, b, small;
	CHECK_INT(tile_memory_get(&a, TILE_BYTES), 0, "get");
	CHECK(a.mapped && (uintptr_t)a.bytes % page() == 0, "a tile-sized buffer is a mapping");
	CHECK_INT(a.size, TILE_BYTES, "its size");
	memset(a.bytes, 7, TILE_BYTES);
	uint8_t *first = a.bytes;
	struct tile_memory_stats before, after;
	tile_memory_get_stats(&before);
	tile_memory_put(&a);
	CHECK(a.bytes == NULL && a.size == 0, "put empties the handle");
	tile_memory_put(&a); /* an empty handle is ignored */
	CHECK_INT(tile_memory_get(&b, TILE_BYTES - 100), 0, "get again");
	CHECK(b.bytes == first, "the freed buffer is handed out again");
	tile_memory_get_stats(&after);
	CHECK_INT(after.reused, before.reused + 1, "counted as reused");
	CHECK_INT(after.mapped, before.mapped, "no new mapping");
	tile_memory_put(&b);
	CHECK_INT(tile_memory_get(&small, 100), 0, "small get");
	CHECK(!small.mapped, "a small buffer comes from malloc");
	tile_memory_put(&small);
	tile_memory_drop_kept();
}

static void test_kept_bounded(void)
{
	tile_memory_drop_kept();
	enum { N = 120 };
	static struct tile_memory m[N];
	struct tile_memory_stats before, st;
	tile_memory_get_stats(&before);
	for (int i = 0; i < N; i++)
		CHECK_INT(tile_memory_get(&m[i], TILE_BYTES), 0, "get");
	for (int i = 0; i < N; i++)
		tile_memory_put(&m[i]);
	tile_memory_get_stats(&st);
	CHECK(st.kept_bytes <= TILE_MEMORY_KEEP_BYTES && st.kept_bytes > 0, "kept %zu bytes",
	      st.kept_bytes);
	CHECK_INT(st.unmapped - before.unmapped, N - st.kept_bytes / TILE_BYTES,
		  "the rest went back to the kernel");
	tile_memory_drop_kept();
	tile_memory_get_stats(&st);
	CHECK_INT(st.kept_bytes, 0, "nothing kept after drop");
	CHECK_INT(st.mapped, st.unmapped, "every mapping given back");
}

struct churn {
	struct tile_cache *cache;
	int first;
	pthread_t thread;
};

static int decode_big(void *user, const struct tile_cache_key *key, struct tile_cache_tile **out,
		      struct iiifd_error *err)
{
	*out = tile_cache_tile_new(256, 256, 3);
	if (!*out)
		return iiifd_error_set(err, 500, "out of memory");
	memset((*out)->pixels, (int)key->tile & 0xff, TILE_BYTES);
	return 0;
}

static void *churn_run(void *arg)
{
	struct churn *c = arg;
	struct iiifd_error err = { 0 };
	for (int i = 0; i < 200; i++) {
		struct tile_cache_key k = {
			.dev = 1, .ino = 2, .producer = TILE_CACHE_TIFF_JPEG, .tile = c->first + i
		};
		tile_cache_release(c->cache,
				   tile_cache_fetch(c->cache, &k, decode_big, NULL, &err));
	}
	return NULL;
}

static void test_cache_memory_is_reused_across_threads(void)
{
	/* four threads decode 800 different tiles through a cache of 20: the memory of the tiles
	 * evicted under one thread is what the others decode into, so few mappings are made */
	tile_memory_drop_kept();
	struct tile_memory_stats before, st;
	tile_memory_get_stats(&before);
	struct tile_cache *cache = tile_cache_new(20 * (TILE_BYTES + 256));
	struct churn c[4];
	for (int i = 0; i < 4; i++) {
		c[i] = (struct churn){ .cache = cache, .first = i * 1000 };
		pthread_create(&c[i].thread, NULL, churn_run, &c[i]);
	}
	for (int i = 0; i < 4; i++)
		pthread_join(c[i].thread, NULL);
	struct tile_cache_stats cs;
	tile_cache_get_stats(cache, &cs);
	tile_memory_get_stats(&st);
	CHECK(cs.entries <= 20 && cs.bytes <= 20 * (TILE_BYTES + 256), "bounded: %zu tiles",
	      cs.entries);
	CHECK(st.mapped - before.mapped <= 20 + 4 + TILE_MEMORY_KEEP_BYTES / TILE_BYTES,
	      "mapped %llu times for 800 tiles", (unsigned long long)(st.mapped - before.mapped));
	tile_cache_free(cache);
	tile_memory_drop_kept();
	tile_memory_get_stats(&st);
	CHECK_INT(st.mapped, st.unmapped, "freeing the cache gives every mapping back");
}

static int decode_odd(void *user, const struct tile_cache_key *key, struct tile_cache_tile **out,
		      struct iiifd_error *err)
{
	*out = tile_cache_tile_new(150, 150, 3);
	return *out ? 0 : iiifd_error_set(err, 500, "out of memory");
}

static void test_cache_counts_pages(void)
{
	/* 150x150 RGB = 67,500 pixel bytes in 17 pages (69,632): a bound of 10 x 69,632 would
	 * hold 10 tiles if it counted pixel bytes, and holds 9 as it counts what they occupy */
	struct tile_cache *cache = tile_cache_new(10 * 17 * page());
	struct iiifd_error err = { 0 };
	for (int i = 0; i < 30; i++) {
		struct tile_cache_key k = {
			.dev = 1, .ino = 3, .producer = TILE_CACHE_JP2, .tile = i
		};
		tile_cache_release(cache, tile_cache_fetch(cache, &k, decode_odd, NULL, &err));
	}
	struct tile_cache_stats cs;
	tile_cache_get_stats(cache, &cs);
	CHECK_INT(cs.entries, 9, "tiles kept");
	CHECK(cs.bytes >= 9 * 17 * page() && cs.bytes <= 10 * 17 * page(), "%zu bytes counted",
	      cs.bytes);
	tile_cache_free(cache);
	tile_memory_drop_kept();
}

int main(void)
{
	UNIT_RUN(test_sizes);
	UNIT_RUN(test_mapped_and_reused);
	UNIT_RUN(test_kept_bounded);
	UNIT_RUN(test_cache_memory_is_reused_across_threads);
	UNIT_RUN(test_cache_counts_pages);
	return unit_report("tile_memory");
}
