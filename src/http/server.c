/*
 * server.c: libmicrohttpd glue. URLs reach handlers undecoded (identifiers need their %2F),
 * CORS is added to every response here, and requests in flight are counted for a clean stop.
 */
#include "http/server.h"

#include <glib.h>
#include <microhttpd.h>
#include <strings.h>
#include <netdb.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/compress.h"
#include "core/log.h"
#include "core/strings.h"

struct http_server {
	struct MHD_Daemon *daemon;
	http_handler_fn handler;
	void *ctx;
	bool access_log;
	atomic_int in_flight;
};

/* Per-request state, from the first callback until libmicrohttpd reports completion. */
#define SERVER_MAX_BODY (1u << 20) /* request bodies (annotations) are small */

struct http_exchange {
	struct timespec start;
	int status;
	size_t bytes;
	GByteArray *body;   /* the request body, when there is one */
	bool body_too_large;
	char method[16];
	char path[512];
	char client[64]; /* numeric address of the client */
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

/* Keep the path exactly as sent: decoding belongs to each area, segment by segment. */
static size_t server_no_unescape(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static double server_elapsed_ms(const struct timespec *start)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - start->tv_sec) * 1e3 +
	       (double)(now.tv_nsec - start->tv_nsec) / 1e6;
}

static void server_client_address(struct MHD_Connection *conn, char *out, size_t n)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	snprintf(out, n, "-");
	if (ci && ci->client_addr)
		getnameinfo(ci->client_addr, sizeof(struct sockaddr_in6), out, (socklen_t)n, NULL,
			    0, NI_NUMERICHOST);
}

static void server_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			     enum MHD_RequestTerminationCode toe)
{
	struct http_server *server = cls;
	struct http_exchange *ex = *con_cls;
	if (!ex)
		return;
	if (server->access_log) {
		log_info("access %s %s %s %d %zu %.1fms%s", ex->client, ex->method, ex->path, ex->status,
			 ex->bytes, server_elapsed_ms(&ex->start),
			 toe == MHD_REQUEST_TERMINATED_COMPLETED_OK ? "" : " (aborted)");
	}
	if (ex->body)
		g_byte_array_free(ex->body, TRUE);
	free(ex);
	*con_cls = NULL;
	atomic_fetch_sub(&server->in_flight, 1);
}

static void server_add_cors(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
	MHD_add_response_header(r, "Access-Control-Expose-Headers",
				"Link, ETag, Last-Modified, Content-Length, Content-Range");
}

/* A different representation needs its own strong ETag: "abc" becomes "abc-gzip". */
static void server_etag_variant(struct http_response *resp, const char *suffix)
{
	for (int i = 0; i < resp->nheaders; i++) {
		char *v = resp->headers[i].value;
		size_t n = strlen(v);
		if (strcasecmp(resp->headers[i].name, "ETag") != 0 || n < 2 || v[n - 1] != '"')
			continue;
		char *tagged = g_strdup_printf("%.*s%s\"", (int)(n - 1), v, suffix);
		free(v);
		resp->headers[i].value = strdup(tagged);
		g_free(tagged);
	}
}

/* Whether Accept-Encoding allows gzip: "gzip" or "*" listed without q=0. */
static bool server_accepts_gzip(const char *header)
{
	if (!header)
		return false;
	gchar **codings = g_strsplit(header, ",", 32);
	bool ok = false;
	for (int i = 0; codings[i]; i++) {
		gchar **parts = g_strsplit(g_strstrip(codings[i]), ";", 4);
		const char *name = g_strstrip(parts[0]);
		double q = 1.0;
		for (int j = 1; parts[j]; j++) {
			const char *param = g_strstrip(parts[j]);
			if (param[0] == 'q' && param[1] == '=')
				q = g_ascii_strtod(param + 2, NULL);
		}
		bool gzip = strcasecmp(name, "gzip") == 0;
		if (gzip || strcmp(name, "*") == 0)
			ok = q > 0;
		g_strfreev(parts);
		if (gzip)
			break; /* an explicit gzip entry wins over "*" */
	}
	g_strfreev(codings);
	return ok;
}

/* gzip for clients that accept it, when the handler marked the body as worth compressing */
static void server_maybe_compress(struct MHD_Connection *conn, struct http_response *resp)
{
	const char *accept = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept-Encoding");
	if (!resp->compressible || resp->body_fd >= 0 || resp->body_len < 512)
		return;
	http_response_header(resp, "Vary", "Accept-Encoding");
	if (!server_accepts_gzip(accept))
		return;
	size_t len;
	void *gz = compress_gzip(resp->body, resp->body_len, &len);
	if (!gz)
		return;
	http_response_body(resp, gz, len, free);
	http_response_header(resp, "Content-Encoding", "gzip");
	server_etag_variant(resp, "-gzip");
}

/* Adapts a handler's stream reader to libmicrohttpd's content reader. */
struct server_stream {
	http_stream_read_fn read;
	void *cls;
	void (*free_fn)(void *);
};

static ssize_t server_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct server_stream *st = cls;
	(void)pos;
	long n = st->read(st->cls, buf, max);
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void server_stream_free(void *cls)
{
	struct server_stream *st = cls;
	if (st->free_fn)
		st->free_fn(st->cls);
	free(st);
}

static struct MHD_Response *server_stream_response(struct http_response *resp)
{
	struct server_stream *st = malloc(sizeof *st);
	if (!st)
		return NULL;
	*st = (struct server_stream){ resp->stream_read, resp->stream_cls, resp->stream_free };
	resp->stream_read = NULL; /* the MHD response owns the stream now */
	resp->stream_free = NULL;
	resp->stream_cls = NULL;
	struct MHD_Response *r = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, 64 * 1024, server_stream_read, st, server_stream_free);
	if (!r)
		server_stream_free(st);
	return r;
}

