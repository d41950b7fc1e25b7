/*
 * document.c: a Presentation 3 Collection or Manifest built for the request's origin, or turned
 * into 2.1 (dropping from 2.1 Collections the Manifests that show no image, which 2.1 viewers
 * cannot open), and the answer that carries it.
 */
#include "presentation/document.h"

#include <stdlib.h>
#include <string.h>

#include "auth/manifest.h"
#include "core/config_live.h"
#include "core/strings.h"
#include "presentation/context.h"
#include "presentation/manifest.h"
#include "presentation/service.h"
#include "presentation/tree.h"
#include "presentation/v2.h"

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

json_t *pres_document_build(const struct pres_service *svc, const char *origin, int version,
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
	struct pres_v2_ctx v = { .root_real = svc->root_real, .prefix = from };
	json_t *v2 = pres_v2_from_v3(doc, from, to, pres_v2_has_images, &v, err);
	json_decref(doc);
	g_free(from);
	g_free(to);
	return v2;
}

void pres_document_respond(int version, json_t *doc, const struct http_request *req,
			   struct http_response *resp)
{
	char profile[64];
	snprintf(profile, sizeof profile, "http://iiif.io/api/presentation/%d/context.json", version);
	const char *cache_control = config_live_now()->presentation_cache_control;
	/* Presentation 3 recommends JSON-LD with its profile; 2.1 says application/json */
	http_response_json(resp, req, doc, profile, version == 3, cache_control, true);
}
