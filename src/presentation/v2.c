/*
 * v2.c: maps 3.0 structures onto 2.1: language maps become plain strings, items become
 * sequences/canvases/images or collections/manifests, Ranges keep their Canvas lists.
 */
#include "presentation/v2.h"

#include <glib.h>
#include <stdbool.h>
#include <string.h>


struct v2_ids {
	const char *from, *to;
};

/* A 3.0 id as a 2.1 @id: the Presentation prefix swapped, other URLs unchanged. */
static json_t *v2_id(const struct v2_ids *ids, const char *id)
{
	size_t n = strlen(ids->from);
	if (id && strncmp(id, ids->from, n) == 0) {
		char *mapped = g_strconcat(ids->to, id + n, NULL);
		json_t *s = json_string(mapped);
		g_free(mapped);
		return s;
	}
	return json_string(id ? id : "");
}

static bool v2_type_is(const json_t *o, const char *type)
{
	const char *t = json_string_value(json_object_get(o, "type"));
	return t && strcmp(t, type) == 0;
}

/*
 * A language map as a 2.1 value: a plain string when it holds one text without a language,
 * else every text with its language ([{"@value", "@language"}]), so a 2.1 viewer can choose.
 */
static json_t *v2_value(const json_t *map)
{
	const char *key;
	json_t *values, *v, *out = json_array();
	size_t i;
	json_object_foreach((json_t *)map, key, values)
		json_array_foreach(values, i, v) {
			json_t *one = json_pack("{s:O}", "@value", v);
			if (strcmp(key, "none") != 0)
				json_object_set_new(one, "@language", json_string(key));
			json_array_append_new(out, one);
		}
	if (json_array_size(out) == 1 && !json_object_get(json_array_get(out, 0), "@language")) {
		json_t *plain = json_incref(json_object_get(json_array_get(out, 0), "@value"));
		json_decref(out);
		return plain;
	}
	if (json_array_size(out) == 0) {
		json_decref(out);
		return json_string("");
	}
	return out;
}

/* Linked resources ({id, label, format, profile}) as 2.1 objects with @id. */
static json_t *v2_links(const json_t *list)
{
	json_t *out = json_array(), *r, *v;
	size_t i;
	json_array_foreach(list, i, r) {
		json_t *o = json_pack("{s:O}", "@id", json_object_get(r, "id"));
		if ((v = json_object_get(r, "label")))
			json_object_set_new(o, "label", v2_value(v));
		if ((v = json_object_get(r, "format")))
			json_object_set(o, "format", v);
		if ((v = json_object_get(r, "profile")))
			json_object_set(o, "profile", v);
		json_array_append_new(out, o);
	}
	return out;
}

/* Links, logo and thumbnail: what a 2.1 viewer shows around the object. */
static void v2_copy_links(json_t *out, const json_t *v3)
{
	json_t *v;
	if ((v = json_object_get(v3, "homepage")))
		json_object_set_new(out, "related", v2_links(v));
	if ((v = json_object_get(v3, "seeAlso")))
		json_object_set_new(out, "seeAlso", v2_links(v));
	if ((v = json_object_get(v3, "rendering")))
		json_object_set_new(out, "rendering", v2_links(v));
	json_t *logo = json_array_get(
		json_object_get(json_array_get(json_object_get(v3, "provider"), 0), "logo"), 0);
	if (logo)
		json_object_set_new(out, "logo", json_pack("{s:O}", "@id", json_object_get(logo, "id")));
	json_t *thumb = json_array_get(json_object_get(v3, "thumbnail"), 0);
	if (thumb)
		json_object_set_new(out, "thumbnail",
				    json_pack("{s:O}", "@id", json_object_get(thumb, "id")));
}

/* 3.0 behaviors that 2.1 has as viewingHint. */
static const char *const v2_hints[] = { "individuals", "paged", "continuous", "multi-part",
					"non-paged", "facing-pages", NULL };

