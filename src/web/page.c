/*
 * page.c: the frame and shared parts of every page. Every string that comes from a document,
 * a file name or the request goes out through html.c: escaped, or sanitized when §4.5 lets it
 * be HTML.
 */
#include "web/page.h"

#include <stdlib.h>
#include <string.h>

#include "core/strings.h"
#include "version.h"
#include "core/html.h"

void page_init(struct page *pg, const struct iiifd_config *cfg, const char *fallback_host,
	       const struct http_request *req)
{
	memset(pg, 0, sizeof *pg);
	pg->html = g_string_sized_new(16384);
	pg->req = req;
	pg->cfg = cfg;
	lang_list_parse(http_request_header(req, "Accept-Language"), &pg->langs);
	http_request_base_url(req, cfg->public_url, cfg->trust_forwarded, fallback_host,
			      pg->origin, sizeof pg->origin);
	const char *scheme = strstr(pg->origin, "://");
	const char *path = scheme ? strchr(scheme + 3, '/') : NULL;
	g_strlcpy(pg->prefix, path ? path : "", sizeof pg->prefix);
}

void page_release(struct page *pg)
{
	if (pg->html)
		g_string_free(pg->html, TRUE);
	pg->html = NULL;
}

void page_begin(struct page *pg, const char *title)
{
	GString *h = pg->html;
	g_string_append(h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
			   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
			   "<title>");
	html_escape(h, title);
	g_string_append(h, " \xe2\x80\x93 iiifd</title>\n<link rel=\"stylesheet\" href=\"");
	html_escape(h, pg->prefix);
	g_string_append(h, "/static/iiifd.css\">\n<script src=\"");
	html_escape(h, pg->prefix);
	g_string_append(h, "/static/iiifd.js\" defer></script>\n</head>\n<body>\n"
			   "<a class=\"skip\" href=\"#main\">Skip to content</a>\n"
			   "<header class=\"site\"><a class=\"home\" href=\"");
	html_escape(h, pg->prefix);
	g_string_append(h, "/\">iiifd</a></header>\n<main id=\"main\" tabindex=\"-1\">\n");
}

void page_end(struct page *pg)
{
	g_string_append(pg->html, "</main>\n<footer class=\"site\"><p>Served by iiifd " IIIFD_VERSION
				  " \xc2\xb7 <a href=\"https://iiif.io/\">IIIF</a></p></footer>\n"
				  "</body>\n</html>\n");
}

void page_respond(struct page *pg, struct http_response *resp, int status)
{
	char etag[40];
	resp->status = status;
	http_response_header(resp, "Content-Type", "text/html; charset=utf-8");
	http_response_header(resp, "Content-Security-Policy", PAGE_CSP);
	http_response_header(resp, "X-Content-Type-Options", "nosniff");
	http_response_header(resp, "Referrer-Policy", "strict-origin-when-cross-origin");
	http_response_header(resp, "Vary", "Accept, Accept-Language");
	strings_etag(pg->html->str, etag, sizeof etag);
	if (status == 200 && http_response_validators(resp, pg->req, etag, 0, "no-cache"))
		return;
	if (status != 200)
		http_response_header(resp, "Cache-Control", "no-store");
	size_t len = pg->html->len;
	http_response_body(resp, g_string_free(pg->html, FALSE), len, g_free);
	pg->html = NULL;
	resp->compressible = true;
}

void page_error(struct page *pg, struct http_response *resp, int status, const char *message)
{
	char title[64];
	snprintf(title, sizeof title, "%d %s", status, http_status_phrase(status));
	g_string_truncate(pg->html, 0);
	page_begin(pg, title);
	g_string_append(pg->html, "<h1>");
	html_escape(pg->html, title);
	g_string_append(pg->html, "</h1>\n<p>");
	html_escape(pg->html, message);
	g_string_append(pg->html, "</p>\n<p><a href=\"");
	html_escape(pg->html, pg->prefix);
	g_string_append(pg->html, "/\">Back to the collection</a></p>\n");
	page_end(pg);
	if (status == 503)
		http_response_header(resp, "Retry-After", "5");
	page_respond(pg, resp, status);
}

