/*
 * webanno.c: record <-> Web Annotation. Targets are Canvas URLs with media fragments (#xywh=,
 * #t=), or SpecificResources with a FragmentSelector when clients send them that way.
 */
#include "annotation/webanno.h"

#include <stdbool.h>
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "annotation/polygon.h"
#include "core/strings.h"
#include "maps/serve.h"

const char webanno_context_document[] =
	"{\"@context\": {\"iiifd\": \"https://iiifd.org/ns/annotation#\", "
	"\"score\": {\"@id\": \"iiifd:score\", "
	"\"@type\": \"http://www.w3.org/2001/XMLSchema#double\"}}}\n";

/* Motivations of the Web Annotation model and the IIIF registry that the store accepts. */
const char *const webanno_motivations[] = {
	"assessing", "bookmarking", "classifying", "commenting",  "describing", "editing",
	"highlighting", "identifying", "linking",  "moderating", "questioning", "replying",
	"tagging",    "supplementing", "contextualizing", NULL,
};

char *webanno_target(const struct anno_record *r, const char *canvas_id)
{
	char a[32], b[32], c[32], d[32];
	if (r->has_xywh) {
		strings_number(r->x, a, sizeof a);
		strings_number(r->y, b, sizeof b);
		strings_number(r->w, c, sizeof c);
		strings_number(r->h, d, sizeof d);
		return g_strdup_printf("%s#xywh=%s,%s,%s,%s", canvas_id, a, b, c, d);
	}
	if (r->has_time) {
		strings_number(r->start, a, sizeof a);
		strings_number(r->end, b, sizeof b);
		return g_strdup_printf("%s#t=%s,%s", canvas_id, a, b);
	}
	return g_strdup(canvas_id);
}

json_t *webanno_context(const char *origin)
{
	char *ours = g_strdup_printf("%s%s", origin, WEBANNO_CONTEXT_PATH);
	json_t *ctx = json_pack("[s, s, s]", WEBANNO_TEXT_GRANULARITY_CONTEXT, ours,
				WEBANNO_PRESENTATION_CONTEXT);
	g_free(ours);
	return ctx;
}

/* Whether key is a property of doc or of anything in it (to a depth of 16). */
static bool webanno_uses(const json_t *doc, const char *key, int depth)
{
	const char *k;
	json_t *v;
	size_t i;
	if (depth > 16)
		return false;
	if (json_is_object(doc)) {
		if (json_object_get(doc, key))
			return true;
		json_object_foreach((json_t *)doc, k, v)
			if (webanno_uses(v, key, depth + 1))
				return true;
	} else if (json_is_array(doc)) {
		json_array_foreach(doc, i, v)
			if (webanno_uses(v, key, depth + 1))
				return true;
	}
	return false;
}

json_t *webanno_context_for(const json_t *doc, const char *origin, const char *main_context)
{
	json_t *ctx = json_array();
	if (webanno_uses(doc, "resourceCoords", 0)) /* a Georeference Annotation */
		json_array_append_new(ctx, json_string(MAPS_GEOREF_CONTEXT));
	if (webanno_uses(doc, "textGranularity", 0))
		json_array_append_new(ctx, json_string(WEBANNO_TEXT_GRANULARITY_CONTEXT));
	if (webanno_uses(doc, "score", 0))
		json_array_append_new(ctx, json_sprintf("%s%s", origin, WEBANNO_CONTEXT_PATH));
	if (json_array_size(ctx) == 0) {
		json_decref(ctx);
		return json_string(main_context);
	}
	json_array_append_new(ctx, json_string(main_context));
	return ctx;
}

json_t *webanno_with_context(const json_t *doc, json_t *context)
{
	json_t *out = json_object();
	json_object_set_new(out, "@context", context);
	const char *k;
	json_t *v;
	json_object_foreach((json_t *)doc, k, v)
		if (strcmp(k, "@context") != 0)
			json_object_set(out, k, v);
	return out;
}

char *webanno_motivation_v2(const char *motivation)
{
	if (!motivation || strcmp(motivation, "supplementing") == 0)
		return g_strdup("sc:painting");
	return g_strdup_printf("oa:%s", motivation);
}

/* A creator or generator: {id, type} for a URI, {type, name} for a plain name. */
static json_t *webanno_agent(const char *who, const char *type)
{
	if (g_str_has_prefix(who, "http://") || g_str_has_prefix(who, "https://"))
		return json_pack("{s:s, s:s}", "id", who, "type", type);
	return json_pack("{s:s, s:s}", "type", type, "name", who);
}

