/*
 * rights.c: a rights URL is split into host and path segments, each checked against the shapes
 * the two vocabularies publish, and written back in the one form IIIF names.
 */
#include "core/rights.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define RIGHTS_SEGMENTS 6
#define RIGHTS_SEGMENT_MAX 32

/* A path segment of a license code or version: letters, digits, '.', '-' (not empty). */
static bool rights_token(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
		      *s == '.' || *s == '-'))
			return false;
	return true;
}

/* Splits path (after the host) into up to RIGHTS_SEGMENTS non-empty segments; -1 if longer. */
static int rights_split(const char *path, char seg[][RIGHTS_SEGMENT_MAX])
{
	int n = 0;
	while (*path) {
		while (*path == '/')
			path++;
		size_t len = strcspn(path, "/?#");
		if (len == 0)
			break;
		if (n == RIGHTS_SEGMENTS || len >= RIGHTS_SEGMENT_MAX)
			return -1;
		memcpy(seg[n], path, len);
		seg[n++][len] = '\0';
		path += len;
		if (*path == '?' || *path == '#')
			break;
	}
	return n;
}

/* The canonical path of a Creative Commons URL's segments, or false. */
static bool rights_cc(char seg[][RIGHTS_SEGMENT_MAX], int n, char *out, size_t size)
{
	/* a human-readable page ("deed.fr", "legalcode") names the same license */
	if (n > 0 && (!strncmp(seg[n - 1], "deed", 4) || !strncmp(seg[n - 1], "legalcode", 9)))
		n--;
	if (n >= 3 && n <= 4 && !strcmp(seg[0], "licenses")) {
		for (int i = 1; i < n; i++)
			if (!rights_token(seg[i]))
				return false;
		int w = snprintf(out, size, "http://creativecommons.org/licenses/%s/%s/%s%s", seg[1],
				 seg[2], n == 4 ? seg[3] : "", n == 4 ? "/" : "");
		return w > 0 && (size_t)w < size;
	}
	if (n == 3 && !strcmp(seg[0], "publicdomain") &&
	    (!strcmp(seg[1], "zero") || !strcmp(seg[1], "mark")) && rights_token(seg[2])) {
		int w = snprintf(out, size, "http://creativecommons.org/publicdomain/%s/%s/", seg[1],
				 seg[2]);
		return w > 0 && (size_t)w < size;
	}
	return false;
}

/* The canonical path of a RightsStatements.org URL's segments (vocab or page), or false. */
static bool rights_rs(char seg[][RIGHTS_SEGMENT_MAX], int n, char *out, size_t size)
{
	if (n != 3 || (strcmp(seg[0], "vocab") && strcmp(seg[0], "page")) ||
	    !rights_token(seg[1]) || !rights_token(seg[2]))
		return false;
	int w = snprintf(out, size, "http://rightsstatements.org/vocab/%s/%s/", seg[1], seg[2]);
	return w > 0 && (size_t)w < size;
}

enum rights_result rights_normalise(const char *in, char *out, size_t n)
{
	const char *rest = NULL;
	if (!strncasecmp(in, "http://", 7))
		rest = in + 7;
	else if (!strncasecmp(in, "https://", 8))
		rest = in + 8;
	if (!rest || !n)
		return RIGHTS_INVALID;
	if (!strncasecmp(rest, "www.", 4))
		rest += 4;
	size_t host = strcspn(rest, "/");
	char seg[RIGHTS_SEGMENTS][RIGHTS_SEGMENT_MAX];
	int segs = rights_split(rest + host, seg);
	bool ok = false;
	if (segs > 0 && host == 19 && !strncasecmp(rest, "creativecommons.org", 19))
		ok = rights_cc(seg, segs, out, n);
	else if (segs > 0 && host == 20 && !strncasecmp(rest, "rightsstatements.org", 20))
		ok = rights_rs(seg, segs, out, n);
	if (!ok) {
		*out = '\0';
		return RIGHTS_INVALID;
	}
	return strcmp(in, out) == 0 ? RIGHTS_OK : RIGHTS_NORMALISED;
}
