/*
 * guard.c: connection deadlines and per-client counts. Connections are closed by shutting their
 * socket down: libmicrohttpd then sees the end of the stream and closes the connection itself on
 * its own thread. The shutdown happens under the guard's lock and libmicrohttpd reports a
 * connection closed (http_guard_close, which takes the lock) before it closes the socket, so the
 * sweeper never touches a socket number that was already reused.
 */
#include "http/guard.h"

#include <glib.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "core/log.h"
#include "core/metrics.h"

#define GUARD_SWEEP_MS 200
#define GUARD_PRESSURE_DEADLINE_MS 2000 /* waiting connections' deadline when nearly full */

enum guard_phase {
	GUARD_HEADERS,   /* waiting for a request's headers */
	GUARD_BODY,      /* headers in, body arriving */
	GUARD_BUSY,      /* being answered: no deadline here (renders have their own) */
	GUARD_KEEPALIVE, /* response sent, waiting for the next request */
};

struct http_guard_conn {
	struct http_guard_conn *prev, *next;
	int fd;
	bool closing; /* shut down by the sweeper, close not yet reported */
	enum guard_phase phase;
	int64_t phase_start_ms;
	int64_t deadline_ms; /* absolute, CLOCK_MONOTONIC; 0 = none */
	char peer[HTTP_CLIENT_ADDR_MAX];
};

struct http_guard {
	struct http_guard_options opt;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t sweeper;
	bool stop;
	int count;
	struct http_guard_conn *head;
	GHashTable *per_client; /* peer -> open connections (GINT_TO_POINTER) */
};

static int64_t guard_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The deadline of a phase in seconds, 0 = none. Caller holds the lock (reloads change them). */
static int guard_timeout(const struct http_guard *g, enum guard_phase phase)
{
	switch (phase) {
	case GUARD_HEADERS:
		return g->opt.header_timeout;
	case GUARD_BODY:
		return g->opt.body_timeout;
	case GUARD_KEEPALIVE:
		return g->opt.keepalive_timeout;
	default:
		return 0;
	}
}

/* Caller holds the lock. */
static void guard_set_phase(struct http_guard *g, struct http_guard_conn *c,
			    enum guard_phase phase)
{
	int timeout_s = guard_timeout(g, phase);
	c->phase = phase;
	c->phase_start_ms = guard_now_ms();
	c->deadline_ms = timeout_s > 0 ? c->phase_start_ms + (int64_t)timeout_s * 1000 : 0;
}

static bool guard_expired(const struct http_guard *g, const struct http_guard_conn *c,
			  int64_t now)
{
	if (c->closing || c->phase == GUARD_BUSY)
		return false;
	if (c->deadline_ms && now >= c->deadline_ms)
		return true;
	/* nearly full: connections that are only waiting make room for working ones */
	bool pressure = g->count > g->opt.max_connections / 4 * 3;
	return pressure && c->phase != GUARD_BODY &&
	       now - c->phase_start_ms >= GUARD_PRESSURE_DEADLINE_MS;
}

static void guard_sweep(struct http_guard *g)
{
	int64_t now = guard_now_ms();
	int closed = 0;
	for (struct http_guard_conn *c = g->head; c; c = c->next) {
		if (!guard_expired(g, c, now))
			continue;
		c->closing = true;
		shutdown(c->fd, SHUT_RDWR);
		closed++;
	}
	metrics_connections_expired(closed);
	if (closed)
		log_debug("closed %d connections past their deadline (%d open)", closed, g->count);
}

static void *guard_sweeper(void *arg)
{
	struct http_guard *g = arg;
	pthread_mutex_lock(&g->lock);
	while (!g->stop) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_nsec += GUARD_SWEEP_MS * 1000000L;
		if (until.tv_nsec >= 1000000000L) {
			until.tv_sec++;
			until.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&g->wake, &g->lock, &until);
		if (!g->stop)
			guard_sweep(g);
	}
	pthread_mutex_unlock(&g->lock);
	return NULL;
}

