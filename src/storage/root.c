/*
 * root.c: storage roots, the table that finds a location's root, name resolution, and the local
 * side of stat, listing and whole-file reads (root_remote.c does the remote side, root_file.c
 * the ranged reads). See root.h.
 */
#include "storage/root_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/config.h"
#include "core/path.h"

/* ---- the table of open roots ------------------------------------------------------------- */

static pthread_mutex_t root_table_lock = PTHREAD_MUTEX_INITIALIZER;
static GPtrArray *root_table; /* struct storage_root * (not owned), in opening order */

static void root_table_add(struct storage_root *r)
{
	pthread_mutex_lock(&root_table_lock);
	if (!root_table)
		root_table = g_ptr_array_new();
	g_ptr_array_add(root_table, r);
	pthread_mutex_unlock(&root_table_lock);
}

static void root_table_remove(struct storage_root *r)
{
	pthread_mutex_lock(&root_table_lock);
	if (root_table)
		g_ptr_array_remove(root_table, r);
	pthread_mutex_unlock(&root_table_lock);
}

/* Whether location is name itself or below it. */
static bool root_covers(const char *name, const char *location)
{
	size_t n = strlen(name);
	if (strcmp(name, "/") == 0)
		return location[0] == '/';
	return strncmp(location, name, n) == 0 && (location[n] == '/' || location[n] == '\0');
}

/* The root of location: a remote one for a remote location, else the local one with the
 * longest name (nested roots: the innermost). NULL when none covers it. */
static struct storage_root *root_find(const char *location, bool remote)
{
	struct storage_root *best = NULL;
	pthread_mutex_lock(&root_table_lock);
	for (guint i = 0; root_table && i < root_table->len; i++) {
		struct storage_root *r = root_table->pdata[i];
		if (r->remote == remote && root_covers(r->name, location) &&
		    (!best || strlen(r->name) > strlen(best->name)))
			best = r;
	}
	pthread_mutex_unlock(&root_table_lock);
	return best;
}

struct storage_root *storage_root_of(const char *location)
{
	return storage_spec_is_remote(location) ? root_find(location, true) : NULL;
}

void storage_metrics_append(GString *out)
{
	static const char *const help[] = {
		"# HELP iiifd_storage_requests_total HTTP requests to object storage (GET, HEAD, listings)\n"
		"# TYPE iiifd_storage_requests_total counter\n",
		"# HELP iiifd_storage_bytes_total body bytes received from object storage\n"
		"# TYPE iiifd_storage_bytes_total counter\n",
		"# HELP iiifd_storage_blocks_total blocks of objects read from the block cache or fetched\n"
		"# TYPE iiifd_storage_blocks_total counter\n",
	};
	GString *parts[3] = { g_string_new(NULL), g_string_new(NULL), g_string_new(NULL) };
	pthread_mutex_lock(&root_table_lock);
	for (guint i = 0; root_table && i < root_table->len; i++) {
		struct storage_root *r = root_table->pdata[i];
		if (!r->remote)
			continue;
		struct remote_counters c = remote_store_counters(r->store);
		g_string_append_printf(parts[0], "iiifd_storage_requests_total{root=\"%s\"} %" G_GUINT64_FORMAT "\n",
				       r->name, c.requests);
		g_string_append_printf(parts[1], "iiifd_storage_bytes_total{root=\"%s\"} %" G_GUINT64_FORMAT "\n",
				       r->name, c.bytes);
		g_string_append_printf(parts[2],
				       "iiifd_storage_blocks_total{root=\"%s\",result=\"hit\"} %" G_GUINT64_FORMAT "\n"
				       "iiifd_storage_blocks_total{root=\"%s\",result=\"fetched\"} %" G_GUINT64_FORMAT "\n",
				       r->name, c.block_hits, r->name, c.block_reads);
	}
	pthread_mutex_unlock(&root_table_lock);
	for (int i = 0; i < 3; i++) {
		if (parts[i]->len)
			g_string_append_printf(out, "%s%s", help[i], parts[i]->str);
		g_string_free(parts[i], TRUE);
	}
}

/* ---- opening ----------------------------------------------------------------------------- */

bool storage_spec_is_remote(const char *spec)
{
	return !strncmp(spec, "s3://", 5) || !strncmp(spec, "http://", 7) ||
	       !strncmp(spec, "https://", 8);
}

static char *opt_or_null(const char *s)
{
	return s && *s ? g_strdup(s) : NULL;
}

/* "s3://bucket/prefix" or "https://host/path", without a trailing '/'. */
static char *root_remote_name(const struct s3_config *c)
{
	GString *name = g_string_new(NULL);
	if (c->bucket)
		g_string_append_printf(name, "s3://%s", c->bucket);
	else
		g_string_append(name, c->endpoint);
	if (c->prefix && *c->prefix)
		g_string_append_printf(name, "/%.*s", (int)strlen(c->prefix) - 1, c->prefix);
	return g_string_free(name, FALSE);
}

