/*
 * test_tile_cache.c: the shared decoded-tile cache: hits, byte bound and LRU order, keys that
 * differ only in file identity (a replaced file), failed decodes not cached, one decode for
 * concurrent fetches of one key, readers keeping an evicted tile alive.
 */
#include "image/tile_cache.h"
#include "unit.h"

#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

struct decoder {
	atomic_int calls;
	int fail;
	int delay_us;
};

static int decode_test(void *user, const struct tile_cache_key *key, struct tile_cache_tile **out,
		       struct iiifd_error *err)
{
	struct decoder *d = user;
	atomic_fetch_add(&d->calls, 1);
	if (d->delay_us)
		usleep((useconds_t)d->delay_us);
	if (d->fail)
		return iiifd_error_set(err, 500, "corrupt tile %lld", (long long)key->tile);
	*out = tile_cache_tile_new(16, 16, 3);
	if (!*out)
		return iiifd_error_set(err, 500, "out of memory");
	memset((*out)->pixels, (int)(key->tile + key->mtime_sec) & 0xff, 16 * 16 * 3);
	return 0;
}

static struct tile_cache_key key_for(int64_t tile, int64_t mtime)
{
	return (struct tile_cache_key){ .dev = 1, .ino = 42, .mtime_sec = mtime, .size = 1000,
					.producer = TILE_CACHE_TIFF_JPEG, .level = 0,
					.tile = tile };
}

static void test_hit_after_miss(void)
{
	struct tile_cache *c = tile_cache_new(1 << 20);
	struct decoder d = { 0 };
	struct iiifd_error err = { 0 };
	struct tile_cache_key k = key_for(3, 100);
	const struct tile_cache_tile *a = tile_cache_fetch(c, &k, decode_test, &d, &err);
	const struct tile_cache_tile *b = tile_cache_fetch(c, &k, decode_test, &d, &err);
	CHECK(a && a == b, "the second fetch returns the cached tile");
	CHECK_INT(atomic_load(&d.calls), 1, "decoded once");
	CHECK_INT(a->pixels[0], 103, "pixels as decoded");
	const struct tile_cache_tile *g = tile_cache_get(c, &k);
	CHECK(g == a, "get finds it");
	struct tile_cache_stats st;
	tile_cache_get_stats(c, &st);
	CHECK_INT(st.hits, 2, "hits");
	CHECK_INT(st.misses, 1, "misses");
	tile_cache_release(c, a);
	tile_cache_release(c, b);
	tile_cache_release(c, g);
	tile_cache_free(c);
}

static void test_replaced_file_is_a_new_key(void)
{
	struct tile_cache *c = tile_cache_new(1 << 20);
	struct decoder d = { 0 };
	struct iiifd_error err = { 0 };
	struct tile_cache_key old = key_for(1, 100), newer = key_for(1, 101);
	const struct tile_cache_tile *a = tile_cache_fetch(c, &old, decode_test, &d, &err);
	const struct tile_cache_tile *b = tile_cache_fetch(c, &newer, decode_test, &d, &err);
	CHECK(a && b && a != b, "a new mtime never finds the old tile");
	CHECK_INT(b->pixels[0], 102, "new pixels");
	struct tile_cache_key other_inode = key_for(1, 100);
	other_inode.ino = 43;
	CHECK(tile_cache_get(c, &other_inode) == NULL, "another inode is another file");
	tile_cache_release(c, a);
	tile_cache_release(c, b);
	tile_cache_free(c);
}

static void test_bounded_lru(void)
{
	/* each entry is 768 pixel bytes plus bookkeeping: about four fit in 4000 bytes */
	struct tile_cache *c = tile_cache_new(4000);
	struct decoder d = { 0 };
	struct iiifd_error err = { 0 };
	for (int i = 0; i < 20; i++) {
		struct tile_cache_key k = key_for(i, 0);
		tile_cache_release(c, tile_cache_fetch(c, &k, decode_test, &d, &err));
		struct tile_cache_key first = key_for(0, 0);
		tile_cache_release(c, tile_cache_get(c, &first)); /* keep tile 0 recently used */
	}
	struct tile_cache_stats st;
	tile_cache_get_stats(c, &st);
	CHECK(st.bytes <= 4000, "bounded: %zu bytes", st.bytes);
	CHECK(st.entries >= 2 && st.entries <= 5, "entries %zu", st.entries);
	CHECK(st.evictions >= 15, "evicted %llu", (unsigned long long)st.evictions);
	struct tile_cache_key first = key_for(0, 0), old = key_for(1, 0), last = key_for(19, 0);
	const struct tile_cache_tile *t0 = tile_cache_get(c, &first);
	CHECK(t0 != NULL, "the recently used tile stays");
	CHECK(tile_cache_get(c, &old) == NULL, "the oldest went first");
	const struct tile_cache_tile *t19 = tile_cache_get(c, &last);
	CHECK(t19 != NULL, "the newest stays");
	tile_cache_release(c, t0);
	tile_cache_release(c, t19);
	tile_cache_free(c);
}

