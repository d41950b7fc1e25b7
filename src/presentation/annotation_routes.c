/*
 * annotation_routes.c: the endpoints below a Collection or Manifest that read the annotation
 * store: Canvas AnnotationPages (kept in the page cache while the store is unchanged), the
 * annotation container, searches under admission control, and their 2.1 forms.
 */
#include "presentation/annotation_routes.h"

#include <stdlib.h>
#include <string.h>

#include "annotation/api.h"
#include "annotation/ingest.h"
#include "annotation/page_cache.h"
#include "annotation/page_stream.h"
#include "annotation/search.h"
#include "auth/scan.h"
#include "core/config_live.h"
#include "core/metrics.h"
#include "image/admission.h"
#include "maps/serve.h"
#include "presentation/canvas_index.h"
#include "presentation/manifest.h"
#include "presentation/service.h"
#include "presentation/tree.h"
#include "presentation/v2.h"
#include "presentation/v2_lists.h"

/* Does the tail name a Canvas's annotations, canvas/{N}/annotations/{name}[/...]? */
static bool pres_tail_is_canvas_page(const struct pres_target *t)
{
	gchar **tail = t->tail;
	return !t->collection && tail[0] && strcmp(tail[0], "canvas") == 0 && tail[1] && tail[2] &&
	       strcmp(tail[2], "annotations") == 0 && tail[3];
}

/* Answers with doc (a search or list: "no-cache", the store changes) or with err. */
static void pres_answer_json(json_t *doc, const struct iiifd_error *err,
			     const struct http_request *req, struct http_response *resp)
{
	if (doc)
		http_response_json(resp, req, doc, NULL, false, "no-cache", false);
	else
		http_response_error(resp, err);
}

bool pres_auto_import(const struct pres_service *svc, const struct pres_target *t)
{
	struct tree_listing l;
	char *folder = pres_target_folder(t);
	char *abs = g_build_filename(svc->root_real, folder, NULL);
	if (svc->ingest && tree_list(svc->root_real, abs, &l, NULL) == 0) {
		ingest_queue_folder(svc->ingest, folder, l.companions, l.companion_count);
		tree_listing_release(&l);
	}
	bool done = ingest_queue_wait(svc->ingest, folder, config_live_now()->import_wait_ms);
	g_free(abs);
	g_free(folder);
	return done;
}

/*
 * Before a Canvas page is read: its folder's annotation files must be imported. Checks them
 * once (a viewer asks for the Manifest first, which queued them) and waits for what is queued;
 * false when they are still importing after import-wait-ms.
 */
static bool pres_page_imports_done(const struct pres_service *svc, const struct pres_target *t)
{
	char *folder = pres_target_folder(t);
	bool done = svc->ingest && !ingest_queue_seen(svc->ingest, folder)
			    ? pres_auto_import(svc, t)
			    : ingest_queue_wait(svc->ingest, folder, config_live_now()->import_wait_ms);
	g_free(folder);
	return done;
}

/*
 * A Canvas AnnotationPage ({manifest}/canvas/N/annotations/{motivation}[?after=...]), or the
 * AnnotationCollection of its pages ({page}/collection). Pages that
 * fit one chunk are kept in memory while the annotation database is unchanged; longer ones are
 * streamed from the store (annotation/page_stream.c).
 */
static void pres_canvas_page(const struct pres_service *svc, const struct pres_context *c,
			     const struct pres_target *t, const struct http_request *req,
			     struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	char *after = NULL, *stamp = NULL, *key = NULL, *text = NULL;
	if (http_request_arg_checked(req, "after", &after, &err) < 0)
		goto out;
	int page_size = config_live_now()->annotation_page_size;
	/* the page size is in the key: a reload may change it */
	key = g_strdup_printf("%s%s?after=%s|%d", c->base, req->path, after ? after : "", page_size);
	if ((text = page_cache_get(svc->pages, key, &stamp))) { /* stamp: state before reading */
		http_response_json_text(resp, req, text, NULL, false, "no-cache");
		goto out;
	}
	struct pres_canvas_index idx;
	if (pres_canvas_index_build(c, t->rel, t->is_folder, &idx, &err) < 0)
		goto out;
	struct page_stream_request r = { .idx = &idx, .origin = c->base,
					 .canvas = strtoul(t->tail[1], NULL, 10),
					 .motivation = t->tail[3], .after = after,
					 .page_size = page_size };
	bool streamed = false;
	json_t *doc = t->tail[4] ? page_stream_collection(svc->db, &r, &err)
				 : page_stream_answer(svc->db, &r, resp, &streamed, &err);
	pres_canvas_index_release(&idx);
	if (doc) {
		text = json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10));
		if (text && stamp)
			page_cache_put(svc->pages, key, text, stamp);
		http_response_json_text(resp, req, text, NULL, false, "no-cache");
		json_decref(doc);
	}