static int root_open_remote(struct storage_root *r, const char *spec,
			    const struct storage_options *opt, struct iiifd_error *err)
{
	struct storage_options none = { 0 };
	opt = opt ? opt : &none;
	struct s3_config c = {
		.endpoint = opt_or_null(opt->endpoint),
		.region = opt_or_null(opt->region),
		.access_key = opt_or_null(opt->access_key),
		.secret_key = opt_or_null(opt->secret_key),
		.session_token = opt_or_null(opt->session_token),
	};
	curl_global_init(CURL_GLOBAL_DEFAULT); /* here, at start: it is not thread-safe */
	int rc = strncmp(spec, "s3://", 5) ? s3_config_from_origin(spec, &c, err)
					    : s3_config_from_uri(spec, &c, err);
	if (!rc)
		rc = remote_store_open(&c, opt->block_size, opt->cache_bytes, &r->store, err);
	if (!rc) {
		r->remote = true;
		r->listable = c.bucket != NULL;
		r->name = root_remote_name(&c);
		r->ttl = opt->ttl > 0 ? opt->ttl : 0;
		r->max_list = opt->max_list ? opt->max_list : 100000;
		root_remote_caches_init(r);
	}
	s3_config_release(&c);
	return rc;
}

int storage_root_open(const char *spec, const struct storage_options *opt,
		      struct storage_root **out, struct iiifd_error *err)
{
	*out = NULL;
	struct storage_root *r = g_new0(struct storage_root, 1);
	if (storage_spec_is_remote(spec)) {
		if (root_open_remote(r, spec, opt, err) < 0) {
			g_free(r);
			return -1;
		}
	} else {
		char real[PATH_MAX];
		struct stat st;
		if (!realpath(spec, real) || stat(real, &st) < 0 || !S_ISDIR(st.st_mode)) {
			g_free(r);
			return iiifd_error_set(err, 404, "root '%.200s' is not a readable folder",
					       spec);
		}
		r->name = g_strdup(real);
	}
	root_table_add(r);
	*out = r;
	return 0;
}

int storage_root_open_config(const struct iiifd_config *cfg, struct storage_root **out,
			     struct iiifd_error *err)
{
	struct storage_options opt = {
		.endpoint = cfg->s3_endpoint,
		.region = cfg->s3_region,
		.access_key = cfg->s3_access_key,
		.secret_key = cfg->s3_secret_key,
		.session_token = cfg->s3_session_token,
		.block_size = (size_t)cfg->storage_block_kb << 10,
		.cache_bytes = (size_t)cfg->storage_cache_mb << 20,
		.ttl = cfg->storage_ttl,
	};
	return storage_root_open(cfg->root, &opt, out, err);
}

void storage_root_close(struct storage_root *r)
{
	if (!r)
		return;
	root_table_remove(r);
	if (r->remote) {
		root_remote_caches_free(r);
		remote_store_close(r->store);
	}
	g_free(r->name);
	g_free(r);
}

const char *storage_root_name(const struct storage_root *r)
{
	return r->name;
}

bool storage_root_is_remote(const struct storage_root *r)
{
	return r->remote;
}

struct remote_store *storage_root_store(const struct storage_root *r)
{
	return r->remote ? r->store : NULL;
}

/* ---- names ------------------------------------------------------------------------------- */

char *storage_root_location(const struct storage_root *r, const char *rel)
{
	if (!*rel)
		return strdup(r->name);
	if (!path_identifier_valid(rel))
		return NULL;
	char *loc = NULL;
	bool slash = strcmp(r->name, "/") != 0;
	return asprintf(&loc, "%s%s%s", r->name, slash ? "/" : "", rel) < 0 ? NULL : loc;
}

const char *storage_root_rel(const struct storage_root *r, const char *location)
{
	if (!root_covers(r->name, location))
		return NULL;
	const char *rest = location + (strcmp(r->name, "/") ? strlen(r->name) : 0);
	return rest + (*rest == '/');
}

/* The remote root of location and the path below it (checked), or NULL with a 404. */
static struct storage_root *root_remote_split(const char *location, const char **rel,
					      struct iiifd_error *err)
{
	struct storage_root *r = root_find(location, true);
	*rel = r ? storage_root_rel(r, location) : NULL;
	if (!r || (**rel && !path_identifier_valid(*rel))) {
		iiifd_error_set(err, 404, "no such file");
		return NULL;
	}
	return r;
}

/* ---- stat -------------------------------------------------------------------------------- */

