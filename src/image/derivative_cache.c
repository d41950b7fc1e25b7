/*
 * derivative_cache.c: an in-memory index (hash table + LRU queue) of the files under the cache
 * folder. File I/O happens outside the index lock; the index is only bookkeeping. Stores are
 * written (and fsynced) by one background thread, so a response never waits for the disk.
 */
#include "image/derivative_cache.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fileio.h"
#include "core/log.h"
#include "core/metrics.h"

#define CACHE_DIR_HEX 32
#define CACHE_FILE_HEX 40
#define CACHE_MAX_FILE (256 << 20)
#define CACHE_DERIVED "derived"   /* media stills, see media/derived.c */
#define CACHE_PYRAMIDS "pyramids" /* see image/pyramid_queue.c */
/* stores waiting for the writer hold at most this much memory; later ones are dropped */
#define CACHE_QUEUE_MAX_BYTES (64 << 20)

struct cache_entry {
	char *name; /* "<dir hex>/<file hex>", owned; also the table key */
	int64_t size;
	GList link;
};

/* A store waiting for the writer thread; owns its copy of the bytes. */
struct cache_write {
	struct cache_write *next;
	size_t len;
	char name[CACHE_DIR_HEX + CACHE_FILE_HEX + 2];
	unsigned char data[];
};

struct derivative_cache {
	char *dir;
	int64_t max_bytes;
	int64_t total_bytes;
	atomic_bool disabled; /* set after a write fails for lack of space */
	pthread_mutex_t lock;
	GHashTable *table; /* name -> entry */
	GQueue lru;        /* head = most recently used */
	/* the write queue (FIFO), guarded by queue_lock; the writer stops once stopping is set */
	pthread_mutex_t queue_lock;
	pthread_cond_t queue_wake;
	struct cache_write *queue_head, *queue_tail;
	size_t queue_bytes;
	bool stopping;
	pthread_t writer;
};

static void cache_hex(const char *text, size_t hex_len, char *out)
{
	gchar *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, text, -1);
	snprintf(out, hex_len + 1, "%s", sum);
	g_free(sum);
}

static void cache_name(const char *source_path, const char *variant, char *out)
{
	cache_hex(source_path, CACHE_DIR_HEX, out);
	out[CACHE_DIR_HEX] = '/';
	cache_hex(variant, CACHE_FILE_HEX, out + CACHE_DIR_HEX + 1);
}

static void entry_free(struct cache_entry *e)
{
	free(e->name);
	free(e);
}

static void cache_forget_locked(struct derivative_cache *c, struct cache_entry *e)
{
	g_hash_table_remove(c->table, e->name);
	g_queue_unlink(&c->lru, &e->link);
	c->total_bytes -= e->size;
	entry_free(e);
	metrics_cache_size(METRICS_CACHE_RENDER, g_hash_table_size(c->table), c->total_bytes);
}

static void cache_add_locked(struct derivative_cache *c, const char *name, int64_t size,
			     bool newest)
{
	struct cache_entry *old = g_hash_table_lookup(c->table, name);
	if (old)
		cache_forget_locked(c, old);
	struct cache_entry *e = calloc(1, sizeof *e);
	if (!e || !(e->name = strdup(name))) {
		free(e);
		return;
	}
	e->size = size;
	e->link.data = e;
	g_hash_table_insert(c->table, e->name, e);
	if (newest)
		g_queue_push_head_link(&c->lru, &e->link);
	else
		g_queue_push_tail_link(&c->lru, &e->link);
	c->total_bytes += size;
	metrics_cache_size(METRICS_CACHE_RENDER, g_hash_table_size(c->table), c->total_bytes);
}

/* Unlinks least recently used files until the total fits. */
static void cache_evict_locked(struct derivative_cache *c)
{
	char path[PATH_MAX];
	while (c->total_bytes > c->max_bytes && c->lru.tail) {
		struct cache_entry *e = c->lru.tail->data;
		snprintf(path, sizeof path, "%s/%s", c->dir, e->name);
		unlink(path);
		cache_forget_locked(c, e);
	}
}

