/*
 * view_hits.c: search results on a page, from a Content Search 2.0 answer: each hit's words in
 * their context with the matched words marked, a thumbnail of its region from the Image API,
 * and a link to the Manifest page that opens the viewer on that Canvas and region.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contentstate/content_state.h"
#include "core/html.h"
#include "web/view.h"

#define VIEW_HIT_TEXT_MAX 300 /* bytes of an annotation's text shown when nothing is marked */

static void view_canvas_free(gpointer p)
{
	struct view_canvas *c = p;
	g_free(c->manifest_path);
	g_free(c->label);
	g_free(c->manifest_label);
	g_free(c->service);
	g_free(c->thumbnail);
	g_free(c);
}

GHashTable *view_canvases_new(void)
{
	return g_hash_table_new_full(g_str_hash, g_str_equal, g_free, view_canvas_free);
}

void view_canvases_add(GHashTable *canvases, const struct page *pg, const json_t *manifest)
{
	const char *path = page_pres_path(pg, json_string_value(json_object_get(manifest, "id")));
	char *mlabel = page_plain(pg, json_object_get(manifest, "label"));
	size_t i;
	const json_t *canvas;
	json_array_foreach(json_object_get(manifest, "items"), i, canvas) {
		const char *id = json_string_value(json_object_get(canvas, "id"));
		if (!id || !path)
			continue;
		const json_t *body = view_canvas_body(canvas);
		struct view_canvas *c = g_new0(struct view_canvas, 1);
		c->manifest_path = g_strdup(path);
		c->label = page_plain(pg, json_object_get(canvas, "label"));
		c->manifest_label = g_strdup(mlabel ? mlabel : path);
		if (!c->label)
			c->label = g_strdup_printf("Page %zu", i + 1);
		c->service = g_strdup(view_image_service(body));
		double cw = (double)json_integer_value(json_object_get(canvas, "width"));
		double bw = (double)json_integer_value(json_object_get(body, "width"));
		c->scale = cw > 0 && bw > 0 ? bw / cw : 1.0;
		c->thumbnail = g_strdup(page_thumbnail(canvas));
		g_hash_table_replace(canvases, g_strdup(id), c);
	}
	g_free(mlabel);
}

/* Splits "canvas#xywh=x,y,w,h" into canvas (g_free) and the four numbers; false without xywh. */
static bool view_target(const json_t *anno, char **canvas, double v[4])
{
	const json_t *t = json_object_get(anno, "target");
	/* a string, a SpecificResource (source), or in a Collection {id, partOf} */
	const json_t *src = json_object_get(t, "source") ? json_object_get(t, "source")
							 : json_object_get(t, "id");
	const char *target = json_is_string(t) ? json_string_value(t) : json_string_value(src);
	if (!target)
		return *canvas = NULL, false;
	const char *hash = strchr(target, '#');
	*canvas = hash ? g_strndup(target, (gsize)(hash - target)) : g_strdup(target);
	return hash && sscanf(hash, "#xywh=%lf,%lf,%lf,%lf", &v[0], &v[1], &v[2], &v[3]) == 4 &&
	       v[2] > 0 && v[3] > 0;
}

/*
 * The hit as a IIIF Content State (docs/content-state.md): its Canvas with the word box (#xywh=)
 * or time (#t=) it names, partOf its Manifest. A link to a viewer with it encoded, draggable
 * (iiifd.js puts the plain JSON in the drag, §3.4) and the JSON in data-iiif-content (§3.6).
 */
