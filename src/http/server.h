/*
 * server.h: the libmicrohttpd adapter: a thread pool accepting HTTP/1.1 (keep-alive), turning
 * each request into a struct http_request for one handler, and logging one access line each.
 */
#ifndef IIIFD_HTTP_SERVER_H
#define IIIFD_HTTP_SERVER_H

#include <stdbool.h>

#include "core/error.h"
#include "http/message.h"

/* Fills resp for req. Called concurrently from the pool's threads. */
typedef void (*http_handler_fn)(void *ctx, const struct http_request *req,
				struct http_response *resp);

struct http_server_options {
	const char *host;
	int port;
	int max_connections;
	bool access_log;
};

struct http_server;

/* Starts listening. Returns a server to pass to http_server_stop(), or NULL with err set. */
struct http_server *http_server_start(const struct http_server_options *opt,
				      http_handler_fn handler, void *ctx,
				      struct iiifd_error *err);

/*
 * Stops accepting, lets requests in flight finish for up to timeout_s seconds, then closes
 * every connection and frees the server.
 */
void http_server_stop(struct http_server *server, int timeout_s);

#endif