out:
	if (err.http_status)
		http_response_error(resp, &err);
	free(after);
	g_free(key);
	g_free(stamp);
}

/* Under admission control: a search waits for a render slot like a render does. */
json_t *pres_annotation_search(const struct pres_service *svc, const struct pres_context *c,
			       int kind, const char *service, const struct pres_target *t,
			       const struct http_request *req, struct iiifd_error *err)
{
	int wait_ms = config_live_now()->queue_wait_ms;
	if (svc->admission && admission_enter(svc->admission, false, 0, wait_ms, req->client, err) < 0)
		return NULL;
	char **exclude = auth_scan_denied_below(svc->auth, t->rel, req);
	json_t *doc = search_handle(svc->db, svc->pages, c, kind, service, t->rel, t->collection,
				    (const char *const *)exclude, req, err);
	g_strfreev(exclude);
	if (svc->admission)
		admission_leave(svc->admission, false, 0, req->client);
	return doc;
}

/*
 * A 2.1 Canvas's otherContent ({2.1 manifest}/canvas/N/annotations/{page}[?after=]): its stored
 * annotations as an sc:AnnotationList, after the folder's imports as the 3.0 pages are.
 */
static void pres_v2_list_answer(const struct pres_service *svc, const char *origin,
				const struct pres_target *t, const struct http_request *req,
				struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	struct pres_context c;
	struct pres_canvas_index idx;
	json_t *list = NULL;
	char *after = NULL;
	pres_service_context(svc, origin, &c);
	char *v3 = pres_url_manifest(&c, t->rel);
	char *from = g_strdup_printf("%s/iiif/presentation/", origin);
	char *manifest_v2 = g_strdup_printf("%s/iiif/presentation-v2/%s", origin, v3 + strlen(from));
	char *list_id = g_strdup_printf("%s/canvas/%s/annotations/%s", manifest_v2, t->tail[1],
					t->tail[3]);
	if (!pres_page_imports_done(svc, t))
		iiifd_error_set(&err, 503, "the annotations of this Canvas are still being imported");
	else if (http_request_arg_checked(req, "after", &after, &err) == 0 &&
		 pres_canvas_index_build(&c, t->rel, t->is_folder, &idx, &err) == 0) {
		struct pres_v2_list_request r = {
			.idx = &idx, .canvas = strtoul(t->tail[1], NULL, 10), .name = t->tail[3],
			.list_id = list_id, .manifest_v2 = manifest_v2, .after = after,
			.page_size = config_live_now()->annotation_page_size };
		list = pres_v2_list(svc->db, &r, &err);
		pres_canvas_index_release(&idx);
	}
	pres_answer_json(list, &err, req, resp);
	json_decref(list);
	free(after);
	g_free(list_id);
	g_free(manifest_v2);
	g_free(from);
	g_free(v3);
}

/*
 * Search 1.0 and autocomplete below a 2.1 Manifest or Collection ({2.1 document}/search1,
 * autocomplete1): answered as the 3.0 one, its URLs rewritten to the 2.1 ones, so the hits name
 * the 2.1 Canvases a 2.1 viewer has.
 */
static void pres_v2_search(const struct pres_service *svc, const char *origin, int kind,
			   const struct pres_target *t, const struct http_request *req,
			   struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	struct pres_context c;
	pres_service_context(svc, origin, &c);
	char *service = pres_target_service_url(&c, t, t->tail[0]);
	json_t *doc = pres_annotation_search(svc, &c, kind, service, t, req, &err);
	if (doc) {
		char *from = g_strdup_printf("%s/iiif/presentation/", origin);
		char *to = g_strdup_printf("%s/iiif/presentation-v2/", origin);
		pres_v2_rewrite(doc, from, to, 0);
		g_free(from);
		g_free(to);
	}
	pres_answer_json(doc, &err, req, resp);
	json_decref(doc);
	g_free(service);
}

