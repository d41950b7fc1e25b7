/*
 * accept.c: preference lists (RFC 9110 §12.5): comma-separated values, each with optional
 * ";name=value" parameters of which only q matters here.
 */
#include "http/accept.h"

#include <glib.h>
#include <math.h>
#include <string.h>
#include <strings.h>

/* The q parameter among ";a=b;q=0.5" (params points at the first ';' or the entry's end). */
static double accept_quality(const char *params, const char *end)
{
	double q = 1.0;
	for (const char *p = params; p < end && *p == ';';) {
		const char *next = p + 1 + strcspn(p + 1, ";,");
		const char *name = p + 1;
		while (name < next && (*name == ' ' || *name == '\t'))
			name++;
		if (next - name >= 2 && (name[0] == 'q' || name[0] == 'Q') && name[1] == '=') {
			char num[16];
			size_t n = (size_t)(next - name - 2);
			if (n >= sizeof num)
				return 0;
			memcpy(num, name + 2, n);
			num[n] = '\0';
			char *stop;
			q = g_ascii_strtod(g_strstrip(num), &stop);
			if (*stop || !isfinite(q))
				return 0;
		}
		p = next;
	}
	return q < 0 ? 0 : q > 1 ? 1 : q;
}

bool http_accept_next(const char **pos, struct http_accept_entry *entry)
{
	const char *p = *pos;
	while (*p) {
		size_t n = strcspn(p, ","); /* the entry is p[0..n) */
		const char *end = p + n;
		const char *v = p;
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
		size_t vn = strcspn(v, ";,");
		const char *params = v[vn] == ';' ? v + vn : NULL;
		const char *vend = params ? params : end;
		while (vend > v && (vend[-1] == ' ' || vend[-1] == '\t'))
			vend--;
		p = *end ? end + 1 : end;
		size_t len = (size_t)(vend - v);
		if (len == 0 || len >= sizeof entry->value)
			continue;
		memcpy(entry->value, v, len);
		entry->value[len] = '\0';
		entry->q = accept_quality(params ? params : end, end);
		*pos = p;
		return true;
	}
	*pos = p;
	return false;
}

/* 3 for the type itself, 2 for its type with any subtype, 1 for any type, 0 for no match. */
static int accept_specificity(const char *value, const char *type)
{
	if (strcasecmp(value, type) == 0)
		return 3;
	if (strcmp(value, "*/*") == 0)
		return 1;
	const char *slash = strchr(type, '/');
	size_t n = slash ? (size_t)(slash - type) : 0;
	if (slash && strncasecmp(value, type, n) == 0 && strcmp(value + n, "/*") == 0)
		return 2;
	return 0;
}

double http_accept_media_quality(const char *header, const char *type)
{
	if (!header || !*header)
		return 1;
	struct http_accept_entry e;
	double q = -1;
	int best = 0;
	for (const char *pos = header; http_accept_next(&pos, &e);) {
		int s = accept_specificity(e.value, type);
		if (s > best) {
			best = s;
			q = e.q;
		}
	}
	return q;
}
