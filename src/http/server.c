/*
 * server.c: the libmicrohttpd adapter. A few event-loop threads do all socket I/O; handlers run
 * on a fixed worker pool while their connection waits suspended, so neither slow clients nor slow
 * renders hold a thread per connection. The guard (guard.c) enforces total deadlines and the
 * per-client limit; framing.c refuses ambiguous requests; bodies are refused or capped before
 * they are read. URLs reach handlers undecoded (identifiers need their %2F).
 */
#include "http/server.h"

#include <glib.h>
#include <microhttpd.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/metrics.h"
#include "core/strings.h"
#include "http/framing.h"
#include "http/guard.h"
#include "http/outgoing.h"
#include "http/workers.h"

#define SERVER_WRITE_STALL_S 60 /* a client that reads nothing of its response for this long */

struct http_server {
	struct MHD_Daemon *daemon;
	struct MHD_Daemon *ops_daemon; /* the operators' listener, or NULL */
	struct http_guard *guard;
	struct http_workers *workers;
	struct http_proxies *proxies;
	struct http_server_options opt;
	atomic_bool access_log; /* opt.access_log, changed by reloads */
	atomic_int in_flight;
	atomic_bool draining; /* http_server_stop() has begun: answers close their connection */
	atomic_bool stopping;
};

enum exchange_state {
	EXCHANGE_RECEIVING, /* headers in; the body, if any, arriving */
	EXCHANGE_RUNNING,   /* on a worker; the connection is suspended */
	EXCHANGE_READY,     /* resp is filled; to be queued on the I/O thread */
	EXCHANGE_SENT,      /* queued */
};

/* Per-request state, from the headers until libmicrohttpd reports the request completed. */
struct http_exchange {
	struct http_server *server;
	struct MHD_Connection *conn;
	struct http_guard_conn *guarded;
	struct timespec start;
	enum exchange_state state;
	struct http_request req;
	struct http_response resp;
	GByteArray *body;  /* the request body, when there is one */
	size_t body_cap;   /* bytes of body this route accepts */
	int status;
	size_t bytes;
	char method[16];
	char path[512];
	char client[HTTP_CLIENT_ADDR_MAX];
};

const char *http_request_header(const struct http_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_HEADER_KIND, name);
}

char *http_request_arg(const struct http_request *req, const char *name)
{
	const char *raw = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
	if (!raw)
		return NULL;
	size_t n = strlen(raw);
	char *out = malloc(n + 1);
	if (out && strings_form_decode(raw, out, n + 1) < 0) {
		free(out);
		return NULL;
	}
	return out;
}

int http_request_arg_checked(const struct http_request *req, const char *name, char **out,
			     struct iiifd_error *err)
{
	*out = NULL;
	const char *raw = MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
	if (!raw)
		return 0;
	size_t n = strlen(raw);
	char *decoded = malloc(n + 1);
	if (!decoded)
		return iiifd_error_set(err, 500, "out of memory");
	if (strings_form_decode(raw, decoded, n + 1) < 0 || !g_utf8_validate(decoded, -1, NULL)) {
		free(decoded);
		return iiifd_error_set(err, 400,
				       "parameter %s is malformed: a bad %%-escape, or not UTF-8", name);
	}
	*out = decoded;
	return 0;
}

/* Keep the path exactly as sent: decoding belongs to each area, segment by segment. */
static size_t server_no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	return strlen(s);
}

