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
#include <sys/stat.h>

#include "annotation/api.h"
#include "annotation/ingest.h"
#include "annotation/page_cache.h"
#include "annotation/page_stream.h"
#include "annotation/search.h"
#include "auth/gate.h"
#include "auth/manifest.h"
#include "auth/scan.h"
#include "annotation/webanno.h"
#include "core/config_live.h"
#include "core/metrics.h"
#include "core/path.h"
#include "image/service.h"
#include "maps/serve.h"
#include "core/strings.h"
#include "http/files.h"
#include "image/admission.h"
#include "db/db.h"
#include "media/probe.h"
#include "presentation/canvas_index.h"
#include "presentation/manifest.h"
#include "presentation/tree.h"
#include "presentation/v2.h"
#include "presentation/v2_lists.h"
#include "storage/root.h"

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
	svc->indexes = pres_index_cache_new();
	if (!svc->media || !svc->indexes) {
		pres_service_release(svc);
		return iiifd_error_set(err, 500, "out of memory");
	}
	if (!cfg->annotations)
		return 0;
	char *path = db_location(cfg->database, cfg->data_dir, err);
	int rc = path ? db_open(path, &svc->db, err) : -1;
	svc->pages = page_cache_new(path ? path : "", 64u << 20);
	svc->db_path = path;
	svc->db_shared = rc == 0 && db_is_shared(svc->db);
	page_cache_use_store(svc->pages, svc->db);
	struct stat st;
	if (rc == 0 && !svc->db_shared && stat(path, &st) == 0) {
		svc->db_dev = (unsigned long long)st.st_dev;
		svc->db_ino = (unsigned long long)st.st_ino;
	}
	if (rc < 0) {
		pres_service_release(svc);
		return -1;
	}
	if (cfg->auto_import) {
		struct pres_context c = { .root_real = root_real, .base = "", .sources = sources,
					  .media = svc->media, .limits = *limits, .db = svc->db,
					  .words_listed = svc->cfg->canvas_words };
		svc->ingest = ingest_queue_new(svc->db, &c, cfg->auto_import_max_mb << 20,
					       ingest_workers(svc->db, cfg->import_workers,
							      cfg->database_pool));
	}
	return 0;
}

void pres_service_release(struct pres_service *svc)
{
	ingest_queue_free(svc->ingest); /* before the store it writes to */
	svc->ingest = NULL;
	if (svc->db)
		db_close(svc->db);
	svc->db = NULL;
	page_cache_free(svc->pages);
	svc->pages = NULL;
	g_free(svc->db_path);
	svc->db_path = NULL;
	media_probe_cache_free(svc->media);
	svc->media = NULL;
	pres_index_cache_free(svc->indexes);
	svc->indexes = NULL;
}

/* Whether the SQLite file is still the one opened (a shared store has no file to check). */
static bool pres_service_file_same(const struct pres_service *svc, char *reason, size_t n)
{
	struct stat st;
	if (svc->db_shared)
		return true;
	if (stat(svc->db_path, &st) < 0) {
		snprintf(reason, n, "the annotation database file is gone (deleted or moved); "
				    "restart iiifd");
		return false;
	}
	if ((unsigned long long)st.st_dev != svc->db_dev ||
	    (unsigned long long)st.st_ino != svc->db_ino) {
		snprintf(reason, n, "the annotation database file was replaced; restart iiifd");
		return false;
	}
	return true;
}