static void v2_copy_descriptive(json_t *out, const json_t *v3)
{
	json_t *v, *pair;
	size_t i;
	json_object_set_new(out, "label", v2_value(json_object_get(v3, "label")));
	if ((v = json_object_get(v3, "summary")))
		json_object_set_new(out, "description", v2_value(v));
	if ((v = json_object_get(v3, "metadata"))) {
		json_t *md = json_array();
		json_array_foreach(v, i, pair)
			json_array_append_new(md, json_pack("{s:o, s:o}", "label",
							    v2_value(json_object_get(pair, "label")),
							    "value",
							    v2_value(json_object_get(pair, "value"))));
		json_object_set_new(out, "metadata", md);
	}
	if ((v = json_object_get(v3, "requiredStatement")))
		json_object_set_new(out, "attribution", v2_value(json_object_get(v, "value")));
	if ((v = json_object_get(v3, "rights")))
		json_object_set(out, "license", v);
	if ((v = json_object_get(v3, "navDate")))
		json_object_set(out, "navDate", v);
	if ((v = json_object_get(v3, "viewingDirection")))
		json_object_set(out, "viewingDirection", v);
	v2_copy_links(out, v3);
	json_t *behavior;
	json_array_foreach(json_object_get(v3, "behavior"), i, behavior)
		for (const char *const *h = v2_hints; *h; h++)
			if (json_string_value(behavior) && !strcmp(json_string_value(behavior), *h))
				json_object_set(out, "viewingHint", behavior);
}

static json_t *v2_canvas(const struct v2_ids *ids, const json_t *canvas)
{
	json_t *anno = json_array_get(
		json_object_get(json_array_get(json_object_get(canvas, "items"), 0), "items"), 0);
	json_t *body = json_object_get(anno, "body");
	json_t *service = json_array_get(json_object_get(body, "service"), 1);
	const char *image_id = json_string_value(json_object_get(service, "@id"));
	if (!image_id || !v2_type_is(body, "Image"))
		return NULL; /* audio and video have no 2.1 form */
	json_t *cid = v2_id(ids, json_string_value(json_object_get(canvas, "id")));
	char *full = g_strdup_printf("%s/full/full/0/default.jpg", image_id);
	json_t *out = json_pack(
		"{s:O, s:s, s:o, s:O, s:O, s:[{s:o, s:s, s:s, s:o, s:{s:s, s:s, s:s, s:O, s:O, s:{s:s, s:s, s:s}}}]}",
		"@id", cid, "@type", "sc:Canvas", "label", v2_value(json_object_get(canvas, "label")),
		"width", json_object_get(canvas, "width"), "height",
		json_object_get(canvas, "height"), "images", "@id",
		v2_id(ids, json_string_value(json_object_get(anno, "id"))), "@type", "oa:Annotation",
		"motivation", "sc:painting", "on", cid, "resource", "@id", full, "@type",
		"dctypes:Image", "format", "image/jpeg", "width", json_object_get(body, "width"),
		"height", json_object_get(body, "height"), "service", "@context",
		"http://iiif.io/api/image/2/context.json", "@id", image_id, "profile",
		"http://iiif.io/api/image/2/level2.json");
	g_free(full);
	/* the store's pages (not the caption files of audio and video, nor the georeferencing,
	 * which 2.1 cannot show) */
	json_t *lists = json_array(), *page;
	size_t i;
	json_array_foreach(json_object_get(canvas, "annotations"), i, page) {
		const char *pid = json_string_value(json_object_get(page, "id"));
		if (pid && strstr(pid, "/annotations/") && !json_object_get(page, "items"))
			json_array_append_new(lists, json_pack("{s:o, s:s}", "@id", v2_id(ids, pid),
							       "@type", "sc:AnnotationList"));
	}
	if (json_array_size(lists))
		json_object_set_new(out, "otherContent", lists);
	else
		json_decref(lists);
	return out;
}

