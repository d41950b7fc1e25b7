/*
 * framing.c: the request framing rules of RFC 9112 §6 that iiifd enforces strictly, because the
 * proxies in front of it may resolve an ambiguity differently than libmicrohttpd does.
 */
#include "http/framing.h"

#include <string.h>
#include <strings.h>

static bool framing_decimal(const char *v, uint64_t *out)
{
	uint64_t n = 0;
	if (!*v)
		return false;
	for (; *v; v++) {
		if (*v < '0' || *v > '9' || n > (UINT64_MAX - 9) / 10)
			return false;
		n = n * 10 + (uint64_t)(*v - '0');
	}
	*out = n;
	return true;
}

void http_framing_add(struct http_framing *f, const char *name, const char *value)
{
	if (strcasecmp(name, "Host") == 0) {
		f->hosts++;
	} else if (strcasecmp(name, "Content-Length") == 0) {
		uint64_t n = 0;
		if (!framing_decimal(value, &n))
			f->bad_length = true;
		if (f->content_lengths++ == 0)
			f->content_length = n;
	} else if (strcasecmp(name, "Transfer-Encoding") == 0) {
		f->transfer_encodings++;
		if (strcasecmp(value, "chunked") != 0)
			f->bad_coding = true;
	}
}

int http_framing_check(const struct http_framing *f, bool http11, struct iiifd_error *err)
{
	if (f->content_lengths > 1)
		return iiifd_error_set(err, 400, "more than one Content-Length header");
	if (f->bad_length)
		return iiifd_error_set(err, 400, "Content-Length is not a decimal number");
	if (f->content_lengths && f->transfer_encodings)
		return iiifd_error_set(err, 400,
				       "both Content-Length and Transfer-Encoding: the length is ambiguous");
	if (f->transfer_encodings > 1 || f->bad_coding)
		return iiifd_error_set(err, 400, "the only transfer coding accepted is one 'chunked'");
	if (f->hosts > 1)
		return iiifd_error_set(err, 400, "more than one Host header");
	if (http11 && f->hosts == 0)
		return iiifd_error_set(err, 400, "an HTTP/1.1 request needs a Host header");
	return 0;
}

bool http_framing_has_body(const struct http_framing *f)
{
	return f->transfer_encodings > 0 || f->content_length > 0;
}