bool pres_service_ready(const struct pres_service *svc, char *reason, size_t n)
{
	struct iiifd_error err = { 0 };
	int64_t count;
	if (!svc->db)
		return true;
	if (!pres_service_file_same(svc, reason, n))
		return false;
	/* one indexed lookup of a Canvas no file can have (a shared store: it answers again) */
	if (db_count_target(svc->db, "\x01ready", 0, "ready", &count, &err) < 0) {
		snprintf(reason, n, "the annotation database does not answer: %s", err.msg);
		return false;
	}
	return true;
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

/*
 * Does segs[0..i) name something that can be the requested kind of document? A remote root
 * that fails to answer (anything but "no such file") sets failed, so the request says so
 * rather than 404.
 */
static bool pres_target_at(const struct pres_service *svc, gchar **segs, int i,
			   struct pres_target *t, struct iiifd_error *failed)
{
	bool collection = strcmp(segs[i], "collection") == 0;
	if (!collection && strcmp(segs[i], "manifest") != 0)
		return false;
	char *abs = NULL;
	gchar *saved = segs[i];
	segs[i] = NULL; /* join only the segments before the keyword */
	char *rel = g_strjoinv("/", segs);
	segs[i] = saved;
	struct iiifd_error why = { 0 };
	bool ok = pres_resolve(svc->root_real, rel, NULL, true, &abs, &why) == 0;
	bool folder = ok;
	if (!ok && !collection && pres_resolve(svc->root_real, rel, NULL, false, &abs, &why) == 0) {
		enum tree_kind k = tree_classify(rel);
		ok = k == TREE_IMAGE || k == TREE_MEDIA;
	}
	if (!ok && why.http_status && why.http_status != 404 && !failed->http_status)
		*failed = why;
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
	struct iiifd_error failed = { 0 };
	for (int i = 0; segs[i]; i++)
		if (pres_target_at(svc, segs, i, t, &failed))
			return 0;
	if (failed.http_status) /* the storage of a remote root did not answer */
		return iiifd_error_set(err, failed.http_status, "the storage: %s", failed.msg);
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
		out = webanno_with_context(found, json_incref(json_object_get(doc, "@context")));
	} else {
		iiifd_error_set(err, 404, "no resource '%s' in this document", rest);
	}
	g_free(rest);
	g_free(id);
	return out;
}

void pres_service_origin(const struct pres_service *svc, const struct http_request *req,
			 char *origin, size_t n)
{
	const struct iiifd_config *cfg = config_live_now(); /* public-url is reloadable */
	http_request_base_url(req, cfg->public_url, cfg->trust_forwarded, svc->fallback_host, origin,
			      n);
}

void pres_service_context(const struct pres_service *svc, const char *origin,
			  struct pres_context *c)
{
	*c = (struct pres_context){ .root_real = svc->root_real, .base = origin,
				    .sources = svc->sources, .media = svc->media, .db = svc->db,
				    .indexes = svc->indexes, .words_listed = svc->cfg->canvas_words,
				    .ingest = svc->ingest };
	image_service_limits(config_live_now(), &c->limits); /* reloadable */
}

/* What pres_v2_has_images() needs: where files are, and how Manifest URLs start. */
struct pres_v2_ctx {
	const char *root_real;
	const char *prefix; /* "{origin}/iiif/presentation/" */
};

/* A pres_v2_has_images_fn: a Manifest's file, or a file of its folder, is an image. */
static bool pres_v2_has_images(void *ctx, const char *manifest_id)
{
	const struct pres_v2_ctx *v = ctx;
	size_t pl = strlen(v->prefix), n = manifest_id ? strlen(manifest_id) : 0;
	static const char suffix[] = "/manifest";
	if (n < pl + sizeof suffix - 1 || strncmp(manifest_id, v->prefix, pl) != 0)
		return true; /* not ours: keep it */
	size_t enc = n - pl - (sizeof suffix - 1);
	char *rel = g_malloc(enc + 1), *abs = NULL;
	bool images = true;
	if (strings_url_decode(manifest_id + pl, enc, rel, enc + 1) < 0) {
		g_free(rel);
		return true;
	}
	if (pres_resolve(v->root_real, rel, NULL, true, &abs, NULL) == 0) {
		struct tree_listing l;
		images = false;
		if (tree_list(v->root_real, abs, &l, NULL) == 0) {
			for (size_t i = 0; i < l.count && !images; i++)
				images = l.entries[i].kind == TREE_IMAGE;
			tree_listing_release(&l);
		}
	} else {
		images = tree_classify(rel) == TREE_IMAGE;
	}
	free(abs);
	g_free(rel);
	return images;
}