static enum MHD_Result server_queue(struct MHD_Connection *conn, struct http_exchange *ex,
				    struct http_response *resp)
{
	struct MHD_Response *r;
	server_maybe_compress(conn, resp);
	if (resp->stream_read) {
		r = server_stream_response(resp);
	} else if (resp->body_fd >= 0) {
		r = MHD_create_response_from_fd_at_offset64(resp->body_len, resp->body_fd,
							    resp->body_offset);
		resp->body_fd = -1; /* libmicrohttpd closes it */
	} else if (resp->body_free) {
		r = MHD_create_response_from_buffer_with_free_callback(resp->body_len, resp->body,
								       resp->body_free);
		resp->body_free = NULL; /* libmicrohttpd owns it now */
	} else {
		r = MHD_create_response_from_buffer(resp->body_len, resp->body,
						    MHD_RESPMEM_MUST_COPY);
	}
	if (!r)
		return MHD_NO;
	for (int i = 0; i < resp->nheaders; i++)
		MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
	server_add_cors(r);
	ex->status = resp->status;
	ex->bytes = resp->body_len;
	enum MHD_Result rc = MHD_queue_response(conn, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return rc;
}

/* Keeps up to SERVER_MAX_BODY bytes of the request body; the rest is dropped and flagged. */
static void server_collect_body(struct http_exchange *ex, const char *data, size_t len)
{
	if (!ex->body)
		ex->body = g_byte_array_new();
	if (ex->body->len + len > SERVER_MAX_BODY) {
		ex->body_too_large = true;
		return;
	}
	g_byte_array_append(ex->body, (const guint8 *)data, (guint)len);
}

static enum MHD_Result server_access(void *cls, struct MHD_Connection *conn, const char *url,
				     const char *method, const char *version,
				     const char *upload_data, size_t *upload_data_size,
				     void **con_cls)
{
	struct http_server *server = cls;
	(void)version;
	if (!*con_cls) {
		struct http_exchange *ex = calloc(1, sizeof *ex);
		if (!ex)
			return MHD_NO;
		clock_gettime(CLOCK_MONOTONIC, &ex->start);
		snprintf(ex->method, sizeof ex->method, "%s", method);
		snprintf(ex->path, sizeof ex->path, "%s", url);
		server_client_address(conn, ex->client, sizeof ex->client);
		atomic_fetch_add(&server->in_flight, 1);
		*con_cls = ex;
		return MHD_YES;
	}
	struct http_exchange *ex = *con_cls;
	if (*upload_data_size) {
		server_collect_body(ex, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	struct http_request req = { .method = method, .path = url, .conn = conn,
				    .client = ex->client };
	if (ex->body) {
		g_byte_array_append(ex->body, (const guint8 *)"", 1); /* NUL-terminate for parsers */
		req.body = (const char *)ex->body->data;
		req.body_len = ex->body->len - 1;
	}
	req.body_too_large = ex->body_too_large;
	struct http_response resp;
	http_response_init(&resp);
	server->handler(server->ctx, &req, &resp);
	enum MHD_Result rc = server_queue(conn, *con_cls, &resp);
	http_response_release(&resp);
	return rc;
}

static int server_resolve(const struct http_server_options *opt, struct addrinfo **ai,
			  struct iiifd_error *err)
{
	char port[16];
	snprintf(port, sizeof port, "%d", opt->port);
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE };
	int rc = getaddrinfo(opt->host, port, &hints, ai);
	if (rc)
		return iiifd_error_set(err, 500, "cannot resolve host '%s': %s", opt->host,
				       gai_strerror(rc));
	return 0;
}

struct http_server *http_server_start(const struct http_server_options *opt,
				      http_handler_fn handler, void *ctx,
				      struct iiifd_error *err)
{
	struct addrinfo *ai;
	if (server_resolve(opt, &ai, err) < 0)
		return NULL;
	struct http_server *server = calloc(1, sizeof *server);
	if (!server) {
		freeaddrinfo(ai);
		iiifd_error_set(err, 500, "out of memory");
		return NULL;
	}
	server->handler = handler;
	server->ctx = ctx;
	server->access_log = opt->access_log;
	/* a thread per connection: a connection waiting on a large render never delays another */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
			 MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG |
			 (ai->ai_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	server->daemon = MHD_start_daemon(
		flags, (uint16_t)opt->port, NULL, NULL, server_access, server,
		MHD_OPTION_SOCK_ADDR, ai->ai_addr, MHD_OPTION_CONNECTION_LIMIT,
		(unsigned)opt->max_connections, MHD_OPTION_NOTIFY_COMPLETED, server_completed, server,
		MHD_OPTION_UNESCAPE_CALLBACK, server_no_unescape, NULL,
		MHD_OPTION_CONNECTION_TIMEOUT, 60u, MHD_OPTION_END);
	freeaddrinfo(ai);
	if (!server->daemon) {
		iiifd_error_set(err, 500, "cannot listen on %s:%d (in use, or not an address here)",
				opt->host, opt->port);
		free(server);
		return NULL;
	}
	return server;
}

void http_server_stop(struct http_server *server, int timeout_s)
{
	MHD_quiesce_daemon(server->daemon);
	for (int waited_ms = 0; atomic_load(&server->in_flight) > 0 && waited_ms < timeout_s * 1000;
	     waited_ms += 20)
		usleep(20000);
	if (atomic_load(&server->in_flight) > 0)
		log_warn("stopping with %d requests still running", atomic_load(&server->in_flight));
	MHD_stop_daemon(server->daemon);
	free(server);
}