static void root_local_fill(const struct stat *sb, struct storage_stat *st)
{
	*st = (struct storage_stat){
		.is_dir = S_ISDIR(sb->st_mode),
		.size = S_ISDIR(sb->st_mode) ? 0 : (int64_t)sb->st_size,
		.mtime = sb->st_mtim,
		.dev = (uint64_t)sb->st_dev,
		.ino = (uint64_t)sb->st_ino,
	};
}

int storage_stat(const char *location, struct storage_stat *st, struct iiifd_error *err)
{
	if (storage_spec_is_remote(location)) {
		const char *rel;
		struct storage_root *r = root_remote_split(location, &rel, err);
		return r ? root_remote_stat(r, rel, st, err) : -1;
	}
	struct stat sb;
	if (stat(location, &sb) < 0 || !(S_ISREG(sb.st_mode) || S_ISDIR(sb.st_mode)))
		return iiifd_error_set(err, 404, "no such file");
	root_local_fill(&sb, st);
	return 0;
}

void storage_stat_of_local(const struct stat *sb, struct storage_stat *st)
{
	root_local_fill(sb, st);
}

bool storage_stat_same(const struct storage_stat *a, const struct storage_stat *b)
{
	return a->is_dir == b->is_dir && a->size == b->size && a->dev == b->dev &&
	       a->ino == b->ino && a->mtime.tv_sec == b->mtime.tv_sec &&
	       a->mtime.tv_nsec == b->mtime.tv_nsec && strcmp(a->etag, b->etag) == 0;
}

char *storage_stat_version(const struct storage_stat *st, char *out, size_t n)
{
	snprintf(out, n, "%lld.%09ld|%lld%s%s", (long long)st->mtime.tv_sec, st->mtime.tv_nsec,
		 (long long)st->size, st->etag[0] ? "|" : "", st->etag);
	return out;
}

void storage_forget(const char *location)
{
	const char *rel;
	struct storage_root *r =
		storage_spec_is_remote(location) ? root_remote_split(location, &rel, NULL) : NULL;
	if (r)
		root_remote_forget(r, rel);
}

/* ---- resolving names --------------------------------------------------------------------- */

/* The single file "base.EXT" of the folder rel_dir, EXT in extensions; NULL if none or many. */
static char *root_remote_infer(struct storage_root *r, const char *rel_dir, const char *base,
			       const char *const *extensions, struct iiifd_error *err)
{
	struct storage_listing l;
	if (root_remote_list(r, rel_dir, &l, err) < 0)
		return NULL;
	size_t blen = strlen(base), found = 0;
	const char *match = NULL;
	for (size_t i = 0; i < l.count; i++) {
		const char *n = l.entries[i].name;
		if (l.entries[i].st.is_dir || strncmp(n, base, blen) || n[blen] != '.' ||
		    strchr(n + blen + 1, '.') || !path_has_extension(n, extensions))
			continue;
		match = n;
		found++;
	}
	char *rel = found == 1 ? g_strdup_printf("%s%s%s", rel_dir, *rel_dir ? "/" : "", match)
			       : NULL;
	storage_listing_release(&l);
	return rel;
}

static int root_remote_resolve(struct storage_root *r, const char *identifier,
			       const char *const *extensions, char **out, struct iiifd_error *err)
{
	struct storage_stat st;
	struct iiifd_error why = { 0 };
	int rc = root_remote_stat(r, identifier, &st, &why);
	if (rc == 0 && !st.is_dir)
		return (*out = storage_root_location(r, identifier)) ? 0 : -1;
	if (rc < 0 && why.http_status != 404) { /* the storage failed: say so, not "no image" */
		if (err)
			*err = why;
		return -1;
	}
	const char *slash = strrchr(identifier, '/');
	const char *base = slash ? slash + 1 : identifier;
	if (strchr(base, '.') || !extensions || !r->listable)
		return iiifd_error_set(err, 404, "no image with that identifier");
	char *dir = g_strndup(identifier, slash ? (size_t)(slash - identifier) : 0);
	why = (struct iiifd_error){ 0 };
	char *rel = root_remote_infer(r, dir, base, extensions, &why);
	g_free(dir);
	if (!rel && why.http_status && why.http_status != 404)
		return iiifd_error_set(err, why.http_status, "%s", why.msg);
	if (!rel)
		return iiifd_error_set(err, 404, "no image with that identifier");
	*out = storage_root_location(r, rel);
	g_free(rel);
	return 0;
}

int storage_resolve(struct storage_root *r, const char *identifier,
		    const char *const *extensions, char **out, struct iiifd_error *err)
{
	*out = NULL;
	if (!r->remote)
		return path_resolve(r->name, identifier, extensions, out, err);
	if (!path_identifier_valid(identifier))
		return iiifd_error_set(err, 404, "no image with that identifier");
	return root_remote_resolve(r, identifier, extensions, out, err);
}

