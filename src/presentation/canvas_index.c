/*
 * canvas_index.c: walks a Manifest's files as manifest.c does (same listing) and counts their
 * Canvases with the same rule (pres_file_canvases), so Canvas numbers agree.
 */
#include "presentation/canvas_index.h"

#include <glib.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <dirent.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "core/metrics.h"
#include "core/sibling_index.h"
#include "presentation/canvas.h"
#include "presentation/tree.h"
#include "storage/root.h"

static int index_push(struct pres_canvas_index *idx, const char *file, int page, int64_t w,
		      int64_t h, double duration)
{
	struct pres_canvas_ref *items = realloc(idx->items, sizeof *items * (idx->count + 1));
	if (!items)
		return -1;
	idx->items = items;
	items[idx->count] = (struct pres_canvas_ref){ strdup(file), page, w, h, duration };
	idx->count++;
	return 0;
}

static void index_add_file(const struct pres_context *c, struct pres_canvas_index *idx,
			   const char *rel, enum tree_kind kind)
{
	struct iiifd_error err = { 0 };
	struct pres_canvas_spec *specs;
	char *abs = g_build_filename(c->root_real, rel, NULL);
	size_t n = pres_file_canvases(c, abs, kind, &specs, &err);
	for (size_t i = 0; i < n; i++)
		index_push(idx, rel, specs[i].page, specs[i].width, specs[i].height,
			   kind == TREE_MEDIA ? specs[i].media.duration : 0);
	g_free(specs);
	g_free(abs);
}

/* ---- reuse across requests --------------------------------------------------------------- */

struct index_entry {
	struct pres_canvas_index idx;
	struct timespec folder_mtime;
	gint64 built_us;
};

struct pres_index_cache {
	pthread_mutex_t lock;
	GHashTable *table; /* "base|rel" -> entry */
};

static void index_copy(struct pres_canvas_index *dst, const struct pres_canvas_index *src)
{
	dst->manifest_id = g_strdup(src->manifest_id);
	dst->count = src->count;
	dst->items = malloc(sizeof *dst->items * (src->count ? src->count : 1));
	for (size_t i = 0; i < src->count; i++) {
		dst->items[i] = src->items[i];
		dst->items[i].file = strdup(src->items[i].file);
	}
}

static void index_entry_free(gpointer p)
{
	struct index_entry *e = p;
	pres_canvas_index_release(&e->idx);
	free(e);
}

struct pres_index_cache *pres_index_cache_new(void)
{
	struct pres_index_cache *cache = calloc(1, sizeof *cache);
	if (!cache)
		return NULL;
	pthread_mutex_init(&cache->lock, NULL);
	cache->table = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, index_entry_free);
	return cache;
}

void pres_index_cache_free(struct pres_index_cache *cache)
{
	if (!cache)
		return;
	g_hash_table_destroy(cache->table);
	pthread_mutex_destroy(&cache->lock);
	free(cache);
}

/* The folder whose modification time tells whether the Manifest rel may have changed. */
static bool index_folder_mtime(const struct pres_context *c, const char *rel, bool is_folder,
			       struct timespec *out)
{
	char *folder = is_folder ? g_strdup(rel) : g_path_get_dirname(rel);
	char *abs = g_build_filename(c->root_real, strcmp(folder, ".") == 0 ? "" : folder, NULL);
	struct storage_stat st; /* a remote folder has no time: entries then last PRES_INDEX_TTL */
	bool ok = storage_stat(abs, &st, NULL) == 0;
	if (ok)
		*out = st.mtime;
	g_free(abs);
	g_free(folder);
	return ok;
}

static bool index_lookup(const struct pres_context *c, const char *key,
			 const struct timespec *mtime, struct pres_canvas_index *out)
{
	pthread_mutex_lock(&c->indexes->lock);
	struct index_entry *e = g_hash_table_lookup(c->indexes->table, key);
	bool fresh = e && e->folder_mtime.tv_sec == mtime->tv_sec &&
		     e->folder_mtime.tv_nsec == mtime->tv_nsec &&
		     g_get_monotonic_time() - e->built_us < PRES_INDEX_TTL * G_USEC_PER_SEC;
	if (fresh)
		index_copy(out, &e->idx);
	pthread_mutex_unlock(&c->indexes->lock);
	if (fresh)
		metrics_cache_hit(METRICS_CACHE_CANVAS_INDEX);
	else
		metrics_cache_miss(METRICS_CACHE_CANVAS_INDEX);
	return fresh;
}

