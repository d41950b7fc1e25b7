/*
 * view_collection.c: a Collection's page: its properties, a search box, and its members as a
 * grid of thumbnails, paged.
 */
#include <string.h>

#include "core/html.h"
#include "web/view.h"

static void view_member(struct page *pg, const json_t *m)
{
	GString *h = pg->html;
	const char *id = json_string_value(json_object_get(m, "id"));
	const char *type = json_string_value(json_object_get(m, "type"));
	const char *path = page_pres_path(pg, id);
	char *label = page_plain(pg, json_object_get(m, "label"));
	const char *thumb = page_thumbnail(m);
	g_string_append(h, "<li class=\"card\"><a href=\"");
	if (path) {
		GString *url = g_string_new(NULL);
		page_view_url(pg, url, path);
		html_escape(h, url->str);
		g_string_free(url, TRUE);
	} else {
		page_attr_url(h, id, false);
	}
	g_string_append(h, "\">");
	if (thumb && html_url_is_safe(thumb, true)) {
		/* the link's text names it: the image adds nothing for a screen reader */
		g_string_append(h, "<img src=\"");
		html_escape(h, thumb);
		g_string_append(h, "\" alt=\"\" loading=\"lazy\">");
	} else {
		g_string_append(h, "<span class=\"nothumb\" aria-hidden=\"true\"></span>");
	}
	g_string_append(h, "<span class=\"label\">");
	page_text(pg, json_object_get(m, "label"));
	if (!label)
		html_escape(h, id);
	g_string_append(h, "</span><span class=\"kind\">");
	html_escape(h, type && strcmp(type, "Collection") == 0 ? "Collection" : "Manifest");
	g_string_append(h, "</span></a></li>\n");
	g_free(label);
}

static void view_members(struct page *pg, const json_t *doc, const char *base, long page)
{
	const json_t *items = json_object_get(doc, "items");
	long n = (long)json_array_size(items), per = pg->cfg->web_page_size;
	long pages = n ? (n + per - 1) / per : 1;
	if (page < 1)
		page = 1;
	GString *h = pg->html;
	g_string_append_printf(h, "<section aria-labelledby=\"members-h\"><h2 id=\"members-h\">"
				  "Contents <span class=\"count\">(%ld)</span></h2>\n", n);
	if (page > pages) {
		g_string_append(h, "<p>There is no such page.</p>\n");
	} else if (n == 0) {
		g_string_append(h, "<p>This Collection is empty.</p>\n");
	} else {
		g_string_append(h, "<ul class=\"grid\">\n");
		for (long i = (page - 1) * per; i < n && i < page * per; i++)
			view_member(pg, json_array_get(items, (size_t)i));
		g_string_append(h, "</ul>\n");
	}
	page_pager(pg, base, NULL, page > pages ? pages : page, pages);
	g_string_append(h, "</section>\n");
}

char *view_top(struct page *pg, const json_t *doc, const char *pres_path, const char *kind,
	       const char *scope, const struct view_search *s, GString *base)
{
	char *label = page_plain(pg, json_object_get(doc, "label"));
	page_view_url(pg, base, pres_path);
	page_begin(pg, label ? label : kind);
	page_breadcrumbs(pg, pres_path, label ? label : kind);
	g_string_append(pg->html, "<h1>");
	page_text(pg, json_object_get(doc, "label"));
	g_string_append(pg->html, "</h1>\n");
	page_summary(pg, doc);
	if (s->searchable)
		page_search_form(pg, base->str, s->args->q, scope);
	if (s->args->q)
		view_hits(pg, s->results, s->error, s->canvases, s->args, base->str);
	return label;
}

/* The Change Discovery stream the root Collection names in seeAlso, for harvesters' people. */
static void view_activity_stream_link(struct page *pg, const json_t *doc)
{
	size_t i;
	const json_t *see;
	json_array_foreach(json_object_get(doc, "seeAlso"), i, see) {
		const char *type = json_string_value(json_object_get(see, "type"));
		const char *id = json_string_value(json_object_get(see, "id"));
		if (!type || !id || strcmp(type, "OrderedCollection") != 0)
			continue;
		g_string_append(pg->html, "<p class=\"activity-stream\">Harvesting? Changes to every "
					  "Collection and Manifest: <a href=\"");
		html_escape(pg->html, id);
		g_string_append(pg->html, "\">Change Discovery activity stream</a></p>\n");
	}
}

void view_collection(struct page *pg, const json_t *doc, const char *pres_path,
		     const struct view_search *s)
{
	GString *base = g_string_new(NULL);
	char *label = view_top(pg, doc, pres_path, "Collection", "this collection", s, base);
	if (!s->args->q)
		view_members(pg, doc, base->str, s->args->page);
	page_properties(pg, doc);
	page_iiif_links(pg, json_string_value(json_object_get(doc, "id")), true);
	view_activity_stream_link(pg, doc);
	page_end(pg);
	g_string_free(base, TRUE);
	g_free(label);
}
