/*
 * message.h: the request and response that area handlers see. Handlers fill a struct
 * http_response; only http/server.c knows libmicrohttpd.
 */
#ifndef IIIFD_HTTP_MESSAGE_H
#define IIIFD_HTTP_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "core/error.h"

#define HTTP_MAX_HEADERS 16

struct http_request {
	const char *method; /* "GET", "HEAD", ... */
	const char *path;   /* raw path, still percent-encoded, without the query string */
	const char *body;   /* the request body (NUL-terminated), or NULL */
	size_t body_len;
	bool body_too_large; /* the body went over the server's limit and was cut off */
	/*
	 * The client's address (numeric): the peer, or, when the peer is a configured trusted
	 * proxy, the address its Forwarded / X-Forwarded-For header names. Used for fairness,
	 * logs and access rules.
	 */
	const char *client;
	/*
	 * The handler is being run on the server's I/O thread: it must answer only from memory or
	 * a quick read of a file already known (a stored tile, a cached render), and otherwise call
	 * http_response_defer(), after which it is called again on a worker thread.
	 */
	bool on_event_loop;
	bool via_proxy;     /* the peer is one of trusted-proxies (its identity headers count) */
	bool ops_listener;  /* arrived on the operators' listener (metrics-address), not the main one */
	void *conn;         /* server-private: the connection headers are read from */
};

/*
 * A streamed body: called again and again on the server's I/O thread to fill buf with up to max
 * bytes; returns how many it wrote, 0 at the end, or -1 to abort the response (the connection
 * is closed, since the status is already sent). Keep each call short (one batch of records).
 */
typedef long (*http_stream_read_fn)(void *cls, char *buf, size_t max);

struct http_header {
	char *name;  /* owned */
	char *value; /* owned */
};

struct http_response {
	int status;
	int nheaders;
	struct http_header headers[HTTP_MAX_HEADERS];
	void *body;                  /* owned; freed with body_free */
	size_t body_len;
	void (*body_free)(void *);
	int body_fd;                 /* owned; when >= 0 the body is body_len bytes of this file */
	uint64_t body_offset;        /* from this offset (body is then unused) */
	bool compressible;           /* the server may gzip the body for clients that accept it */
	http_stream_read_fn stream_read; /* when set, the body is streamed (chunked) from it */
	void *stream_cls;                /* owned; freed with stream_free */
	void (*stream_free)(void *);
	bool deferred;                   /* see http_response_defer() */
	int route; /* enum metrics_route the request is counted under (core/metrics.h); 0 = other */
};

/* Request header value, or NULL (implemented by the server). */
const char *http_request_header(const struct http_request *req, const char *name);

/* Query parameter, decoded ('+' and %XX); malloc'd (caller frees), NULL when absent or invalid. */
char *http_request_arg(const struct http_request *req, const char *name);

/*
 * Query parameter, decoded, for parameters whose malformed values must not pass for absent ones:
 * 0 with *out malloc'd (caller frees) or NULL when absent; -1 with a 400 naming the parameter
 * when it has a bad %-escape or is not UTF-8.
 */
int http_request_arg_checked(const struct http_request *req, const char *name, char **out,
			     struct iiifd_error *err);

/* Whether a Host header value is a valid host[:port] (RFC 9110): others get 400. */
bool http_host_is_valid(const char *host);

/*
 * Writes the base URL ("https://host[:port][/prefix]", no trailing slash) that absolute URLs in
 * responses start with: public_url when set; else X-Forwarded-Proto/Host when trust_forwarded;
 * else http:// plus the Host header (or fallback_host).
 */
void http_request_base_url(const struct http_request *req, const char *public_url,
			   bool trust_forwarded, const char *fallback_host, char *out, size_t n);

/* Zeroes resp with status 200; release with http_response_release(). */
void http_response_init(struct http_response *resp);
void http_response_release(struct http_response *resp);

/* Adds a header (copied); headers beyond HTTP_MAX_HEADERS are dropped with a log line. */
void http_response_header(struct http_response *resp, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Takes ownership of fd: the body is len bytes of it from offset. */
void http_response_file(struct http_response *resp, int fd, uint64_t offset, uint64_t len);

/* Takes ownership of body, to be freed with free_fn (NULL for static data). */
void http_response_body(struct http_response *resp, void *body, size_t len,
			void (*free_fn)(void *));

/*
 * Streams the body from read(cls, ...) in constant memory, sent chunked; takes ownership of cls
 * (freed with free_fn once the response is done or abandoned). Replaces any body set before.
 */
void http_response_stream(struct http_response *resp, http_stream_read_fn read, void *cls,
			  void (*free_fn)(void *));

/*
 * Asks to be called again on a worker thread (only when req->on_event_loop): whatever resp
 * holds is discarded.
 */
void http_response_defer(struct http_response *resp);

/* A text/plain body made from a format (copied). */
void http_response_text(struct http_response *resp, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Drops every header called name (any case). */
void http_response_remove_header(struct http_response *resp, const char *name);

/* The one place an iiifd_error becomes an HTTP response: status plus a one-line reason. */
void http_response_error(struct http_response *resp, const struct iiifd_error *err);

/*
 * Whether to label a JSON-LD document application/ld+json (with its profile) rather than
 * application/json: when the client's Accept prefers it (q-values honoured), or when Accept
 * prefers neither and ld_by_default (Presentation 3 recommends JSON-LD; Image info.json and
 * Presentation 2.1 documents are application/json unless JSON-LD is asked for).
 */
bool http_wants_json_ld(const struct http_request *req, bool ld_by_default);

/*
 * A JSON document as the response (status 200 unless set before): Content-Type application/json,
 * or, when profile is given and http_wants_json_ld(req, ld_by_default), application/ld+json
 * with that profile; Vary: Accept; an ETag of the body with 304 for a matching If-None-Match;
 * gzip allowed. doc is not stolen. pretty indents the JSON for people; large machine-read
 * documents are sent compact.
 */
void http_response_json(struct http_response *resp, const struct http_request *req,
			const json_t *doc, const char *profile, bool ld_by_default,
			const char *cache_control, bool pretty);

/* Like http_response_json() for a document already serialised: takes ownership of text. */
void http_response_json_text(struct http_response *resp, const struct http_request *req,
			     char *text, const char *profile, bool ld_by_default,
			     const char *cache_control);

/* Standard reason phrase for status ("Bad Request"). */
const char *http_status_phrase(int status);

/*
 * Validators: adds ETag, Last-Modified (unless last_modified is 0) and Cache-Control (when
 * cache_control is not empty),
 * and returns true when the request's If-None-Match / If-Modified-Since show the client's copy
 * is current, in which case resp has become a 304.
 */
bool http_response_validators(struct http_response *resp, const struct http_request *req,
			      const char *etag, time_t last_modified, const char *cache_control);

#endif
