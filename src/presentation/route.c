/*
 * route.c: answers a Presentation URL: resolves it to a folder or file, applies the access gate
 * to what lies below a protected document, hands annotation and search endpoints on, and
 * otherwise builds the document and answers with it or with the sub-resource (Canvas,
 * AnnotationPage, Range...) whose id is the URL, so that every id iiifd writes can be
 * dereferenced.
 */
#include "presentation/service.h"

#include <limits.h>
#include <string.h>

#include "annotation/search.h"
#include "auth/gate.h"
#include "core/metrics.h"
#include "presentation/annotation_routes.h"
#include "presentation/document.h"
#include "presentation/target.h"

/*
 * What lies below a protected Manifest or Collection (Canvases, annotation pages, searches,
 * autocomplete) is for those who may see it: 0 when open, 1 when protected and allowed (the
 * answer is then private), -1 with a 401 in err. The documents themselves stay readable: they
 * carry the services that lead to access.
 */
static int pres_gate(const struct pres_service *svc, const char *rel,
		     const struct http_request *req, struct iiifd_error *err)
{
	char abs[PATH_MAX];
	struct auth_gate g;
	snprintf(abs, sizeof abs, "%s%s%s", svc->root_real, *rel ? "/" : "", rel);
	auth_gate_open(svc->auth, abs, AUTH_RES_TEXT, req, &g);
	bool denied = g.policy && g.access != AUTH_FULL;
	if (denied)
		auth_gate_log_denial(svc->auth, &g, req, rel);
	bool protected = g.policy != NULL;
	auth_gate_release(&g);
	return denied ? iiifd_error_set(err, 401, "this material is access-controlled")
		      : protected;
}

/* Whether req is a read (GET or HEAD). */
static bool pres_is_read(const struct http_request *req)
{
	return strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0;
}

/* A protected answer is for this reader only, never for a shared cache. */
static void pres_make_private(struct http_response *resp)
{
	http_response_remove_header(resp, "Cache-Control");
	http_response_header(resp, "Cache-Control", AUTH_PRIVATE_CACHE);
}

/* The document of t, or the part of it the tail names; 405 for writes. */
static void pres_answer_document(const struct pres_service *svc, int version, const char *origin,
				 const struct pres_target *t, const struct http_request *req,
				 struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	json_t *doc = NULL, *selected = NULL;
	if (!pres_is_read(req))
		iiifd_error_set(&err, 405, "only GET and HEAD here");
	else if ((doc = pres_document_build(svc, origin, version, t, &err)))
		selected = pres_target_select(doc, version, t->tail, &err);
	if (selected)
		pres_document_respond(version, selected, req, resp);
	else
		http_response_error(resp, &err);
	json_decref(selected);
	json_decref(doc);
}

/* Below a resolved target: the gate, then annotation routes, then the document itself. */
static void pres_answer_target(const struct pres_service *svc, int version, const char *origin,
			       const struct pres_target *t, const struct http_request *req,
			       struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	/* only the Manifest document itself: its Canvases, pages and searches are asked for far
	 * more often, and the check stats every annotation file of the folder */
	if (svc->ingest && !t->collection && !t->tail[0])
		pres_auto_import(svc, t);
	int gate = t->tail[0] ? pres_gate(svc, t->rel, req, &err) : 0;
	bool routed = gate >= 0 && (version == 3
					    ? pres_annotation_routes(svc, origin, t, req, resp)
					    : pres_v2_annotation_routes(svc, origin, t, req, resp));
	if (gate < 0)
		http_response_error(resp, &err);
	else if (!routed)
		pres_answer_document(svc, version, origin, t, req, resp);
	if (gate > 0 && resp->status < 300)
		pres_make_private(resp);
}

void pres_service_handle(const struct pres_service *svc, int version, const char *path,
			 const struct http_request *req, struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	struct pres_target t;
	gchar **segs = NULL;
	char origin[900];
	resp->route = METRICS_ROUTE_PRESENTATION;
	pres_service_origin(svc, req, origin, sizeof origin);
	if (pres_target_resolve(svc, path, &segs, &t, &err) == 0)
		pres_answer_target(svc, version, origin, &t, req, resp);
	else
		http_response_error(resp, &err);
	pres_target_release(&t);
	g_strfreev(segs);
}

/* The target of a raw path naming a Collection or Manifest document itself (no tail). */
static int pres_document_target(const struct pres_service *svc, const char *path, gchar ***segs,
				struct pres_target *t, struct iiifd_error *err)
{
	if (pres_target_resolve(svc, path, segs, t, err) < 0)
		return -1;
	if (!t->tail[0])
		return 0;
	pres_target_release(t);
	return iiifd_error_set(err, 404, "no Collection or Manifest at this URL");
}

json_t *pres_service_document(const struct pres_service *svc, const char *path,
			      const struct http_request *req, bool *is_collection,
			      struct iiifd_error *err)
{
	struct pres_target t;
	gchar **segs = NULL;
	json_t *doc = NULL;
	char origin[900];
	pres_service_origin(svc, req, origin, sizeof origin);
	if (pres_document_target(svc, path, &segs, &t, err) == 0) {
		if (svc->ingest && !t.collection)
			pres_auto_import(svc, &t);
		*is_collection = t.collection;
		doc = pres_document_build(svc, origin, 3, &t, err);
	}
	pres_target_release(&t);
	g_strfreev(segs);
	return doc;
}

json_t *pres_service_search(const struct pres_service *svc, const char *path,
			    const struct http_request *req, struct iiifd_error *err)
{
	struct pres_target t = { 0 };
	gchar **segs = NULL;
	json_t *doc = NULL;
	char origin[900];
	pres_service_origin(svc, req, origin, sizeof origin);
	if (!svc->db)
		iiifd_error_set(err, 404, "search is off (annotations = false)");
	else if (pres_document_target(svc, path, &segs, &t, err) == 0 &&
		 pres_gate(svc, t.rel, req, err) >= 0) {
		struct pres_context c;
		pres_service_context(svc, origin, &c);
		char *service = pres_target_service_url(&c, &t, "search");
		doc = pres_annotation_search(svc, &c, SEARCH_V2, service, &t, req, err);
		g_free(service);
	}
	pres_target_release(&t);
	g_strfreev(segs);
	return doc;
}
