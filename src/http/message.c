/*
 * message.c: building responses (headers, bodies, errors, conditional GET) and deriving the
 * public base URL of a request.
 */
#include "http/message.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/log.h"
#include "core/strings.h"
#include "http/accept.h"

void http_response_init(struct http_response *resp)
{
	memset(resp, 0, sizeof *resp);
	resp->status = 200;
	resp->body_fd = -1;
}

void http_response_release(struct http_response *resp)
{
	for (int i = 0; i < resp->nheaders; i++) {
		free(resp->headers[i].name);
		free(resp->headers[i].value);
	}
	if (resp->body_free)
		resp->body_free(resp->body);
	if (resp->body_fd >= 0)
		close(resp->body_fd);
	if (resp->stream_free)
		resp->stream_free(resp->stream_cls);
	memset(resp, 0, sizeof *resp);
	resp->body_fd = -1;
}

void http_response_file(struct http_response *resp, int fd, uint64_t offset, uint64_t len)
{
	http_response_body(resp, NULL, 0, NULL);
	if (resp->body_fd >= 0)
		close(resp->body_fd);
	resp->body_fd = fd;
	resp->body_offset = offset;
	resp->body_len = len;
}

void http_response_header(struct http_response *resp, const char *name, const char *fmt, ...)
{
	if (resp->nheaders >= HTTP_MAX_HEADERS) {
		log_warn("response header '%s' dropped: too many headers", name);
		return;
	}
	va_list ap;
	va_start(ap, fmt);
	char *value = NULL;
	int rc = vasprintf(&value, fmt, ap);
	va_end(ap);
	char *copy = strdup(name);
	if (rc < 0 || !copy) {
		free(copy);
		return;
	}
	resp->headers[resp->nheaders].name = copy;
	resp->headers[resp->nheaders++].value = value;
}

static void message_drop_stream(struct http_response *resp)
{
	if (resp->stream_free)
		resp->stream_free(resp->stream_cls);
	resp->stream_read = NULL;
	resp->stream_cls = NULL;
	resp->stream_free = NULL;
}

void http_response_stream(struct http_response *resp, http_stream_read_fn read, void *cls,
			  void (*free_fn)(void *))
{
	http_response_body(resp, NULL, 0, NULL);
	resp->stream_read = read;
	resp->stream_cls = cls;
	resp->stream_free = free_fn;
}

void http_response_defer(struct http_response *resp)
{
	resp->deferred = true;
}

void http_response_body(struct http_response *resp, void *body, size_t len,
			void (*free_fn)(void *))
{
	message_drop_stream(resp);
	if (resp->body_free)
		resp->body_free(resp->body);
	if (resp->body_fd >= 0)
		close(resp->body_fd);
	resp->body_fd = -1;
	resp->body = body;
	resp->body_len = len;
	resp->body_free = free_fn;
}

void http_response_text(struct http_response *resp, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *text = NULL;
	int rc = vasprintf(&text, fmt, ap);
	va_end(ap);
	resp->status = status;
	http_response_header(resp, "Content-Type", "text/plain; charset=utf-8");
	if (rc >= 0)
		http_response_body(resp, text, (size_t)rc, free);
}

void http_response_remove_header(struct http_response *resp, const char *name)
{
	int kept = 0;
	for (int i = 0; i < resp->nheaders; i++) {
		if (strcasecmp(resp->headers[i].name, name) == 0) {
			free(resp->headers[i].name);
			free(resp->headers[i].value);
		} else {
			resp->headers[kept++] = resp->headers[i];
		}
	}
	resp->nheaders = kept;
}

void http_response_error(struct http_response *resp, const struct iiifd_error *err)
{
	/* an error found while producing a representation must not carry that representation's
	 * type, validators or freshness */
	static const char *const representation[] = { "Content-Type", "ETag", "Last-Modified",
						       "Cache-Control", "Content-Disposition" };
	for (size_t i = 0; i < sizeof representation / sizeof representation[0]; i++)
		http_response_remove_header(resp, representation[i]);
	int status = err->http_status >= 400 && err->http_status < 600 ? err->http_status : 500;
	if (status == 503)
		http_response_header(resp, "Retry-After", "5");
	http_response_text(resp, status, "%d %s: %s\n", status, http_status_phrase(status),
			   err->msg[0] ? err->msg : http_status_phrase(status));
}

bool http_wants_json_ld(const struct http_request *req, bool ld_by_default)
{
	const char *accept = http_request_header(req, "Accept");
	double ld = http_accept_media_quality(accept, "application/ld+json");
	double json = http_accept_media_quality(accept, "application/json");
	return ld > json || (ld == json && ld_by_default);
}

void http_response_json_text(struct http_response *resp, const struct http_request *req,
			     char *text, const char *profile, bool ld_by_default,
			     const char *cache_control)
{
	char etag[40];
	if (profile && http_wants_json_ld(req, ld_by_default))
		http_response_header(resp, "Content-Type", "application/ld+json;profile=\"%s\"",
				     profile);
	else
		http_response_header(resp, "Content-Type", "application/json");
	http_response_header(resp, "Vary", "Accept");
	strings_etag(text ? text : "", etag, sizeof etag); /* covers exactly the bytes sent */
	if (!http_response_validators(resp, req, etag, 0, cache_control) && text) {
		http_response_body(resp, text, strlen(text), free);
		resp->compressible = true;
		return;
	}
	free(text);
}

