/*
 * fuzz_html.c: the §4.5 sanitizer (src/core/html.c), used for the HTML pages and for sidecar
 * values before any document carries them. Beyond not crashing, the
 * output is checked by an independent reader: every '<' starts a tag of the ten allowed, whose
 * only attributes are href on a and src/alt on img, double-quoted, with http(s)/mailto URLs;
 * nothing like "<script", "javascript:" or an on...= handler inside a tag; '&' only starts an
 * entity; and the tags nest and close. Quotes may stand raw in text: sanitized markup is only
 * ever element content, never an attribute value. A violation aborts, so libFuzzer reports it.
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/html.h"

static void fail(const char *why, const char *out)
{
	fprintf(stderr, "fuzz_html: %s in output:\n%s\n", why, out);
	abort();
}

static bool is_void(const char *name)
{
	return strcmp(name, "br") == 0 || strcmp(name, "img") == 0;
}

static bool is_allowed(const char *name)
{
	static const char *const ok[] = { "a", "b", "br", "i", "img", "p",
					  "small", "span", "sub", "sup" };
	for (size_t i = 0; i < G_N_ELEMENTS(ok); i++)
		if (strcmp(name, ok[i]) == 0)
			return true;
	return false;
}

/* The escaped attribute value back to what the browser sees (only our five escapes occur). */
static char *unescape(const char *v, size_t n, const char *out)
{
	static const struct { const char *ent; char c; } ents[] = {
		{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' }, { "&#39;", '\'' },
	};
	GString *s = g_string_new(NULL);
	for (size_t i = 0; i < n;) {
		size_t k = 0;
		if (v[i] == '&') {
			while (k < G_N_ELEMENTS(ents) && strncmp(v + i, ents[k].ent, strlen(ents[k].ent)))
				k++;
			if (k == G_N_ELEMENTS(ents))
				fail("unknown entity in an attribute", out);
			g_string_append_c(s, ents[k].c);
			i += strlen(ents[k].ent);
		} else {
			g_string_append_c(s, v[i++]);
		}
	}
	return g_string_free(s, FALSE);
}

/* Checks one tag starting at p ('<'); pushes/pops stack; returns the byte after its '>'. */
static const char *check_tag(const char *p, GPtrArray *stack, const char *out)
{
	bool closing = p[1] == '/';
	const char *q = p + (closing ? 2 : 1);
	char name[16];
	size_t n = 0;
	while (g_ascii_islower(*q) && n < sizeof name - 1)
		name[n++] = *q++;
	name[n] = '\0';
	if (!is_allowed(name))
		fail("a tag that is not allowed", out);
	if (closing) {
		if (*q != '>' || !stack->len || strcmp(g_ptr_array_index(stack, stack->len - 1), name))
			fail("an end tag that does not match", out);
		g_ptr_array_remove_index(stack, stack->len - 1);
		return q + 1;
	}
	while (*q == ' ') {
		const char *an = ++q;
		while (g_ascii_islower(*q))
			q++;
		char *attr = g_strndup(an, (gsize)(q - an));
		bool ok = (strcmp(name, "a") == 0 && strcmp(attr, "href") == 0) ||
			  (strcmp(name, "img") == 0 && (!strcmp(attr, "src") || !strcmp(attr, "alt")));
		if (!ok || q[0] != '=' || q[1] != '"')
			fail("an attribute that is not allowed or not quoted", out);
		const char *v = q + 2, *end = strchr(v, '"');
		if (!end || memchr(v, '<', (size_t)(end - v)) || memchr(v, '>', (size_t)(end - v)))
			fail("a broken attribute value", out);
		char *value = unescape(v, (size_t)(end - v), out);
		if (strcmp(attr, "alt") != 0 && !html_url_is_safe(value, strcmp(attr, "src") == 0))
			fail("an unsafe URL", out);
		if (strcmp(attr, "alt") != 0 && g_ascii_strncasecmp(value, "javascript", 10) == 0)
			fail("javascript: URL", out);
		g_free(value);
		g_free(attr);
		q = end + 1;
	}
	if (*q != '>')
		fail("a tag not closed by '>'", out);
	if (!is_void(name))
		g_ptr_array_add(stack, g_strdup(name));
	return q + 1;
}

static void check(const char *out)
{
	char *lower = g_ascii_strdown(out, -1);
	if (strstr(lower, "<script") || strstr(lower, "<style") || strstr(lower, "<iframe"))
		fail("a script, style or iframe tag", out);
	g_free(lower);
	GPtrArray *stack = g_ptr_array_new_with_free_func(g_free);
	for (const char *p = out; *p;) {
		if (*p == '<') {
			p = check_tag(p, stack, out);
		} else if (*p == '>') {
			fail("a '>' outside a tag", out);
		} else if (*p == '"' || *p == '\'') {
			p++; /* inert in element content */
		} else if (*p == '&') {
			const char *semi = strchr(p, ';');
			if (!semi || semi - p > 40 || semi == p + 1)
				fail("an '&' that starts no entity", out);
			for (const char *c = p + 1; c < semi; c++)
				if (!g_ascii_isalnum(*c) && *c != '#')
					fail("an '&' that starts no entity", out);
			p = semi + 1;
		} else {
			p++;
		}
	}
	if (stack->len)
		fail("tags left open", out);
	g_ptr_array_free(stack, TRUE);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = malloc(size + 1);
	if (!in)
		return 0;
	memcpy(in, data, size);
	in[size] = '\0';
	GString *out = g_string_new(NULL);
	html_sanitize(out, in);
	check(out->str);
	g_string_truncate(out, 0);
	html_value(out, in);
	check(out->str);
	g_string_truncate(out, 0);
	html_escape(out, in);
	if (strchr(out->str, '<') || strchr(out->str, '>') || strchr(out->str, '"'))
		fail("escaping left markup characters", out->str);
	g_string_free(out, TRUE);
	free(in);
	return 0;
}