/*
 * The root Collection names the Change Discovery stream in seeAlso (the spec leaves how a stream
 * is found open; docs/discovery.md): type OrderedCollection, so harvesters can tell it apart.
 */
static void pres_link_activity_stream(json_t *doc, const char *origin)
{
	char *id = g_strdup_printf("%s/iiif/discovery/activity/all-changes", origin);
	json_t *link = json_pack("{s:s, s:s, s:{s:[s]}, s:s, s:s}", "id", id, "type",
				 "OrderedCollection", "label", "en", "Change Discovery activity stream",
				 "format", "application/ld+json",
				 "profile", "http://iiif.io/api/discovery/1/context.json");
	json_t *see = json_object_get(doc, "seeAlso");
	if (!json_is_array(see))
		json_object_set_new(doc, "seeAlso", see = json_array());
	json_array_append_new(see, link);
	g_free(id);
}

static json_t *pres_build(const struct pres_service *svc, const char *origin, int version,
			  const struct pres_target *t, struct iiifd_error *err)
{
	struct pres_context c;
	pres_service_context(svc, origin, &c);
	json_t *doc = t->collection ? pres_collection_build(&c, t->rel, err)
				    : pres_manifest_build(&c, t->rel, t->is_folder, err);
	if (doc && t->collection && !*t->rel && svc->activity_stream)
		pres_link_activity_stream(doc, origin);
	auth_manifest_describe(svc->auth, origin, doc);
	if (!doc || version == 3)
		return doc;
	char *from = g_strdup_printf("%s/iiif/presentation/", origin);
	char *to = g_strdup_printf("%s/iiif/presentation-v2/", origin);
	struct pres_v2_ctx v = { svc->root_real, from };
	json_t *v2 = pres_v2_from_v3(doc, from, to, pres_v2_has_images, &v, err);
	json_decref(doc);
	g_free(from);
	g_free(to);
	return v2;
}

static void pres_respond(const struct pres_service *svc, int version, json_t *doc,
			 const struct http_request *req, struct http_response *resp)
{
	char profile[64];
	snprintf(profile, sizeof profile, "http://iiif.io/api/presentation/%d/context.json", version);
	const char *cache_control = config_live_now()->presentation_cache_control;
	/* Presentation 3 recommends JSON-LD with its profile; 2.1 says application/json */
	http_response_json(resp, req, doc, profile, version == 3, cache_control, true);
}

/* The folder a Manifest's files are in (g_free). */
static char *pres_target_folder(const struct pres_target *t)
{
	char *folder = t->is_folder ? g_strdup(t->rel) : g_path_get_dirname(t->rel);
	if (strcmp(folder, ".") == 0)
		folder[0] = '\0';
	return folder;
}

/*
 * Queues the annotation files of the folder a Manifest lives in for background import, and
 * waits (up to import-wait-ms) for them, so the first visitor already sees OCR and tags.
 * Returns whether the folder's imports are done.
 */
static bool pres_auto_import(const struct pres_service *svc, const struct pres_target *t)
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
	struct page_stream_request r = { &idx, c->base, strtoul(t->tail[1], NULL, 10),
					 t->tail[3], after, page_size };
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

/* A search under admission control: it waits for a render slot like a render does. */
static json_t *pres_search(const struct pres_service *svc, const struct pres_context *c,
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
 * Search 1.0 below a 2.1 Manifest or Collection (/iiif/presentation-v2/{path}/search1 and
 * autocomplete1): answered as the 3.0 one, its URLs rewritten to the 2.1 ones, so the hits name
 * the 2.1 Canvases a 2.1 viewer has. False when the tail is not such a service.
 */
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
		struct pres_v2_list_request r = { &idx, strtoul(t->tail[1], NULL, 10), t->tail[3],
						  list_id, manifest_v2, after,
						  config_live_now()->annotation_page_size };
		list = pres_v2_list(svc->db, &r, &err);
		pres_canvas_index_release(&idx);
	}
	if (list)
		http_response_json(resp, req, list, NULL, false, "no-cache", false);
	else
		http_response_error(resp, &err);
	json_decref(list);
	free(after);
	g_free(list_id);
	g_free(manifest_v2);
	g_free(from);
	g_free(v3);
}

