/*
 * remote.c: ranged reads, HEAD and listings of S3 objects over a pool of keep-alive libcurl
 * handles, with an LRU cache of fixed-size blocks (see remote.h).
 */
#include "storage/remote.h"

#include <glib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define REMOTE_DEFAULT_BLOCK (64 * 1024)
#define REMOTE_DEFAULT_CACHE (64 * 1024 * 1024)
/* The largest listing page or error body kept (S3 pages of 1000 keys are about 300 KB). */
#define REMOTE_MAX_DOC (8 * 1024 * 1024)

struct remote_block {
	char *id; /* "etag\x1f" "key\x1f" "number"; also the hash key */
	GList link;
	size_t len;
	unsigned char data[];
};

struct remote_store {
	struct s3_config cfg; /* owned copy */
	size_t block_size, cache_bytes;
	pthread_mutex_t lock; /* guards everything below */
	GSList *idle;	      /* CURL handles not in use */
	GHashTable *blocks;   /* id -> struct remote_block (not owned: freed from lru) */
	GQueue lru;	      /* most recently used first */
	size_t cached;
	struct remote_counters counters;
};

/* ---- one HTTP exchange ------------------------------------------------------------------- */

struct remote_reply {
	long status;
	GByteArray *body;
	size_t body_cap; /* more than this is an error */
	bool too_big;
	struct remote_stat stat; /* from the headers */
};

static size_t remote_on_body(char *data, size_t size, size_t n, void *arg)
{
	struct remote_reply *r = arg;
	size_t len = size * n;
	if (r->body->len + len > r->body_cap) {
		r->too_big = true;
		return 0; /* aborts the transfer */
	}
	g_byte_array_append(r->body, (const guint8 *)data, (guint)len);
	return len;
}

bool remote_header_parse(const char *line, size_t len, struct remote_stat *st)
{
	const char *colon = memchr(line, ':', len);
	if (!colon)
		return false;
	char *name = g_strndup(line, (size_t)(colon - line));
	char *value = g_strndup(colon + 1, len - (size_t)(colon + 1 - line));
	g_strstrip(name);
	g_strstrip(value);
	bool known = true;
	if (!g_ascii_strcasecmp(name, "ETag"))
		g_strlcpy(st->etag, value, sizeof st->etag);
	else if (!g_ascii_strcasecmp(name, "Content-Length")) {
		char *end;
		gint64 n = g_ascii_strtoll(value, &end, 10);
		st->size = *value && !*end && n >= 0 ? n : -1;
	} else if (!g_ascii_strcasecmp(name, "Last-Modified")) {
		time_t t = curl_getdate(value, NULL);
		st->modified = t > 0 ? (int64_t)t : 0;
	} else {
		known = false;
	}
	g_free(name);
	g_free(value);
	return known;
}

static size_t remote_on_header(char *line, size_t size, size_t n, void *arg)
{
	struct remote_reply *r = arg;
	remote_header_parse(line, size * n, &r->stat);
	return size * n;
}

static CURL *remote_take_handle(struct remote_store *s)
{
	pthread_mutex_lock(&s->lock);
	CURL *h = s->idle ? s->idle->data : NULL;
	if (h)
		s->idle = g_slist_delete_link(s->idle, s->idle);
	pthread_mutex_unlock(&s->lock);
	if (h)
		curl_easy_reset(h); /* keeps its open connections */
	return h ? h : curl_easy_init();
}

static void remote_give_handle(struct remote_store *s, CURL *h)
{
	pthread_mutex_lock(&s->lock);
	s->idle = g_slist_prepend(s->idle, h);
	pthread_mutex_unlock(&s->lock);
}

/* Sends one signed request; extra: one more header ("If-Match: ...") or NULL. */
static int remote_exchange(struct remote_store *s, const char *key, const struct s3_param *params,
			   size_t n_params, const char *range, const char *extra, bool head,
			   struct remote_reply *reply, struct iiifd_error *err)
{
	struct s3_request req;
	if (s3_request_build(&s->cfg, key, params, n_params, range, NULL, &req, err))
		return -1;
	if (extra)
		req.headers = curl_slist_append(req.headers, extra);
	CURL *h = remote_take_handle(s);
	if (!h) {
		s3_request_release(&req);
		return iiifd_error_set(err, 500, "object storage: out of memory");
	}
	s3_request_apply(h, &s->cfg, &req);
	curl_easy_setopt(h, CURLOPT_NOBODY, head ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, remote_on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, reply);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, remote_on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, reply);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	CURLcode rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &reply->status);
	remote_give_handle(s, h);
	s3_request_release(&req);
	pthread_mutex_lock(&s->lock);
	s->counters.requests++;
	s->counters.bytes += reply->body->len;
	pthread_mutex_unlock(&s->lock);
	if (reply->too_big)
		return iiifd_error_set(err, 502, "object storage: %.80s: the answer is larger than"
						 " asked for (%zu bytes)", key, reply->body_cap);
	if (rc != CURLE_OK)
		return iiifd_error_set(err, 502, "object storage: %.80s: %s", key,
				       curl_easy_strerror(rc));
	return 0;
}

