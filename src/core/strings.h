/*
 * strings.h: percent-encoding for URL path segments.
 */
#ifndef IIIFD_CORE_STRINGS_H
#define IIIFD_CORE_STRINGS_H

#include <stddef.h>
#include <stdint.h>

/* FNV-1a offset basis: the seed for strings_hash(). */
#define STRINGS_HASH_SEED UINT64_C(1469598103934665603)

/*
 * FNV-1a of s continuing from h (start with STRINGS_HASH_SEED); the terminator is hashed too,
 * so ("ab","c") and ("a","bc") differ. A cheap fingerprint for ETags, not a security boundary.
 */
uint64_t strings_hash(uint64_t h, const char *s);

/* A strong ETag ("\"%016x\"") of a NUL-terminated text into out (at least 19 bytes). */
void strings_etag(const char *text, char *out, size_t n);

/*
 * Decodes len bytes of in ("%2F" -> "/", "+" stays "+") into out (size n, NUL-terminated).
 * Returns the decoded length, or -1 for a malformed escape, an encoded NUL, or overflow.
 */
int strings_url_decode(const char *in, size_t len, char *out, size_t n);

/* A number as short as it can be written with millisecond precision: 12, 12.5, 0.042. */
void strings_number(double v, char *out, size_t n);

/* Decodes a query-string value: '+' is a space, %XX as above (an encoded NUL is refused). */
int strings_form_decode(const char *in, char *out, size_t n);

/*
 * Encodes in for use as one path segment: everything but RFC 3986 "pchar" characters
 * (unreserved, sub-delims, ':' and '@') is %XX-encoded, so "/" becomes "%2F" and "a b;2" becomes
 * "a%20b;2". Returns the length, or -1 if out (size n) is too small.
 */
int strings_url_encode(const char *in, char *out, size_t n);

#endif