/* Whether a Range item (a Canvas id, maybe with a #t= or #xywh= fragment) is in kept. */
static bool v2_item_kept(const json_t *item, GHashTable *kept)
{
	const char *id = json_string_value(json_object_get(item, "id"));
	if (!id)
		return false;
	char *canvas = g_strndup(id, strcspn(id, "#"));
	bool found = g_hash_table_contains(kept, canvas);
	g_free(canvas);
	return found;
}

/*
 * Appends range as an sc:Range to out, then its nested Ranges, keeping only Canvases of the 2.1
 * Manifest (kept: 3.0 Canvas ids); a Range left with no Canvas and no Range is dropped, so no
 * 2.1 Range points at something the Manifest does not have. Returns whether range was kept.
 */
static bool v2_range(const struct v2_ids *ids, const json_t *range, GHashTable *kept, json_t *out)
{
	json_t *canvases = json_array(), *ranges = json_array(), *nested = json_array(), *item;
	size_t j;
	json_array_foreach(json_object_get(range, "items"), j, item) {
		const char *iid = json_string_value(json_object_get(item, "id"));
		if (v2_type_is(item, "Range") ? v2_range(ids, item, kept, nested)
					      : v2_item_kept(item, kept))
			json_array_append_new(v2_type_is(item, "Range") ? ranges : canvases,
					      v2_id(ids, iid));
	}
	bool keep = json_array_size(canvases) || json_array_size(ranges);
	if (keep)
		json_array_append_new(
			out, json_pack("{s:o, s:s, s:o, s:O, s:O}", "@id",
				       v2_id(ids, json_string_value(json_object_get(range, "id"))),
				       "@type", "sc:Range", "label",
				       v2_value(json_object_get(range, "label")), "canvases", canvases,
				       "ranges", ranges));
	json_array_extend(out, nested);
	json_decref(canvases);
	json_decref(ranges);
	json_decref(nested);
	return keep;
}

static json_t *v2_ranges(const struct v2_ids *ids, const json_t *structures, GHashTable *kept)
{
	json_t *out = json_array(), *range;
	size_t i;
	json_array_foreach(structures, i, range)
		if (v2_type_is(range, "Range"))
			v2_range(ids, range, kept, out);
	return out;
}

static json_t *v2_manifest(const struct v2_ids *ids, const json_t *v3, struct iiifd_error *err)
{
	const char *id = json_string_value(json_object_get(v3, "id"));
	json_t *out = json_pack("{s:s, s:o, s:s}", "@context",
				"http://iiif.io/api/presentation/2/context.json", "@id",
				v2_id(ids, id), "@type", "sc:Manifest");
	v2_copy_descriptive(out, v3);
	json_t *canvases = json_array(), *canvas;
	GHashTable *kept = g_hash_table_new(g_str_hash, g_str_equal); /* borrowed 3.0 Canvas ids */
	size_t i;
	json_array_foreach(json_object_get(v3, "items"), i, canvas) {
		json_t *c2 = v2_canvas(ids, canvas);
		if (c2) {
			json_array_append_new(canvases, c2);
			g_hash_table_add(kept,
					 (char *)json_string_value(json_object_get(canvas, "id")));
		}
	}
	if (json_array_size(canvases) == 0) {
		json_decref(canvases);
		json_decref(out);
		g_hash_table_destroy(kept);
		iiifd_error_set(err, 404, "this Manifest has only audio or video, which Presentation "
					  "2.1 cannot describe: use its Presentation 3 form at %s", id);
		return NULL;
	}
	char *seq = g_strdup_printf("%s/sequence/normal", id);
	json_object_set_new(out, "sequences",
			    json_pack("[{s:o, s:s, s:o}]", "@id", v2_id(ids, seq), "@type",
				      "sc:Sequence", "canvases", canvases));
	g_free(seq);
	json_t *service;
	json_array_foreach(json_object_get(v3, "service"), i, service) {
		const char *type = json_string_value(json_object_get(service, "@type"));
		if (!type || strcmp(type, "SearchService1") != 0)
			continue;
		/* 2.1 viewers read Search 1.0, answered at the 2.1 URLs with 2.1 Canvas ids */
		json_t *auto1 = json_object_get(service, "service");
		auto1 = json_is_array(auto1) ? json_array_get(auto1, 0) : auto1;
		json_t *s = json_pack("{s:s, s:o, s:s}", "@context",
				      "http://iiif.io/api/search/1/context.json", "@id",
				      v2_id(ids, json_string_value(json_object_get(service, "@id"))),
				      "profile", "http://iiif.io/api/search/1/search");
		if (auto1)
			json_object_set_new(s, "service", json_pack("{s:o, s:s}", "@id",
					v2_id(ids, json_string_value(json_object_get(auto1, "@id"))),
					"profile", "http://iiif.io/api/search/1/autocomplete"));
		json_object_set_new(out, "service", s);
	}
	json_t *structures = json_object_get(v3, "structures");
	json_t *ranges = structures ? v2_ranges(ids, structures, kept) : NULL;
	if (json_array_size(ranges))
		json_object_set_new(out, "structures", ranges);
	else
		json_decref(ranges);
	g_hash_table_destroy(kept);
	return out;
}