static void index_store(const struct pres_context *c, const char *key,
			const struct timespec *mtime, const struct pres_canvas_index *idx)
{
	struct index_entry *e = calloc(1, sizeof *e);
	if (!e)
		return;
	index_copy(&e->idx, idx);
	e->folder_mtime = *mtime;
	e->built_us = g_get_monotonic_time();
	pthread_mutex_lock(&c->indexes->lock);
	if (g_hash_table_size(c->indexes->table) > 4096)
		g_hash_table_remove_all(c->indexes->table);
	g_hash_table_replace(c->indexes->table, g_strdup(key), e);
	metrics_cache_size(METRICS_CACHE_CANVAS_INDEX, g_hash_table_size(c->indexes->table), -1);
	pthread_mutex_unlock(&c->indexes->lock);
}

static int index_build(const struct pres_context *c, const char *rel, bool is_folder,
		       struct pres_canvas_index *out, struct iiifd_error *err);

int pres_canvas_index_build(const struct pres_context *c, const char *rel, bool is_folder,
			    struct pres_canvas_index *out, struct iiifd_error *err)
{
	struct timespec mtime;
	memset(out, 0, sizeof *out);
	if (!c->indexes || !index_folder_mtime(c, rel, is_folder, &mtime))
		return index_build(c, rel, is_folder, out, err);
	char *key = g_strdup_printf("%s|%s|%d", c->base, rel, (int)is_folder);
	int rc = 0;
	if (!index_lookup(c, key, &mtime, out)) {
		rc = index_build(c, rel, is_folder, out, err);
		if (rc == 0)
			index_store(c, key, &mtime, out);
	}
	g_free(key);
	return rc;
}

static int index_build(const struct pres_context *c, const char *rel, bool is_folder,
		       struct pres_canvas_index *out, struct iiifd_error *err)
{
	memset(out, 0, sizeof *out);
	if (!is_folder) {
		index_add_file(c, out, rel, tree_classify(rel));
	} else {
		struct tree_listing l;
		char *abs = g_build_filename(c->root_real, rel, NULL);
		int rc = tree_list(c->root_real, abs, &l, err);
		g_free(abs);
		if (rc < 0)
			return -1;
		for (size_t i = 0; !l.has_subfolders && i < l.count; i++) {
			char *frel = pres_join(rel, l.entries[i].name);
			index_add_file(c, out, frel, l.entries[i].kind);
			g_free(frel);
		}
		tree_listing_release(&l);
	}
	if (out->count == 0)
		return iiifd_error_set(err, 404, "no Manifest with Canvases here");
	out->manifest_id = pres_url_manifest(c, rel);
	return 0;
}

void pres_canvas_index_release(struct pres_canvas_index *idx)
{
	for (size_t i = 0; i < idx->count; i++)
		free(idx->items[i].file);
	free(idx->items);
	g_free(idx->manifest_id);
	memset(idx, 0, sizeof *idx);
}

size_t pres_canvas_index_find(const struct pres_canvas_index *idx, const char *file, int page)
{
	for (size_t i = 0; i < idx->count; i++)
		if (idx->items[i].page == page && strcmp(idx->items[i].file, file) == 0)
			return i + 1;
	return 0;
}

/*
 * Whether a local folder is a Collection (has a sub-folder with content), remembered while the
 * folder's mtime and its direct sub-folders' mtimes stay the same (a sub-folder counts by what
 * it holds: tree.c looks one level down; adding or removing an entry changes a folder's mtime).
 * An import of a thousand pages of one book would otherwise list and sort the book's folder
 * once per page. Bounded: cleared when full. Folders in object storage are not kept here
 * (storage/root.c caches their listings).
 */
#define FOLDER_KIND_MAX 4096

struct folder_kind {
	struct timespec mtime;
	bool collection;
	GPtrArray *subfolders;  /* absolute paths */
	GArray *sub_mtimes;     /* struct timespec, one per sub-folder */
};

static pthread_mutex_t folder_kinds_lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *folder_kinds; /* absolute folder path -> struct folder_kind */

static void folder_kind_free(gpointer p)
{
	struct folder_kind *k = p;
	g_ptr_array_unref(k->subfolders);
	g_array_unref(k->sub_mtimes);
	g_free(k);
}

