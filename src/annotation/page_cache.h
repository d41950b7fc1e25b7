/*
 * page_cache.h: serialised annotation documents (Canvas AnnotationPages) kept in memory while
 * the annotation database is unchanged. Change is seen through the database files themselves
 * (size and modification time of the database and its write-ahead log), so writes by any
 * process, the server or `iiifd import`, invalidate it.
 */
#ifndef IIIFD_ANNOTATION_PAGE_CACHE_H
#define IIIFD_ANNOTATION_PAGE_CACHE_H

#include <stddef.h>

struct page_cache;

struct db;

/*
 * db_path: the SQLite file; max_bytes: total text kept. Free with page_cache_free(). With a
 * shared store (db_stamp() not NULL: PostgreSQL) the state is the store's change counter
 * instead, so a write on any node invalidates every node's cache; db is borrowed.
 */
struct page_cache *page_cache_new(const char *db_path, size_t max_bytes);
void page_cache_use_store(struct page_cache *cache, struct db *db);
void page_cache_free(struct page_cache *cache);

/*
 * The text stored under key if the database has not changed since; malloc'd copy or NULL.
 * *stamp (g_free) receives the database state checked, to pass to page_cache_put().
 */
char *page_cache_get(struct page_cache *cache, const char *key, char **stamp);

/*
 * Stores text (copied) under key if the database is still in state stamp, the one seen before
 * the text was read from it (so a write in between never leaves a stale page behind).
 */
void page_cache_put(struct page_cache *cache, const char *key, const char *text,
		    const char *stamp);

#endif
