/*
 * service.c: resolves a Presentation URL to a folder or file, builds the document, and answers
 * with the whole document or the sub-resource (Canvas, AnnotationPage, Range...) whose id is the
 * URL, so that every id iiifd writes can be dereferenced.
 */
#include "presentation/service.h"

#include <glib.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "core/path.h"
#include "core/strings.h"
#include "http/files.h"
#include "media/probe.h"
#include "presentation/manifest.h"
#include "presentation/tree.h"
#include "presentation/v2.h"

#define PRES_CONTEXT "http://iiif.io/api/presentation/3/context.json"

int pres_service_init(struct pres_service *svc, const struct iiifd_config *cfg,
		      const char *root_real, struct image_source_cache *sources,
		      const struct image_limits *limits, struct iiifd_error *err)
{
	memset(svc, 0, sizeof *svc);
	svc->cfg = cfg;
	svc->root_real = root_real;
	svc->sources = sources;
	svc->limits = *limits;
	snprintf(svc->fallback_host, sizeof svc->fallback_host, "%s:%d", cfg->host, cfg->port);
	svc->media = media_probe_cache_new((size_t)cfg->source_cache_entries);
	return svc->media ? 0 : iiifd_error_set(err, 500, "out of memory");
}

void pres_service_release(struct pres_service *svc)
{
	media_probe_cache_free(svc->media);
	svc->media = NULL;
}

/* Splits and percent-decodes a raw path; NULL when a segment is malformed. g_strfreev it. */
static gchar **pres_segments(const char *path)
{
	gchar **segs = g_strsplit(path, "/", -1);
	for (int i = 0; segs[i]; i++) {
		char decoded[1024];
		if (strings_url_decode(segs[i], strlen(segs[i]), decoded, sizeof decoded) < 0) {
			g_strfreev(segs);
			return NULL;
		}
		g_free(segs[i]);
		segs[i] = g_strdup(decoded);
	}
	return segs;
}

struct pres_target {
	char *rel;      /* g_malloc'd path below the root */
	bool is_folder;
	bool collection; /* asked for /collection rather than /manifest */
	gchar **tail;   /* borrowed from the segments: what follows the keyword */
};

/* Does segs[0..i) name something that can be the requested kind of document? */
static bool pres_target_at(const struct pres_service *svc, gchar **segs, int i,
			   struct pres_target *t)
{
	bool collection = strcmp(segs[i], "collection") == 0;
	if (!collection && strcmp(segs[i], "manifest") != 0)
		return false;
	char *abs = NULL;
	gchar *saved = segs[i];
	segs[i] = NULL; /* join only the segments before the keyword */
	char *rel = g_strjoinv("/", segs);
	segs[i] = saved;
	bool ok = path_resolve_folder(svc->root_real, rel, &abs, NULL) == 0;
	bool folder = ok;
	if (!ok && !collection && path_resolve(svc->root_real, rel, NULL, &abs, NULL) == 0) {
		enum tree_kind k = tree_classify(rel);
		ok = k == TREE_IMAGE || k == TREE_MEDIA;
	}
	free(abs);
	if (!ok || (collection && !folder)) {
		g_free(rel);
		return false;
	}
	t->rel = rel;
	t->is_folder = folder;
	t->collection = collection;
	t->tail = segs + i + 1;
	return true;
}

static int pres_find_target(const struct pres_service *svc, gchar **segs, struct pres_target *t,
			    struct iiifd_error *err)
{
	for (int i = 0; segs[i]; i++)
		if (pres_target_at(svc, segs, i, t))
			return 0;
	return iiifd_error_set(err, 404, "no Collection or Manifest at this URL");
}

/* Depth-first search for the object whose id (3.0) or @id (2.1) is id. Borrowed. */
static json_t *pres_find_id(json_t *node, const char *key, const char *id)
{
	if (json_is_object(node)) {
		const char *k;
		json_t *v;
		json_t *own = json_object_get(node, key);
		if (own && json_is_string(own) && strcmp(json_string_value(own), id) == 0)
			return node;
		json_object_foreach(node, k, v) {
			json_t *found = pres_find_id(v, key, id);
			if (found)
				return found;
		}
	} else if (json_is_array(node)) {
		size_t i;
		json_t *v;
		json_array_foreach(node, i, v) {
			json_t *found = pres_find_id(v, key, id);
			if (found)
				return found;
		}
	}
	return NULL;
}