static double server_elapsed_ms(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

/* Numeric address of a socket address; IPv4-mapped IPv6 is written as plain IPv4. */
static void server_numeric(const struct sockaddr *addr, socklen_t len, char *out, size_t n)
{
	snprintf(out, n, "-");
	if (!addr || getnameinfo(addr, len, out, (socklen_t)n, NULL, 0, NI_NUMERICHOST) != 0)
		return;
	if (strncmp(out, "::ffff:", 7) == 0 && strchr(out, '.'))
		memmove(out, out + 7, strlen(out + 7) + 1);
}

static void server_peer(struct MHD_Connection *conn, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	server_numeric(ci ? ci->client_addr : NULL, sizeof(struct sockaddr_in6), out, n);
}

static enum MHD_Result server_accept_policy(void *cls, const struct sockaddr *addr,
					    socklen_t addrlen)
{
	struct http_server *server = cls;
	char peer[HTTP_CLIENT_ADDR_MAX];
	server_numeric(addr, addrlen, peer, sizeof peer);
	return http_guard_admit(server->guard, peer) ? MHD_YES : MHD_NO;
}

static void server_notify_connection(void *cls, struct MHD_Connection *conn, void **socket_ctx,
				     enum MHD_ConnectionNotificationCode code)
{
	struct http_server *server = cls;
	if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		http_guard_close(server->guard, *socket_ctx);
		*socket_ctx = NULL;
		return;
	}
	const union MHD_ConnectionInfo *fd =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	char peer[HTTP_CLIENT_ADDR_MAX];
	server_peer(conn, peer, sizeof peer);
	*socket_ctx = fd ? http_guard_open(server->guard, fd->connect_fd, peer) : NULL;
}

static struct http_guard_conn *server_guarded(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

static void server_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			     enum MHD_RequestTerminationCode toe)
{
	struct http_server *server = cls;
	struct http_exchange *ex = *con_cls;
	if (!ex)
		return;
	if (atomic_load(&server->access_log))
		log_info("access %s %s %s %d %zu %.1fms%s", ex->client, ex->method, ex->path,
			 ex->status, ex->bytes, server_elapsed_ms(&ex->start),
			 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
	http_guard_request_done(server->guard, ex->guarded);
	http_response_release(&ex->resp);
	if (ex->body)
		g_byte_array_free(ex->body, TRUE);
	free(ex);
	*con_cls = NULL;
	atomic_fetch_sub(&server->in_flight, 1);
}

/* Queues ex->resp; close asks the client to go (after errors in the request's framing). */
static enum MHD_Result server_send(struct http_exchange *ex, bool close)
{
	ex->state = EXCHANGE_SENT;
	ex->status = ex->resp.status;
	ex->bytes = ex->resp.body_len;
	/* counted here, not once sent: a client's next request must already see this one */
	metrics_request_done(ex->resp.route, ex->status, server_elapsed_ms(&ex->start) / 1e3);
	/* while draining, keep-alive clients are told to go, so that they reconnect elsewhere */
	return http_outgoing_queue(ex->conn, &ex->resp,
				   close || atomic_load(&ex->server->draining));
}

static enum MHD_Result server_refuse(struct http_exchange *ex, const struct iiifd_error *err)
{
	log_info("refused %s %s from %s: %s", ex->method, ex->path, ex->client, err->msg);
	http_response_error(&ex->resp, err);
	if (err->http_status == 401)
		http_response_header(&ex->resp, "WWW-Authenticate", "Bearer realm=\"iiifd\"");
	return server_send(ex, true);
}

static enum MHD_Result server_framing_header(void *cls, enum MHD_ValueKind kind,
					     const char *key, const char *value)
{
	http_framing_add(cls, key, value ? value : "");
	return MHD_YES;
}

/*
 * The checks made once the headers are in, before any body is read: unambiguous framing, and a
 * body only where a route takes one, from a client allowed to send it, no larger than its cap.
 */
static int server_check_request(struct http_exchange *ex, const char *version,
				struct iiifd_error *err)
{
	struct http_framing f = { 0 };
	MHD_get_connection_values(ex->conn, MHD_HEADER_KIND, server_framing_header, &f);
	if (http_framing_check(&f, strcmp(version, MHD_HTTP_VERSION_1_1) == 0, err) < 0)
		return -1;
	if (!http_framing_has_body(&f))
		return 0;
	const struct http_server_options *opt = &ex->server->opt;
	ex->body_cap = 0;
	if (!opt->body_check)
		return iiifd_error_set(err, 405, "%s requests take no body here", ex->method);
	if (opt->body_check(opt->ctx, &ex->req, &ex->body_cap, err) < 0)
		return -1;
	if (f.content_lengths && f.content_length > ex->body_cap)
		return iiifd_error_set(err, 413, "the body is larger than the %zu bytes this takes",
				       ex->body_cap);
	ex->body = g_byte_array_new();
	return 0;
}

static struct http_exchange *server_exchange_new(struct http_server *server,
						 struct MHD_Connection *conn, const char *url,
						 const char *method)
{
	struct http_exchange *ex = calloc(1, sizeof *ex);
	if (!ex)
		return NULL;
	clock_gettime(CLOCK_MONOTONIC, &ex->start);
	ex->server = server;
	ex->conn = conn;
	ex->guarded = server_guarded(conn);
	snprintf(ex->method, sizeof ex->method, "%s", method);
	snprintf(ex->path, sizeof ex->path, "%s", url);
	char peer[HTTP_CLIENT_ADDR_MAX];
	server_peer(conn, peer, sizeof peer);
	http_client_address(server->proxies, peer,
			    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Forwarded"),
			    MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "X-Forwarded-For"),
			    ex->client, sizeof ex->client);
	ex->req = (struct http_request){ .method = method, .path = url, .conn = conn,
					 .client = ex->client,
					 .via_proxy = http_proxies_contains(server->proxies, peer) };
	const union MHD_ConnectionInfo *di =
		server->ops_daemon ? MHD_get_connection_info(conn, MHD_CONNECTION_INFO_DAEMON)
				   : NULL;
	ex->req.ops_listener = di && di->daemon == server->ops_daemon;
	http_response_init(&ex->resp);
	atomic_fetch_add(&server->in_flight, 1);
	return ex;
}

