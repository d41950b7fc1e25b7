/*
 * manifest.c: walks a Presentation 3.0 document for the image services and media files iiifd
 * serves (their ids start with origin + "/iiif/3/" or "/iiif/media/") and describes the access
 * services of those that are protected (manifest.h).
 */
#include "auth/manifest.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "auth/describe.h"
#include "auth/gate.h"
#include "core/strings.h"

#define MANIFEST_MAX_DEPTH 64

struct manifest_walk {
	struct auth_state *auth;
	const char *origin;
	char image_prefix[1000], media_prefix[1000];
	bool added;
};

/* NULL when open; else the held policy of kind r for rel (a path below the root). */
static struct auth_policy *manifest_policy(struct manifest_walk *w, const char *rel,
					   enum auth_resource r)
{
	char abs[PATH_MAX];
	snprintf(abs, sizeof abs, "%s/%s", auth_state_root(w->auth), rel);
	struct auth_policy *p = auth_policy_kind(auth_policy_for(w->auth, abs), r);
	if (p && auth_policy_is_open(p, time(NULL))) {
		auth_policy_put(p);
		return NULL;
	}
	return p;
}

static void manifest_append(json_t *obj, json_t *services)
{
	json_t *list = json_object_get(obj, "service");
	if (!json_is_array(list)) {
		list = json_array();
		json_object_set_new(obj, "service", list);
	}
	json_array_extend(list, services);
	json_decref(services);
}

/* An ImageService3 of ours: the probe and 1.0 services inside it. */
static void manifest_image_service(struct manifest_walk *w, json_t *svc)
{
	const char *id = json_string_value(json_object_get(svc, "id"));
	const char *type = json_string_value(json_object_get(svc, "type"));
	size_t n = strlen(w->image_prefix);
	char ident[PATH_MAX], probe[PATH_MAX + 1100];
	if (!id || !type || strcmp(type, "ImageService3") != 0 || strncmp(id, w->image_prefix, n) ||
	    strings_url_decode(id + n, strlen(id + n), ident, sizeof ident) <= 0)
		return;
	char *semi = strrchr(ident, ';'); /* pages and stills: the file's folder decides */
	char rel[PATH_MAX];
	snprintf(rel, sizeof rel, "%.*s", semi ? (int)(semi - ident) : (int)strlen(ident), ident);
	struct auth_policy *p = manifest_policy(w, rel, semi && (strcmp(semi, ";poster") == 0 ||
							       strcmp(semi, ";waveform") == 0)
							      ? AUTH_RES_MEDIA : AUTH_RES_IMAGE);
	if (!p)
		return;
	snprintf(probe, sizeof probe, "%s/auth/2/probe/%s", w->origin, id + n);
	manifest_append(svc, auth_gate_services(p, w->origin, probe));
	auth_policy_put(p);
	w->added = true;
}

/* A Sound or Video (any resource) at /iiif/media/: its probe on itself. */
static void manifest_media(struct manifest_walk *w, json_t *res)
{
	const char *id = json_string_value(json_object_get(res, "id"));
	size_t n = strlen(w->media_prefix);
	char rel[PATH_MAX], probe[PATH_MAX + 1100];
	if (!id || strncmp(id, w->media_prefix, n) != 0 ||
	    strings_url_decode(id + n, strlen(id + n), rel, sizeof rel) <= 0)
		return;
	struct auth_policy *p = manifest_policy(w, rel, AUTH_RES_MEDIA);
	if (!p)
		return;
	snprintf(probe, sizeof probe, "%s/auth/2/probe/media/%s", w->origin, id + n);
	manifest_append(res, auth_gate_services(p, w->origin, probe));
	auth_policy_put(p);
	w->added = true;
}

static void manifest_walk(struct manifest_walk *w, json_t *node, int depth)
{
	if (depth > MANIFEST_MAX_DEPTH)
		return;
	if (json_is_array(node)) {
		size_t i;
		json_t *v;
		json_array_foreach(node, i, v)
			manifest_walk(w, v, depth + 1);
		return;
	}
	if (!json_is_object(node))
		return;
	manifest_image_service(w, node);
	manifest_media(w, node);
	const char *key;
	json_t *v;
	json_object_foreach(node, key, v)
		manifest_walk(w, v, depth + 1);
}

void auth_manifest_describe(struct auth_state *a, const char *origin, json_t *doc)
{
	if (!a || !doc)
		return;
	struct manifest_walk w = { .auth = a, .origin = origin };
	snprintf(w.image_prefix, sizeof w.image_prefix, "%s/iiif/3/", origin);
	snprintf(w.media_prefix, sizeof w.media_prefix, "%s/iiif/media/", origin);
	manifest_walk(&w, doc, 0);
	if (!w.added)
		return;
	json_t *ctx = json_object_get(doc, "@context");
	json_t *list = json_pack("[s]", AUTH2_CONTEXT);
	if (json_is_array(ctx))
		json_array_extend(list, ctx);
	else if (ctx)
		json_array_append(list, ctx);
	json_object_set_new(doc, "@context", list);
}
