/*
 * view_manifest.c: a Manifest's page: the embedded viewer (served by /viewer/, chosen with
 * ?viewer=), a search box, its pages with downloads at a few sizes and as a PDF, its properties
 * and IIIF links.
 */
#include <math.h>
#include <string.h>

#include "contentstate/content_state.h"
#include "core/html.h"
#include "web/view.h"

static const char *const view_viewers[][2] = {
	{ "mirador", "Mirador" }, { "uv", "Universal Viewer" }, { "clover", "Clover" },
	{ "tify", "TIFY" },
};

const char *view_viewer_name(const char *viewer)
{
	for (size_t i = 0; i < G_N_ELEMENTS(view_viewers); i++)
		if (viewer && strcmp(viewer, view_viewers[i][0]) == 0)
			return view_viewers[i][0];
	return view_viewers[0][0];
}

/* ?viewer=&canvas=&xywh= for this page, the viewer replaced by name. */
static void view_query(GString *out, const struct view_args *a, const char *name)
{
	g_string_append_printf(out, "?viewer=%s", name);
	if (a->canvas) {
		g_string_append(out, "&canvas=");
		page_query_escape(out, a->canvas);
	}
	if (a->xywh) {
		g_string_append(out, "&xywh=");
		page_query_escape(out, a->xywh);
	}
	if (a->iiif_content) {
		g_string_append(out, "&iiif-content=");
		page_query_escape(out, a->iiif_content);
	}
}

/* The content state of what the page opens: the one it was given, else Manifest, Canvas, xywh. */
static char *view_state(const char *id, const struct view_args *a)
{
	if (a->iiif_content)
		return g_strdup(a->iiif_content);
	struct content_state_view v = { .has_xywh = false };
	v.has_xywh = a->xywh && content_state_parse_xywh(a->xywh, v.xywh) == 0;
	g_strlcpy(v.manifest, id, sizeof v.manifest);
	if (a->canvas)
		g_strlcpy(v.canvas, a->canvas, sizeof v.canvas);
	json_t *t = content_state_target(&v);
	char *enc = t ? content_state_encode_json(t) : NULL;
	json_decref(t);
	char *out = enc ? g_strdup(enc) : NULL;
	free(enc);
	return out;
}

/*
 * "Share this view": a link to this page with the view as a content state; iiifd.js replaces it
 * with the view the viewer shows when the button is pressed (iiifdContentState.current()).
 */
static void view_share(struct page *pg, const char *id, const struct view_args *a,
		       const char *base, const char *viewer)
{
	char *state = view_state(id, a);
	if (!state)
		return;
	GString *url = g_string_new(NULL);
	g_string_append_len(url, pg->origin, (gssize)(strlen(pg->origin) - strlen(pg->prefix)));
	g_string_append_printf(url, "%s?viewer=%s&iiif-content=", base, viewer);
	page_query_escape(url, state);
	g_string_append(url, "#viewer");
	GString *h = pg->html;
	g_string_append(h, "<p class=\"copy-row share\"><label for=\"share-url\">Link to this view"
			   "</label> <input id=\"share-url\" type=\"text\" readonly value=\"");
	html_escape(h, url->str);
	g_string_append_printf(h, "\"> <button type=\"button\" class=\"copy\" data-copy=\"share-url\" "
				  "data-share=\"%s\" hidden>Copy</button></p>\n", viewer);
	g_string_free(url, TRUE);
	g_free(state);
}

static void view_viewer(struct page *pg, const json_t *doc, const struct view_args *a,
			const char *base, const char *label)
{
	GString *h = pg->html;
	const char *id = json_string_value(json_object_get(doc, "id"));
	const char *current = view_viewer_name(a->viewer);
	g_string_append(h, "<section id=\"viewer\" aria-labelledby=\"viewer-h\">"
			   "<h2 id=\"viewer-h\">Viewer</h2>\n<nav aria-label=\"Viewers\">"
			   "<ul class=\"plain switch\">");
	for (size_t i = 0; i < G_N_ELEMENTS(view_viewers); i++) {
		GString *url = g_string_new(base);
		view_query(url, a, view_viewers[i][0]);
		g_string_append(url, "#viewer");
		g_string_append(h, "<li><a href=\"");
		html_escape(h, url->str);
		g_string_append_printf(h, "\"%s>%s</a></li>",
				       strcmp(current, view_viewers[i][0]) == 0
					       ? " aria-current=\"page\"" : "",
				       view_viewers[i][1]);
		g_string_free(url, TRUE);
	}
	g_string_append(h, "</ul></nav>\n");
	GString *src = g_string_new(pg->prefix);
	g_string_append_printf(src, "/viewer/%s?manifest=", current);
	page_query_escape(src, id);
	if (a->canvas) {
		g_string_append(src, "&canvas=");
		page_query_escape(src, a->canvas);
	}
	if (a->xywh) {
		g_string_append(src, "&xywh=");
		page_query_escape(src, a->xywh);
	}
	if (a->iiif_content) { /* the viewer page reads it (and refuses it) itself */
		g_string_append(src, "&iiif-content=");
		page_query_escape(src, a->iiif_content);
	}
	g_string_append(h, "<iframe class=\"viewer\" src=\"");
	html_escape(h, src->str);
	g_string_append(h, "\" title=\"");
	for (size_t i = 0; i < G_N_ELEMENTS(view_viewers); i++)
		if (strcmp(current, view_viewers[i][0]) == 0)
			html_escape(h, view_viewers[i][1]);
	g_string_append(h, " viewer: ");
	html_escape(h, label);
	g_string_append(h, "\" allowfullscreen></iframe>\n");
	view_share(pg, id, a, base, current);
	g_string_append(h, "</section>\n");
	g_string_free(src, TRUE);
}