static json_t *v2_collection(const struct v2_ids *ids, const json_t *v3,
			     pres_v2_has_images_fn has_images, void *ctx)
{
	json_t *out = json_pack("{s:s, s:o, s:s}", "@context",
				"http://iiif.io/api/presentation/2/context.json", "@id",
				v2_id(ids, json_string_value(json_object_get(v3, "id"))), "@type",
				"sc:Collection");
	v2_copy_descriptive(out, v3);
	json_t *collections = json_array(), *manifests = json_array(), *member;
	size_t i;
	json_array_foreach(json_object_get(v3, "items"), i, member) {
		bool is_collection = v2_type_is(member, "Collection");
		if (!is_collection &&
		    !has_images(ctx, json_string_value(json_object_get(member, "id"))))
			continue; /* audio and video only: no 2.1 form */
		json_array_append_new(
			is_collection ? collections : manifests,
			json_pack("{s:o, s:s, s:o}", "@id",
				  v2_id(ids, json_string_value(json_object_get(member, "id"))),
				  "@type", is_collection ? "sc:Collection" : "sc:Manifest", "label",
				  v2_value(json_object_get(member, "label"))));
	}
	json_object_set_new(out, "collections", collections);
	json_object_set_new(out, "manifests", manifests);
	return out;
}

json_t *pres_v2_from_v3(const json_t *v3, const char *v3_prefix, const char *v2_prefix,
			pres_v2_has_images_fn has_images, void *ctx, struct iiifd_error *err)
{
	struct v2_ids ids = { v3_prefix, v2_prefix };
	return v2_type_is(v3, "Collection") ? v2_collection(&ids, v3, has_images, ctx)
					    : v2_manifest(&ids, v3, err);
}

/* One value: a string under v3_prefix is rewritten, an object or array is walked. */
static void v2_rewrite_value(json_t *v, const char *v3_prefix, const char *v2_prefix, int depth)
{
	const char *str = json_string_value(v);
	size_t n = strlen(v3_prefix);
	if (str && strncmp(str, v3_prefix, n) == 0) {
		char *mapped = g_strconcat(v2_prefix, str + n, NULL);
		json_string_set(v, mapped);
		g_free(mapped);
	} else if (!str) {
		pres_v2_rewrite(v, v3_prefix, v2_prefix, depth + 1);
	}
}

void pres_v2_rewrite(json_t *doc, const char *v3_prefix, const char *v2_prefix, int depth)
{
	const char *key;
	json_t *v;
	size_t i;
	if (depth > 32)
		return;
	if (json_is_object(doc))
		json_object_foreach(doc, key, v)
			v2_rewrite_value(v, v3_prefix, v2_prefix, depth);
	else if (json_is_array(doc))
		json_array_foreach(doc, i, v)
			v2_rewrite_value(v, v3_prefix, v2_prefix, depth);
}