static void remote_reply_init(struct remote_reply *r, size_t cap)
{
	memset(r, 0, sizeof *r);
	r->body = g_byte_array_new();
	r->body_cap = cap;
	r->stat.size = -1;
}

/* A non-2xx answer as an error: 404 stays 404, 412 becomes 409 (changed), others 502. */
static int remote_status_error(const struct remote_reply *r, const char *key,
			       struct iiifd_error *err)
{
	if (r->status == 404)
		return iiifd_error_set(err, 404, "%.120s: no such object", key);
	if (r->status == 412)
		return iiifd_error_set(err, 409, "%.120s changed while being read", key);
	struct s3_listing ignored;
	struct iiifd_error why = {0};
	/* an S3 <Error> body names the reason (AccessDenied, SignatureDoesNotMatch ...) */
	if (r->body->len && s3_list_parse((const char *)r->body->data, r->body->len, &ignored,
					  &why) == 0)
		s3_listing_release(&ignored);
	return iiifd_error_set(err, 502, "object storage: %.80s: HTTP %ld%s%.120s", key,
			       r->status, why.msg[0] ? ": " : "", why.msg);
}

/* ---- the store --------------------------------------------------------------------------- */

int remote_store_open(const struct s3_config *c, size_t block_size, size_t cache_bytes,
		      struct remote_store **out, struct iiifd_error *err)
{
	struct remote_store *s = calloc(1, sizeof *s);
	if (!s)
		return iiifd_error_set(err, 500, "object storage: out of memory");
	s->cfg = (struct s3_config){
		.endpoint = g_strdup(c->endpoint), /* g_strdup(NULL) is NULL: origins have no bucket */
		.region = g_strdup(c->region),
		.bucket = g_strdup(c->bucket),
		.prefix = g_strdup(c->prefix ? c->prefix : ""),
		.access_key = g_strdup(c->access_key),
		.secret_key = g_strdup(c->secret_key),
		.session_token = g_strdup(c->session_token),
		.path_style = c->path_style,
	};
	size_t bs = block_size ? block_size : REMOTE_DEFAULT_BLOCK;
	s->block_size = (bs + 4095) / 4096 * 4096;
	s->cache_bytes = cache_bytes ? cache_bytes : REMOTE_DEFAULT_CACHE;
	pthread_mutex_init(&s->lock, NULL);
	s->blocks = g_hash_table_new(g_str_hash, g_str_equal);
	g_queue_init(&s->lru);
	*out = s;
	return 0;
}

static void remote_block_free(struct remote_block *b)
{
	g_free(b->id);
	free(b);
}

void remote_store_close(struct remote_store *s)
{
	if (!s)
		return;
	g_slist_free_full(s->idle, curl_easy_cleanup);
	for (GList *l = s->lru.head, *next; l; l = next) {
		next = l->next;
		remote_block_free(l->data);
	}
	g_hash_table_destroy(s->blocks);
	pthread_mutex_destroy(&s->lock);
	s3_config_release(&s->cfg);
	free(s);
}

struct remote_counters remote_store_counters(struct remote_store *s)
{
	pthread_mutex_lock(&s->lock);
	struct remote_counters c = s->counters;
	pthread_mutex_unlock(&s->lock);
	return c;
}

int remote_stat(struct remote_store *s, const char *key, struct remote_stat *st,
		struct iiifd_error *err)
{
	struct remote_reply r;
	remote_reply_init(&r, 0);
	int rc = remote_exchange(s, key, NULL, 0, NULL, NULL, true, &r, err);
	if (!rc && r.status != 200)
		rc = remote_status_error(&r, key, err);
	if (!rc && r.stat.size < 0)
		rc = iiifd_error_set(err, 502, "object storage: %.80s: no Content-Length", key);
	if (!rc)
		*st = r.stat;
	g_byte_array_unref(r.body);
	return rc;
}

/* ---- the block cache --------------------------------------------------------------------- */

