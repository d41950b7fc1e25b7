/*
 * service.c: which page a URL is, reading its query, asking the presentation service for the
 * documents (and the search for results), then handing them to view_*.c. Nothing here reads
 * the folders: pages are built from the same JSON that IIIF clients get.
 */
#include "web/service.h"

#include <stdlib.h>
#include <string.h>

#include "core/config_live.h"
#include "web/assets.h"
#include "web/negotiate.h"
#include "web/page.h"
#include "web/sitemap.h"
#include "web/view.h"

/* Manifests whose Canvases a page of Collection-wide results may show thumbnails from. */
#define WEB_HIT_MANIFESTS 10

static const char *web_strip(const char *path, const char *prefix)
{
	size_t n = strlen(prefix);
	return strncmp(path, prefix, n) == 0 ? path + n : NULL;
}

bool web_service_is_inline(const struct http_request *req)
{
	return web_strip(req->path, "/static/") != NULL || strcmp(req->path, "/robots.txt") == 0;
}

/* Whether a path below /iiif/presentation/ names a Collection or Manifest document itself. */
static bool web_is_document(const char *rest)
{
	return strcmp(rest, "collection") == 0 || g_str_has_suffix(rest, "/collection") ||
	       g_str_has_suffix(rest, "/manifest");
}

/* ?format=json: the JSON link of a page, which a browser follows asking for HTML */
static bool web_asks_json(const struct http_request *req)
{
	char *format = http_request_arg(req, "format");
	bool json = format && strcmp(format, "json") == 0;
	free(format);
	return json;
}

static void web_args_release(struct view_args *a)
{
	free(a->q);
	free(a->viewer);
	free(a->canvas);
	free(a->xywh);
	free(a->iiif_content);
}

/* x,y,w,h as numbers (the viewer gets it as it is) */
static bool web_xywh_valid(const char *s)
{
	int commas = 0;
	for (const char *p = s; *p; p++)
		if (*p == ',')
			commas++;
		else if (!g_ascii_isdigit(*p) && *p != '.')
			return false;
	return commas == 3 && strlen(s) < 64;
}

static int web_args_read(const struct http_request *req, struct view_args *a,
			 struct iiifd_error *err)
{
	char *page = NULL;
	memset(a, 0, sizeof *a);
	a->page = -1;
	if (http_request_arg_checked(req, "q", &a->q, err) < 0 ||
	    http_request_arg_checked(req, "viewer", &a->viewer, err) < 0 ||
	    http_request_arg_checked(req, "canvas", &a->canvas, err) < 0 ||
	    http_request_arg_checked(req, "xywh", &a->xywh, err) < 0 ||
	    http_request_arg_checked(req, "page", &page, err) < 0 ||
	    http_request_arg_checked(req, "iiif-content", &a->iiif_content, err) < 0)
		return -1;
	if (a->q && !*g_strstrip(a->q)) {
		free(a->q); /* a blank search box shows the page itself */
		a->q = NULL;
	}
	if (a->xywh && !web_xywh_valid(a->xywh)) {
		free(a->xywh);
		a->xywh = NULL;
	}
	if (page) {
		char *end = NULL;
		a->page = strtol(page, &end, 10);
		bool bad = end == page || *end || a->page < 0 || a->page > 1000000;
		free(page);
		if (bad)
			return iiifd_error_set(err, 400, "page must be a whole number");
	}
	return 0;
}

/* The Canvases of the Manifests the hits of a Collection-wide search land on (a few). */
static void web_hit_canvases(const struct pres_service *svc, const struct page *pg,
			     const json_t *results, GHashTable *canvases)
{
	GHashTable *seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	size_t i;
	const json_t *anno;
	json_array_foreach(json_object_get(results, "items"), i, anno) {
		/* a Collection's hits name their Manifest in target.partOf */
		const json_t *part = json_object_get(json_object_get(anno, "target"), "partOf");
		const char *manifest_id = json_string_value(json_object_get(part, "id"));
		if (!manifest_id || g_hash_table_size(seen) >= WEB_HIT_MANIFESTS)
			continue;
		char *manifest = g_strdup(manifest_id);
		const char *path = page_pres_path(pg, manifest);
		if (path && !g_hash_table_contains(seen, path)) {
			struct iiifd_error err = { 0 };
			bool coll;
			json_t *doc = pres_service_document(svc, path, pg->req, &coll, &err);
			if (doc && !coll)
				view_canvases_add(canvases, pg, doc);
			json_decref(doc);
			g_hash_table_add(seen, g_strdup(path));
		}
		g_free(manifest);
	}
	g_hash_table_destroy(seen);
}