struct cache_found {
	char name[sizeof CACHE_DERIVED + NAME_MAX + 1];
	int64_t size;
	time_t mtime;
};

static gint cache_found_newest_first(gconstpointer a, gconstpointer b)
{
	const struct cache_found *x = a, *y = b;
	return x->mtime < y->mtime ? 1 : x->mtime > y->mtime ? -1 : 0;
}

/* Calls fn for every derivative file in one source folder (sub = "<dir hex>"). */
static void cache_walk_folder(const char *root, const char *sub,
			      void (*fn)(const char *path, const char *name, const struct stat *st,
					 void *arg),
			      void *arg)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%s", root, sub);
	DIR *d = opendir(path);
	if (!d)
		return;
	for (struct dirent *f; (f = readdir(d));) {
		char name[CACHE_DIR_HEX + NAME_MAX + 2];
		struct stat st;
		if (f->d_name[0] == '.')
			continue;
		snprintf(name, sizeof name, "%s/%s", sub, f->d_name);
		snprintf(path, sizeof path, "%s/%s", root, name);
		if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
			fn(path, name, &st, arg);
	}
	closedir(d);
}

static void cache_walk(const char *root,
		       void (*fn)(const char *path, const char *name, const struct stat *st,
				  void *arg),
		       void *arg)
{
	DIR *d = opendir(root);
	if (!d)
		return;
	for (struct dirent *s; (s = readdir(d));)
		if (strlen(s->d_name) == CACHE_DIR_HEX)
			cache_walk_folder(root, s->d_name, fn, arg);
	closedir(d);
	cache_walk_folder(root, CACHE_DERIVED, fn, arg);
}

static void cache_collect(const char *path, const char *name, const struct stat *st, void *arg)
{
	if (strstr(name, ".tmp")) {
		unlink(path); /* left by a crash mid-write */
		return;
	}
	struct cache_found found = { .size = st->st_size, .mtime = st->st_mtime };
	snprintf(found.name, sizeof found.name, "%s", name);
	g_array_append_val((GArray *)arg, found);
}

static void cache_index_existing(struct derivative_cache *c)
{
	GArray *found = g_array_new(FALSE, FALSE, sizeof(struct cache_found));
	cache_walk(c->dir, cache_collect, found);
	g_array_sort(found, cache_found_newest_first);
	for (guint i = 0; i < found->len; i++) {
		struct cache_found *f = &g_array_index(found, struct cache_found, i);
		cache_add_locked(c, f->name, f->size, false);
	}
	g_array_free(found, TRUE);
	cache_evict_locked(c);
}

static void *cache_writer(void *arg);

struct derivative_cache *derivative_cache_open(const char *dir, int64_t max_bytes,
					       struct iiifd_error *err)
{
	if (g_mkdir_with_parents(dir, 0755) < 0 || access(dir, R_OK | W_OK | X_OK) < 0) {
		iiifd_error_set(err, 500, "cache folder '%s': %s", dir, strerror(errno));
		return NULL;
	}
	struct derivative_cache *c = calloc(1, sizeof *c);
	if (!c || !(c->dir = strdup(dir))) {
		free(c);
		iiifd_error_set(err, 500, "out of memory");
		return NULL;
	}
	c->max_bytes = max_bytes;
	pthread_mutex_init(&c->lock, NULL);
	c->table = g_hash_table_new(g_str_hash, g_str_equal);
	g_queue_init(&c->lru);
	cache_index_existing(c);
	pthread_mutex_init(&c->queue_lock, NULL);
	pthread_cond_init(&c->queue_wake, NULL);
	if (pthread_create(&c->writer, NULL, cache_writer, c) != 0) {
		iiifd_error_set(err, 500, "derivative cache: cannot start its writer thread");
		c->stopping = true; /* nothing to join */
		derivative_cache_close(c);
		return NULL;
	}
	log_info("derivative cache %s: %u files, %lld bytes of %lld", dir,
		 g_hash_table_size(c->table), (long long)c->total_bytes, (long long)max_bytes);
	return c;
}

