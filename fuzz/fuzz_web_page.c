/*
 * fuzz_web_page.c: whole pages (src/web/view_*.c, page.c) written from documents whose every
 * string comes from the input, as sidecars, file names and OCR text would put them there:
 * labels, summary, metadata, requiredStatement, rights, provider, thumbnails, ids, search hits
 * and the query. Whatever they hold, the page must have no script but iiifd's own file, no
 * event-handler attribute and no javascript:/data:/vbscript: URL in any attribute; the
 * checker reads the output independently and aborts on a violation.
 */
#include <glib.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "web/page.h"
#include "web/view.h"

#define OUR_SCRIPT "<script src=\"/static/iiifd.js\" defer></script>"

static void fail(const char *why, const char *out, const char *at)
{
	fprintf(stderr, "fuzz_web_page: %s at offset %ld:\n%.200s\n", why, (long)(at - out), at);
	abort();
}

/* Undoes the escapes iiifd writes, for checking an attribute value as a browser reads it. */
static char *unescape(const char *v, size_t n)
{
	GString *s = g_string_new(NULL);
	for (size_t i = 0; i < n; i++) {
		static const struct { const char *e; char c; } ents[] = {
			{ "&amp;", '&' }, { "&lt;", '<' }, { "&gt;", '>' }, { "&quot;", '"' },
			{ "&#39;", '\'' } };
		size_t k = 0;
		while (k < G_N_ELEMENTS(ents) && strncmp(v + i, ents[k].e, strlen(ents[k].e)))
			k++;
		if (k < G_N_ELEMENTS(ents)) {
			g_string_append_c(s, ents[k].c);
			i += strlen(ents[k].e) - 1;
		} else {
			g_string_append_c(s, v[i]);
		}
	}
	return g_string_free(s, FALSE);
}

/* Attributes whose value a browser follows or loads as a URL. */
static bool url_attribute(const char *name, size_t n)
{
	static const char *const urls[] = { "href", "src", "action", "formaction", "data",
					    "poster", "srcset", "background", "xlink:href" };
	for (size_t i = 0; i < sizeof urls / sizeof urls[0]; i++)
		if (n == strlen(urls[i]) && g_ascii_strncasecmp(name, urls[i], n) == 0)
			return true;
	return false;
}

static const char *check_tag(const char *out, const char *p)
{
	const char *q = p + 1 + (p[1] == '/');
	const char *name = q;
	while (g_ascii_isalnum(*q))
		q++;
	if (q == name && !(p[1] == '!' && strncmp(p, "<!DOCTYPE html>", 15) == 0))
		fail("a '<' that starts no tag", out, p);
	if (q - name == 6 && g_ascii_strncasecmp(name, "script", 6) == 0 && p[1] != '/' &&
	    strncmp(p, OUR_SCRIPT, strlen(OUR_SCRIPT)) != 0)
		fail("a script that is not iiifd's", out, p);
	while (*q && *q != '>') {
		if (*q == ' ') {
			q++;
			const char *an = q;
			while (*q && *q != '=' && *q != ' ' && *q != '>')
				q++;
			if (q - an >= 2 && g_ascii_strncasecmp(an, "on", 2) == 0)
				fail("an event attribute", out, an);
			if (*q == '=') {
				if (q[1] != '"')
					fail("an unquoted attribute", out, q);
				const char *v = q + 2, *end = strchr(v, '"');
				if (!end)
					fail("an unterminated attribute", out, q);
				char *value = unescape(v, (size_t)(end - v));
				const char *t = value;
				while (*t && (unsigned char)*t <= ' ')
					t++;
				/* only attributes a browser follows or loads are URLs: a search box's
				 * value="javascript:..." is text the reader typed, not a link */
				bool url = url_attribute(an, (size_t)(q - an));
				if (url && (g_ascii_strncasecmp(t, "javascript:", 11) == 0 ||
				    g_ascii_strncasecmp(t, "vbscript:", 9) == 0 ||
				    g_ascii_strncasecmp(t, "data:", 5) == 0))
					fail("a script URL", out, v);
				g_free(value);
				q = end + 1;
			}
		} else if (*q == '"' || *q == '\'' || *q == '<') {
			fail("a stray character in a tag", out, q);
		} else {
			q++;
		}
	}
	if (!*q)
		fail("an unterminated tag", out, p);
	return q + 1;
}

static void check(const char *out)
{
	for (const char *p = out; (p = strchr(p, '<'));)
		p = check_tag(out, p);
}

/* The input's fields, separated by newlines, handed out in turn (again from the start). */
struct fields {
	gchar **v;
	guint n, at;
};