static bool pres_v2_search(const struct pres_service *svc, const char *origin,
			   const struct pres_target *t, const struct http_request *req,
			   struct http_response *resp)
{
	gchar **tail = t->tail;
	int kind = tail[0] && !tail[1] ? search_kind_from_name(tail[0]) : -1;
	bool list = !t->collection && tail[0] && strcmp(tail[0], "canvas") == 0 && tail[1] &&
		    tail[2] && strcmp(tail[2], "annotations") == 0 && tail[3] && !tail[4];
	if (svc->db && list) {
		resp->route = METRICS_ROUTE_ANNOTATIONS;
		return pres_v2_list_answer(svc, origin, t, req, resp), true;
	}
	if (!svc->db || (kind != SEARCH_V1 && kind != AUTOCOMPLETE_V1))
		return false;
	resp->route = METRICS_ROUTE_SEARCH;
	struct iiifd_error err = { 0 };
	struct pres_context c;
	pres_service_context(svc, origin, &c);
	char *id = t->collection ? pres_url_collection(&c, t->rel) : pres_url_manifest(&c, t->rel);
	char *service = g_strdup_printf("%s/%s", id, tail[0]);
	json_t *doc = pres_search(svc, &c, kind, service, t, req, &err);
	if (doc) {
		char *from = g_strdup_printf("%s/iiif/presentation/", origin);
		char *to = g_strdup_printf("%s/iiif/presentation-v2/", origin);
		pres_v2_rewrite(doc, from, to, 0);
		http_response_json(resp, req, doc, NULL, false, "no-cache", false);
		g_free(from);
		g_free(to);
	} else {
		http_response_error(resp, &err);
	}
	json_decref(doc);
	g_free(service);
	g_free(id);
	return true;
}

/* The Manifest's annotation container; a listing needs the built Manifest (its georeferencing). */
static void pres_container(const struct pres_service *svc, const struct pres_context *c,
			   const struct pres_canvas_index *idx, const struct pres_target *t,
			   const struct http_request *req, struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	bool list = !t->tail[1] && (strcmp(req->method, "GET") == 0 ||
				    strcmp(req->method, "HEAD") == 0);
	json_t *doc = list ? pres_manifest_build(c, t->rel, t->is_folder, &err) : NULL;
	if (list && !doc) {
		http_response_error(resp, &err);
		return;
	}
	anno_api_container(svc->db, &(struct anno_api_manifest){ .idx = idx, .rel = t->rel,
			   .doc = doc }, c->base, config_live_now()->api_token, t->tail[1], req,
			   resp);
	json_decref(doc);
}

/*
 * Annotation and search endpoints below a Manifest or Collection; returns false when the tail
 * is none of them (then it names a part of the document itself).
 */
