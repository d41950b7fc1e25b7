/*
 * pyramid_queue.c: a one-thread GThreadPool does the builds, so they never take more than one core
 * from request handling; a set of keys remembers what is queued or has failed.
 */
#include "image/pyramid_queue.h"

#include <glib.h>
#include <glib/gstdio.h>
#include <stdbool.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "image/pyramid.h"

struct pyramid_queue {
	char *dir;
	int64_t min_pixels;
	int tile, quality;
	GThreadPool *pool;
	pthread_mutex_t lock;
	GHashTable *seen; /* pyramid paths queued, built or failed */
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
	char *path = g_strdup_printf("%s/%.32s-%lld.%09ld-%lld.tif", q->dir, digest,
				     (long long)src->mtime, src->mtime_nsec,
				     (long long)src->file_size);
	g_free(digest);
	return path;
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
	if (rc == 0 && rename(tmp, job->target) == 0) {
		log_info("%s: pyramid ready at %s", job->source, job->target);
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
					int quality)
{
	struct pyramid_queue *q = calloc(1, sizeof *q);
	if (!q)
		return NULL;
	q->dir = g_strdup(dir);
	q->min_pixels = min_pixels;
	q->tile = tile;
	q->quality = quality;
	q->pool = g_thread_pool_new(pyramid_build, NULL, 1, FALSE, NULL);
	q->seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	pthread_mutex_init(&q->lock, NULL);
	g_mkdir_with_parents(dir, 0755);
	return q;
}

void pyramid_queue_free(struct pyramid_queue *q)
{
	if (!q)
		return;
	g_thread_pool_free(q->pool, TRUE, TRUE); /* drop queued builds, wait for the running one */
	g_hash_table_destroy(q->seen);
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
	if (access(target, R_OK) == 0) {
		char *found = strdup(target);
		g_free(target);
		return found;
	}
	pthread_mutex_lock(&q->lock);
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
