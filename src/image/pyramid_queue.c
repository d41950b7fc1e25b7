/*
 * pyramid_queue.c: a one-thread GThreadPool does the builds, so they never take more than one core
 * from request handling; a set of keys remembers what is queued or has failed, and a table of the
 * finished pyramids (size, last use) keeps the folder under its size limit, least recently used
 * first. The folder may be shared by several processes or nodes: each build is claimed first
 * (pyramid_claim.h), written under a temporary name of its builder and published by rename, so
 * the others find it complete or not at all; a build claimed by another is looked for again
 * every PYRAMID_RETRY_US, and taken over when its builder died.
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
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/metrics.h"
#include "image/pyramid.h"
#include "image/pyramid_claim.h"

/* How often a build claimed by another process is tried again (which takes it over if that
 * process died); until then requests are served from the original. */
#define PYRAMID_RETRY_US (2 * G_USEC_PER_SEC)
/* Another host's temporary file untouched for this long is a leftover (a build writes on). */
#define PYRAMID_STALE_S (24 * 3600)

struct pyramid_queue {
	char *dir;
	int64_t min_pixels;
	int tile, quality;
	int64_t max_bytes, total_bytes; /* limit and sum of the finished pyramids' sizes */
	GThreadPool *pool;
	pthread_mutex_t lock;
	GHashTable *seen;  /* pyramid paths queued, built or failed */
	GHashTable *files; /* finished pyramid path -> struct pyramid_file */
	GHashTable *retry; /* path claimed elsewhere -> gint64 monotonic time to look again */
	char host[64];     /* in temporary names: whose build it is */
	/* held by the build thread through a job: pyramid_queue_use_store() waits for it */
	pthread_mutex_t build_lock;
	struct db *db;     /* borrowed shared store whose claims are used; NULL = lock file */
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
	if (rebuild) {
		g_hash_table_remove(q->seen, path);
		g_hash_table_remove(q->retry, path);
	}
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
 * A build's temporary file ("<pyramid>.tmp-HOST-PID") is a leftover of a crash when it is this
 * host's and its process is gone, or is this one (a restarted server may get the same PID, as
 * in a container); another host's when it has not been written to for PYRAMID_STALE_S.
 */
