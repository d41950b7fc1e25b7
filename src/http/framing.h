/*
 * framing.h: refuses requests whose framing two parsers could read differently (the root of
 * request smuggling): duplicate or conflicting Content-Length, Content-Length together with
 * Transfer-Encoding, transfer codings other than chunked, a missing (HTTP/1.1) or repeated Host.
 * Pure: the caller hands over the request's header lines.
 */
#ifndef IIIFD_HTTP_FRAMING_H
#define IIIFD_HTTP_FRAMING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"

/* What a request's headers say about it, gathered one header line at a time. */
struct http_framing {
	int hosts;
	int content_lengths;
	int transfer_encodings;
	bool bad_length;         /* a Content-Length that is not a decimal number */
	bool bad_coding;         /* a transfer coding other than "chunked" */
	uint64_t content_length; /* the first Content-Length */
};

/* Adds one header line (name matched case-insensitively). */
void http_framing_add(struct http_framing *f, const char *name, const char *value);

/*
 * 0 when the framing is unambiguous, else -1 with err (400, the reason). http11: the request
 * line said HTTP/1.1 (which requires Host).
 */
int http_framing_check(const struct http_framing *f, bool http11, struct iiifd_error *err);

/* Whether a body follows the headers. Call after http_framing_check() succeeded. */
bool http_framing_has_body(const struct http_framing *f);

#endif