static const char *next(struct fields *f)
{
	return f->n ? f->v[f->at++ % f->n] : "";
}

static json_t *langmap(struct fields *f)
{
	return json_pack("{s:[s], s:[s, s]}", next(f), next(f), "en", next(f), next(f));
}

static json_t *manifest(struct fields *f, const char *id)
{
	json_t *canvas = json_pack(
		"{s:s, s:s, s:o, s:i, s:[{s:s}], s:[{s:[{s:{s:s, s:i, s:[{s:s, s:s}]}}]}]}", "id",
		next(f), "type", "Canvas", "label", langmap(f), "width", 3000, "thumbnail", "id",
		next(f), "items", "items", "body", "id", next(f), "width", 3000, "service", "id",
		next(f), "type", "ImageService3");
	json_t *doc = json_pack(
		"{s:s, s:s, s:o, s:o, s:[{s:o, s:o}], s:{s:o, s:o}, s:s, s:s, s:[{s:o, s:[{s:s}], "
		"s:[{s:s, s:o}]}], s:[{s:s, s:o}], s:[o]}",
		"id", id, "type", "Manifest", "label", langmap(f), "summary", langmap(f), "metadata",
		"label", langmap(f), "value", langmap(f), "requiredStatement", "label", langmap(f),
		"value", langmap(f), "rights", next(f), "navDate", next(f), "provider", "label",
		langmap(f), "logo", "id", next(f), "homepage", "id", next(f), "label", langmap(f),
		"rendering", "id", next(f), "label", langmap(f), "items", canvas);
	return doc;
}

static json_t *results(struct fields *f, const char *canvas)
{
	char *target = g_strdup_printf("%s#xywh=%s", canvas, next(f));
	json_t *r = json_pack("{s:{s:i}, s:[{s:s, s:{s:s}, s:s}], s:[{s:[{s:{s:s, s:{s:s, s:s, "
			      "s:s}}}]}], s:s}",
			      "partOf", "total", 1, "items", "id", "a1", "body", "value", next(f),
			      "target", target, "annotations", "items", "target", "source", "a1",
			      "selector", "prefix", next(f), "exact", next(f), "suffix", next(f),
			      "next", next(f));
	g_free(target);
	return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *in = g_strndup((const char *)data, size);
	if (!g_utf8_validate(in, -1, NULL)) { /* the documents are JSON: always UTF-8 */
		g_free(in);
		return 0;
	}
	struct fields f = { g_strsplit(in, "\n", 64), 0, 0 };
	f.n = g_strv_length(f.v);
	struct iiifd_config cfg;
	iiifd_config_init(&cfg);
	cfg.web_page_size = 2;
	struct page pg = { .html = g_string_new(NULL), .cfg = &cfg };
	g_strlcpy(pg.origin, "http://h", sizeof pg.origin);
	lang_list_parse(next(&f), &pg.langs);
	const char *id = "http://h/iiif/presentation/a/manifest";
	json_t *doc = manifest(&f, id);
	if (!doc)
		abort(); /* every field is valid UTF-8: the document must build */
	const char *canvas = json_string_value(json_object_get(
		json_array_get(json_object_get(doc, "items"), 0), "id"));
	json_t *res = results(&f, canvas);
	if (!res)
		abort();
	struct view_args a = { .q = (char *)next(&f), .viewer = (char *)next(&f),
			       .canvas = (char *)next(&f), .xywh = (char *)next(&f), .page = 1 };
	GHashTable *canvases = view_canvases_new();
	view_canvases_add(canvases, &pg, doc);
	struct view_search search = { &a, true, res, NULL, canvases };
	view_manifest(&pg, doc, "a/manifest", &search);
	check(pg.html->str);
	g_string_truncate(pg.html, 0);
	json_t *coll = json_pack("{s:s, s:s, s:o, s:[{s:s, s:s, s:o, s:[{s:s}]}]}", "id",
				 "http://h/iiif/presentation/collection", "type", "Collection",
				 "label", langmap(&f), "items", "id", next(&f), "type", next(&f),
				 "label", langmap(&f), "thumbnail", "id", next(&f));
	const char *path = next(&f);
	struct view_search in_coll = { &a, true, NULL, next(&f), canvases };
	view_collection(&pg, coll, path, &in_coll);
	check(pg.html->str);
	g_hash_table_destroy(canvases);
	json_decref(coll);
	json_decref(res);
	json_decref(doc);
	g_string_free(pg.html, TRUE);
	iiifd_config_release(&cfg);
	g_strfreev(f.v);
	g_free(in);
	return 0;
}
