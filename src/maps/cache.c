/*
 * cache.c: one hash table under one mutex; entries own deep copies of the georeferencing.
 */
#include "maps/cache.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#include "storage/root.h"

struct maps_cache_entry {
	char *version;
	struct maps_georef g;
};

static GMutex maps_cache_lock;
static GHashTable *maps_cache; /* path -> struct maps_cache_entry */
static size_t maps_cache_gcps;  /* GCPs held */

char *maps_cache_version(const char *path)
{
	struct storage_stat st; /* an object of a remote root: ino is a hash of its ETag */
	if (storage_stat(path, &st, NULL) < 0)
		return NULL;
	return g_strdup_printf("%lld:%lld.%09ld:%llu", (long long)st.size,
			       (long long)st.mtime.tv_sec, st.mtime.tv_nsec,
			       (unsigned long long)st.ino);
}

/* A deep copy of src into dst (initialised); false when out of memory (dst left empty). */
static bool maps_copy(const struct maps_georef *src, struct maps_georef *dst)
{
	*dst = *src;
	dst->gcps = NULL;
	dst->mask = NULL;
	if (src->count && !(dst->gcps = g_memdup2(src->gcps, src->count * sizeof *src->gcps)))
		goto fail;
	if (src->mask && !(dst->mask = g_memdup2(src->mask, 2 * src->mask_points * sizeof *src->mask)))
		goto fail;
	return true;
fail:
	g_free(dst->gcps);
	maps_georef_init(dst);
	return false;
}

static void maps_cache_entry_free(gpointer p)
{
	struct maps_cache_entry *e = p;
	g_free(e->version);
	g_free(e->g.gcps);
	g_free(e->g.mask);
	g_free(e);
}

bool maps_cache_get(const char *path, const char *version, struct maps_georef *g)
{
	if (!version)
		return false;
	g_mutex_lock(&maps_cache_lock);
	const struct maps_cache_entry *e = maps_cache ? g_hash_table_lookup(maps_cache, path) : NULL;
	bool hit = e && !strcmp(e->version, version) && maps_copy(&e->g, g);
	g_mutex_unlock(&maps_cache_lock);
	return hit;
}

void maps_cache_put(const char *path, const char *version, const struct maps_georef *g)
{
	if (!version)
		return;
	struct maps_cache_entry *e = g_new0(struct maps_cache_entry, 1);
	if (!maps_copy(g, &e->g)) {
		g_free(e);
		return;
	}
	e->version = g_strdup(version);
	g_mutex_lock(&maps_cache_lock);
	if (!maps_cache)
		maps_cache = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						   maps_cache_entry_free);
	const struct maps_cache_entry *old = g_hash_table_lookup(maps_cache, path);
	if (old)
		maps_cache_gcps -= old->g.count;
	if (g_hash_table_size(maps_cache) >= MAPS_CACHE_MAX_FILES ||
	    maps_cache_gcps + g->count > MAPS_CACHE_MAX_GCPS) {
		g_hash_table_remove_all(maps_cache);
		maps_cache_gcps = 0;
	}
	g_hash_table_replace(maps_cache, g_strdup(path), e);
	maps_cache_gcps += g->count;
	g_mutex_unlock(&maps_cache_lock);
}