/*
 * An outlined region: a SpecificResource on the Canvas with two selectors for the same region,
 * the #xywh= box (for viewers without SVG) and the outline as an SvgSelector.
 */
static json_t *webanno_outline_target(const struct anno_record *r, const char *canvas_id,
				      const char *target)
{
	char *svg = polygon_svg(r->polygon);
	const char *hash = strchr(target, '#');
	json_t *t = json_pack(
		"{s:s, s:{s:s, s:s}, s:[{s:s, s:s, s:s}, {s:s, s:s}]}", "type", "SpecificResource",
		"source", "id", canvas_id, "type", "Canvas", "selector", "type", "FragmentSelector",
		"conformsTo", "http://www.w3.org/TR/media-frags/", "value", hash ? hash + 1 : "",
		"type", "SvgSelector", "value", svg);
	g_free(svg);
	return t;
}

json_t *webanno_to_json(const struct anno_record *r, const char *canvas_id, const char *id_base)
{
	char *id = g_strdup_printf("%s/%s", id_base, r->id ? r->id : "");
	char *target = webanno_target(r, canvas_id);
	json_t *a = json_pack("{s:s, s:s, s:s}", "id", id, "type", "Annotation", "motivation",
			      r->motivation ? r->motivation : "commenting");
	if (r->granularity)
		json_object_set_new(a, "textGranularity", json_string(r->granularity));
	json_t *body = json_pack("{s:s, s:s, s:s}", "type", "TextualBody", "value",
				 r->text ? r->text : "", "format", "text/plain");
	if (r->language)
		json_object_set_new(body, "language", json_string(r->language));
	if (r->motivation && strcmp(r->motivation, "tagging") == 0)
		json_object_set_new(body, "purpose", json_string("tagging"));
	json_object_set_new(a, "body", body);
	if (r->polygon && r->has_xywh)
		json_object_set_new(a, "target", webanno_outline_target(r, canvas_id, target));
	else
		json_object_set_new(a, "target", json_string(target));
	if (r->has_score)
		json_object_set_new(a, "score", json_real(r->score));
	if (r->creator)
		json_object_set_new(a, "creator", webanno_agent(r->creator, "Person"));
	if (r->generator)
		json_object_set_new(a, "generator", webanno_agent(r->generator, "Software"));
	if (r->created)
		json_object_set_new(a, "created", json_string(r->created));
	g_free(id);
	g_free(target);
	return a;
}

/* ---- parsing what clients send ---------------------------------------------------------- */

static bool webanno_known_motivation(const char *m)
{
	for (const char *const *k = webanno_motivations; *k; k++)
		if (strcmp(*k, m) == 0)
			return true;
	return false;
}

int webanno_canvas(const char *url, const struct pres_canvas_index *idx, size_t *n,
			  const char **fragment, struct iiifd_error *err)
{
	const char *hash = strchr(url, '#');
	size_t len = hash ? (size_t)(hash - url) : strlen(url);
	size_t prefix = strlen(idx->manifest_id);
	char *end;
	if (len <= prefix + 8 || strncmp(url, idx->manifest_id, prefix) != 0 ||
	    strncmp(url + prefix, "/canvas/", 8) != 0)
		return iiifd_error_set(err, 400, "target '%.*s' is not a Canvas of this Manifest",
				       (int)len, url);
	unsigned long v = strtoul(url + prefix + 8, &end, 10);
	if (end != url + len || v == 0 || v > idx->count)
		return iiifd_error_set(err, 400, "target '%.*s' is not a Canvas of this Manifest",
				       (int)len, url);
	*n = v;
	*fragment = hash ? hash + 1 : NULL;
	return 0;
}

/*
 * Reads exactly n comma-separated plain decimal numbers ("12", "3.5") after prefix, and nothing
 * else: no signs, exponents, "nan" or "inf" (which sscanf would take), no trailing text.
 */
static bool webanno_numbers(const char *s, const char *prefix, double *out, int n)
{
	size_t plen = strlen(prefix);
	if (strncmp(s, prefix, plen) != 0)
		return false;
	s += plen;
	for (int i = 0; i < n; i++) {
		const char *start = s;
		while (*s >= '0' && *s <= '9')
			s++;
		if (*s == '.' && s > start && s[1] >= '0' && s[1] <= '9')
			for (s++; *s >= '0' && *s <= '9'; s++)
				;
		if (s == start || s - start > 30)
			return false;
		char num[32];
		memcpy(num, start, (size_t)(s - start));
		num[s - start] = '\0';
		out[i] = strtod(num, NULL);
		if (!isfinite(out[i]) || *s != (i + 1 < n ? ',' : '\0'))
			return false;
		s++;
	}
	return true;
}

