/*
 * root_remote.c: stats and listings of a remote root, remembered for `ttl` seconds. A stat is a
 * HEAD (a name that is no object is a folder when listing it finds something); a listing is
 * ListObjectsV2 one level deep, and what it says of its files is remembered as their stats too,
 * so a folder's files cost no HEAD once it has been listed. Both caches are bounded.
 */
#include "storage/root_internal.h"

#include <string.h>

#include "core/strings.h"

/* Beyond these, a cache is emptied (each entry is re-asked for once). */
#define ROOT_MAX_STATS 200000
#define ROOT_MAX_LISTED 400000

struct root_stat_entry {
	int status; /* 0, or the HTTP status of the failure remembered (404) */
	struct storage_stat st;
	gint64 expires; /* monotonic microseconds */
};

struct root_list_entry {
	struct storage_listing listing;
	gint64 expires;
};

static void root_list_entry_free(void *p)
{
	struct root_list_entry *e = p;
	storage_listing_release(&e->listing);
	g_free(e);
}

void root_remote_caches_init(struct storage_root *r)
{
	pthread_mutex_init(&r->lock, NULL);
	r->stats = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	r->listings = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, root_list_entry_free);
}

void root_remote_caches_free(struct storage_root *r)
{
	g_hash_table_destroy(r->stats);
	g_hash_table_destroy(r->listings);
	pthread_mutex_destroy(&r->lock);
}

void root_remote_identity(struct storage_stat *st, const char *name, const char *rel)
{
	st->dev = strings_hash(strings_hash(STRINGS_HASH_SEED, name), rel);
	st->ino = strings_hash(STRINGS_HASH_SEED, st->etag);
}

struct remote_stat root_remote_version(const struct storage_stat *st)
{
	struct remote_stat v = { .size = st->size, .modified = st->mtime.tv_sec };
	g_strlcpy(v.etag, st->etag, sizeof v.etag);
	return v;
}

/* ---- the caches (r->lock held) ----------------------------------------------------------- */

static void root_stat_remember_locked(struct storage_root *r, const char *rel, int status,
				      const struct storage_stat *st, gint64 now)
{
	if (r->ttl <= 0)
		return;
	if (g_hash_table_size(r->stats) >= ROOT_MAX_STATS)
		g_hash_table_remove_all(r->stats);
	struct root_stat_entry *e = g_new0(struct root_stat_entry, 1);
	e->status = status;
	if (st)
		e->st = *st;
	e->expires = now + (gint64)r->ttl * G_USEC_PER_SEC;
	g_hash_table_replace(r->stats, g_strdup(rel), e);
}

/* 1 with *st or *status filled when a fresh answer is remembered, else 0. */
static int root_stat_recall(struct storage_root *r, const char *rel, struct storage_stat *st,
			    int *status)
{
	if (r->ttl <= 0)
		return 0;
	pthread_mutex_lock(&r->lock);
	struct root_stat_entry *e = g_hash_table_lookup(r->stats, rel);
	bool fresh = e && e->expires > g_get_monotonic_time();
	if (fresh) {
		*st = e->st;
		*status = e->status;
	}
	pthread_mutex_unlock(&r->lock);
	return fresh;
}

static void root_listing_copy(const struct storage_listing *from, struct storage_listing *to)
{
	to->count = from->count;
	to->dropped = from->dropped;
	to->entries = g_new(struct storage_entry, from->count ? from->count : 1);
	for (size_t i = 0; i < from->count; i++) {
		to->entries[i] = from->entries[i];
		to->entries[i].name = g_strdup(from->entries[i].name);
	}
}

/* Keeps a copy of listing l of folder rel, and its files' stats. */
static void root_list_remember(struct storage_root *r, const char *rel,
			       const struct storage_listing *l)
{
	if (r->ttl <= 0 || l->count > ROOT_MAX_LISTED)
		return;
	gint64 now = g_get_monotonic_time();
	struct root_list_entry *e = g_new0(struct root_list_entry, 1);
	root_listing_copy(l, &e->listing);
	e->expires = now + (gint64)r->ttl * G_USEC_PER_SEC;
	pthread_mutex_lock(&r->lock);
	if (r->listed_entries + l->count > ROOT_MAX_LISTED) {
		g_hash_table_remove_all(r->listings);
		r->listed_entries = 0;
	}
	struct root_list_entry *old = g_hash_table_lookup(r->listings, rel);
	if (old)
		r->listed_entries -= old->listing.count;
	g_hash_table_replace(r->listings, g_strdup(rel), e);
	r->listed_entries += l->count;
	for (size_t i = 0; i < l->count; i++) {
		if (l->entries[i].st.is_dir)
			continue;
		char *file = g_strdup_printf("%s%s%s", rel, *rel ? "/" : "", l->entries[i].name);
		root_stat_remember_locked(r, file, 0, &l->entries[i].st, now);
		g_free(file);
	}
	pthread_mutex_unlock(&r->lock);
}

static bool root_list_recall(struct storage_root *r, const char *rel, struct storage_listing *out)
{
	if (r->ttl <= 0)
		return false;
	pthread_mutex_lock(&r->lock);
	struct root_list_entry *e = g_hash_table_lookup(r->listings, rel);
	bool fresh = e && e->expires > g_get_monotonic_time();
	if (fresh)
		root_listing_copy(&e->listing, out);
	pthread_mutex_unlock(&r->lock);
	return fresh;
}