/* ---- language maps --------------------------------------------------------------------- */

static const json_t *page_pick(const struct page *pg, const json_t *map, const char **key)
{
	*key = lang_pick(map, &pg->langs);
	const json_t *v = *key ? json_object_get(map, *key) : NULL;
	return json_is_array(v) && json_array_size(v) ? v : NULL;
}

char *page_plain(const struct page *pg, const json_t *map)
{
	const char *key;
	const json_t *values = page_pick(pg, map, &key);
	if (!values)
		return NULL;
	GString *s = g_string_new(NULL);
	size_t i;
	const json_t *v;
	json_array_foreach(values, i, v)
		if (json_is_string(v))
			g_string_append_printf(s, "%s%s", s->len ? "; " : "", json_string_value(v));
	return g_string_free(s, FALSE);
}

static void page_lang_open(struct page *pg, const char *key, const char *element)
{
	g_string_append_printf(pg->html, "<%s", element);
	if (key && strcmp(key, "none") != 0) {
		g_string_append(pg->html, " lang=\"");
		html_escape(pg->html, key);
		g_string_append_c(pg->html, '"');
	}
	g_string_append_c(pg->html, '>');
}

void page_text(struct page *pg, const json_t *map)
{
	const char *key;
	const json_t *values = page_pick(pg, map, &key);
	if (!values)
		return;
	page_lang_open(pg, key, "span");
	size_t i;
	const json_t *v;
	json_array_foreach(values, i, v) {
		if (i)
			g_string_append(pg->html, "; ");
		html_escape(pg->html, json_string_value(v));
	}
	g_string_append(pg->html, "</span>");
}

void page_markup(struct page *pg, const json_t *map)
{
	const char *key;
	const json_t *values = page_pick(pg, map, &key);
	if (!values)
		return;
	size_t i;
	const json_t *v;
	json_array_foreach(values, i, v) {
		page_lang_open(pg, key, "div");
		html_value(pg->html, json_string_value(v));
		g_string_append(pg->html, "</div>");
	}
}

/* ---- links ----------------------------------------------------------------------------- */

const char *page_pres_path(const struct page *pg, const char *id)
{
	size_t n = strlen(pg->origin);
	if (!id || strncmp(id, pg->origin, n) != 0 || strncmp(id + n, "/iiif/presentation/", 19))
		return NULL;
	return id + n + 19;
}

void page_view_url(const struct page *pg, GString *out, const char *pres_path)
{
	g_string_append(out, pg->prefix);
	if (strcmp(pres_path, "collection") == 0)
		g_string_append_c(out, '/');
	else
		g_string_append_printf(out, "/view/%s", pres_path);
}

void page_query_escape(GString *out, const char *s)
{
	char *e = g_uri_escape_string(s, NULL, FALSE);
	g_string_append(out, e);
	g_free(e);
}

void page_attr_url(GString *out, const char *url, bool image)
{
	html_escape(out, url && html_url_is_safe(url, image) ? url : "#");
}

/* ---- shared sections ------------------------------------------------------------------- */

void page_breadcrumbs(struct page *pg, const char *pres_path, const char *current)
{
	GString *h = pg->html;
	bool root = strcmp(pres_path, "collection") == 0;
	g_string_append(h, "<nav class=\"crumbs\" aria-label=\"Breadcrumb\"><ol><li><a href=\"");
	html_escape(h, pg->prefix);
	g_string_append_printf(h, "/\"%s>Home</a></li>", root ? " aria-current=\"page\"" : "");
	gchar **segs = g_strsplit(pres_path, "/", -1);
	guint n = g_strv_length(segs);
	GString *path = g_string_new(NULL);
	/* the last segment is the keyword (collection/manifest): the folders are before it */
	for (guint i = 0; n >= 2 && i + 2 < n; i++) {
		char decoded[1024];
		g_string_append_printf(path, "%s/", segs[i]);
		if (strings_url_decode(segs[i], strlen(segs[i]), decoded, sizeof decoded) < 0)
			g_strlcpy(decoded, segs[i], sizeof decoded);
		g_string_append(h, "<li><a href=\"");
		GString *url = g_string_new(pg->prefix);
		g_string_append_printf(url, "/view/%scollection", path->str);
		html_escape(h, url->str);
		g_string_free(url, TRUE);
		g_string_append(h, "\">");
		html_escape(h, decoded);
		g_string_append(h, "</a></li>");
	}
	if (!root) {
		g_string_append(h, "<li aria-current=\"page\">");
		html_escape(h, current);
		g_string_append(h, "</li>");
	}
	g_string_append(h, "</ol></nav>\n");
	g_string_free(path, TRUE);
	g_strfreev(segs);
}