void http_response_json(struct http_response *resp, const struct http_request *req,
			const json_t *doc, const char *profile, bool ld_by_default,
			const char *cache_control, bool pretty)
{
	size_t layout = pretty ? JSON_INDENT(2) : JSON_COMPACT;
	char *text = json_dumps(doc, layout | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
	http_response_json_text(resp, req, text, profile, ld_by_default, cache_control);
}

const char *http_status_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 204: return "No Content";
	case 201: return "Created";
	case 206: return "Partial Content";
	case 303: return "See Other";
	case 304: return "Not Modified";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 413: return "Payload Too Large";
	case 415: return "Unsupported Media Type";
	case 412: return "Precondition Failed";
	case 416: return "Range Not Satisfiable";
	case 428: return "Precondition Required";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return "Unknown";
	}
}

/* Copies the first comma-separated value of a forwarded header (proxies may append theirs). */
static void http_first_value(const char *v, char *out, size_t n)
{
	size_t i = 0;
	while (*v == ' ')
		v++;
	for (; v[i] && v[i] != ',' && v[i] != ' ' && i + 1 < n; i++)
		out[i] = v[i];
	out[i] = '\0';
}

bool http_host_is_valid(const char *host)
{
	const char *p = host, *end;
	if (*p == '[') { /* IPv6 literal */
		end = strchr(p, ']');
		if (!end || end == p + 1 || strspn(p + 1, "0123456789abcdefABCDEF:.") != (size_t)(end - p - 1))
			return false;
		p = end + 1;
	} else {
		size_t n = strspn(p, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-");
		if (n == 0)
			return false;
		p += n;
	}
	if (*p == '\0')
		return true;
	if (*p != ':' || strlen(p + 1) < 1 || strlen(p + 1) > 5 ||
	    strspn(p + 1, "0123456789") != strlen(p + 1))
		return false;
	return atoi(p + 1) <= 65535;
}

void http_request_base_url(const struct http_request *req, const char *public_url,
			   bool trust_forwarded, const char *fallback_host, char *out, size_t n)
{
	if (public_url && *public_url) {
		size_t len = strlen(public_url);
		while (len > 0 && public_url[len - 1] == '/')
			len--;
		snprintf(out, n, "%.*s", (int)len, public_url);
		return;
	}
	char proto[16] = "http", host[256];
	const char *h = http_request_header(req, "Host");
	snprintf(host, sizeof host, "%s", h && *h ? h : fallback_host);
	const char *fp = trust_forwarded ? http_request_header(req, "X-Forwarded-Proto") : NULL;
	const char *fh = trust_forwarded ? http_request_header(req, "X-Forwarded-Host") : NULL;
	if (fp && (strncasecmp(fp, "https", 5) == 0 || strncasecmp(fp, "http", 4) == 0))
		http_first_value(fp, proto, sizeof proto);
	if (fh && *fh)
		http_first_value(fh, host, sizeof host);
	/* a Host header is client input: keep only characters a host[:port] can contain */
	for (char *c = host; *c; c++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-:[]", *c))
			*c = '\0';
	snprintf(out, n, "%s://%s", proto, host);
}

static bool http_etag_matches(const char *header, const char *etag)
{
	/* "*" or a list of tags in which ours appears, weak (W/"...") or strong, or as the gzip
	 * variant the server made of it ("abc-gzip", see server.c) */
	if (strcmp(header, "*") == 0 || strstr(header, etag) != NULL)
		return true;
	size_t n = strlen(etag);
	char variant[128];
	if (n < 2 || n + 6 > sizeof variant)
		return false;
	snprintf(variant, sizeof variant, "%.*s-gzip\"", (int)(n - 1), etag);
	return strstr(header, variant) != NULL;
}

bool http_response_validators(struct http_response *resp, const struct http_request *req,
			      const char *etag, time_t last_modified, const char *cache_control)
{
	char date[64];
	struct tm tm;
	gmtime_r(&last_modified, &tm);
	strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
	http_response_header(resp, "ETag", "%s", etag);
	if (last_modified)
		http_response_header(resp, "Last-Modified", "%s", date);
	if (cache_control && *cache_control)
		http_response_header(resp, "Cache-Control", "%s", cache_control);
	const char *inm = http_request_header(req, "If-None-Match");
	const char *ims = http_request_header(req, "If-Modified-Since");
	bool fresh = false;
	if (inm) {
		fresh = http_etag_matches(inm, etag);
	} else if (ims && last_modified) {
		struct tm since = { 0 };
		const char *end = strptime(ims, "%a, %d %b %Y %H:%M:%S GMT", &since);
		fresh = end && timegm(&since) >= last_modified;
	}
	if (fresh)
		resp->status = 304;
	return fresh;
}