/* Runs on a worker: answers the request, then hands the connection back to the I/O thread. */
static void server_job(void *arg)
{
	struct http_exchange *ex = arg;
	struct http_server *server = ex->server;
	if (atomic_load(&server->stopping)) {
		struct iiifd_error err = { 0 };
		iiifd_error_set(&err, 503, "the server is shutting down");
		http_response_error(&ex->resp, &err);
	} else {
		server->opt.handler(server->opt.ctx, &ex->req, &ex->resp);
		http_outgoing_compress(&ex->req, &ex->resp);
	}
	ex->state = EXCHANGE_READY;
	MHD_resume_connection(ex->conn);
}

/*
 * The whole request is in: the handler first runs here on the I/O thread, where it answers what
 * needs no waiting (health, a stored tile, a cached render) and defers the rest to a worker.
 */
static enum MHD_Result server_dispatch(struct http_exchange *ex)
{
	struct http_server *server = ex->server;
	http_guard_body_done(server->guard, ex->guarded);
	if (ex->body) {
		g_byte_array_append(ex->body, (const guint8 *)"", 1); /* NUL-terminate for parsers */
		ex->req.body = (const char *)ex->body->data;
		ex->req.body_len = ex->body->len - 1;
	}
	ex->req.on_event_loop = true;
	server->opt.handler(server->opt.ctx, &ex->req, &ex->resp);
	ex->req.on_event_loop = false;
	if (!ex->resp.deferred) {
		http_outgoing_compress(&ex->req, &ex->resp);
		return server_send(ex, false);
	}
	http_response_release(&ex->resp);
	http_response_init(&ex->resp);
	ex->state = EXCHANGE_RUNNING;
	MHD_suspend_connection(ex->conn);
	http_workers_submit(server->workers, ex->client, server_job, ex);
	return MHD_YES;
}

