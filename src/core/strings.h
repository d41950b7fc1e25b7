/*
 * strings.h: percent-encoding for URL path segments.
 */
#ifndef IIIFD_CORE_STRINGS_H
#define IIIFD_CORE_STRINGS_H

#include <stddef.h>

/*
 * Decodes len bytes of in ("%2F" -> "/", "+" stays "+") into out (size n, NUL-terminated).
 * Returns the decoded length, or -1 for a malformed escape, an encoded NUL, or overflow.
 */
int strings_url_decode(const char *in, size_t len, char *out, size_t n);

/* Decodes a query-string value: '+' is a space, %XX as above (an encoded NUL is refused). */
int strings_form_decode(const char *in, char *out, size_t n);

/*
 * Encodes in for use as one path segment: everything but RFC 3986 "pchar" characters
 * (unreserved, sub-delims, ':' and '@') is %XX-encoded, so "/" becomes "%2F" and "a b;2" becomes
 * "a%20b;2". Returns the length, or -1 if out (size n) is too small.
 */
int strings_url_encode(const char *in, char *out, size_t n);

#endif
