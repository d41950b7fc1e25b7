/*
 * server.h: the HTTP server: HTTP/1.1 with keep-alive on a few event-loop threads, handlers on a
 * fixed pool of workers, total deadlines for requests, a per-client connection limit, and the
 * client address behind trusted proxies. Each request becomes a struct http_request for one
 * handler, with one access log line.
 */
#ifndef IIIFD_HTTP_SERVER_H
#define IIIFD_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "http/message.h"

/*
 * Fills resp for req. Called first on an I/O thread (req->on_event_loop), where it may
 * http_response_defer() to be called again on a worker; called concurrently from many threads.
 */
typedef void (*http_handler_fn)(void *ctx, const struct http_request *req,
				struct http_response *resp);

/*
 * Called once a request's headers are in when it announces a body, before any of it is read:
 * 0 with *max_body set to the bytes this route accepts, or -1 with err (401, 403, 404, 405...)
 * to refuse it unread. req has no body yet.
 */
typedef int (*http_body_check_fn)(void *ctx, const struct http_request *req, size_t *max_body,
				  struct iiifd_error *err);

struct http_server_options {
	const char *host;
	int port;
	int max_connections;
	int max_per_client;        /* connections one address may hold; 0 = no limit */
	const char *trusted_proxies; /* see http_proxies_parse() */
	/*
	 * "host:port" ("[v6]:port") of a second listener for operators, or NULL/"": its requests
	 * carry http_request.ops_listener, and the handler decides what it answers there
	 */
	const char *ops_address;
	int header_timeout;        /* seconds; see http/guard.h */
	int body_timeout;
	int keepalive_timeout;
	int workers;               /* handler threads */
	bool access_log;
	http_handler_fn handler;
	http_body_check_fn body_check; /* NULL: no request may carry a body */
	void *ctx;                     /* passed to the two functions above */
};

struct http_server;

/* Starts listening. Returns a server to pass to http_server_stop(), or NULL with err set. */
struct http_server *http_server_start(const struct http_server_options *opt,
				      struct iiifd_error *err);

/* Turns the access log on or off from now on (a config reload); any thread. */
void http_server_set_access_log(struct http_server *server, bool on);

/* header/body/keep-alive timeouts (seconds) for the phases connections enter from now on. */
void http_server_set_timeouts(struct http_server *server, int header_s, int body_s,
			      int keepalive_s);

/*
 * Stops accepting, lets requests in flight finish for up to timeout_s seconds, then closes
 * every connection and frees the server.
 */
void http_server_stop(struct http_server *server, int timeout_s);

#endif