static bool pres_annotation_routes(const struct pres_service *svc, const char *origin,
				   const struct pres_target *t, const struct http_request *req,
				   struct http_response *resp)
{
	gchar **tail = t->tail;
	int kind = tail[0] && !tail[1] ? search_kind_from_name(tail[0]) : -1;
	bool container = !t->collection && tail[0] && strcmp(tail[0], "annotations") == 0 &&
			 (!tail[1] || !tail[2]);
	bool page = !t->collection && tail[0] && strcmp(tail[0], "canvas") == 0 && tail[1] &&
		    tail[2] && strcmp(tail[2], "annotations") == 0 && tail[3] &&
		    strcmp(tail[3], MAPS_PAGE_NAME) != 0 && /* embedded in the Canvas */
		    (!tail[4] || (strcmp(tail[4], "collection") == 0 && !tail[5]));
	if (!svc->db || (kind < 0 && !container && !page))
		return false;
	resp->route = kind >= 0 ? METRICS_ROUTE_SEARCH : METRICS_ROUTE_ANNOTATIONS;
	struct iiifd_error err = { 0 };
	struct pres_context c;
	pres_service_context(svc, origin, &c);
	json_t *doc = NULL;
	if (page && !pres_page_imports_done(svc, t)) {
		iiifd_error_set(&err, 503, "the annotations of this Canvas are still being imported; "
					   "try again shortly");
		http_response_error(resp, &err); /* with Retry-After */
		/* never an incomplete page that a cache could keep */
		http_response_remove_header(resp, "Cache-Control");
		http_response_header(resp, "Cache-Control", "no-store");
		return true;
	}
	if (page)
		return pres_canvas_page(svc, &c, t, req, resp), true;
	if (kind >= 0) {
		char *id = t->collection ? pres_url_collection(&c, t->rel) : pres_url_manifest(&c, t->rel);
		char *service = g_strdup_printf("%s/%s", id, tail[0]);
		doc = pres_search(svc, &c, kind, service, t, req, &err);
		g_free(service);
		g_free(id);
	} else {
		struct pres_canvas_index idx;
		if (pres_canvas_index_build(&c, t->rel, t->is_folder, &idx, &err) == 0) {
			pres_container(svc, &c, &idx, t, req, resp);
			pres_canvas_index_release(&idx);
			return true;
		}
	}
	if (doc)
		http_response_json(resp, req, doc, NULL, false, "no-cache", false);
	else
		http_response_error(resp, &err);
	json_decref(doc);
	return true;
}

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

void pres_service_handle(const struct pres_service *svc, int version, const char *path,
			 const struct http_request *req, struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	struct pres_target t = { 0 };
	char origin[900];
	json_t *doc = NULL, *selected = NULL;
	gchar **segs = pres_segments(path);
	resp->route = METRICS_ROUTE_PRESENTATION;
	pres_service_origin(svc, req, origin, sizeof origin);
	if (!segs)
		iiifd_error_set(&err, 400, "malformed %%-escape in the URL");
	else if (strcmp(path, "collection") == 0)
		t = (struct pres_target){ g_strdup(""), true, true, segs + 1 };
	else
		pres_find_target(svc, segs, &t, &err);
	/* only the Manifest document itself: its Canvases, pages and searches are asked for far
	 * more often, and the check stats every annotation file of the folder */
	if (t.rel && svc->ingest && !t.collection && !t.tail[0])
		pres_auto_import(svc, &t);
	int gate = t.rel && t.tail[0] ? pres_gate(svc, t.rel, req, &err) : 0;
	if (gate < 0) {
		http_response_error(resp, &err);
		goto out;
	}
	if (t.rel && version == 3 && pres_annotation_routes(svc, origin, &t, req, resp))
		goto out;
	if (t.rel && version == 2 && pres_v2_search(svc, origin, &t, req, resp))
		goto out;
	if (t.rel && strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0)
		iiifd_error_set(&err, 405, "only GET and HEAD here");
	else if (t.rel && (doc = pres_build(svc, origin, version, &t, &err)))
		selected = pres_select(doc, version, t.tail, &err);
	if (selected)
		pres_respond(svc, version, selected, req, resp);
	else
		http_response_error(resp, &err);
out:
	if (gate > 0 && resp->status < 300) { /* for this reader only, never a shared cache */
		http_response_remove_header(resp, "Cache-Control");
		http_response_header(resp, "Cache-Control", AUTH_PRIVATE_CACHE);
	}
	json_decref(selected);
	json_decref(doc);
	g_free(t.rel);
	g_strfreev(segs);
}

