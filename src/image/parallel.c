/*
 * parallel.c: a job is a shared counter of items; whoever runs (caller or pool thread) claims the
 * next item until none is left. The job lives on the heap, reference-counted, because a pool
 * thread may start only after the caller has finished every item and returned.
 */
#include "image/parallel.h"

#include <glib.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

struct parallel_job {
	void (*fn)(void *user, int i);
	void *user; /* only touched while an item is claimed and unfinished */
	int n;
	gint next, done, refs;
	GMutex lock;
	GCond finished;
};

static GThreadPool *parallel_pool;
static int parallel_threads;

static void parallel_job_unref(struct parallel_job *job)
{
	if (!g_atomic_int_dec_and_test(&job->refs))
		return;
	g_mutex_clear(&job->lock);
	g_cond_clear(&job->finished);
	free(job);
}

static void parallel_work(struct parallel_job *job)
{
	int i;
	while ((i = g_atomic_int_add(&job->next, 1)) < job->n) {
		job->fn(job->user, i);
		if (g_atomic_int_add(&job->done, 1) + 1 == job->n) {
			g_mutex_lock(&job->lock);
			g_cond_signal(&job->finished);
			g_mutex_unlock(&job->lock);
		}
	}
}

static void parallel_pool_run(gpointer data, gpointer unused)
{
	(void)unused;
	parallel_work(data);
	parallel_job_unref(data);
}

static gpointer parallel_pool_init(gpointer unused)
{
	(void)unused;
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	parallel_threads = cores > 1 ? (int)cores : 1;
	parallel_pool = g_thread_pool_new(parallel_pool_run, NULL, parallel_threads, FALSE, NULL);
	return NULL;
}

void parallel_for(int n, void (*fn)(void *user, int i), void *user)
{
	static GOnce once = G_ONCE_INIT;
	g_once(&once, parallel_pool_init, NULL);
	/* helpers already waiting in the pool's queue mean every core is busy: work alone */
	bool busy = parallel_pool && g_thread_pool_unprocessed(parallel_pool) > 0;
	struct parallel_job *job = n > 1 && parallel_pool && !busy ? calloc(1, sizeof *job) : NULL;
	if (!job) {
		for (int i = 0; i < n; i++)
			fn(user, i);
		return;
	}
	*job = (struct parallel_job){ .fn = fn, .user = user, .n = n, .refs = 1 };
	g_mutex_init(&job->lock);
	g_cond_init(&job->finished);
	int helpers = n - 1 < parallel_threads - 1 ? n - 1 : parallel_threads - 1;
	for (int h = 0; h < helpers; h++) {
		g_atomic_int_inc(&job->refs);
		if (!g_thread_pool_push(parallel_pool, job, NULL))
			parallel_job_unref(job);
	}
	parallel_work(job);
	g_mutex_lock(&job->lock);
	while (g_atomic_int_get(&job->done) < n)
		g_cond_wait(&job->finished, &job->lock);
	g_mutex_unlock(&job->lock);
	parallel_job_unref(job);
}