static void view_hit_state(struct page *pg, const json_t *anno, const struct view_canvas *c,
			   const char *viewer)
{
	const json_t *t = json_object_get(anno, "target");
	const json_t *src = json_object_get(t, "source") ? json_object_get(t, "source")
							 : json_object_get(t, "id");
	const char *target = json_is_string(t) ? json_string_value(t) : json_string_value(src);
	const char *sel = json_string_value(json_object_get(json_object_get(t, "selector"), "value"));
	if (!target)
		return;
	GString *id = g_string_new(target);
	if (sel && !strchr(target, '#')) /* a FragmentSelector: xywh= or t= */
		g_string_append_printf(id, "#%s", sel);
	GString *manifest = g_string_new(pg->origin);
	g_string_append_printf(manifest, "/iiif/presentation/%s", c->manifest_path);
	json_t *state = json_pack("{s:s,s:s,s:[{s:s,s:s}]}", "id", id->str, "type", "Canvas",
				  "partOf", "id", manifest->str, "type", "Manifest");
	char *plain = state ? json_dumps(state, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	char *enc = state ? content_state_encode_json(state) : NULL;
	if (plain && enc) {
		GString *h = pg->html;
		g_string_append(h, "<p class=\"cs\"><a class=\"iiif-cs\" draggable=\"true\" href=\"");
		html_escape(h, pg->prefix);
		g_string_append_printf(h, "/viewer/%s?iiif-content=%s\" data-iiif-content=\"", viewer,
				       enc);
		html_escape(h, plain);
		g_string_append(h, "\" title=\"A IIIF Content State: open it in a viewer, or drag it "
				   "into one\">Link to this passage (IIIF)</a></p>");
	}
	free(plain);
	free(enc);
	json_decref(state);
	g_string_free(id, TRUE);
	g_string_free(manifest, TRUE);
}

/* The first highlighting annotation of anno_id: its TextQuoteSelector, borrowed, or NULL. */
static const json_t *view_quote(const json_t *results, const char *anno_id)
{
	const json_t *page = json_array_get(json_object_get(results, "annotations"), 0);
	size_t i;
	const json_t *h;
	json_array_foreach(json_object_get(page, "items"), i, h) {
		const json_t *t = json_object_get(h, "target");
		const char *src = json_string_value(json_object_get(t, "source"));
		if (src && anno_id && strcmp(src, anno_id) == 0)
			return json_object_get(t, "selector");
	}
	return NULL;
}

static void view_snippet(GString *h, const json_t *results, const json_t *anno)
{
	const json_t *sel = view_quote(results, json_string_value(json_object_get(anno, "id")));
	if (json_is_array(sel))
		sel = json_array_get(sel, 0);
	g_string_append(h, "<p class=\"snippet\">");
	if (sel) {
		html_escape(h, json_string_value(json_object_get(sel, "prefix")));
		g_string_append(h, "<mark>");
		html_escape(h, json_string_value(json_object_get(sel, "exact")));
		g_string_append(h, "</mark>");
		html_escape(h, json_string_value(json_object_get(sel, "suffix")));
	} else {
		const json_t *body = json_object_get(anno, "body");
		const char *text = json_string_value(json_object_get(body, "value"));
		size_t n = text ? strlen(text) : 0;
		if (n > VIEW_HIT_TEXT_MAX) /* cut on a character boundary */
			n = (size_t)(g_utf8_find_prev_char(text, text + VIEW_HIT_TEXT_MAX) - text);
		html_escape_len(h, text ? text : "", n);
	}
	g_string_append(h, "</p>");
}

/* The region's thumbnail URL (Image API, image pixels), or the Canvas thumbnail. g_free. */
static char *view_region_url(const struct view_canvas *c, bool has_xywh, const double v[4])
{
	if (!c->service || !has_xywh)
		return g_strdup(c->thumbnail);
	long x = lround(v[0] * c->scale), y = lround(v[1] * c->scale);
	long w = lround(v[2] * c->scale), hh = lround(v[3] * c->scale);
	return g_strdup_printf("%s/%ld,%ld,%ld,%ld/!200,200/0/default.jpg", c->service,
			       x < 0 ? 0 : x, y < 0 ? 0 : y, w < 1 ? 1 : w, hh < 1 ? 1 : hh);
}

static void view_hit(struct page *pg, const json_t *results, const json_t *anno,
		     GHashTable *canvases, const char *viewer)
{
	GString *h = pg->html;
	char *canvas = NULL;
	double v[4] = { 0 };
	bool has_xywh = view_target(anno, &canvas, v);
	const struct view_canvas *c = canvas ? g_hash_table_lookup(canvases, canvas) : NULL;
	GString *link = g_string_new(NULL);
	if (c) {
		page_view_url(pg, link, c->manifest_path);
		g_string_append_printf(link, "?viewer=%s&canvas=", viewer);
		page_query_escape(link, canvas);
		if (has_xywh)
			g_string_append_printf(link, "&xywh=%ld,%ld,%ld,%ld", lround(v[0]),
					       lround(v[1]), lround(v[2]), lround(v[3]));
		g_string_append(link, "#viewer");
	}
	g_string_append(h, "<li class=\"hit\">");
	char *thumb = c ? view_region_url(c, has_xywh, v) : NULL;
	if (thumb && html_url_is_safe(thumb, true)) {
		g_string_append(h, "<img src=\"");
		html_escape(h, thumb);
		g_string_append(h, "\" alt=\"");
		html_escape(h, has_xywh ? "The matching region of " : "");
		html_escape(h, c->label);
		g_string_append(h, "\" loading=\"lazy\">");
	}
	g_string_append(h, "<div>");
	view_snippet(h, results, anno);
	if (c) {
		g_string_append(h, "<p><a href=\"");
		html_escape(h, link->str);
		g_string_append(h, "\">");
		html_escape(h, c->manifest_label);
		g_string_append(h, ", ");
		html_escape(h, c->label);
		g_string_append(h, ": open in the viewer</a></p>");
		view_hit_state(pg, anno, c, viewer);
	}
	g_string_append(h, "</div></li>\n");
	g_free(thumb);
	g_string_free(link, TRUE);
	g_free(canvas);
}

/* "Earlier / more results" links: the search's own pages, numbered from 0. */
static void view_hits_pager(struct page *pg, const json_t *results, const struct view_args *a,
			    const char *base)
{
	long at = a->page < 0 ? 0 : a->page;
	bool prev = json_object_get(results, "prev") != NULL;
	bool next = json_object_get(results, "next") != NULL;
	if (!prev && !next)
		return;
	g_string_append(pg->html, "<nav class=\"pager\" aria-label=\"Result pages\">"
				  "<ul class=\"plain\">");
	for (int dir = -1; dir <= 1; dir += 2) {
		if ((dir < 0 && !prev) || (dir > 0 && !next))
			continue;
		GString *url = g_string_new(base);
		g_string_append(url, "?q=");
		page_query_escape(url, a->q);
		g_string_append_printf(url, "&page=%ld", at + dir);
		g_string_append_printf(pg->html, "<li><a rel=\"%s\" href=\"", dir < 0 ? "prev" : "next");
		html_escape(pg->html, url->str);
		g_string_append_printf(pg->html, "\">%s</a></li>",
				       dir < 0 ? "Previous results" : "More results");
		g_string_free(url, TRUE);
	}
	g_string_append(pg->html, "</ul></nav>\n");
}

void view_hits(struct page *pg, const json_t *results, const char *error_msg,
	       GHashTable *canvases, const struct view_args *a, const char *base)
{
	GString *h = pg->html;
	g_string_append(h, "<section aria-labelledby=\"hits-h\"><h2 id=\"hits-h\">Search results"
			   "</h2>\n");
	if (!results) {
		g_string_append(h, "<p class=\"error\">");
		html_escape(h, error_msg ? error_msg : "The search failed.");
		g_string_append(h, "</p>\n</section>\n");
		return;
	}
	json_int_t total = json_integer_value(
		json_object_get(json_object_get(results, "partOf"), "total"));
	const json_t *items = json_object_get(results, "items");
	/* total counts annotations (lines, passages); a passage may hold several hits */
	g_string_append(h, "<p role=\"status\">");
	if (total == 0)
		g_string_append(h, "No results for \xe2\x80\x9c");
	else
		g_string_append(h, "\xe2\x80\x9c");
	html_escape(h, a->q);
	if (total == 0)
		g_string_append(h, "\xe2\x80\x9d.");
	else
		g_string_append_printf(h, "\xe2\x80\x9d found in %lld %s.", (long long)total,
				       total == 1 ? "passage" : "passages");
	g_string_append(h, "</p>\n<ol class=\"hits\">\n");
	size_t i;
	const json_t *anno;
	const char *viewer = view_viewer_name(a->viewer);
	json_array_foreach(items, i, anno)
		view_hit(pg, results, anno, canvases, viewer);
	g_string_append(h, "</ol>\n");
	view_hits_pager(pg, results, a, base);
	g_string_append(h, "<p><a href=\"");
	html_escape(h, base);
	g_string_append(h, "\">Clear the search</a></p>\n");
	g_string_append(h, "</section>\n");
}