/* The painting body of a Canvas (first annotation of its first page), borrowed. */
const json_t *view_canvas_body(const json_t *canvas)
{
	const json_t *page = json_array_get(json_object_get(canvas, "items"), 0);
	const json_t *anno = json_array_get(json_object_get(page, "items"), 0);
	return json_object_get(anno, "body");
}

const char *view_image_service(const json_t *body)
{
	size_t i;
	const json_t *s;
	json_array_foreach(json_object_get(body, "service"), i, s) {
		const char *type = json_string_value(json_object_get(s, "type"));
		if (type && strcmp(type, "ImageService3") == 0)
			return json_string_value(json_object_get(s, "id"));
	}
	return NULL;
}

static void view_download(GString *h, const char *service, long width, const char *text)
{
	GString *url = g_string_new(service);
	if (width > 0)
		g_string_append_printf(url, "/full/%ld,/0/default.jpg", width);
	else
		g_string_append(url, "/full/max/0/default.jpg");
	g_string_append(h, "<li><a href=\"");
	page_attr_url(h, url->str, false);
	g_string_append_printf(h, "\" download>%s</a></li>", text);
	g_string_free(url, TRUE);
}

static void view_canvas(struct page *pg, const json_t *canvas, long n)
{
	GString *h = pg->html;
	const json_t *body = view_canvas_body(canvas);
	const char *service = view_image_service(body);
	const char *thumb = page_thumbnail(canvas);
	char *label = page_plain(pg, json_object_get(canvas, "label"));
	char fallback[32];
	snprintf(fallback, sizeof fallback, "Page %ld", n);
	g_string_append(h, "<li><figure>");
	if (thumb && html_url_is_safe(thumb, true)) {
		g_string_append(h, "<img src=\"");
		html_escape(h, thumb);
		g_string_append(h, "\" alt=\"");
		html_escape(h, label ? label : fallback);
		g_string_append(h, "\" loading=\"lazy\">");
	}
	g_string_append(h, "<figcaption>");
	html_escape(h, label ? label : fallback);
	g_string_append(h, "<ul class=\"plain dl\">");
	json_int_t width = json_integer_value(json_object_get(body, "width"));
	if (service) {
		/* only sizes below the image's own: Image API 3 refuses to enlarge without ^ */
		if (width > 1000)
			view_download(h, service, 1000, "1000 px");
		if (width > 2000)
			view_download(h, service, 2000, "2000 px");
		view_download(h, service, 0, "Full size");
	} else if (json_string_value(json_object_get(body, "id"))) {
		g_string_append(h, "<li><a href=\"");
		page_attr_url(h, json_string_value(json_object_get(body, "id")), false);
		g_string_append(h, "\" download>Download file</a></li>");
	}
	g_string_append(h, "</ul></figcaption></figure></li>\n");
	g_free(label);
}

static bool view_has_images(const json_t *canvases)
{
	size_t i;
	const json_t *canvas;
	json_array_foreach(canvases, i, canvas)
		if (view_image_service(view_canvas_body(canvas)))
			return true;
	return false;
}

static void view_pages(struct page *pg, const json_t *doc, const char *pres_path,
		       const char *base, long page)
{
	GString *h = pg->html;
	const json_t *items = json_object_get(doc, "items");
	long n = (long)json_array_size(items), per = pg->cfg->web_page_size;
	long pages = n ? (n + per - 1) / per : 1;
	page = page < 1 ? 1 : page > pages ? pages : page;
	g_string_append_printf(h, "<section aria-labelledby=\"pages-h\"><h2 id=\"pages-h\">"
				  "Pages and downloads <span class=\"count\">(%ld)</span></h2>\n", n);
	if (view_has_images(items)) { /* a PDF of audio or video would be empty */
		GString *pdf = g_string_new(pg->prefix);
		g_string_append_printf(pdf, "/pdf/%s?width=1000", pres_path);
		g_string_append(h, "<p><a href=\"");
		html_escape(h, pdf->str);
		g_string_append(h, "\">Download as PDF</a> (pages 1000 px wide)</p>\n");
		g_string_free(pdf, TRUE);
	}
	g_string_append(h, "<ul class=\"pages\">\n");
	for (long i = (page - 1) * per; i < n && i < page * per; i++)
		view_canvas(pg, json_array_get(items, (size_t)i), i + 1);
	g_string_append(h, "</ul>\n");
	page_pager(pg, base, NULL, page, pages);
	g_string_append(h, "</section>\n");
}

void view_manifest(struct page *pg, const json_t *doc, const char *pres_path,
		   const struct view_search *s)
{
	GString *base = g_string_new(NULL);
	char *label = view_top(pg, doc, pres_path, "Manifest", "this item", s, base);
	view_viewer(pg, doc, s->args, base->str, label ? label : "Manifest");
	if (!s->args->q)
		view_pages(pg, doc, pres_path, base->str, s->args->page);
	page_properties(pg, doc);
	page_iiif_links(pg, json_string_value(json_object_get(doc, "id")), false);
	page_end(pg);
	g_string_free(base, TRUE);
	g_free(label);
}
