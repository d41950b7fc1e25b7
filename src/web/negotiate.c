/*
 * negotiate.c: the Accept header, read one media range at a time; anything malformed is
 * skipped, never trusted.
 */
#include "web/negotiate.h"

#include <glib.h>
#include <string.h>

#define NEGOTIATE_MAX_RANGES 64

/* qvalue in thousandths, -1 when malformed (RFC 9110 §12.4.2). */
static int negotiate_q(const char *s, size_t n)
{
	if (n == 0 || (s[0] != '0' && s[0] != '1') || (n > 1 && (s[1] != '.' || n > 5)))
		return -1;
	int q = (s[0] - '0') * 1000, scale = 100;
	for (size_t i = 2; i < n; i++, scale /= 10) {
		if (!g_ascii_isdigit(s[i]))
			return -1;
		q += (s[i] - '0') * scale;
	}
	return q > 1000 ? -1 : q;
}

static bool negotiate_is(const char *range, size_t n, const char *type)
{
	return strlen(type) == n && g_ascii_strncasecmp(range, type, n) == 0;
}

/* One "type/subtype;param=...;q=..." element; sets *q (-1 to skip it). */
static void negotiate_range(const char *s, const char *end, int *html, int *json)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	const char *r_end = s;
	while (r_end < end && *r_end != ';' && *r_end != ' ' && *r_end != '\t')
		r_end++;
	size_t n = (size_t)(r_end - s);
	int q = 1000;
	for (const char *p = r_end; p < end;) {
		const char *semi = memchr(p, ';', (size_t)(end - p));
		if (!semi)
			break;
		p = semi + 1;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		const char *v_end = p;
		while (v_end < end && *v_end != ';' && *v_end != ' ' && *v_end != '\t')
			v_end++;
		if (v_end - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=')
			q = negotiate_q(p + 2, (size_t)(v_end - p - 2));
		p = v_end;
	}
	if (q < 0)
		return;
	if (negotiate_is(s, n, "text/html") || negotiate_is(s, n, "application/xhtml+xml"))
		*html = MAX(*html, q);
	else if (negotiate_is(s, n, "application/json") ||
		 negotiate_is(s, n, "application/ld+json") || negotiate_is(s, n, "application/*") ||
		 negotiate_is(s, n, "*/*"))
		*json = MAX(*json, q);
}

bool negotiate_prefers_html(const char *accept)
{
	int html = 0, json = 0, seen = 0;
	for (const char *p = accept; p && *p && seen < NEGOTIATE_MAX_RANGES; seen++) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		negotiate_range(p, end, &html, &json);
		p = comma ? comma + 1 : end;
	}
	return html > 0 && html > json;
}