static void page_entry(struct page *pg, const json_t *label, const json_t *value, bool markup)
{
	g_string_append(pg->html, "<dt>");
	page_text(pg, label);
	g_string_append(pg->html, "</dt><dd>");
	if (markup)
		page_markup(pg, value);
	else
		page_text(pg, value);
	g_string_append(pg->html, "</dd>\n");
}

static void page_links(struct page *pg, const char *title, const json_t *list)
{
	size_t i;
	const json_t *item;
	if (!json_array_size(list))
		return;
	g_string_append(pg->html, "<dt>");
	html_escape(pg->html, title);
	g_string_append(pg->html, "</dt><dd><ul class=\"plain\">");
	json_array_foreach(list, i, item) {
		const char *id = json_string_value(json_object_get(item, "id"));
		char *label = page_plain(pg, json_object_get(item, "label"));
		g_string_append(pg->html, "<li><a href=\"");
		page_attr_url(pg->html, id, false);
		g_string_append(pg->html, "\">");
		html_escape(pg->html, label ? label : id);
		g_string_append(pg->html, "</a></li>");
		g_free(label);
	}
	g_string_append(pg->html, "</ul></dd>\n");
}

static void page_providers(struct page *pg, const json_t *providers)
{
	size_t i;
	const json_t *p;
	json_array_foreach(providers, i, p) {
		char *label = page_plain(pg, json_object_get(p, "label"));
		g_string_append(pg->html, "<dt>Provider</dt><dd>");
		const json_t *logo = json_array_get(json_object_get(p, "logo"), 0);
		const char *src = json_string_value(json_object_get(logo, "id"));
		if (src && html_url_is_safe(src, true)) {
			g_string_append(pg->html, "<img class=\"logo\" src=\"");
			html_escape(pg->html, src);
			g_string_append(pg->html, "\" alt=\"");
			html_escape(pg->html, label ? label : "Logo");
			g_string_append(pg->html, "\" height=\"40\"> ");
		}
		page_text(pg, json_object_get(p, "label"));
		g_string_append(pg->html, "</dd>\n");
		page_links(pg, "Provider's website", json_object_get(p, "homepage"));
		g_free(label);
	}
}

void page_summary(struct page *pg, const json_t *doc)
{
	const json_t *summary = json_object_get(doc, "summary");
	if (summary) {
		g_string_append(pg->html, "<div class=\"summary\">");
		page_markup(pg, summary);
		g_string_append(pg->html, "</div>\n");
	}
}

void page_properties(struct page *pg, const json_t *doc)
{
	GString *h = pg->html;
	size_t start = h->len;
	g_string_append(h, "<section aria-labelledby=\"about-h\"><h2 id=\"about-h\">About</h2>\n"
			   "<dl class=\"props\">\n");
	size_t empty = h->len;
	size_t i;
	const json_t *m;
	json_array_foreach(json_object_get(doc, "metadata"), i, m)
		page_entry(pg, json_object_get(m, "label"), json_object_get(m, "value"), true);
	const json_t *rs = json_object_get(doc, "requiredStatement");
	if (rs)
		page_entry(pg, json_object_get(rs, "label"), json_object_get(rs, "value"), true);
	const char *rights = json_string_value(json_object_get(doc, "rights"));
	if (rights) {
		g_string_append(h, "<dt>Rights</dt><dd><a href=\"");
		page_attr_url(h, rights, false);
		g_string_append(h, "\">");
		html_escape(h, rights);
		g_string_append(h, "</a></dd>\n");
	}
	const char *nav = json_string_value(json_object_get(doc, "navDate"));
	if (nav) {
		g_string_append(h, "<dt>Date</dt><dd>");
		html_escape(h, nav);
		g_string_append(h, "</dd>\n");
	}
	page_providers(pg, json_object_get(doc, "provider"));
	page_links(pg, "Web page", json_object_get(doc, "homepage"));
	page_links(pg, "Download", json_object_get(doc, "rendering"));
	if (h->len == empty) /* nothing to say: no empty section */
		g_string_truncate(h, start);
	else
		g_string_append(h, "</dl></section>\n");
}

