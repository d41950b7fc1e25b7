/*
 * page_cache.c: one stamp (stat of the database and its WAL) per lookup; a stale stamp empties
 * the whole cache, since any commit may have touched any page.
 */
#include "annotation/page_cache.h"

#include <glib.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/metrics.h"
#include "db/db.h"

struct page_cache {
	pthread_mutex_t lock;
	char *db_path, *wal_path;
	struct db *store;  /* a shared store, whose own stamp is used; NULL for a file */
	char *stamp;       /* the database state the entries belong to */
	GHashTable *table; /* key -> text */
	size_t bytes, max_bytes;
};

static char *page_cache_stamp(const struct page_cache *c)
{
	char *shared = c->store ? db_stamp(c->store) : NULL;
	if (shared) {
		char *stamp = g_strdup(shared);
		free(shared);
		return stamp;
	}
	struct stat db = { 0 }, wal = { 0 };
	stat(c->db_path, &db);
	stat(c->wal_path, &wal);
	return g_strdup_printf("%lld.%ld|%lld|%lld.%ld|%lld", (long long)db.st_mtim.tv_sec,
			       db.st_mtim.tv_nsec, (long long)db.st_size,
			       (long long)wal.st_mtim.tv_sec, wal.st_mtim.tv_nsec,
			       (long long)wal.st_size);
}

struct page_cache *page_cache_new(const char *db_path, size_t max_bytes)
{
	struct page_cache *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	c->db_path = g_strdup(db_path);
	c->wal_path = g_strdup_printf("%s-wal", db_path);
	c->table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	c->max_bytes = max_bytes;
	return c;
}

void page_cache_use_store(struct page_cache *c, struct db *db)
{
	if (c)
		c->store = db;
}

void page_cache_free(struct page_cache *c)
{
	if (!c)
		return;
	g_hash_table_destroy(c->table);
	pthread_mutex_destroy(&c->lock);
	g_free(c->db_path);
	g_free(c->wal_path);
	g_free(c->stamp);
	free(c);
}

/* Empties the cache when the database changed; the caller holds the lock. */
static void page_cache_sync_locked(struct page_cache *c, char *stamp)
{
	if (c->stamp && strcmp(c->stamp, stamp) == 0) {
		g_free(stamp);
		return;
	}
	g_hash_table_remove_all(c->table);
	c->bytes = 0;
	g_free(c->stamp);
	c->stamp = stamp;
}

char *page_cache_get(struct page_cache *c, const char *key, char **stamp_out)
{
	char *stamp = page_cache_stamp(c), *text;
	*stamp_out = g_strdup(stamp);
	pthread_mutex_lock(&c->lock);
	page_cache_sync_locked(c, stamp);
	text = g_hash_table_lookup(c->table, key);
	char *copy = text ? strdup(text) : NULL;
	metrics_cache_size(METRICS_CACHE_ANNOTATION_PAGE, g_hash_table_size(c->table),
			   (int64_t)c->bytes);
	pthread_mutex_unlock(&c->lock);
	if (text)
		metrics_cache_hit(METRICS_CACHE_ANNOTATION_PAGE);
	else
		metrics_cache_miss(METRICS_CACHE_ANNOTATION_PAGE);
	return copy;
}

void page_cache_put(struct page_cache *c, const char *key, const char *text, const char *seen)
{
	char *stamp = page_cache_stamp(c);
	size_t n = strlen(text);
	if (strcmp(stamp, seen) != 0) {
		g_free(stamp); /* written to while the page was read: it may already be stale */
		return;
	}
	pthread_mutex_lock(&c->lock);
	page_cache_sync_locked(c, stamp);
	if (c->bytes + n > c->max_bytes) {
		g_hash_table_remove_all(c->table);
		c->bytes = 0;
	}
	if (n <= c->max_bytes && !g_hash_table_contains(c->table, key)) {
		g_hash_table_insert(c->table, g_strdup(key), g_strdup(text));
		c->bytes += n;
	}
	metrics_cache_size(METRICS_CACHE_ANNOTATION_PAGE, g_hash_table_size(c->table),
			   (int64_t)c->bytes);
	pthread_mutex_unlock(&c->lock);
}