struct http_guard *http_guard_new(const struct http_guard_options *opt, struct iiifd_error *err)
{
	struct http_guard *g = calloc(1, sizeof *g);
	if (!g) {
		iiifd_error_set(err, 500, "out of memory");
		return NULL;
	}
	g->opt = *opt;
	g->per_client = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->wake, NULL);
	if (pthread_create(&g->sweeper, NULL, guard_sweeper, g) != 0) {
		g_hash_table_destroy(g->per_client);
		free(g);
		iiifd_error_set(err, 500, "cannot start the connection sweeper thread");
		return NULL;
	}
	return g;
}

void http_guard_free(struct http_guard *g)
{
	if (!g)
		return;
	pthread_mutex_lock(&g->lock);
	g->stop = true;
	pthread_cond_signal(&g->wake);
	pthread_mutex_unlock(&g->lock);
	pthread_join(g->sweeper, NULL);
	while (g->head) { /* not expected: the server closes every connection first */
		struct http_guard_conn *c = g->head;
		g->head = c->next;
		free(c);
	}
	g_hash_table_destroy(g->per_client);
	pthread_mutex_destroy(&g->lock);
	pthread_cond_destroy(&g->wake);
	free(g);
}

bool http_guard_admit(struct http_guard *g, const char *peer)
{
	if (g->opt.max_per_client <= 0 || http_proxies_contains(g->opt.proxies, peer))
		return true;
	pthread_mutex_lock(&g->lock);
	int open = GPOINTER_TO_INT(g_hash_table_lookup(g->per_client, peer));
	pthread_mutex_unlock(&g->lock);
	if (open < g->opt.max_per_client)
		return true;
	log_warn("refused a connection from %s: it already has %d open (max-connections-per-client)",
		 peer, open);
	metrics_connection_refused();
	return false;
}

struct http_guard_conn *http_guard_open(struct http_guard *g, int fd, const char *peer)
{
	struct http_guard_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->fd = fd;
	g_strlcpy(c->peer, peer, sizeof c->peer);
	pthread_mutex_lock(&g->lock);
	guard_set_phase(g, c, GUARD_HEADERS);
	c->next = g->head;
	if (g->head)
		g->head->prev = c;
	g->head = c;
	g->count++;
	int open = GPOINTER_TO_INT(g_hash_table_lookup(g->per_client, peer));
	g_hash_table_insert(g->per_client, g_strdup(peer), GINT_TO_POINTER(open + 1));
	pthread_mutex_unlock(&g->lock);
	metrics_connections(1);
	return c;
}

void http_guard_close(struct http_guard *g, struct http_guard_conn *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&g->lock);
	if (c->prev)
		c->prev->next = c->next;
	else
		g->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	g->count--;
	int open = GPOINTER_TO_INT(g_hash_table_lookup(g->per_client, c->peer));
	if (open <= 1)
		g_hash_table_remove(g->per_client, c->peer);
	else
		g_hash_table_insert(g->per_client, g_strdup(c->peer), GINT_TO_POINTER(open - 1));
	pthread_mutex_unlock(&g->lock);
	metrics_connections(-1);
	free(c);
}

static void guard_enter(struct http_guard *g, struct http_guard_conn *c, enum guard_phase phase)
{
	if (!c)
		return;
	pthread_mutex_lock(&g->lock);
	guard_set_phase(g, c, phase);
	pthread_mutex_unlock(&g->lock);
}

void http_guard_headers_done(struct http_guard *g, struct http_guard_conn *c, bool has_body)
{
	if (has_body)
		guard_enter(g, c, GUARD_BODY);
	else
		guard_enter(g, c, GUARD_BUSY);
}

void http_guard_body_done(struct http_guard *g, struct http_guard_conn *c)
{
	guard_enter(g, c, GUARD_BUSY);
}

void http_guard_request_done(struct http_guard *g, struct http_guard_conn *c)
{
	guard_enter(g, c, GUARD_KEEPALIVE);
}

void http_guard_set_timeouts(struct http_guard *g, int header_s, int body_s, int keepalive_s)
{
	pthread_mutex_lock(&g->lock);
	g->opt.header_timeout = header_s;
	g->opt.body_timeout = body_s;
	g->opt.keepalive_timeout = keepalive_s;
	pthread_mutex_unlock(&g->lock);
}

int http_guard_count(struct http_guard *g)
{
	pthread_mutex_lock(&g->lock);
	int n = g->count;
	pthread_mutex_unlock(&g->lock);
	return n;
}
