/*
 * guard.h: keeps slow, idle and greedy clients from holding the server's connections. Every open
 * connection is tracked with the phase it is in and a *total* deadline for that phase (a request's
 * headers, its body, the wait for the next request on a kept-alive connection); a sweeper thread
 * closes connections past their deadline, however steadily they trickle bytes. It also counts
 * connections per client address for the per-client limit (trusted proxies are exempt).
 */
#ifndef IIIFD_HTTP_GUARD_H
#define IIIFD_HTTP_GUARD_H

#include <stdbool.h>

#include "core/error.h"
#include "http/client.h"

struct http_guard_options {
	int header_timeout;    /* seconds for a new connection's first request headers */
	int body_timeout;      /* seconds for a body once its headers are in */
	int keepalive_timeout; /* seconds a kept-alive connection may wait for its next request */
	int max_connections;   /* past 3/4 of this, waiting connections get short deadlines */
	int max_per_client;    /* 0 = no limit */
	const struct http_proxies *proxies; /* exempt from max_per_client; borrowed */
};

struct http_guard;      /* one per server */
struct http_guard_conn; /* one per open connection, owned by the guard */

/* Starts the sweeper thread. NULL with err on failure. Free with http_guard_free(). */
struct http_guard *http_guard_new(const struct http_guard_options *opt, struct iiifd_error *err);
/* Stops the sweeper; every connection must have been closed (http_guard_close) before. */
void http_guard_free(struct http_guard *g);

/* Whether a new connection from peer (numeric address) may be accepted. */
bool http_guard_admit(struct http_guard *g, const char *peer);

/* Starts tracking a connection on socket fd, in its header phase. NULL when out of memory. */
struct http_guard_conn *http_guard_open(struct http_guard *g, int fd, const char *peer);
/* Stops tracking (the connection is closing); c is freed. Call before the socket is closed. */
void http_guard_close(struct http_guard *g, struct http_guard_conn *c);

/* New phase deadlines (seconds) for the phases connections enter from now on (a reload). */
void http_guard_set_timeouts(struct http_guard *g, int header_s, int body_s, int keepalive_s);

/* The request's headers are complete: the body phase starts, or no deadline while it is served. */
void http_guard_headers_done(struct http_guard *g, struct http_guard_conn *c, bool has_body);
/* The body is complete: no deadline while the request is being answered. */
void http_guard_body_done(struct http_guard *g, struct http_guard_conn *c);
/* The response is sent: the keep-alive wait for the next request starts. */
void http_guard_request_done(struct http_guard *g, struct http_guard_conn *c);

/* Open connections now (for tests and logs). */
int http_guard_count(struct http_guard *g);

#endif