static bool same_time(struct timespec a, struct timespec b)
{
	return a.tv_sec == b.tv_sec && a.tv_nsec == b.tv_nsec;
}

/* Whether what k was made from is unchanged (k's folder has mtime now). */
static bool folder_kind_fresh(const struct folder_kind *k, struct timespec now)
{
	if (!same_time(k->mtime, now))
		return false;
	for (guint i = 0; i < k->subfolders->len; i++) {
		struct stat st;
		if (stat(g_ptr_array_index(k->subfolders, i), &st) < 0 ||
		    !same_time(st.st_mtim, g_array_index(k->sub_mtimes, struct timespec, i)))
			return false;
	}
	return true;
}

static bool folder_kind_known(const char *abs, const struct stat *st, bool *collection)
{
	pthread_mutex_lock(&folder_kinds_lock);
	const struct folder_kind *k = folder_kinds ? g_hash_table_lookup(folder_kinds, abs) : NULL;
	bool known = k && folder_kind_fresh(k, st->st_mtim);
	if (known)
		*collection = k->collection;
	pthread_mutex_unlock(&folder_kinds_lock);
	return known;
}

/*
 * The sub-folders of abs with their mtimes, as they are before it is listed; NULL if unreadable
 * or changed too recently to be told apart from a next change.
 */
static struct folder_kind *folder_kind_stamp(const char *abs, const struct stat *st)
{
	DIR *d = opendir(abs);
	if (!d)
		return NULL;
	struct folder_kind *k = g_new0(struct folder_kind, 1);
	k->mtime = st->st_mtim;
	bool all_settled = mtime_settled(st->st_mtim);
	k->subfolders = g_ptr_array_new_with_free_func(g_free);
	k->sub_mtimes = g_array_new(FALSE, FALSE, sizeof(struct timespec));
	for (struct dirent *e; (e = readdir(d));) {
		struct stat sub;
		if (e->d_name[0] == '.' || e->d_type == DT_REG)
			continue;
		char *path = g_build_filename(abs, e->d_name, NULL);
		if (stat(path, &sub) == 0 && S_ISDIR(sub.st_mode)) {
			g_ptr_array_add(k->subfolders, path);
			g_array_append_val(k->sub_mtimes, sub.st_mtim);
			all_settled = all_settled && mtime_settled(sub.st_mtim);
		} else {
			g_free(path);
		}
	}
	closedir(d);
	if (!all_settled) {
		folder_kind_free(k);
		return NULL;
	}
	return k;
}

static void folder_kind_remember(const char *abs, struct folder_kind *k)
{
	pthread_mutex_lock(&folder_kinds_lock);
	if (!folder_kinds)
		folder_kinds = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
						     folder_kind_free);
	if (g_hash_table_size(folder_kinds) >= FOLDER_KIND_MAX)
		g_hash_table_remove_all(folder_kinds);
	g_hash_table_replace(folder_kinds, g_strdup(abs), k);
	pthread_mutex_unlock(&folder_kinds_lock);
}

/* Whether the folder abs (below root_real) is a Collection; unreadable ones are. */
static bool folder_is_collection(const char *root_real, const char *abs)
{
	struct stat st;
	bool local = !storage_root_of(root_real) && stat(abs, &st) == 0;
	bool collection;
	if (local && folder_kind_known(abs, &st, &collection))
		return collection;
	struct folder_kind *stamp = local ? folder_kind_stamp(abs, &st) : NULL;
	struct tree_listing l;
	struct iiifd_error err = { 0 };
	collection = tree_list(root_real, abs, &l, &err) < 0 || l.has_subfolders;
	if (err.http_status == 0)
		tree_listing_release(&l);
	if (stamp && err.http_status == 0) {
		stamp->collection = collection;
		folder_kind_remember(abs, stamp);
	} else if (stamp) {
		folder_kind_free(stamp);
	}
	return collection;
}

char *pres_manifest_of_file(const char *root_real, const char *file, bool *is_folder)
{
	char *folder = g_path_get_dirname(file);
	if (strcmp(folder, ".") == 0) {
		g_free(folder);
		*is_folder = false; /* files in the root Collection are Manifests of their own */
		return g_strdup(file);
	}
	char *abs = g_build_filename(root_real, folder, NULL);
	bool collection = folder_is_collection(root_real, abs);
	g_free(abs);
	*is_folder = !collection;
	if (collection) {
		g_free(folder);
		return g_strdup(file);
	}
	return folder;
}
