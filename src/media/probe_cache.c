/*
 * probe_cache.c: a mutex-guarded hash table of plain values; results are copied out, so no entry
 * outlives a lookup and there is nothing to reference-count.
 */
#include "media/probe_cache.h"

#include <glib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/metrics.h"
#include "storage/root.h"

struct probe_entry {
	struct storage_stat version; /* of the file probed: mtime, size (and ETag, remote) */
	struct media_info info;
};

struct media_probe_cache {
	pthread_mutex_t lock;
	GHashTable *table; /* path (owned) -> entry (owned) */
	size_t capacity;
};

struct media_probe_cache *media_probe_cache_new(size_t capacity)
{
	struct media_probe_cache *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->table = g_hash_table_new_full(g_str_hash, g_str_equal, free, free);
	c->capacity = capacity ? capacity : 1;
	return c;
}

void media_probe_cache_free(struct media_probe_cache *c)
{
	if (!c)
		return;
	g_hash_table_destroy(c->table);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static bool probe_entry_fresh(const struct probe_entry *e, const struct storage_stat *st)
{
	return e && storage_stat_same(&e->version, st);
}

int media_probe_cached(struct media_probe_cache *c, const char *path, struct media_info *out,
		       struct iiifd_error *err)
{
	struct storage_stat st; /* a remote object: cached by storage/root.c for its TTL */
	if (storage_stat(path, &st, NULL) < 0 || st.is_dir)
		return iiifd_error_set(err, 404, "no such media file");
	pthread_mutex_lock(&c->lock);
	struct probe_entry *e = g_hash_table_lookup(c->table, path);
	bool hit = probe_entry_fresh(e, &st);
	if (hit)
		*out = e->info;
	pthread_mutex_unlock(&c->lock);
	if (hit) {
		metrics_cache_hit(METRICS_CACHE_MEDIA_PROBE);
		return 0;
	}
	metrics_cache_miss(METRICS_CACHE_MEDIA_PROBE);
	if (media_probe(path, out, err) < 0)
		return -1;
	struct probe_entry *fresh = malloc(sizeof *fresh);
	char *key = strdup(path);
	if (!fresh || !key) {
		free(fresh);
		free(key);
		return 0; /* the probe worked; only remembering it failed */
	}
	fresh->version = st;
	fresh->info = *out;
	pthread_mutex_lock(&c->lock);
	if (g_hash_table_size(c->table) >= c->capacity)
		g_hash_table_remove_all(c->table);
	g_hash_table_replace(c->table, key, fresh);
	metrics_cache_size(METRICS_CACHE_MEDIA_PROBE, g_hash_table_size(c->table), -1);
	pthread_mutex_unlock(&c->lock);
	return 0;
}
