/*
 * outgoing.c: turning a handler's struct http_response into a libmicrohttpd response: CORS
 * headers on everything, gzip for clients that accept it, files, buffers and streamed bodies.
 */
#include "http/outgoing.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/compress.h"
#include "http/accept.h"

static void outgoing_add_cors(struct MHD_Response *r)
{
	MHD_add_response_header(r, "Access-Control-Allow-Origin", "*");
	MHD_add_response_header(r, "Access-Control-Expose-Headers",
				"Link, ETag, Last-Modified, Content-Length, Content-Range, Location, "
				"WWW-Authenticate, Allow, Retry-After");
}

/* A different representation needs its own strong ETag: "abc" becomes "abc-gzip". */
static void outgoing_etag_variant(struct http_response *resp, const char *suffix)
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
bool http_outgoing_accepts_gzip(const char *header)
{
	if (!header)
		return false;
	struct http_accept_entry e;
	bool ok = false;
	for (const char *pos = header; http_accept_next(&pos, &e);) {
		bool gzip = strcasecmp(e.value, "gzip") == 0;
		if (gzip || strcmp(e.value, "*") == 0)
			ok = e.q > 0;
		if (gzip)
			break; /* an explicit gzip entry wins over "*" */
	}
	return ok;
}

/* gzip for clients that accept it, when the handler marked the body as worth compressing */
void http_outgoing_compress(const struct http_request *req, struct http_response *resp)
{
	const char *accept = http_request_header(req, "Accept-Encoding");
	if (!resp->compressible || resp->body_fd >= 0 || resp->body_len < 512)
		return;
	http_response_header(resp, "Vary", "Accept-Encoding");
	if (!http_outgoing_accepts_gzip(accept))
		return;
	size_t len;
	void *gz = compress_gzip(resp->body, resp->body_len, &len);
	if (!gz)
		return;
	http_response_body(resp, gz, len, free);
	http_response_header(resp, "Content-Encoding", "gzip");
	outgoing_etag_variant(resp, "-gzip");
}

/* Adapts a handler's stream reader to libmicrohttpd's content reader. */
struct outgoing_stream {
	http_stream_read_fn read;
	void *cls;
	void (*free_fn)(void *);
};

static ssize_t outgoing_stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct outgoing_stream *st = cls;
	(void)pos;
	long n = st->read(st->cls, buf, max);
	if (n < 0)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	return n == 0 ? MHD_CONTENT_READER_END_OF_STREAM : (ssize_t)n;
}

static void outgoing_stream_free(void *cls)
{
	struct outgoing_stream *st = cls;
	if (st->free_fn)
		st->free_fn(st->cls);
	free(st);
}

static struct MHD_Response *outgoing_stream_response(struct http_response *resp)
{
	struct outgoing_stream *st = malloc(sizeof *st);
	if (!st)
		return NULL;
	*st = (struct outgoing_stream){ resp->stream_read, resp->stream_cls, resp->stream_free };
	resp->stream_read = NULL; /* the MHD response owns the stream now */
	resp->stream_free = NULL;
	resp->stream_cls = NULL;
	struct MHD_Response *r = MHD_create_response_from_callback(
		MHD_SIZE_UNKNOWN, 64 * 1024, outgoing_stream_read, st, outgoing_stream_free);
	if (!r)
		outgoing_stream_free(st);
	return r;
}

enum MHD_Result http_outgoing_queue(struct MHD_Connection *conn, struct http_response *resp,
				    bool close)
{
	struct MHD_Response *r;
	if (resp->stream_read) {
		r = outgoing_stream_response(resp);
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
	outgoing_add_cors(r);
	if (close)
		MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
	enum MHD_Result rc = MHD_queue_response(conn, (unsigned)resp->status, r);
	MHD_destroy_response(r);
	return rc;
}