bool pres_v2_annotation_routes(const struct pres_service *svc, const char *origin,
			       const struct pres_target *t, const struct http_request *req,
			       struct http_response *resp)
{
	gchar **tail = t->tail;
	int kind = tail[0] && !tail[1] ? search_kind_from_name(tail[0]) : -1;
	if (!svc->db)
		return false;
	if (pres_tail_is_canvas_page(t) && !tail[4]) {
		resp->route = METRICS_ROUTE_ANNOTATIONS;
		pres_v2_list_answer(svc, origin, t, req, resp);
		return true;
	}
	if (kind != SEARCH_V1 && kind != AUTOCOMPLETE_V1)
		return false;
	resp->route = METRICS_ROUTE_SEARCH;
	pres_v2_search(svc, origin, kind, t, req, resp);
	return true;
}

/*
 * The Manifest's annotation container ({manifest}/annotations[/{id}]); a listing needs the
 * built Manifest (its georeferencing).
 */
static void pres_container(const struct pres_service *svc, const struct pres_context *c,
			   const struct pres_target *t, const struct http_request *req,
			   struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	struct pres_canvas_index idx;
	if (pres_canvas_index_build(c, t->rel, t->is_folder, &idx, &err) < 0) {
		http_response_error(resp, &err);
		return;
	}
	bool list = !t->tail[1] && (strcmp(req->method, "GET") == 0 ||
				    strcmp(req->method, "HEAD") == 0);
	json_t *doc = list ? pres_manifest_build(c, t->rel, t->is_folder, &err) : NULL;
	if (list && !doc)
		http_response_error(resp, &err);
	else
		anno_api_container(svc->db, &(struct anno_api_manifest){ .idx = &idx, .rel = t->rel,
				   .doc = doc }, c->base, config_live_now()->api_token, t->tail[1],
				   req, resp);
	pres_canvas_index_release(&idx);
	json_decref(doc);
}

/* 503 while a Canvas's annotation files are importing: never an incomplete page a cache keeps. */
static void pres_still_importing(struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	iiifd_error_set(&err, 503, "the annotations of this Canvas are still being imported; "
				   "try again shortly");
	http_response_error(resp, &err); /* with Retry-After */
	http_response_remove_header(resp, "Cache-Control");
	http_response_header(resp, "Cache-Control", "no-store");
}

bool pres_annotation_routes(const struct pres_service *svc, const char *origin,
			    const struct pres_target *t, const struct http_request *req,
			    struct http_response *resp)
{
	gchar **tail = t->tail;
	int kind = tail[0] && !tail[1] ? search_kind_from_name(tail[0]) : -1;
	bool container = !t->collection && tail[0] && strcmp(tail[0], "annotations") == 0 &&
			 (!tail[1] || !tail[2]);
	bool page = pres_tail_is_canvas_page(t) &&
		    strcmp(tail[3], MAPS_PAGE_NAME) != 0 && /* embedded in the Canvas */
		    (!tail[4] || (strcmp(tail[4], "collection") == 0 && !tail[5]));
	if (!svc->db || (kind < 0 && !container && !page))
		return false;
	resp->route = kind >= 0 ? METRICS_ROUTE_SEARCH : METRICS_ROUTE_ANNOTATIONS;
	struct pres_context c;
	pres_service_context(svc, origin, &c);
	if (page && !pres_page_imports_done(svc, t)) {
		pres_still_importing(resp);
	} else if (page) {
		pres_canvas_page(svc, &c, t, req, resp);
	} else if (container) {
		pres_container(svc, &c, t, req, resp);
	} else {
		struct iiifd_error err = { 0 };
		char *service = pres_target_service_url(&c, t, tail[0]);
		json_t *doc = pres_annotation_search(svc, &c, kind, service, t, req, &err);
		pres_answer_json(doc, &err, req, resp);
		json_decref(doc);
		g_free(service);
	}
	return true;
}
