/*
 * lang.c: Accept-Language parsing (outside input: every entry is checked, nothing trusted) and
 * the language map choice the pages make with it.
 */
#include "web/lang.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#define LANG_PARSE_MAX 64 /* entries looked at; a longer header is cut there */

struct lang_entry {
	char tag[LANG_TAG_MAX];
	int q;     /* thousandths */
	int order; /* position in the header, so that sorting is stable */
};

/* A language range (RFC 4647 §2.1): 1*8ALPHA *("-" 1*8alphanum), or "*". */
static bool lang_range_valid(const char *s, size_t n)
{
	if (n == 1 && s[0] == '*')
		return true;
	size_t run = 0, part = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '-') {
			if (run == 0)
				return false;
			run = 0;
			part++;
			continue;
		}
		if (!(part == 0 ? g_ascii_isalpha(s[i]) : g_ascii_isalnum(s[i])) || ++run > 8)
			return false;
	}
	return n > 0 && run > 0;
}

/* qvalue (RFC 9110 §12.4.2): "0" [ "." 0*3DIGIT ] / "1" [ "." 0*3("0") ]; -1 when invalid. */
static int lang_qvalue(const char *s, size_t n)
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

static const char *lang_trim(const char *s, const char *end, const char **tend)
{
	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
		end--;
	*tend = end;
	return s;
}

/* One comma-separated element "range;q=0.5;..."; false when it is to be skipped. */
static bool lang_entry_parse(const char *s, const char *end, struct lang_entry *e)
{
	const char *semi = memchr(s, ';', (size_t)(end - s));
	const char *tend;
	const char *tag = lang_trim(s, semi ? semi : end, &tend);
	size_t n = (size_t)(tend - tag);
	if (n >= LANG_TAG_MAX || !lang_range_valid(tag, n))
		return false;
	for (size_t i = 0; i < n; i++)
		e->tag[i] = g_ascii_tolower(tag[i]);
	e->tag[n] = '\0';
	e->q = 1000;
	while (semi) {
		const char *p = semi + 1;
		semi = memchr(p, ';', (size_t)(end - p));
		const char *pend;
		p = lang_trim(p, semi ? semi : end, &pend);
		if (pend - p >= 2 && (p[0] == 'q' || p[0] == 'Q') && p[1] == '=') {
			e->q = lang_qvalue(p + 2, (size_t)(pend - p - 2));
			if (e->q < 0)
				return false;
		}
	}
	return e->q > 0;
}

static int lang_entry_cmp(const void *a, const void *b)
{
	const struct lang_entry *x = a, *y = b;
	return x->q != y->q ? y->q - x->q : x->order - y->order;
}

void lang_list_parse(const char *header, struct lang_list *out)
{
	struct lang_entry entries[LANG_PARSE_MAX];
	int n = 0;
	out->count = 0;
	for (const char *p = header; p && *p && n < LANG_PARSE_MAX;) {
		const char *comma = strchr(p, ',');
		const char *end = comma ? comma : p + strlen(p);
		if (lang_entry_parse(p, end, &entries[n]))
			entries[n].order = n, n++;
		p = comma ? comma + 1 : end;
	}
	qsort(entries, (size_t)n, sizeof entries[0], lang_entry_cmp);
	for (int i = 0; i < n && out->count < LANG_MAX; i++)
		memcpy(out->tags[out->count++], entries[i].tag, LANG_TAG_MAX);
}

/* Whether a is b or b followed by a subtag ("en-gb" starts with "en"). */
static bool lang_extends(const char *a, const char *b)
{
	size_t n = strlen(b);
	return g_ascii_strncasecmp(a, b, n) == 0 && (a[n] == '\0' || a[n] == '-');
}

static const char *lang_find(const json_t *map, const char *tag, bool by_prefix)
{
	const char *key;
	json_t *v;
	json_object_foreach((json_t *)map, key, v) {
		if (by_prefix ? lang_extends(tag, key) || lang_extends(key, tag)
			      : g_ascii_strcasecmp(key, tag) == 0)
			return key;
	}
	return NULL;
}

const char *lang_pick(const json_t *map, const struct lang_list *langs)
{
	if (!json_is_object(map) || json_object_size(map) == 0)
		return NULL;
	for (int i = 0; langs && i < langs->count; i++) {
		if (strcmp(langs->tags[i], "*") == 0)
			break;
		const char *key = lang_find(map, langs->tags[i], false);
		if (!key)
			key = lang_find(map, langs->tags[i], true);
		if (key)
			return key;
	}
	if (json_object_get(map, "none"))
		return "none";
	if (json_object_get(map, "en"))
		return "en";
	return json_object_iter_key(json_object_iter((json_t *)map));
}