/* The page of the Collection or Manifest at pres_path (below /iiif/presentation/). */
static void web_view(const struct pres_service *svc, const char *pres_path,
		     const struct http_request *req, struct http_response *resp)
{
	struct page pg;
	struct view_args a;
	struct iiifd_error err = { 0 }, serr = { 0 };
	json_t *doc = NULL, *results = NULL;
	GHashTable *canvases = view_canvases_new();
	bool coll = false;
	page_init(&pg, config_live_now(), svc->fallback_host, req); /* reloadable */
	if (web_args_read(req, &a, &err) < 0 ||
	    !(doc = pres_service_document(svc, pres_path, req, &coll, &err))) {
		page_error(&pg, resp, err.http_status ? err.http_status : 500, err.msg);
		goto out;
	}
	const char *id = json_string_value(json_object_get(doc, "id"));
	size_t idlen = id ? strlen(id) : 0;
	if (a.canvas && (coll || strncmp(a.canvas, id, idlen) || strncmp(a.canvas + idlen, "/canvas/", 8))) {
		free(a.canvas); /* only a Canvas of this Manifest goes to the viewer */
		a.canvas = NULL;
	}
	if (a.q && svc->db) {
		results = pres_service_search(svc, pres_path, req, &serr);
		if (coll && results)
			web_hit_canvases(svc, &pg, results, canvases);
		else if (results)
			view_canvases_add(canvases, &pg, doc);
	}
	struct view_search search = { &a, svc->db != NULL, results, serr.msg, canvases };
	if (coll)
		view_collection(&pg, doc, pres_path, &search);
	else
		view_manifest(&pg, doc, pres_path, &search);
	page_respond(&pg, resp, 200);
out:
	g_hash_table_destroy(canvases);
	json_decref(results);
	json_decref(doc);
	web_args_release(&a);
	page_release(&pg);
}

static void web_not_found(const struct pres_service *svc, const struct http_request *req,
			  struct http_response *resp)
{
	struct page pg;
	page_init(&pg, config_live_now(), svc->fallback_host, req); /* reloadable */
	page_error(&pg, resp, 404, "There is no page at this address.");
	page_release(&pg);
}

bool web_service_handle(const struct pres_service *svc, const struct http_request *req,
			struct http_response *resp)
{
	const char *path = req->path, *rest;
	if (!svc->cfg->web)
		return false;
	if (web_strip(path, "/static/"))
		return assets_serve(path, req, resp) ? true : (web_not_found(svc, req, resp), true);
	if (strcmp(path, "/robots.txt") == 0)
		return sitemap_robots(svc, req, resp), true;
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
		return false;
	const char *accept = http_request_header(req, "Accept");
	bool page_for_json = (rest = web_strip(path, "/iiif/presentation/")) &&
			     svc->cfg->html_pages_on_json_urls && web_is_document(rest) &&
			     negotiate_prefers_html(accept) && !web_asks_json(req);
	bool root = strcmp(path, "/") == 0 && negotiate_prefers_html(accept);
	bool view = web_strip(path, "/view/") != NULL;
	bool sitemap = strcmp(path, "/sitemap.xml") == 0;
	if (!page_for_json && !root && !view && !sitemap)
		return false;
	if (req->on_event_loop) /* pages read folders and the database */
		return http_response_defer(resp), true;
	if (sitemap)
		sitemap_answer(svc, req, resp);
	else if (root)
		web_view(svc, "collection", req, resp);
	else if (page_for_json)
		web_view(svc, rest, req, resp);
	else if (web_is_document(path + 6))
		web_view(svc, path + 6, req, resp);
	else
		web_not_found(svc, req, resp);
	return true;
}
