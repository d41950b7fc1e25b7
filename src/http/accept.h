/*
 * accept.h: the lists of preferences clients send in Accept, Accept-Encoding and
 * Accept-Language ("text/html;level=1;q=0.8, image/webp;q=0.1"): one tokenizer for all of them, and
 * media-type matching for content negotiation.
 */
#ifndef IIIFD_HTTP_ACCEPT_H
#define IIIFD_HTTP_ACCEPT_H

#include <stdbool.h>

#define HTTP_ACCEPT_VALUE_MAX 128

/* One entry of such a list: its value without parameters, and its quality (0..1). */
struct http_accept_entry {
	char value[HTTP_ACCEPT_VALUE_MAX];
	double q;
};

/*
 * Reads the next entry of a list; *pos starts at the header (not NULL) and moves past what was
 * read. Empty entries are skipped, as are values of HTTP_ACCEPT_VALUE_MAX bytes or more; a
 * missing or malformed q counts as 1 or 0 respectively, and q is clamped to 0..1. Returns false
 * at the end of the list.
 */
bool http_accept_next(const char **pos, struct http_accept_entry *entry);

/*
 * The quality header gives the media type ("application/ld+json"), taken from its most specific
 * matching entry (the type itself, then the type with any subtype, then any type;
 * case-insensitive); -1 when no entry matches. A missing or empty header accepts everything: 1.
 */
double http_accept_media_quality(const char *header, const char *type);

#endif