static void test_reader_outlives_eviction(void)
{
	struct tile_cache *c = tile_cache_new(2000);
	struct decoder d = { 0 };
	struct iiifd_error err = { 0 };
	struct tile_cache_key k = key_for(7, 0);
	const struct tile_cache_tile *held = tile_cache_fetch(c, &k, decode_test, &d, &err);
	for (int i = 100; i < 110; i++) {
		struct tile_cache_key o = key_for(i, 0);
		tile_cache_release(c, tile_cache_fetch(c, &o, decode_test, &d, &err));
	}
	CHECK(tile_cache_get(c, &k) == NULL, "evicted");
	CHECK_INT(held->pixels[16 * 16 * 3 - 1], 7, "the held tile is still readable");
	tile_cache_release(c, held);
	tile_cache_free(c);
}

static void test_failure_not_cached(void)
{
	struct tile_cache *c = tile_cache_new(1 << 20);
	struct decoder d = { .fail = 1 };
	struct iiifd_error err = { 0 };
	struct tile_cache_key k = key_for(5, 0);
	CHECK(tile_cache_fetch(c, &k, decode_test, &d, &err) == NULL, "failure");
	CHECK_INT(err.http_status, 500, "the decoder's error");
	d.fail = 0;
	const struct tile_cache_tile *t = tile_cache_fetch(c, &k, decode_test, &d, &err);
	CHECK(t != NULL, "a later fetch decodes again");
	CHECK_INT(atomic_load(&d.calls), 2, "two decodes");
	tile_cache_release(c, t);
	tile_cache_free(c);
}

static void test_disabled_and_put(void)
{
	struct tile_cache *off = tile_cache_new(0);
	struct decoder d = { 0 };
	struct iiifd_error err = { 0 };
	struct tile_cache_key k = key_for(2, 0);
	const struct tile_cache_tile *a = tile_cache_fetch(off, &k, decode_test, &d, &err);
	tile_cache_release(off, a);
	a = tile_cache_fetch(off, &k, decode_test, &d, &err);
	tile_cache_release(off, a);
	CHECK_INT(atomic_load(&d.calls), 2, "a cache of 0 bytes keeps nothing");
	tile_cache_free(off);

	struct tile_cache *c = tile_cache_new(1 << 20);
	struct tile_cache_tile *mine = tile_cache_tile_new(4, 4, 1);
	memset(mine->pixels, 9, 16);
	const struct tile_cache_tile *p = tile_cache_put(c, &k, mine);
	const struct tile_cache_tile *g = tile_cache_get(c, &k);
	CHECK(p == mine && g == mine, "put then get");
	struct tile_cache_tile *dup = tile_cache_tile_new(4, 4, 1);
	const struct tile_cache_tile *p2 = tile_cache_put(c, &k, dup);
	CHECK(p2 == mine, "a second put returns the cached tile");
	tile_cache_release(c, p);
	tile_cache_release(c, g);
	tile_cache_release(c, p2);
	tile_cache_release(NULL, tile_cache_put(NULL, &k, tile_cache_tile_new(2, 2, 3)));
	tile_cache_free(c);
}

struct fetcher {
	struct tile_cache *c;
	struct decoder *d;
	pthread_t thread;
	const struct tile_cache_tile *got;
};

static void *fetcher_run(void *arg)
{
	struct fetcher *f = arg;
	struct iiifd_error err = { 0 };
	struct tile_cache_key k = key_for(11, 0);
	f->got = tile_cache_fetch(f->c, &k, decode_test, f->d, &err);
	return NULL;
}

static void test_concurrent_fetch_decodes_once(void)
{
	struct tile_cache *c = tile_cache_new(1 << 20);
	struct decoder d = { .delay_us = 50000 };
	struct fetcher f[6];
	for (int i = 0; i < 6; i++) {
		f[i] = (struct fetcher){ .c = c, .d = &d };
		pthread_create(&f[i].thread, NULL, fetcher_run, &f[i]);
	}
	for (int i = 0; i < 6; i++)
		pthread_join(f[i].thread, NULL);
	CHECK_INT(atomic_load(&d.calls), 1, "one decode for six fetches");
	for (int i = 0; i < 6; i++) {
		CHECK(f[i].got == f[0].got && f[i].got, "fetcher %d got the shared tile", i);
		tile_cache_release(c, f[i].got);
	}
	tile_cache_free(c);
}

int main(void)
{
	UNIT_RUN(test_hit_after_miss);
	UNIT_RUN(test_replaced_file_is_a_new_key);
	UNIT_RUN(test_bounded_lru);
	UNIT_RUN(test_reader_outlives_eviction);
	UNIT_RUN(test_failure_not_cached);
	UNIT_RUN(test_disabled_and_put);
	UNIT_RUN(test_concurrent_fetch_decodes_once);
	return unit_report("tile_cache");
}