/* The part of [offset, offset + len) that data (at data_start, data_len bytes) holds, into buf. */
static void remote_copy_overlap(unsigned char *buf, int64_t offset, size_t len,
				const unsigned char *data, int64_t data_start, size_t data_len)
{
	int64_t from = MAX(offset, data_start);
	int64_t to = MIN(offset + (int64_t)len, data_start + (int64_t)data_len);
	if (to > from)
		memcpy(buf + (from - offset), data + (from - data_start), (size_t)(to - from));
}

static char *remote_block_id(const char *key, const struct remote_stat *st, int64_t n)
{
	return g_strdup_printf("%s\x1f%s\x1f%" G_GINT64_FORMAT, st->etag, key, n);
}

/* Copies the part of block n in [offset, offset + len) into buf; false if not cached. */
static bool remote_cache_copy(struct remote_store *s, const char *id, int64_t block_start,
			      int64_t offset, unsigned char *buf, size_t len)
{
	pthread_mutex_lock(&s->lock);
	struct remote_block *b = g_hash_table_lookup(s->blocks, id);
	if (b) {
		g_queue_unlink(&s->lru, &b->link);
		g_queue_push_head_link(&s->lru, &b->link);
		remote_copy_overlap(buf, offset, len, b->data, block_start, b->len);
		s->counters.block_hits++;
	}
	pthread_mutex_unlock(&s->lock);
	return b != NULL;
}

/* Keeps a copy of a fetched block, evicting the least recently used beyond the bound. */
static void remote_cache_put(struct remote_store *s, char *id, const unsigned char *data,
			     size_t len)
{
	struct remote_block *b = malloc(sizeof *b + len);
	if (!b) {
		g_free(id);
		return;
	}
	b->id = id;
	b->len = len;
	b->link = (GList){.data = b};
	memcpy(b->data, data, len);
	pthread_mutex_lock(&s->lock);
	s->counters.block_reads++;
	if (g_hash_table_contains(s->blocks, id)) { /* another thread fetched it meanwhile */
		pthread_mutex_unlock(&s->lock);
		remote_block_free(b);
		return;
	}
	g_hash_table_insert(s->blocks, b->id, b);
	g_queue_push_head_link(&s->lru, &b->link);
	s->cached += len;
	while (s->cached > s->cache_bytes && s->lru.length > 1) {
		GList *last = g_queue_pop_tail_link(&s->lru);
		struct remote_block *old = last->data;
		g_hash_table_remove(s->blocks, old->id);
		s->cached -= old->len;
		remote_block_free(old);
	}
	pthread_mutex_unlock(&s->lock);
}

/*
 * Fetches blocks [first, last] of key in one ranged GET, conditional on the ETag; copies what
 * falls in [offset, offset + len) into buf and keeps the blocks in the cache.
 */
static int remote_fetch_blocks(struct remote_store *s, const char *key,
			       const struct remote_stat *st, int64_t first, int64_t last,
			       unsigned char *buf, int64_t offset, size_t len,
			       struct iiifd_error *err)
{
	int64_t start = first * (int64_t)s->block_size;
	int64_t end = MIN(st->size, (last + 1) * (int64_t)s->block_size) - 1;
	char range[64], match[sizeof st->etag + 16];
	snprintf(range, sizeof range, "bytes=%" G_GINT64_FORMAT "-%" G_GINT64_FORMAT, start, end);
	snprintf(match, sizeof match, "If-Match: %s", st->etag);
	struct remote_reply r;
	remote_reply_init(&r, (size_t)(end - start + 1));
	int rc = remote_exchange(s, key, NULL, 0, range, st->etag[0] ? match : NULL, false, &r,
				 err);
	if (!rc && r.status != 206 && !(r.status == 200 && start == 0 && end == st->size - 1))
		rc = r.status == 200 ? iiifd_error_set(err, 502, "object storage ignores Range")
				     : remote_status_error(&r, key, err);
	if (!rc && r.stat.etag[0] && st->etag[0] && strcmp(r.stat.etag, st->etag))
		rc = iiifd_error_set(err, 409, "%.120s changed while being read", key);
	if (!rc && (int64_t)r.body->len != end - start + 1)
		rc = iiifd_error_set(err, 502, "object storage: %.80s: %u bytes for a range of"
					       " %" G_GINT64_FORMAT, key, r.body->len,
				     end - start + 1);
	if (!rc)
		remote_copy_overlap(buf, offset, len, r.body->data, start, r.body->len);
	for (int64_t n = first; !rc && n <= last; n++) {
		size_t off = (size_t)((n - first) * (int64_t)s->block_size);
		size_t block_len = MIN(s->block_size, r.body->len - off);
		remote_cache_put(s, remote_block_id(key, st, n), r.body->data + off, block_len);
	}
	g_byte_array_unref(r.body);
	return rc;
}