static enum MHD_Result server_access(void *cls, struct MHD_Connection *conn, const char *url,
				     const char *method, const char *version,
				     const char *upload_data, size_t *upload_data_size,
				     void **con_cls)
{
	struct http_server *server = cls;
	struct http_exchange *ex = *con_cls;
	if (!ex) {
		if (!(ex = *con_cls = server_exchange_new(server, conn, url, method)))
			return MHD_NO;
		struct iiifd_error err = { 0 };
		if (server_check_request(ex, version, &err) < 0)
			return server_refuse(ex, &err);
		http_guard_headers_done(server->guard, ex->guarded, ex->body != NULL);
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (ex->body && ex->body->len + *upload_data_size <= ex->body_cap)
			g_byte_array_append(ex->body, (const guint8 *)upload_data,
					    (guint)*upload_data_size);
		else
			ex->req.body_too_large = true; /* chunked past the cap: drop, answer 413 */
		*upload_data_size = 0;
		return MHD_YES;
	}
	switch (ex->state) {
	case EXCHANGE_RECEIVING:
		if (ex->req.body_too_large) {
			struct iiifd_error err = { 0 };
			iiifd_error_set(&err, 413, "the body is larger than the %zu bytes this takes",
					ex->body_cap);
			return server_refuse(ex, &err);
		}
		return server_dispatch(ex);
	case EXCHANGE_READY:
		return server_send(ex, false);
	default:
		return MHD_YES; /* running, or already answered */
	}
}

static int server_resolve(const char *host, int port_number, struct addrinfo **ai,
			  struct iiifd_error *err)
{
	char port[16];
	snprintf(port, sizeof port, "%d", port_number);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE };
	int rc = getaddrinfo(host, port, &hints, ai);
	if (rc)
		return iiifd_error_set(err, 500, "cannot resolve host '%s': %s", host,
				       gai_strerror(rc));
	return 0;
}

/* threads: the event loops; 1 is one internal thread (no pool) */
static struct MHD_Daemon *server_daemon(struct http_server *server, const struct addrinfo *ai,
					int port, unsigned threads)
{
	const struct http_server_options *opt = &server->opt;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_TURBO |
			 MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG |
			 (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	/* a pool of one is refused with a warning: leave the option out instead */
	struct MHD_OptionItem pool[] = {
		{ threads > 1 ? MHD_OPTION_THREAD_POOL_SIZE : MHD_OPTION_END, (intptr_t)threads, NULL },
		{ MHD_OPTION_END, 0, NULL },
	};
	return MHD_start_daemon(
		flags, (uint16_t)port, server_accept_policy, server, server_access, server,
		MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_ARRAY, pool, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)opt->max_connections, MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u,
		MHD_OPTION_NOTIFY_COMPLETED, server_completed, server,
		MHD_OPTION_NOTIFY_CONNECTION, server_notify_connection, server,
		MHD_OPTION_UNESCAPE_CALLBACK, server_no_unescape, NULL,
		MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)SERVER_WRITE_STALL_S, MHD_OPTION_END);
}

/* "host:port" or "[v6]:port" into host (brackets dropped) and *port; -1 when malformed. */
static int server_split_address(const char *address, char *host, size_t n, int *port)
{
	const char *colon = strrchr(address, ':');
	const char *start = address, *end = colon;
	if (address[0] == '[') {
		start = address + 1;
		end = strchr(address, ']');
		if (!end || end + 1 != colon)
			return -1;
	}
	char *rest;
	long p = colon ? strtol(colon + 1, &rest, 10) : 0;
	if (!colon || end == start || (size_t)(end - start) >= n || colon[1] == '\0' || *rest ||
	    p < 1 || p > 65535)
		return -1;
	snprintf(host, n, "%.*s", (int)(end - start), start);
	*port = (int)p;
	return 0;
}

/* The operators' listener: one event-loop thread, the same handler and workers. */
static int server_start_ops(struct http_server *server, struct iiifd_error *err)
{
	const char *address = server->opt.ops_address;
	char host[256];
	int port;
	struct addrinfo *ai;
	if (!address || !*address)
		return 0;
	if (server_split_address(address, host, sizeof host, &port) < 0)
		return iiifd_error_set(err, 400, "metrics-address '%s' is not host:port", address);
	struct iiifd_error rerr = { 0 };
	if (server_resolve(host, port, &ai, &rerr) < 0)
		return iiifd_error_set(err, 500, "metrics-address: %s", rerr.msg);
	server->ops_daemon = server_daemon(server, ai, port, 1);
	freeaddrinfo(ai);
	if (!server->ops_daemon)
		return iiifd_error_set(err, 500, "metrics-address: cannot listen on %s (in use, or "
						 "not an address here)", address);
	log_info("/metrics, /ready and /health also on http://%s/", address);
	return 0;
}