/* The target of a raw path naming a Collection or Manifest document itself (no tail). */
static int pres_document_target(const struct pres_service *svc, const char *path, gchar ***segs,
				struct pres_target *t, struct iiifd_error *err)
{
	*segs = pres_segments(path);
	if (!*segs)
		return iiifd_error_set(err, 400, "malformed %%-escape in the URL");
	if (strcmp(path, "collection") == 0)
		*t = (struct pres_target){ g_strdup(""), true, true, *segs + 1 };
	else if (pres_find_target(svc, *segs, t, err) < 0)
		return -1;
	if (!t->tail[0])
		return 0;
	g_free(t->rel);
	t->rel = NULL;
	return iiifd_error_set(err, 404, "no Collection or Manifest at this URL");
}

json_t *pres_service_document(const struct pres_service *svc, const char *path,
			      const struct http_request *req, bool *is_collection,
			      struct iiifd_error *err)
{
	struct pres_target t = { 0 };
	gchar **segs = NULL;
	json_t *doc = NULL;
	char origin[900];
	pres_service_origin(svc, req, origin, sizeof origin);
	if (pres_document_target(svc, path, &segs, &t, err) == 0) {
		if (svc->ingest && !t.collection)
			pres_auto_import(svc, &t);
		*is_collection = t.collection;
		doc = pres_build(svc, origin, 3, &t, err);
	}
	g_free(t.rel);
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
		char *id = t.collection ? pres_url_collection(&c, t.rel) : pres_url_manifest(&c, t.rel);
		char *service = g_strdup_printf("%s/search", id);
		doc = pres_search(svc, &c, SEARCH_V2, service, &t, req, err);
		g_free(service);
		g_free(id);
	}
	g_free(t.rel);
	g_strfreev(segs);
	return doc;
}

void pres_media_probe(const struct pres_service *svc, const char *path,
		      const struct http_request *req, struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	gchar **segs = pres_segments(path);
	char *rel = segs ? g_strjoinv("/", segs) : NULL, *abs = NULL;
	if (rel && media_mime_for_path(rel) &&
	    pres_resolve(svc->root_real, rel, NULL, false, &abs, &err) == 0) {
		struct auth_gate g;
		auth_gate_open(svc->auth, abs, AUTH_RES_MEDIA, req, &g);
		auth_gate_probe(svc->auth, g.policy, req, NULL, NULL, NULL, resp);
		auth_gate_release(&g);
	} else {
		http_response_error(resp, rel ? &err : &(struct iiifd_error){ 404, "no media file here" });
	}
	free(abs);
	g_free(rel);
	g_strfreev(segs);
}

void pres_media_handle(const struct pres_service *svc, const char *path,
		       const struct http_request *req, struct http_response *resp)
{
	struct iiifd_error err = { 0 };
	gchar **segs = pres_segments(path);
	char *rel = segs ? g_strjoinv("/", segs) : NULL, *abs = NULL;
	const char *mime = rel ? media_mime_for_path(rel) : NULL;
	resp->route = METRICS_ROUTE_MEDIA;
	struct auth_gate g = { 0 };
	if (mime && pres_resolve(svc->root_real, rel, NULL, false, &abs, &err) == 0)
		auth_gate_open(svc->auth, abs, AUTH_RES_MEDIA, req, &g);
	if (abs && g.policy && g.access != AUTH_FULL) { /* every byte range of it too */
		auth_gate_log_denial(svc->auth, &g, req, rel);
		http_response_error(resp, &(struct iiifd_error){ 401, "this media file is "
								       "access-controlled" });
	} else if (abs) {
		const char *cc = g.policy ? AUTH_PRIVATE_CACHE : config_live_now()->cache_control;
		if (!storage_spec_is_remote(abs))
			http_files_serve(req, abs, mime, cc, resp);
		else /* an object of a remote root: ranged GETs, never the whole object */
			http_files_serve_remote(req, abs, mime, cc, resp);
	}
	else
		http_response_error(resp, mime ? &err
					       : &(struct iiifd_error){ 404, "no media file here" });
	auth_gate_release(&g);
	free(abs);
	g_free(rel);
	g_strfreev(segs);
}
