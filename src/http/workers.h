/*
 * workers.h: a fixed pool of threads that run request handlers, so the number of threads does not
 * grow with the number of connections. Jobs queue per client address and clients are served in
 * turn, so one client's burst cannot delay everyone else's requests; no client holds more than
 * half of the threads at once.
 */
#ifndef IIIFD_HTTP_WORKERS_H
#define IIIFD_HTTP_WORKERS_H

#include "core/error.h"

typedef void (*http_job_fn)(void *arg);

struct http_workers;

/* Starts threads workers. NULL with err on failure. */
struct http_workers *http_workers_new(int threads, struct iiifd_error *err);

/*
 * Queues fn(arg) on behalf of client (copied). Every job submitted is run exactly once, also
 * after http_workers_free() has started (it drains the queue).
 */
void http_workers_submit(struct http_workers *w, const char *client, http_job_fn fn, void *arg);

/* Jobs queued or running now. */
int http_workers_pending(struct http_workers *w);

/* Runs what is queued, then stops and joins the threads and frees the pool. */
void http_workers_free(struct http_workers *w);

#endif
