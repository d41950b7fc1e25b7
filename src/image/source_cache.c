/*
 * source_cache.c: a mutex-guarded hash table plus LRU queue of reference-counted entries. An entry
 * evicted while a request still holds it is freed by that request's put().
 */
#include "image/source_cache.h"

#include <glib.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/metrics.h"

struct source_entry {
	struct image_source src; /* first, so a source pointer is its entry */
	char *key;               /* "page|path" */
	int refs;                /* holders; the table holds one while the entry is in it */
	GList link;              /* in lru; head = most recently used */
};

struct image_source_cache {
	pthread_mutex_t lock;
	GHashTable *table; /* key -> entry */
	GQueue lru;
	size_t capacity;
};

static void entry_unref_locked(struct source_entry *e)
{
	if (--e->refs > 0)
		return;
	image_source_release(&e->src);
	free(e->key);
	free(e);
}

static void cache_remove_locked(struct image_source_cache *c, struct source_entry *e)
{
	g_hash_table_remove(c->table, e->key);
	g_queue_unlink(&c->lru, &e->link);
	entry_unref_locked(e);
	metrics_cache_size(METRICS_CACHE_SOURCE, (int64_t)c->lru.length, -1);
}

struct image_source_cache *image_source_cache_new(size_t capacity)
{
	struct image_source_cache *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->table = g_hash_table_new(g_str_hash, g_str_equal);
	g_queue_init(&c->lru);
	c->capacity = capacity;
	return c;
}

void image_source_cache_free(struct image_source_cache *c)
{
	if (!c)
		return;
	while (c->lru.head)
		cache_remove_locked(c, c->lru.head->data);
	g_hash_table_destroy(c->table);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static struct source_entry *cache_lookup_locked(struct image_source_cache *c, const char *key,
						const struct storage_stat *st)
{
	struct source_entry *e = g_hash_table_lookup(c->table, key);
	if (!e)
		return NULL;
	if (!storage_stat_same(&e->src.file, st)) {
		cache_remove_locked(c, e); /* the file changed: probe again */
		return NULL;
	}
	g_queue_unlink(&c->lru, &e->link);
	g_queue_push_head_link(&c->lru, &e->link);
	e->refs++;
	return e;
}

static void cache_insert_locked(struct image_source_cache *c, struct source_entry *e)
{
	struct source_entry *old = g_hash_table_lookup(c->table, e->key);
	if (old)
		cache_remove_locked(c, old); /* another thread probed the same file meanwhile */
	e->refs++;
	g_hash_table_insert(c->table, e->key, e);
	g_queue_push_head_link(&c->lru, &e->link);
	while (c->lru.length > c->capacity)
		cache_remove_locked(c, c->lru.tail->data);
	metrics_cache_size(METRICS_CACHE_SOURCE, (int64_t)c->lru.length, -1);
}

static struct source_entry *cache_probe(const char *path, int page, const char *key,
					struct iiifd_error *err)
{
	struct source_entry *e = calloc(1, sizeof *e);
	if (!e) {
		iiifd_error_set(err, 500, "out of memory");
		return NULL;
	}
	if (image_source_open(path, page, &e->src, err) < 0) {
		free(e);
		return NULL;
	}
	e->key = strdup(key);
	e->refs = 1;
	e->link.data = e;
	return e;
}

/*
 * Stats path (storage_stat: a remote object's stat is remembered for storage-ttl), or takes
 * known (a stat the caller has just made) when not NULL, and looks its key up: 0 with *found
 * (NULL on a miss), or -1 with err when there is no file.
 */
static int cache_find(struct image_source_cache *c, const char *path, int page,
		      const struct storage_stat *known, struct storage_stat *st, char *key,
		      size_t keylen, struct source_entry **found, struct iiifd_error *err)
{
	*found = NULL;
	if (known)
		*st = *known;
	else if (storage_stat(path, st, err) < 0)
		return -1;
	if (st->is_dir)
		return iiifd_error_set(err, 404, "no image with that identifier");
	if ((size_t)snprintf(key, keylen, "%d|%s", page, path) >= keylen)
		return iiifd_error_set(err, 404, "no image with that identifier");
	pthread_mutex_lock(&c->lock);
	*found = cache_lookup_locked(c, key, st);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

const struct image_source *image_source_cache_peek_known(struct image_source_cache *c,
							 const char *path, int page,
							 const struct storage_stat *known)
{
	struct storage_stat st;
	char key[4200];
	struct source_entry *e;
	return cache_find(c, path, page, known, &st, key, sizeof key, &e, NULL) == 0 && e
		       ? &e->src
		       : NULL;
}

const struct image_source *image_source_cache_peek(struct image_source_cache *c,
						   const char *path, int page)
{
	return image_source_cache_peek_known(c, path, page, NULL);
}

const struct image_source *image_source_cache_get(struct image_source_cache *c,
						  const char *path, int page,
						  struct iiifd_error *err)
{
	return image_source_cache_get_known(c, path, page, NULL, err);
}

const struct image_source *image_source_cache_get_known(struct image_source_cache *c,
							const char *path, int page,
							const struct storage_stat *known,
							struct iiifd_error *err)
{
	struct storage_stat st;
	char key[4200];
	struct source_entry *e;
	struct iiifd_error why = { 0 };
	if (cache_find(c, path, page, known, &st, key, sizeof key, &e, &why) < 0) {
		/* a failing storage says so; anything else is an unknown identifier */
		bool storage = why.http_status >= 500 || why.http_status == 409;
		iiifd_error_set(err, storage ? why.http_status : 404, "%s",
				storage ? why.msg : "no image with that identifier");
		return NULL;
	}
	if (e) {
		metrics_cache_hit(METRICS_CACHE_SOURCE);
		return &e->src;
	}
	metrics_cache_miss(METRICS_CACHE_SOURCE);
	/* probe outside the lock: it reads the file */
	e = cache_probe(path, page, key, err);
	if (!e)
		return NULL;
	if (!e->key) {
		image_source_cache_put(c, &e->src);
		iiifd_error_set(err, 500, "out of memory");
		return NULL;
	}
	if (c->capacity > 0) {
		pthread_mutex_lock(&c->lock);
		cache_insert_locked(c, e);
		pthread_mutex_unlock(&c->lock);
	}
	return &e->src;
}

void image_source_cache_put(struct image_source_cache *c, const struct image_source *src)
{
	if (!src)
		return;
	struct source_entry *e = (struct source_entry *)src;
	pthread_mutex_lock(&c->lock);
	entry_unref_locked(e);
	pthread_mutex_unlock(&c->lock);
}