/* The document or, for a URL below it, the embedded resource with that id (with @context). */
static json_t *pres_select(json_t *doc, int version, gchar **tail, struct iiifd_error *err)
{
	if (!tail[0])
		return json_incref(doc);
	const char *key = version == 3 ? "id" : "@id";
	char *rest = g_strjoinv("/", tail);
	char *id = g_strdup_printf("%s/%s", json_string_value(json_object_get(doc, key)), rest);
	json_t *found = pres_find_id(doc, key, id);
	json_t *out = NULL;
	if (found && json_object_size(found) > 2) {
		out = json_deep_copy(found);
		json_object_set(out, "@context", json_object_get(doc, "@context"));
	} else {
		iiifd_error_set(err, 404, "no resource '%s' in this document", rest);
	}
	g_free(rest);
	g_free(id);
	return out;
}

static json_t *pres_build(const struct pres_service *svc, const char *origin, int version,
			  const struct pres_target *t, struct iiifd_error *err)
{
	struct pres_context c = { svc->root_real, origin, svc->sources, svc->media, svc->limits };
	json_t *doc = t->collection ? pres_collection_build(&c, t->rel, err)
				    : pres_manifest_build(&c, t->rel, t->is_folder, err);
	if (!doc || version == 3)
		return doc;
	char *from = g_strdup_printf("%s/iiif/presentation/", origin);
	char *to = g_strdup_printf("%s/iiif/presentation-v2/", origin);
	json_t *v2 = pres_v2_from_v3(doc, from, to);
	json_decref(doc);
	g_free(from);
	g_free(to);
	return v2;
}

/* FNV-1a of the body: the document is the only thing its validator needs to cover. */
static void pres_etag(const char *body, char *out, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	for (const unsigned char *p = (const unsigned char *)body; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	snprintf(out, n, "\"%016" PRIx64 "\"", h);
}

static void pres_respond(const struct pres_service *svc, int version, json_t *doc,
			 const struct http_request *req, struct http_response *resp)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(10)), etag[40];
	const char *accept = http_request_header(req, "Accept");
	if (accept && strstr(accept, "application/ld+json"))
		http_response_header(resp, "Content-Type",
				     "application/ld+json;profile=\"http://iiif.io/api/presentation/%d/context.json\"",
				     version);
	else
		http_response_header(resp, "Content-Type", "application/json");
	http_response_header(resp, "Vary", "Accept");
	pres_etag(text ? text : "", etag, sizeof etag);
	if (!http_response_validators(resp, req, etag, 0, svc->cfg->presentation_cache_control) &&
	    text) {
		http_response_body(resp, text, strlen(text), free);
		resp->compressible = true;
		return;
	}
	free(text);
}

void pres_service_handle(const struct pres_service *svc, int version, const char *path,
			 const struct http_request *req, struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	struct pres_target t = { 0 };
	char origin[900];
	json_t *doc = NULL, *selected = NULL;
	gchar **segs = pres_segments(path);
	http_request_base_url(req, svc->cfg->public_url, svc->cfg->trust_forwarded,
			      svc->fallback_host, origin, sizeof origin);
	if (!segs)
		iiifd_error_set(&err, 400, "malformed %%-escape in the URL");
	else if (strcmp(path, "collection") == 0)
		t = (struct pres_target){ g_strdup(""), true, true, segs + 1 };
	else
		pres_find_target(svc, segs, &t, &err);
	if (t.rel && (doc = pres_build(svc, origin, version, &t, &err)))
		selected = pres_select(doc, version, t.tail, &err);
	if (selected)
		pres_respond(svc, version, selected, req, resp);
	else
		http_response_error(resp, &err);
	json_decref(selected);
	json_decref(doc);
	g_free(t.rel);
	g_strfreev(segs);
}

void pres_media_handle(const struct pres_service *svc, const char *path,
		       const struct http_request *req, struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	gchar **segs = pres_segments(path);
	char *rel = segs ? g_strjoinv("/", segs) : NULL, *abs = NULL;
	const char *mime = rel ? media_mime_for_path(rel) : NULL;
	if (mime && path_resolve(svc->root_real, rel, NULL, &abs, &err) == 0)
		http_files_serve(req, abs, mime, svc->cfg->cache_control, resp);
	else
		http_response_error(resp, mime ? &err
					       : &(struct iiifd_error){ 404, "no media file here" });
	free(abs);
	g_free(rel);
	g_strfreev(segs);
}