static int webanno_fragment(const char *frag, const struct pres_canvas_ref *ref,
			    struct anno_record *rec, struct iiifd_error *err)
{
	double v[4];
	if (!frag || !*frag)
		return 0;
	if (webanno_numbers(frag, "xywh=", v, 4) || webanno_numbers(frag, "xywh=pixel:", v, 4)) {
		rec->x = v[0], rec->y = v[1], rec->w = v[2], rec->h = v[3];
		rec->has_xywh = true;
		if (rec->w <= 0 || rec->h <= 0 || rec->x + rec->w > (double)ref->width ||
		    rec->y + rec->h > (double)ref->height)
			return iiifd_error_set(err, 400, "target region %s lies outside the %lldx%lld "
							 "Canvas", frag, (long long)ref->width,
					       (long long)ref->height);
		return 0;
	}
	if (webanno_numbers(frag, "t=", v, 2)) {
		rec->start = v[0], rec->end = v[1];
		rec->has_time = true;
		if (rec->end <= rec->start || rec->end > ref->duration + 1e-6)
			return iiifd_error_set(err, 400, "target time %s lies outside the %.3f s "
							 "Canvas", frag, ref->duration);
		return 0;
	}
	return iiifd_error_set(err, 400,
			       "target fragment '%s' is not xywh=x,y,w,h or t=start,end with plain "
			       "non-negative numbers", frag);
}

/* A target string, or a SpecificResource with source and a FragmentSelector. */
static int webanno_target_from_json(const json_t *t, const struct pres_canvas_index *idx,
				    struct anno_record *rec, struct iiifd_error *err)
{
	const char *url = json_string_value(t), *frag = NULL;
	const char *selector = NULL;
	if (json_is_object(t)) {
		json_t *src = json_object_get(t, "source");
		url = json_is_object(src) ? json_string_value(json_object_get(src, "id"))
					  : json_string_value(src);
		json_t *sel = json_object_get(t, "selector");
		if (json_is_array(sel))
			sel = json_array_get(sel, 0);
		selector = json_string_value(json_object_get(sel, "value"));
	}
	size_t n = 0;
	if (!url)
		return iiifd_error_set(err, 400, "target must be a Canvas URL or a SpecificResource");
	if (webanno_canvas(url, idx, &n, &frag, err) < 0)
		return -1;
	const struct pres_canvas_ref *ref = &idx->items[n - 1];
	rec->target_file = strdup(ref->file);
	rec->page = ref->page;
	return webanno_fragment(selector ? selector : frag, ref, rec, err);
}

static int webanno_body_from_json(const json_t *body, struct anno_record *rec,
				  struct iiifd_error *err)
{
	if (json_is_array(body))
		body = json_array_get(body, 0);
	if (!body)
		return 0; /* a bookmark or highlight needs no body */
	const char *value = json_string_value(json_object_get(body, "value"));
	if (!json_is_object(body) || !value)
		return iiifd_error_set(err, 400, "body must be a TextualBody with a value");
	rec->text = strdup(value);
	rec->language = anno_strdup(json_string_value(json_object_get(body, "language")));
	return 0;
}

int webanno_from_json(const json_t *doc, const struct pres_canvas_index *idx,
		      struct anno_record *rec, struct iiifd_error *err)
{
	memset(rec, 0, sizeof *rec);
	const char *type = json_string_value(json_object_get(doc, "type"));
	const char *motivation = json_string_value(json_object_get(doc, "motivation"));
	if (!json_is_object(doc) || !type || strcmp(type, "Annotation") != 0)
		return iiifd_error_set(err, 400, "the body must be a JSON object of type Annotation");
	if (!motivation || !webanno_known_motivation(motivation))
		return iiifd_error_set(err, 400, "motivation '%s' is not one iiifd knows",
				       motivation ? motivation : "(missing)");
	rec->motivation = strdup(motivation);
	/* the creator is not the client's to say: the write API sets it from the token */
	json_t *target = json_object_get(doc, "target");
	if (!target)
		return iiifd_error_set(err, 400, "target is missing");
	if (webanno_target_from_json(target, idx, rec, err) < 0 ||
	    webanno_body_from_json(json_object_get(doc, "body"), rec, err) < 0)
		return -1;
	return 0;
}
