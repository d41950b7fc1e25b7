/*
 * tile_cache.c: a hash table of decoded tiles under one mutex plus an LRU list. A tile is a
 * reference-counted box; the cache holds one reference while the tile is in the table, each
 * reader one more, so an evicted tile lives on until its last reader lets go. A key being decoded
 * has a pending entry that other fetches of it wait on (one decode per key at a time).
 */
#include "image/tile_cache.h"

#include "image/tile_memory.h"

#include <glib.h>
#include <stdbool.h>
#include <stdlib.h>

struct tile_box {
	struct tile_cache_tile tile; /* first: readers hold a pointer to it */
	gint refs;
	struct tile_memory memory; /* tile.pixels */
};

/* The hash table's share of an entry: key and value pointers and a hash, at half load or more. */
#define TILE_TABLE_BYTES 40

struct tile_entry {
	struct tile_cache_key key;
	struct tile_box *box; /* NULL while pending */
	struct tile_entry *prev, *next; /* LRU list, most recent first; unlinked while pending */
	size_t bytes;
};

struct tile_cache {
	GMutex lock;
	GCond decoded; /* broadcast whenever a pending entry resolves */
	GHashTable *entries; /* struct tile_cache_key * -> struct tile_entry * (owned) */
	struct tile_entry *newest, *oldest;
	size_t max_bytes, bytes;
	uint64_t hits, misses, evictions;
};

static guint tile_key_hash(gconstpointer p)
{
	const struct tile_cache_key *k = p;
	uint64_t f[] = { k->dev, k->ino, (uint64_t)k->mtime_sec, (uint64_t)k->mtime_nsec,
			 (uint64_t)k->size, (uint64_t)k->producer, (uint64_t)k->page,
			 (uint64_t)k->level, (uint64_t)k->reduce, (uint64_t)k->tile };
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < sizeof f / sizeof f[0]; i++) {
		h ^= f[i];
		h *= 1099511628211ull;
		h ^= h >> 29;
	}
	return (guint)(h ^ (h >> 32));
}

static gboolean tile_key_equal(gconstpointer a, gconstpointer b)
{
	const struct tile_cache_key *x = a, *y = b;
	return x->dev == y->dev && x->ino == y->ino && x->mtime_sec == y->mtime_sec &&
	       x->mtime_nsec == y->mtime_nsec && x->size == y->size &&
	       x->producer == y->producer && x->page == y->page && x->level == y->level &&
	       x->reduce == y->reduce && x->tile == y->tile;
}

struct tile_cache_tile *tile_cache_tile_new(int width, int height, int bands)
{
	if (width <= 0 || height <= 0 || bands <= 0 || bands > 4 || width > 65536 || height > 65536)
		return NULL;
	struct tile_box *box = calloc(1, sizeof *box);
	if (!box)
		return NULL;
	box->tile.width = width;
	box->tile.height = height;
	box->tile.bands = bands;
	box->tile.stride = (size_t)width * (size_t)bands;
	if (tile_memory_get(&box->memory, box->tile.stride * (size_t)height) < 0) {
		free(box);
		return NULL;
	}
	box->tile.pixels = box->memory.bytes;
	box->refs = 1;
	return &box->tile;
}

void tile_cache_tile_free(struct tile_cache_tile *tile)
{
	if (!tile)
		return;
	struct tile_box *box = (struct tile_box *)tile;
	tile_memory_put(&box->memory);
	free(box);
}

static void tile_box_unref(struct tile_box *box)
{
	if (box && g_atomic_int_dec_and_test(&box->refs))
		tile_cache_tile_free(&box->tile);
}

static void tile_entry_free(gpointer p)
{
	struct tile_entry *e = p;
	tile_box_unref(e->box);
	free(e);
}

struct tile_cache *tile_cache_new(size_t max_bytes)
{
	struct tile_cache *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	g_mutex_init(&c->lock);
	g_cond_init(&c->decoded);
	c->entries = g_hash_table_new_full(tile_key_hash, tile_key_equal, NULL, tile_entry_free);
	c->max_bytes = max_bytes;
	return c;
}

void tile_cache_free(struct tile_cache *cache)
{
	if (!cache)
		return;
	g_hash_table_destroy(cache->entries);
	g_cond_clear(&cache->decoded);
	g_mutex_clear(&cache->lock);
	free(cache);
}

static void lru_unlink(struct tile_cache *c, struct tile_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else if (c->newest == e)
		c->newest = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else if (c->oldest == e)
		c->oldest = e->prev;
	e->prev = e->next = NULL;
}

static void lru_push_front(struct tile_cache *c, struct tile_entry *e)
{
	e->prev = NULL;
	e->next = c->newest;
	if (c->newest)
		c->newest->prev = e;
	c->newest = e;
	if (!c->oldest)
		c->oldest = e;
}

/* Drops the oldest decoded tiles until the cache fits its bound. Lock held. */
static void tile_cache_evict(struct tile_cache *c)
{
	while (c->bytes > c->max_bytes && c->oldest) {
		struct tile_entry *e = c->oldest;
		lru_unlink(c, e);
		c->bytes -= e->bytes;
		c->evictions++;
		g_hash_table_remove(c->entries, &e->key);
	}
}

