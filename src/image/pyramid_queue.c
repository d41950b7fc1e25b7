/*
 * pyramid_queue.c: a one-thread GThreadPool does the builds, so they never take more than one core
 * from request handling; a set of keys remembers what is queued or has failed, and a table of the
 * finished pyramids (size, last use) keeps the folder under its size limit, least recently used
 * first.
 */
#include "image/pyramid_queue.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/metrics.h"
#include "image/pyramid.h"

struct pyramid_queue {
	char *dir;
	int64_t min_pixels;
	int tile, quality;
	int64_t max_bytes, total_bytes; /* limit and sum of the finished pyramids' sizes */
	GThreadPool *pool;
	pthread_mutex_t lock;
	GHashTable *seen;  /* pyramid paths queued, built or failed */
	GHashTable *files; /* finished pyramid path -> struct pyramid_file */
};

struct pyramid_file {
	int64_t size;
	gint64 used; /* wall-clock microseconds of the last lookup (the file's mtime at start) */
};

struct pyramid_job {
	struct pyramid_queue *q;
	char *source; /* path of the original */
	char *target; /* path of the pyramid */
};

/* The pyramid of one version of a source: its path's digest plus its mtime and size. */
static char *pyramid_path(const struct pyramid_queue *q, const struct image_source *src)
{
	gchar *digest = g_compute_checksum_for_string(G_CHECKSUM_SHA256, src->path, -1);
	char etag[24] = ""; /* a remote object's version: its ETag's hash */
	if (src->file.etag[0])
		snprintf(etag, sizeof etag, "-%016llx", (unsigned long long)src->file.ino);
	char *path = g_strdup_printf("%s/%.32s-%lld.%09ld-%lld%s.tif", q->dir, digest,
				     (long long)src->mtime, src->mtime_nsec,
				     (long long)src->file_size, etag);
	g_free(digest);
	return path;
}

/* Forgets a finished pyramid; with rebuild, its key too, so that a later request builds it again. */
static void pyramid_forget_locked(struct pyramid_queue *q, const char *path, bool rebuild)
{
	struct pyramid_file *f = g_hash_table_lookup(q->files, path);
	if (f)
		q->total_bytes -= f->size;
	if (rebuild)
		g_hash_table_remove(q->seen, path);
	g_hash_table_remove(q->files, path);
	metrics_cache_size(METRICS_CACHE_PYRAMID, g_hash_table_size(q->files), q->total_bytes);
}

/*
 * Deletes least recently used pyramids until the total fits. One that alone exceeds the limit is
 * deleted too but stays in seen, so it is not rebuilt again and again.
 */
static void pyramid_evict_locked(struct pyramid_queue *q)
{
	while (q->total_bytes > q->max_bytes && g_hash_table_size(q->files)) {
		GHashTableIter it;
		gpointer key, value;
		const char *oldest = NULL;
		gint64 oldest_used = G_MAXINT64;
		g_hash_table_iter_init(&it, q->files);
		while (g_hash_table_iter_next(&it, &key, &value))
			if (((struct pyramid_file *)value)->used < oldest_used)
				oldest = key, oldest_used = ((struct pyramid_file *)value)->used;
		struct pyramid_file *f = g_hash_table_lookup(q->files, oldest);
		bool too_big = f->size > q->max_bytes;
		log_info("%s: removed to keep pyramids under %lld bytes%s", oldest,
			 (long long)q->max_bytes, too_big ? " (larger than that alone)" : "");
		unlink(oldest);
		pyramid_forget_locked(q, oldest, !too_big);
	}
}

static void pyramid_add_locked(struct pyramid_queue *q, const char *path, int64_t size,
			       gint64 used)
{
	struct pyramid_file *f = g_new(struct pyramid_file, 1);
	*f = (struct pyramid_file){ size, used };
	pyramid_forget_locked(q, path, false);
	g_hash_table_insert(q->files, g_strdup(path), f);
	g_hash_table_add(q->seen, g_strdup(path));
	q->total_bytes += size;
	metrics_cache_size(METRICS_CACHE_PYRAMID, g_hash_table_size(q->files), q->total_bytes);
}

/* Counts a finished pyramid (last used at used) and evicts what no longer fits. */
static void pyramid_adopt(struct pyramid_queue *q, const char *path, int64_t size, gint64 used)
{
	pthread_mutex_lock(&q->lock);
	pyramid_add_locked(q, path, size, used);
	pyramid_evict_locked(q);
	pthread_mutex_unlock(&q->lock);
}

/* Flushes a finished build to disk before it is published by rename (a crash must not leave a
 * truncated pyramid under its final name); reports its size. */
