/*
 * lang.c: the browser's languages, read with the one Accept-style tokenizer (http/accept.c) and
 * checked as language ranges, and the language map choice the pages make with them.
 */
#include "web/lang.h"

#include "http/accept.h"

#include <glib.h>
#include <stdlib.h>
#include <string.h>

#define LANG_PARSE_MAX 64 /* entries looked at; a longer header is cut there */

struct lang_entry {
	char tag[LANG_TAG_MAX];
	double q;
	int order; /* position in the header, so that sorting is stable */
};

/* A language range (RFC 4647 §2.1): 1*8ALPHA *("-" 1*8alphanum), or "*". */
static bool lang_range_valid(const char *s)
{
	if (strcmp(s, "*") == 0)
		return true;
	size_t run = 0, part = 0, i = 0;
	for (; s[i]; i++) {
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
	return i > 0 && i < LANG_TAG_MAX && run > 0;
}

static int lang_entry_cmp(const void *a, const void *b)
{
	const struct lang_entry *x = a, *y = b;
	return x->q != y->q ? (x->q < y->q ? 1 : -1) : x->order - y->order;
}

void lang_list_parse(const char *header, struct lang_list *out)
{
	struct lang_entry entries[LANG_PARSE_MAX];
	struct http_accept_entry e;
	const char *pos = header ? header : "";
	int n = 0;
	out->count = 0;
	for (int seen = 0; seen < LANG_PARSE_MAX && http_accept_next(&pos, &e); seen++) {
		if (e.q <= 0 || !lang_range_valid(e.value))
			continue; /* refused (q=0) or not a language range */
		for (size_t i = 0; e.value[i]; i++)
			e.value[i] = g_ascii_tolower(e.value[i]);
		g_strlcpy(entries[n].tag, e.value, LANG_TAG_MAX);
		entries[n].q = e.q;
		entries[n].order = n;
		n++;
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