void derivative_cache_close(struct derivative_cache *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->queue_lock);
	bool running = !c->stopping;
	c->stopping = true;
	pthread_cond_signal(&c->queue_wake);
	pthread_mutex_unlock(&c->queue_lock);
	if (running)
		pthread_join(c->writer, NULL); /* writes what is queued first */
	pthread_cond_destroy(&c->queue_wake);
	pthread_mutex_destroy(&c->queue_lock);
	while (c->lru.head)
		cache_forget_locked(c, c->lru.head->data);
	g_hash_table_destroy(c->table);
	pthread_mutex_destroy(&c->lock);
	free(c->dir);
	free(c);
}

/* Reads a whole small file; -1 if it is missing, unreadable or implausibly large. */
static int cache_read_file(const char *path, void **out, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return -1;
	void *buf = NULL;
	if (fstat(fd, &st) == 0 && st.st_size > 0 && st.st_size < CACHE_MAX_FILE &&
	    (buf = malloc((size_t)st.st_size)) &&
	    read(fd, buf, (size_t)st.st_size) == st.st_size) {
		close(fd);
		*out = buf;
		*len = (size_t)st.st_size;
		return 0;
	}
	free(buf);
	close(fd);
	return -1;
}

int derivative_cache_get(struct derivative_cache *c, const char *source_path,
			 const char *variant, void **out, size_t *len)
{
	char name[CACHE_DIR_HEX + CACHE_FILE_HEX + 2], path[PATH_MAX];
	if (!c || atomic_load(&c->disabled))
		return 0;
	cache_name(source_path, variant, name);
	pthread_mutex_lock(&c->lock);
	struct cache_entry *e = g_hash_table_lookup(c->table, name);
	if (e) {
		g_queue_unlink(&c->lru, &e->link);
		g_queue_push_head_link(&c->lru, &e->link);
	}
	pthread_mutex_unlock(&c->lock);
	if (!e)
		return 0;
	snprintf(path, sizeof path, "%s/%s", c->dir, name);
	if (cache_read_file(path, out, len) == 0)
		return 1;
	pthread_mutex_lock(&c->lock); /* purged behind our back: forget it */
	if ((e = g_hash_table_lookup(c->table, name)))
		cache_forget_locked(c, e);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static int cache_write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof path, "%s/%.*s", dir, CACHE_DIR_HEX, name);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return -1;
	snprintf(path, sizeof path, "%s/%s", dir, name);
	/* durable: after a power cut, a renamed but unflushed file could be served as empty */
	return fileio_write_atomic(path, data, len, true);
}

/* Writes one queued store and indexes it (on the writer thread). */
static void cache_store(struct derivative_cache *c, const struct cache_write *w)
{
	if (atomic_load(&c->disabled))
		return;
	if (cache_write_file(c->dir, w->name, w->data, w->len) < 0) {
		if (errno == ENOSPC || errno == EDQUOT || errno == EROFS) {
			atomic_store(&c->disabled, true);
			log_error("derivative cache %s: %s; cache switched off until restart",
				  c->dir, strerror(errno));
		} else {
			log_warn("derivative cache %s: cannot write: %s", c->dir, strerror(errno));
		}
		return;
	}
	pthread_mutex_lock(&c->lock);
	cache_add_locked(c, w->name, (int64_t)w->len, true);
	cache_evict_locked(c);
	pthread_mutex_unlock(&c->lock);
}

/* The writer thread: stores queued writes in order; drains the queue before it stops. */
static void *cache_writer(void *arg)
{
	struct derivative_cache *c = arg;
	pthread_mutex_lock(&c->queue_lock);
	for (;;) {
		while (!c->queue_head && !c->stopping)
			pthread_cond_wait(&c->queue_wake, &c->queue_lock);
		struct cache_write *w = c->queue_head;
		if (!w)
			break;
		c->queue_head = w->next;
		if (!c->queue_head)
			c->queue_tail = NULL;
		pthread_mutex_unlock(&c->queue_lock);
		cache_store(c, w);
		pthread_mutex_lock(&c->queue_lock);
		c->queue_bytes -= w->len;
		free(w);
	}
	pthread_mutex_unlock(&c->queue_lock);
	return NULL;
}