ssize_t remote_read(struct remote_store *s, const char *key, const struct remote_stat *st,
		    int64_t offset, void *buf, size_t len, struct iiifd_error *err)
{
	if (offset < 0)
		return iiifd_error_set(err, 400, "negative offset");
	if (offset >= st->size || len == 0)
		return 0;
	len = (size_t)MIN((int64_t)len, st->size - offset);
	const int64_t bs = (int64_t)s->block_size;
	int64_t first = offset / bs, last = (offset + (int64_t)len - 1) / bs, miss_from = -1;
	for (int64_t n = first; n <= last + 1; n++) {
		char *id = n <= last ? remote_block_id(key, st, n) : NULL;
		bool hit = id && remote_cache_copy(s, id, n * bs, offset, buf, len);
		g_free(id);
		if (!hit && n <= last && miss_from < 0)
			miss_from = n;
		/* a run of missing blocks ends: fetch it in one request */
		if ((hit || n > last) && miss_from >= 0) {
			if (remote_fetch_blocks(s, key, st, miss_from, n - 1, buf, offset, len, err))
				return -1;
			miss_from = -1;
		}
	}
	return (ssize_t)len;
}

/* ---- listings ---------------------------------------------------------------------------- */

/* Moves the entries of page into all, keys made relative to strip; false when out of memory. */
static bool remote_list_take(struct s3_listing *all, struct s3_listing *page, const char *strip)
{
	size_t cut = strlen(strip);
	for (size_t i = 0; i < page->n_objects; i++) {
		struct s3_object *o = &page->objects[i];
		if (strncmp(o->key, strip, cut) || !o->key[cut] || o->key[strlen(o->key) - 1] == '/')
			continue; /* outside the prefix, or a folder marker */
		struct s3_object *grown = realloc(all->objects, (all->n_objects + 1) * sizeof *grown);
		if (!grown)
			return false;
		all->objects = grown;
		grown[all->n_objects] = *o;
		grown[all->n_objects].key = strdup(o->key + cut);
		grown[all->n_objects++].etag = o->etag;
		free(o->key);
		o->key = o->etag = NULL;
	}
	for (size_t i = 0; i < page->n_prefixes; i++) {
		if (strncmp(page->prefixes[i], strip, cut))
			continue;
		char **grown = realloc(all->prefixes, (all->n_prefixes + 1) * sizeof *grown);
		if (!grown)
			return false;
		all->prefixes = grown;
		grown[all->n_prefixes++] = strdup(page->prefixes[i] + cut);
	}
	all->dropped += page->dropped;
	return true;
}

int remote_list(struct remote_store *s, const char *prefix, size_t max_entries,
		struct s3_listing *out, struct iiifd_error *err)
{
	memset(out, 0, sizeof *out);
	if (!s->cfg.bucket)
		return iiifd_error_set(err, 501, "a plain HTTP origin cannot be listed");
	char *full = g_strconcat(s->cfg.prefix, prefix, NULL);
	char *token = NULL;
	int rc = 0;
	do {
		struct s3_param params[] = {{"list-type", "2"}, {"delimiter", "/"},
					    {"prefix", full}, {"continuation-token", token}};
		struct remote_reply r;
		remote_reply_init(&r, REMOTE_MAX_DOC);
		rc = remote_exchange(s, "/", params, token ? 4 : 3, NULL, NULL, false, &r, err);
		if (!rc && r.status != 200)
			rc = remote_status_error(&r, full, err);
		struct s3_listing page;
		if (!rc)
			rc = s3_list_parse((const char *)r.body->data, r.body->len, &page, err);
		g_byte_array_unref(r.body);
		g_free(token);
		token = NULL;
		if (rc)
			break;
		if (!remote_list_take(out, &page, s->cfg.prefix))
			rc = iiifd_error_set(err, 500, "object storage listing: out of memory");
		else if (out->n_objects + out->n_prefixes > max_entries)
			rc = iiifd_error_set(err, 413, "%.80s: more than %zu entries", full,
					     max_entries);
		else if (page.truncated)
			token = g_strdup(page.next_token);
		s3_listing_release(&page);
	} while (!rc && token);
	g_free(full);
	if (rc)
		s3_listing_release(out);
	return rc;
}