static int pyramid_sync(const char *tmp, int64_t *size)
{
	struct stat st;
	int fd = open(tmp, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	int rc = fsync(fd) == 0 && fstat(fd, &st) == 0 ? 0 : -1;
	close(fd);
	if (rc == 0)
		*size = st.st_size;
	return rc;
}

/*
 * A build's temporary file ("<pyramid>.tmp-PID") is a leftover of a crash when its process is
 * gone, or is this one (a restarted server may get the same PID, as in a container).
 */
static bool pyramid_is_leftover(const char *name)
{
	const char *tmp = strstr(name, ".tmp-");
	if (!tmp)
		return strstr(name, ".tmp") != NULL;
	long pid = strtol(tmp + 5, NULL, 10);
	return pid <= 0 || pid == (long)getpid() || (kill((pid_t)pid, 0) < 0 && errno == ESRCH);
}

/* At start: removes leftovers of crashed builds and counts the finished pyramids. */
static void pyramid_scan(struct pyramid_queue *q)
{
	DIR *d = opendir(q->dir);
	if (!d)
		return;
	pthread_mutex_lock(&q->lock);
	for (struct dirent *e; (e = readdir(d));) {
		struct stat st;
		char *path = g_build_filename(q->dir, e->d_name, NULL);
		if (e->d_name[0] != '.' && stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
			if (strstr(e->d_name, ".tmp") && pyramid_is_leftover(e->d_name)) {
				if (unlink(path) == 0)
					log_info("%s: removed, left by an interrupted build", path);
			} else if (g_str_has_suffix(e->d_name, ".tif")) {
				pyramid_add_locked(q, path, st.st_size,
						   (gint64)st.st_mtime * G_USEC_PER_SEC);
			}
		}
		g_free(path);
	}
	closedir(d);
	pyramid_evict_locked(q);
	pthread_mutex_unlock(&q->lock);
}

static void pyramid_build(gpointer data, gpointer user)
{
	struct pyramid_job *job = data;
	struct iiifd_error err = { 0 };
	struct image_source src;
	char *tmp = g_strdup_printf("%s.tmp-%d", job->target, getpid());
	(void)user;
	int rc = image_source_open(job->source, 0, &src, &err);
	if (rc == 0) {
		rc = image_pyramid_write(&src, tmp, job->q->tile, job->q->quality, &err);
		image_source_release(&src);
	}
	int64_t size = 0;
	if (rc == 0 && pyramid_sync(tmp, &size) == 0 && rename(tmp, job->target) == 0) {
		log_info("%s: pyramid ready at %s", job->source, job->target);
		pyramid_adopt(job->q, job->target, size, g_get_real_time());
	} else {
		unlink(tmp);
		log_warn("%s: cannot build a pyramid: %s", job->source, err.msg[0] ? err.msg : "rename failed");
	}
	g_free(tmp);
	free(job->source);
	g_free(job->target);
	free(job);
}

struct pyramid_queue *pyramid_queue_new(const char *dir, int64_t min_pixels, int tile,
					int quality, int64_t max_bytes)
{
	struct pyramid_queue *q = calloc(1, sizeof *q);
	if (!q)
		return NULL;
	q->dir = g_strdup(dir);
	q->min_pixels = min_pixels;
	q->tile = tile;
	q->quality = quality;
	q->max_bytes = max_bytes;
	q->pool = g_thread_pool_new(pyramid_build, NULL, 1, FALSE, NULL);
	q->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	q->files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	pthread_mutex_init(&q->lock, NULL);
	g_mkdir_with_parents(dir, 0755);
	pyramid_scan(q);
	return q;
}

void pyramid_queue_free(struct pyramid_queue *q)
{
	if (!q)
		return;
	g_thread_pool_free(q->pool, TRUE, TRUE); /* drop queued builds, wait for the running one */
	g_hash_table_destroy(q->seen);
	g_hash_table_destroy(q->files);
	pthread_mutex_destroy(&q->lock);
	g_free(q->dir);
	free(q);
}

int pyramid_queue_wants(const struct pyramid_queue *q, const struct image_source *src)
{
	bool stored_pyramid = src->nlevels > 1 && src->kind != IMAGE_SOURCE_JPEG;
	return q && q->min_pixels > 0 && !stored_pyramid && src->tile_width == 0 &&
	       src->npages == 1 && src->bands != 2 && src->bands != 4 &&
	       src->width * src->height >= q->min_pixels;
}

char *pyramid_queue_lookup(struct pyramid_queue *q, const struct image_source *src)
{
	char *target = pyramid_path(q, src);
	struct stat st;
	if (stat(target, &st) == 0) {
		pthread_mutex_lock(&q->lock);
		struct pyramid_file *f = g_hash_table_lookup(q->files, target);
		if (f)
			f->used = g_get_real_time();
		pthread_mutex_unlock(&q->lock);
		if (!f) /* built by another server sharing the folder */
			pyramid_adopt(q, target, st.st_size, g_get_real_time());
		char *found = strdup(target);
		g_free(target);
		return found;
	}
	pthread_mutex_lock(&q->lock);
	if (g_hash_table_contains(q->files, target))
		pyramid_forget_locked(q, target, true); /* purged behind our back: build it again */
	bool queued = g_hash_table_contains(q->seen, target);
	if (!queued)
		g_hash_table_add(q->seen, g_strdup(target));
	pthread_mutex_unlock(&q->lock);
	if (!queued) {
		struct pyramid_job *job = malloc(sizeof *job);
		if (job) {
			*job = (struct pyramid_job){ q, strdup(src->path), g_strdup(target) };
			g_thread_pool_push(q->pool, job, NULL);
		}
	}
	g_free(target);
	return NULL;
}
