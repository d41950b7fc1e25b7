/*
 * workers.c: the handler thread pool with a fair queue: one FIFO of jobs per client, and a ring
 * of the clients that have jobs waiting and a free share of threads; each free thread takes the
 * next job of the client at the head of the ring, which then goes to the back.
 */
#include "http/workers.h"

#include <glib.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

struct workers_job {
	http_job_fn fn;
	void *arg;
};

struct workers_client {
	char *name;
	GQueue jobs;  /* of struct workers_job * */
	int running;  /* jobs of this client on a thread now */
	bool in_ring; /* listed in the ring of clients to serve */
};

struct http_workers {
	pthread_mutex_t lock;
	pthread_cond_t work;
	pthread_t *threads;
	int nthreads;
	int per_client; /* threads one client may hold at once */
	int pending;    /* queued + running */
	bool stop;
	GHashTable *clients; /* name -> struct workers_client */
	GQueue ring;         /* of struct workers_client *, ready to run a job */
};

static void workers_client_free(void *p)
{
	struct workers_client *c = p;
	g_free(c->name);
	g_free(c);
}

/* Caller holds the lock: lists c in the ring when it has work and may take another thread. */
static void workers_ready(struct http_workers *w, struct workers_client *c)
{
	if (c->in_ring || g_queue_is_empty(&c->jobs) || c->running >= w->per_client)
		return;
	c->in_ring = true;
	g_queue_push_tail(&w->ring, c);
	pthread_cond_signal(&w->work);
}

/* Caller holds the lock; the ring is not empty. */
static struct workers_job *workers_take(struct http_workers *w, struct workers_client **owner)
{
	struct workers_client *c = g_queue_pop_head(&w->ring);
	c->in_ring = false;
	struct workers_job *job = g_queue_pop_head(&c->jobs);
	c->running++;
	workers_ready(w, c);
	*owner = c;
	return job;
}

static void workers_done(struct http_workers *w, struct workers_client *c)
{
	c->running--;
	w->pending--;
	if (c->running == 0 && g_queue_is_empty(&c->jobs))
		g_hash_table_remove(w->clients, c->name); /* frees c */
	else
		workers_ready(w, c);
}

static void *workers_main(void *arg)
{
	struct http_workers *w = arg;
	pthread_mutex_lock(&w->lock);
	for (;;) {
		while (g_queue_is_empty(&w->ring) && !w->stop)
			pthread_cond_wait(&w->work, &w->lock);
		if (g_queue_is_empty(&w->ring))
			break; /* stopping and nothing left to run */
		struct workers_client *c;
		struct workers_job *job = workers_take(w, &c);
		pthread_mutex_unlock(&w->lock);
		job->fn(job->arg);
		free(job);
		pthread_mutex_lock(&w->lock);
		workers_done(w, c);
	}
	pthread_mutex_unlock(&w->lock);
	return NULL;
}

struct http_workers *http_workers_new(int threads, struct iiifd_error *err)
{
	struct http_workers *w = calloc(1, sizeof *w);
	if (!w || !(w->threads = calloc((size_t)threads, sizeof *w->threads))) {
		free(w);
		iiifd_error_set(err, 500, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->work, NULL);
	w->clients = g_hash_table_new_full(g_str_hash, g_str_equal, NULL, workers_client_free);
	g_queue_init(&w->ring);
	w->per_client = threads > 1 ? threads / 2 : 1;
	for (; w->nthreads < threads; w->nthreads++) {
		if (pthread_create(&w->threads[w->nthreads], NULL, workers_main, w) != 0) {
			iiifd_error_set(err, 500, "cannot start worker thread %d of %d", w->nthreads + 1,
					threads);
			http_workers_free(w);
			return NULL;
		}
	}
	return w;
}

void http_workers_submit(struct http_workers *w, const char *client, http_job_fn fn, void *arg)
{
	struct workers_job *job = malloc(sizeof *job);
	if (!job) {
		fn(arg); /* out of memory: run it here rather than lose it */
		return;
	}
	*job = (struct workers_job){ fn, arg };
	pthread_mutex_lock(&w->lock);
	struct workers_client *c = g_hash_table_lookup(w->clients, client);
	if (!c) {
		c = g_new0(struct workers_client, 1);
		c->name = g_strdup(client);
		g_queue_init(&c->jobs);
		g_hash_table_insert(w->clients, c->name, c);
	}
	g_queue_push_tail(&c->jobs, job);
	w->pending++;
	workers_ready(w, c);
	pthread_mutex_unlock(&w->lock);
}

int http_workers_pending(struct http_workers *w)
{
	pthread_mutex_lock(&w->lock);
	int n = w->pending;
	pthread_mutex_unlock(&w->lock);
	return n;
}

void http_workers_free(struct http_workers *w)
{
	if (!w)
		return;
	pthread_mutex_lock(&w->lock);
	w->stop = true;
	pthread_cond_broadcast(&w->work);
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < w->nthreads; i++)
		pthread_join(w->threads[i], NULL);
	g_hash_table_destroy(w->clients);
	pthread_mutex_destroy(&w->lock);
	pthread_cond_destroy(&w->work);
	free(w->threads);
	free(w);
}