void root_remote_forget(struct storage_root *r, const char *rel)
{
	char *dir = g_strdup(rel);
	char *slash = strrchr(dir, '/');
	if (slash)
		*slash = '\0';
	else
		*dir = '\0';
	pthread_mutex_lock(&r->lock);
	g_hash_table_remove(r->stats, rel);
	struct root_list_entry *e = g_hash_table_lookup(r->listings, dir);
	if (e) {
		r->listed_entries -= e->listing.count;
		g_hash_table_remove(r->listings, dir);
	}
	pthread_mutex_unlock(&r->lock);
	g_free(dir);
}

/* ---- asking the storage ------------------------------------------------------------------ */

/* The entry of object key o (relative to the store's prefix) below folder rel. */
static void root_entry_of_object(const struct storage_root *r, const struct s3_object *o,
				 const char *name, struct storage_stat *st)
{
	*st = (struct storage_stat){ .size = o->size, .mtime = { .tv_sec = o->modified } };
	g_strlcpy(st->etag, o->etag ? o->etag : "", sizeof st->etag);
	root_remote_identity(st, r->name, o->key);
}

/* Lists folder rel from the storage: names one segment below it, hidden ones left out. */
static int root_list_fetch(struct storage_root *r, const char *rel, struct storage_listing *out,
			   struct iiifd_error *err)
{
	char *prefix = *rel ? g_strconcat(rel, "/", NULL) : g_strdup("");
	struct s3_listing s3;
	int rc = remote_list(r->store, prefix, r->max_list, &s3, err);
	size_t cut = strlen(prefix), cap = s3.n_objects + s3.n_prefixes;
	g_free(prefix);
	if (rc < 0)
		return -1;
	out->entries = g_new(struct storage_entry, cap ? cap : 1);
	out->dropped = s3.dropped;
	for (size_t i = 0; i < s3.n_objects; i++) {
		const char *name = s3.objects[i].key + cut;
		if (name[0] == '.' || strchr(name, '/'))
			continue;
		struct storage_entry *e = &out->entries[out->count++];
		e->name = g_strdup(name);
		e->has_stat = true;
		root_entry_of_object(r, &s3.objects[i], name, &e->st);
	}
	for (size_t i = 0; i < s3.n_prefixes; i++) {
		const char *name = s3.prefixes[i] + cut;
		size_t n = strlen(name);
		if (name[0] == '.' || n < 2 || memchr(name, '/', n - 1))
			continue;
		out->entries[out->count++] = (struct storage_entry){
			.name = g_strndup(name, n - 1), .st = { .is_dir = true } };
	}
	s3_listing_release(&s3);
	return 0;
}

int root_remote_list(struct storage_root *r, const char *rel, struct storage_listing *out,
		     struct iiifd_error *err)
{
	memset(out, 0, sizeof *out);
	if (!r->listable)
		return iiifd_error_set(err, 501, "a plain HTTP origin cannot be listed");
	if (root_list_recall(r, rel, out))
		return 0;
	if (root_list_fetch(r, rel, out, err) < 0)
		return -1;
	if (*rel && out->count == 0) { /* a folder is a prefix of some object: none, no folder */
		storage_listing_release(out);
		return iiifd_error_set(err, 404, "no such folder");
	}
	root_list_remember(r, rel, out);
	return 0;
}

/* A HEAD of rel; a missing object may still be a folder, which a listing tells. */
static int root_stat_fetch(struct storage_root *r, const char *rel, struct storage_stat *st,
			   struct iiifd_error *err)
{
	struct remote_stat rs;
	struct iiifd_error why = { 0 };
	if (remote_stat(r->store, rel, &rs, &why) == 0) {
		*st = (struct storage_stat){ .size = rs.size, .mtime = { .tv_sec = rs.modified } };
		g_strlcpy(st->etag, rs.etag, sizeof st->etag);
		root_remote_identity(st, r->name, rel);
		return 0;
	}
	if (why.http_status != 404 || !r->listable) {
		*err = why;
		return -1;
	}
	struct storage_listing l;
	if (root_remote_list(r, rel, &l, err) < 0)
		return -1;
	storage_listing_release(&l);
	*st = (struct storage_stat){ .is_dir = true };
	return 0;
}

int root_remote_stat(struct storage_root *r, const char *rel, struct storage_stat *st,
		     struct iiifd_error *err)
{
	if (!*rel) {
		*st = (struct storage_stat){ .is_dir = true };
		return 0;
	}
	int status = 0;
	if (root_stat_recall(r, rel, st, &status))
		return status ? iiifd_error_set(err, status, "no such file") : 0;
	struct iiifd_error why = { 0 };
	int rc = root_stat_fetch(r, rel, st, &why);
	if (rc < 0 && err)
		*err = why;
	if (rc < 0 && why.http_status != 404)
		return -1; /* a failure of the storage is not remembered */
	pthread_mutex_lock(&r->lock);
	root_stat_remember_locked(r, rel, rc < 0 ? 404 : 0, rc < 0 ? NULL : st,
				  g_get_monotonic_time());
	pthread_mutex_unlock(&r->lock);
	return rc;
}