int storage_resolve_folder(struct storage_root *r, const char *rel, char **out,
			   struct iiifd_error *err)
{
	*out = NULL;
	if (!r->remote)
		return path_resolve_folder(r->name, rel, out, err);
	if (*rel && !path_identifier_valid(rel))
		return iiifd_error_set(err, 404, "no such folder");
	struct storage_stat st;
	struct iiifd_error why = { 0 };
	if (root_remote_stat(r, rel, &st, &why) < 0)
		return iiifd_error_set(err, why.http_status, "%s",
				       why.http_status == 404 ? "no such folder" : why.msg);
	if (!st.is_dir)
		return iiifd_error_set(err, 404, "no such folder");
	return (*out = storage_root_location(r, rel)) ? 0
						     : iiifd_error_set(err, 500, "out of memory");
}

/* ---- listing ----------------------------------------------------------------------------- */

static int root_list_push(struct storage_listing *l, size_t *cap, const char *name,
			  const struct storage_stat *st, bool has_stat)
{
	if (l->count == *cap) {
		*cap = *cap ? *cap * 2 : 32;
		l->entries = g_renew(struct storage_entry, l->entries, *cap);
	}
	l->entries[l->count++] = (struct storage_entry){
		.name = g_strdup(name), .st = *st, .has_stat = has_stat };
	return 0;
}

/* One directory entry: plain files and folders are inside by construction; a symlink (or an
 * entry of unknown type) is followed only while it stays below root_real. */
static void root_local_entry(const char *root_real, const char *dir, const struct dirent *e,
			     unsigned flags, struct storage_listing *l, size_t *cap)
{
	char path[PATH_MAX], real[PATH_MAX];
	struct stat sb;
	struct storage_stat st = { 0 };
	if (e->d_name[0] == '.' ||
	    (size_t)snprintf(path, sizeof path, "%s/%s", dir, e->d_name) >= sizeof path)
		return;
	bool plain = e->d_type == DT_DIR || e->d_type == DT_REG;
	if (!plain) {
		if (!root_real || !realpath(path, real) || !path_is_within(root_real, real) ||
		    stat(real, &sb) < 0)
			return;
	} else if ((flags & STORAGE_LIST_STAT) && stat(path, &sb) < 0) {
		return;
	}
	bool stated = !plain || (flags & STORAGE_LIST_STAT);
	if (stated) {
		if (!S_ISDIR(sb.st_mode) && !S_ISREG(sb.st_mode))
			return;
		root_local_fill(&sb, &st);
	} else {
		st.is_dir = e->d_type == DT_DIR;
	}
	root_list_push(l, cap, e->d_name, &st, stated);
}

static int root_local_list(const char *location, unsigned flags, struct storage_listing *out,
			   struct iiifd_error *err)
{
	DIR *d = opendir(location);
	if (!d)
		return iiifd_error_set(err, 404, "no such folder");
	struct storage_root *root = root_find(location, false);
	size_t cap = 0;
	for (struct dirent *e; (e = readdir(d));)
		root_local_entry(root ? root->name : NULL, location, e, flags, out, &cap);
	closedir(d);
	return 0;
}

int storage_list(const char *location, unsigned flags, struct storage_listing *out,
		 struct iiifd_error *err)
{
	memset(out, 0, sizeof *out);
	if (!storage_spec_is_remote(location))
		return root_local_list(location, flags, out, err);
	const char *rel;
	struct storage_root *r = root_remote_split(location, &rel, err);
	return r ? root_remote_list(r, rel, out, err) : -1;
}

void storage_listing_release(struct storage_listing *l)
{
	for (size_t i = 0; i < l->count; i++)
		g_free(l->entries[i].name);
	g_free(l->entries);
	memset(l, 0, sizeof *l);
}

/* ---- whole files ------------------------------------------------------------------------- */

int storage_read_file(const char *location, size_t max, char **data, size_t *len,
		      struct iiifd_error *err)
{
	*data = NULL;
	*len = 0;
	struct storage_file *f;
	if (storage_file_open(location, NULL, &f, err) < 0)
		return -1;
	int64_t size = storage_file_size(f);
	int rc = 0;
	if (size < 0)
		rc = iiifd_error_set(err, 404, "no such file");
	else if ((uint64_t)size > max)
		rc = iiifd_error_set(err, 413, "larger than %zu bytes", max);
	char *buf = rc ? NULL : malloc((size_t)size + 1);
	if (!rc && !buf)
		rc = iiifd_error_set(err, 500, "out of memory");
	if (!rc)
		rc = storage_file_pread(f, buf, (size_t)size, 0, err);
	storage_file_close(f);
	if (rc < 0) {
		free(buf);
		return -1;
	}
	buf[size] = '\0';
	*data = buf;
	*len = (size_t)size;
	return 0;
}