/* A reader's reference to a decoded entry, marking it recently used. Lock held. */
static const struct tile_cache_tile *tile_cache_hit(struct tile_cache *c, struct tile_entry *e)
{
	lru_unlink(c, e);
	lru_push_front(c, e);
	c->hits++;
	g_atomic_int_inc(&e->box->refs);
	return &e->box->tile;
}

/* Publishes box under e (a pending or new entry). Lock held; takes the cache's reference. */
static void tile_cache_publish(struct tile_cache *c, struct tile_entry *e, struct tile_box *box)
{
	e->box = box;
	g_atomic_int_inc(&box->refs);
	e->bytes = box->memory.size + sizeof *e + sizeof *box + TILE_TABLE_BYTES;
	c->bytes += e->bytes;
	lru_push_front(c, e);
	tile_cache_evict(c);
}

const struct tile_cache_tile *tile_cache_get(struct tile_cache *cache,
					     const struct tile_cache_key *key)
{
	if (!cache)
		return NULL;
	const struct tile_cache_tile *t = NULL;
	g_mutex_lock(&cache->lock);
	struct tile_entry *e = g_hash_table_lookup(cache->entries, key);
	if (e && e->box)
		t = tile_cache_hit(cache, e);
	g_mutex_unlock(&cache->lock); /* a miss is counted by the fetch or put that follows */
	return t;
}

const struct tile_cache_tile *tile_cache_put(struct tile_cache *cache,
					     const struct tile_cache_key *key,
					     struct tile_cache_tile *tile)
{
	if (!tile)
		return NULL;
	struct tile_box *box = (struct tile_box *)tile;
	if (!cache || !cache->max_bytes)
		return tile;
	g_mutex_lock(&cache->lock);
	struct tile_entry *e = g_hash_table_lookup(cache->entries, key);
	const struct tile_cache_tile *out = tile;
	if (e && e->box) {
		out = tile_cache_hit(cache, e);
		tile_box_unref(box);
	} else if (!e) {
		e = calloc(1, sizeof *e);
		if (e) {
			e->key = *key;
			g_hash_table_insert(cache->entries, &e->key, e);
			tile_cache_publish(cache, e, box);
		}
	} /* else a fetch is decoding this key: hand back the tile uncached */
	g_mutex_unlock(&cache->lock);
	return out;
}

void tile_cache_release(struct tile_cache *cache, const struct tile_cache_tile *tile)
{
	(void)cache;
	if (tile)
		tile_box_unref((struct tile_box *)tile);
}

/* Decodes key with no cache involved. */
static const struct tile_cache_tile *tile_decode_uncached(const struct tile_cache_key *key,
							 tile_cache_decode_fn decode, void *user,
							 struct iiifd_error *err)
{
	struct tile_cache_tile *t = NULL;
	if (decode(user, key, &t, err) < 0) {
		tile_cache_tile_free(t);
		return NULL;
	}
	return t;
}

const struct tile_cache_tile *tile_cache_fetch(struct tile_cache *cache,
					       const struct tile_cache_key *key,
					       tile_cache_decode_fn decode, void *user,
					       struct iiifd_error *err)
{
	if (!cache || !cache->max_bytes)
		return tile_decode_uncached(key, decode, user, err);
	g_mutex_lock(&cache->lock);
	struct tile_entry *e;
	while ((e = g_hash_table_lookup(cache->entries, key)) && !e->box)
		g_cond_wait(&cache->decoded, &cache->lock); /* another thread decodes it */
	if (e) {
		const struct tile_cache_tile *t = tile_cache_hit(cache, e);
		g_mutex_unlock(&cache->lock);
		return t;
	}
	cache->misses++;
	e = calloc(1, sizeof *e);
	if (!e) {
		g_mutex_unlock(&cache->lock);
		return tile_decode_uncached(key, decode, user, err);
	}
	e->key = *key;
	g_hash_table_insert(cache->entries, &e->key, e);
	g_mutex_unlock(&cache->lock);

	const struct tile_cache_tile *t = tile_decode_uncached(key, decode, user, err);
	g_mutex_lock(&cache->lock);
	if (t)
		tile_cache_publish(cache, e, (struct tile_box *)t);
	else
		g_hash_table_remove(cache->entries, key); /* failures are not cached */
	g_cond_broadcast(&cache->decoded);
	g_mutex_unlock(&cache->lock);
	return t;
}

void tile_cache_get_stats(struct tile_cache *cache, struct tile_cache_stats *out)
{
	*out = (struct tile_cache_stats){ 0 };
	if (!cache)
		return;
	g_mutex_lock(&cache->lock);
	out->hits = cache->hits;
	out->misses = cache->misses;
	out->evictions = cache->evictions;
	out->bytes = cache->bytes;
	out->entries = g_hash_table_size(cache->entries);
	g_mutex_unlock(&cache->lock);
}