static void server_free(struct http_server *server)
{
	http_workers_free(server->workers);
	http_guard_free(server->guard);
	http_proxies_free(server->proxies);
	free(server);
}

struct http_server *http_server_start(const struct http_server_options *opt,
				      struct iiifd_error *err)
{
	struct addrinfo *ai;
	if (server_resolve(opt->host, opt->port, &ai, err) < 0)
		return NULL;
	struct http_server *server = calloc(1, sizeof *server);
	if (!server) {
		freeaddrinfo(ai);
		iiifd_error_set(err, 500, "out of memory");
		return NULL;
	}
	server->opt = *opt;
	atomic_init(&server->access_log, opt->access_log);
	struct http_guard_options gopt = { opt->header_timeout, opt->body_timeout,
					   opt->keepalive_timeout, opt->max_connections,
					   opt->max_per_client, NULL };
	if (!(server->proxies = http_proxies_parse(opt->trusted_proxies, err)) ||
	    !(gopt.proxies = server->proxies, server->guard = http_guard_new(&gopt, err)) ||
	    !(server->workers = http_workers_new(opt->workers, err))) {
		freeaddrinfo(ai);
		server_free(server);
		return NULL;
	}
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	server->daemon = server_daemon(server, ai, opt->port, (unsigned)(cores > 1 ? 2 * cores : 4));
	freeaddrinfo(ai);
	if (!server->daemon) {
		iiifd_error_set(err, 500, "cannot listen on %s:%d (in use, or not an address here)",
				opt->host, opt->port);
		server_free(server);
		return NULL;
	}
	if (server_start_ops(server, err) < 0) {
		MHD_stop_daemon(server->daemon);
		server_free(server);
		return NULL;
	}
	return server;
}

void http_server_set_access_log(struct http_server *server, bool on)
{
	atomic_store(&server->access_log, on);
}

void http_server_set_timeouts(struct http_server *server, int header_s, int body_s,
			      int keepalive_s)
{
	http_guard_set_timeouts(server->guard, header_s, body_s, keepalive_s);
}

void http_server_stop(struct http_server *server, int timeout_s)
{
	/*
	 * Quiescing only stops libmicrohttpd calling accept(): the kernel would still complete
	 * handshakes into the backlog, leaving new clients hanging until the end. shutdown() turns
	 * the listening socket away from new connections (they are refused) while keeping the
	 * descriptor, which libmicrohttpd's threads may still hold until MHD_stop_daemon().
	 */
	atomic_store(&server->draining, true);
	MHD_socket listener = MHD_quiesce_daemon(server->daemon);
	if (listener != MHD_INVALID_SOCKET)
		shutdown(listener, SHUT_RDWR);
	MHD_socket ops_listener =
		server->ops_daemon ? MHD_quiesce_daemon(server->ops_daemon) : MHD_INVALID_SOCKET;
	if (ops_listener != MHD_INVALID_SOCKET)
		shutdown(ops_listener, SHUT_RDWR);
	for (int waited_ms = 0; atomic_load(&server->in_flight) > 0 && waited_ms < timeout_s * 1000;
	     waited_ms += 20)
		usleep(20000);
	if (atomic_load(&server->in_flight) > 0)
		log_warn("stopping with %d requests still running", atomic_load(&server->in_flight));
	/* queued jobs answer 503 at once; running ones finish (renders are bounded by their
	 * request-timeout); every suspended connection is resumed before the daemon stops */
	atomic_store(&server->stopping, true);
	http_workers_free(server->workers);
	server->workers = NULL;
	MHD_stop_daemon(server->daemon);
	if (server->ops_daemon)
		MHD_stop_daemon(server->ops_daemon);
	if (listener != MHD_INVALID_SOCKET)
		close(listener); /* quiescing made it ours */
	if (ops_listener != MHD_INVALID_SOCKET)
		close(ops_listener);
	server_free(server);
}