static bool pyramid_is_leftover(const struct pyramid_queue *q, const char *name,
				const struct stat *st)
{
	const char *tmp = strstr(name, ".tmp-");
	const char *dash = tmp ? strrchr(tmp + 5, '-') : NULL;
	if (!tmp)
		return true;
	if (dash && ((size_t)(dash - tmp - 5) != strlen(q->host) ||
		     strncmp(tmp + 5, q->host, strlen(q->host)) != 0))
		return time(NULL) - st->st_mtime > PYRAMID_STALE_S;
	long pid = strtol(dash ? dash + 1 : tmp + 5, NULL, 10);
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
			if (strstr(e->d_name, ".tmp") && pyramid_is_leftover(q, e->d_name, &st)) {
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

/* Another process holds the build: look again after PYRAMID_RETRY_US. */
static void pyramid_wait_elsewhere(struct pyramid_queue *q, const char *target)
{
	gint64 *at = g_new(gint64, 1);
	*at = g_get_monotonic_time() + PYRAMID_RETRY_US;
	pthread_mutex_lock(&q->lock);
	g_hash_table_insert(q->retry, g_strdup(target), at);
	pthread_mutex_unlock(&q->lock);
}

/* Leaves "<pyramid>.failed" with the reason, so that no other node tries the same source
 * version again (a new version has another name). */
static void pyramid_mark_failed(const char *target, const char *reason)
{
	char *marker = g_strdup_printf("%s.failed", target);
	if (!g_file_set_contents(marker, reason, -1, NULL))
		log_warn("%s: cannot write", marker);
	g_free(marker);
}

/* Builds job's pyramid under a temporary name and publishes it by rename. We hold its claim. */
static void pyramid_build_claimed(struct pyramid_queue *q, const struct pyramid_job *job)
{
	struct iiifd_error err = { 0 };
	struct image_source src;
	char *tmp = g_strdup_printf("%s.tmp-%s-%d", job->target, q->host, getpid());
	int rc = image_source_open(job->source, 0, &src, &err);
	if (rc == 0) {
		rc = image_pyramid_write(&src, tmp, q->tile, q->quality, &err);
		image_source_release(&src);
	}
	int64_t size = 0;
	if (rc == 0 && pyramid_sync(tmp, &size) == 0 && rename(tmp, job->target) == 0) {
		log_info("%s: pyramid ready at %s", job->source, job->target);
		metrics_pyramid_build(METRICS_PYRAMID_OK);
		pyramid_adopt(q, job->target, size, g_get_real_time());
	} else {
		unlink(tmp);
		const char *why = err.msg[0] ? err.msg : "rename failed";
		log_warn("%s: cannot build a pyramid: %s", job->source, why);
		metrics_pyramid_build(METRICS_PYRAMID_FAILED);
		/* the source's fault (image_pyramid_write's decode check), not a full disk's */
		if (strstr(err.msg, ": cannot decode: "))
			pyramid_mark_failed(job->target, why);
	}
	g_free(tmp);
}

/*
 * Claims the build; when another process has it, leaves it to that one (looking again later).
 * Having claimed it, finds whether another finished it (or failed on it) meanwhile.
 */
static void pyramid_build(gpointer data, gpointer user)
{
	struct pyramid_job *job = data;
	struct pyramid_queue *q = job->q;
	struct pyramid_claim *claim = NULL;
	struct iiifd_error err = { 0 };
	struct stat st;
	(void)user;
	pthread_mutex_lock(&q->build_lock);
	const char *name = strrchr(job->target, '/') + 1;
	int rc = pyramid_claim_take(q->db, q->dir, name, &claim, &err);
	if (rc <= 0) {
		if (rc < 0)
			log_warn("%s: cannot claim its pyramid build: %s", job->source, err.msg);
		else
			metrics_pyramid_build(METRICS_PYRAMID_BUSY);
		pyramid_wait_elsewhere(q, job->target);
	} else if (stat(job->target, &st) == 0) {
		pyramid_adopt(q, job->target, st.st_size, g_get_real_time()); /* built elsewhere */
	} else {
		char *marker = g_strdup_printf("%s.failed", job->target);
		if (access(marker, F_OK) != 0)
			pyramid_build_claimed(q, job);
		g_free(marker);
	}
	pyramid_claim_release(claim);
	pthread_mutex_unlock(&q->build_lock);
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
	q->retry = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	pthread_mutex_init(&q->lock, NULL);
	pthread_mutex_init(&q->build_lock, NULL);
	if (gethostname(q->host, sizeof q->host) != 0 || !q->host[0])
		strcpy(q->host, "localhost");
	q->host[sizeof q->host - 1] = '\0';
	for (char *c = q->host; *c; c++) /* a name part: no '/', and '-' splits host from PID */
		if (*c == '/' || *c == '-')
			*c = '_';
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
	g_hash_table_destroy(q->retry);
	pthread_mutex_destroy(&q->lock);
	pthread_mutex_destroy(&q->build_lock);
	g_free(q->dir);
	free(q);
}

void pyramid_queue_use_store(struct pyramid_queue *q, struct db *db)
{
	if (!q)
		return;
	pthread_mutex_lock(&q->build_lock);
	q->db = db_is_shared(db) ? db : NULL;
	pthread_mutex_unlock(&q->build_lock);
}

/* Whether target is to be queued now: never seen, or claimed elsewhere and due a new look. */
static bool pyramid_due_locked(struct pyramid_queue *q, const char *target)
{
	if (!g_hash_table_contains(q->seen, target)) {
		g_hash_table_add(q->seen, g_strdup(target));
		return true;
	}
	gint64 *at = g_hash_table_lookup(q->retry, target);
	if (!at || g_get_monotonic_time() < *at)
		return false;
	g_hash_table_remove(q->retry, target);
	return true;
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
	bool due = pyramid_due_locked(q, target);
	pthread_mutex_unlock(&q->lock);
	if (due) {
		struct pyramid_job *job = malloc(sizeof *job);
		if (job) {
			*job = (struct pyramid_job){ q, strdup(src->path), g_strdup(target) };
			g_thread_pool_push(q->pool, job, NULL);
		}
	}
	g_free(target);
	return NULL;
}