void derivative_cache_put(struct derivative_cache *c, const char *source_path,
			  const char *variant, const void *data, size_t len)
{
	if (!c || atomic_load(&c->disabled) || (int64_t)len > c->max_bytes)
		return;
	struct cache_write *w = malloc(sizeof *w + len);
	if (!w)
		return;
	w->next = NULL;
	w->len = len;
	cache_name(source_path, variant, w->name);
	memcpy(w->data, data, len);
	pthread_mutex_lock(&c->queue_lock);
	bool room = c->queue_bytes + len <= CACHE_QUEUE_MAX_BYTES;
	if (room) {
		if (c->queue_tail)
			c->queue_tail->next = w;
		else
			c->queue_head = w;
		c->queue_tail = w;
		c->queue_bytes += len;
		pthread_cond_signal(&c->queue_wake);
	}
	pthread_mutex_unlock(&c->queue_lock);
	if (!room) /* the disk is slower than the renders: it is only a cache, skip this one */
		free(w);
}

void derivative_cache_adopt(struct derivative_cache *c, const char *path)
{
	struct stat st;
	size_t dlen = c ? strlen(c->dir) : 0;
	if (!c || strncmp(path, c->dir, dlen) != 0 || path[dlen] != '/' ||
	    strncmp(path + dlen + 1, CACHE_DERIVED "/", sizeof CACHE_DERIVED) != 0 ||
	    stat(path, &st) < 0)
		return;
	const char *name = path + dlen + 1;
	pthread_mutex_lock(&c->lock);
	struct cache_entry *e = g_hash_table_lookup(c->table, name);
	if (e && e->size == st.st_size) {
		g_queue_unlink(&c->lru, &e->link);
		g_queue_push_head_link(&c->lru, &e->link);
	} else {
		cache_add_locked(c, name, st.st_size, true);
		cache_evict_locked(c);
	}
	pthread_mutex_unlock(&c->lock);
}

struct cache_purge {
	const char *prefix; /* file names to remove start with it; NULL = all */
	int removed;
};

static void cache_unlink(const char *path, const char *name, const struct stat *st, void *arg)
{
	struct cache_purge *p = arg;
	const char *base = strrchr(name, '/');
	(void)st;
	base = base ? base + 1 : name;
	if ((!p->prefix || strncmp(base, p->prefix, strlen(p->prefix)) == 0) && unlink(path) == 0)
		p->removed++;
}

int derivative_cache_purge(const char *dir, const char *source_path, struct iiifd_error *err)
{
	struct stat st;
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return iiifd_error_set(err, 404, "cache folder '%s' does not exist", dir);
	struct cache_purge all = { NULL, 0 };
	if (!source_path) {
		cache_walk(dir, cache_unlink, &all);
		cache_walk_folder(dir, CACHE_PYRAMIDS, cache_unlink, &all);
		return all.removed;
	}
	/* a pyramid's and a still's names start with the same digest of the source path */
	char sub[CACHE_DIR_HEX + 1], path[PATH_MAX];
	cache_hex(source_path, CACHE_DIR_HEX, sub);
	struct cache_purge one = { NULL, 0 };
	cache_walk_folder(dir, sub, cache_unlink, &one);
	one.prefix = sub;
	cache_walk_folder(dir, CACHE_PYRAMIDS, cache_unlink, &one);
	cache_walk_folder(dir, CACHE_DERIVED, cache_unlink, &one);
	snprintf(path, sizeof path, "%s/%s", dir, sub);
	rmdir(path);
	return one.removed;
}

int derivative_cache_purge_pyramids(const char *pyramid_dir, const char *source_path)
{
	char sub[CACHE_DIR_HEX + 1];
	struct cache_purge p = { NULL, 0 };
	if (source_path) {
		cache_hex(source_path, CACHE_DIR_HEX, sub);
		p.prefix = sub;
	}
	cache_walk_folder(pyramid_dir, ".", cache_unlink, &p); /* dot files (.claims) are skipped */
	return p.removed;
}