void page_iiif_links(struct page *pg, const char *id, bool collection)
{
	GString *h = pg->html;
	const char *kind = collection ? "Collection" : "Manifest";
	g_string_append_printf(h, "<section aria-labelledby=\"iiif-h\"><h2 id=\"iiif-h\">IIIF</h2>\n"
				  "<p class=\"copy-row\"><label for=\"iiif-url\">%s URL</label> "
				  "<input id=\"iiif-url\" type=\"text\" readonly value=\"", kind);
	html_escape(h, id);
	g_string_append(h, "\"> <button type=\"button\" class=\"copy\" data-copy=\"iiif-url\" "
			   "hidden>Copy</button></p>\n<p><a href=\"");
	html_escape(h, id);
	if (pg->cfg->html_pages_on_json_urls) /* else the browser would get this page again */
		g_string_append(h, "?format=json");
	g_string_append_printf(h, "\">%s JSON</a> \xc2\xb7 <a class=\"iiif-dnd\" href=\"", kind);
	/* the IIIF drag-and-drop link: iiif-content for viewers that read content states (a plain
	 * URI, never encoded), manifest= / collection= for the others; the drag itself carries
	 * the plain URI as text/plain (iiifd.js, Content State §3.4) */
	GString *dnd = g_string_new(id);
	g_string_append(dnd, "?iiif-content=");
	page_query_escape(dnd, id);
	g_string_append_printf(dnd, "&%s=", collection ? "collection" : "manifest");
	page_query_escape(dnd, id);
	html_escape(h, dnd->str);
	g_string_free(dnd, TRUE);
	g_string_append(h, "\" data-iiif-content=\"");
	html_escape(h, id);
	g_string_append(h, "\" title=\"Drag this link into a IIIF viewer\">IIIF drag and drop</a>"
			   "</p>\n</section>\n");
}

void page_search_form(struct page *pg, const char *action, const char *q, const char *scope)
{
	GString *h = pg->html;
	g_string_append(h, "<form class=\"search\" role=\"search\" method=\"get\" action=\"");
	html_escape(h, action);
	g_string_append(h, "\"><label for=\"q\">Search ");
	html_escape(h, scope);
	g_string_append(h, "</label> <input id=\"q\" name=\"q\" type=\"search\" value=\"");
	html_escape(h, q ? q : "");
	g_string_append(h, "\"> <button type=\"submit\">Search</button></form>\n");
}

void page_pager(struct page *pg, const char *base, const char *extra_query, long page,
		long pages)
{
	if (pages <= 1)
		return;
	GString *h = pg->html;
	g_string_append(h, "<nav class=\"pager\" aria-label=\"Pages\"><ul class=\"plain\">");
	for (int dir = -1; dir <= 1; dir += 2) {
		long to = page + dir;
		if (to < 1 || to > pages)
			continue;
		GString *url = g_string_new(base);
		g_string_append_printf(url, "?%s%spage=%ld", extra_query ? extra_query : "",
				       extra_query && *extra_query ? "&" : "", to);
		g_string_append_printf(h, "<li><a rel=\"%s\" href=\"", dir < 0 ? "prev" : "next");
		html_escape(h, url->str);
		g_string_append_printf(h, "\">%s</a></li>", dir < 0 ? "Previous" : "Next");
		g_string_free(url, TRUE);
	}
	g_string_append_printf(h, "<li aria-current=\"page\">Page %ld of %ld</li></ul></nav>\n",
			       page, pages);
}

const char *page_thumbnail(const json_t *resource)
{
	const json_t *t = json_array_get(json_object_get(resource, "thumbnail"), 0);
	return json_string_value(json_object_get(t, "id"));
}
