/*
 * serve.c: JSON for georeferenced Canvases: the Georeference Annotation (shaped as the georef
 * extension's examples and as Allmaps reads it) and the navPlace footprint.
 */
#include "maps/serve.h"

#include <glib.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "maps/load.h"
#include "maps/transform.h"
#include "presentation/sidecar.h"

/* Factors taking g's pixel coordinates to Canvas coordinates. */
static void maps_scale(const struct maps_georef *g, const struct maps_canvas *cv, double *sx,
		       double *sy)
{
	*sx = g->width > 0 ? cv->width / g->width : 1;
	*sy = g->height > 0 ? cv->height / g->height : 1;
}

/* The ring of the mask (or the Canvas border) in Canvas coordinates: x0 y0 x1 y1 ... */
static double *maps_ring(const struct maps_georef *g, const struct maps_canvas *cv, size_t *n)
{
	double sx, sy;
	maps_scale(g, cv, &sx, &sy);
	size_t count = g->mask ? g->mask_points : 4;
	double *ring = g_new(double, 2 * count);
	if (g->mask) {
		for (size_t i = 0; i < count; i++)
			ring[2 * i] = g->mask[2 * i] * sx, ring[2 * i + 1] = g->mask[2 * i + 1] * sy;
	} else {
		double border[8] = { 0, 0, cv->width, 0, cv->width, cv->height, 0, cv->height };
		memcpy(ring, border, sizeof border);
	}
	*n = count;
	return ring;
}

static json_t *maps_svg_selector(const struct maps_georef *g, const struct maps_canvas *cv)
{
	size_t n;
	double *ring = maps_ring(g, cv, &n);
	GString *svg = g_string_new(NULL);
	g_string_append_printf(svg, "<svg width=\"%.0f\" height=\"%.0f\"><polygon points=\"",
			       cv->width, cv->height);
	for (size_t i = 0; i < n; i++)
		g_string_append_printf(svg, "%s%.10g,%.10g", i ? " " : "", ring[2 * i],
				       ring[2 * i + 1]);
	g_string_append(svg, "\" /></svg>");
	json_t *sel = json_pack("{s:s, s:s}", "type", "SvgSelector", "value", svg->str);
	g_string_free(svg, TRUE);
	g_free(ring);
	return sel;
}

static json_t *maps_transformation(const struct maps_georef *g)
{
	if (g->type == MAPS_THIN_PLATE_SPLINE)
		return json_pack("{s:s}", "type", "thinPlateSpline");
	return json_pack("{s:s, s:{s:i}}", "type", "polynomial", "options", "order", g->order);
}

static json_t *maps_features(const struct maps_georef *g, const struct maps_canvas *cv)
{
	double sx, sy;
	maps_scale(g, cv, &sx, &sy);
	json_t *features = json_array();
	for (size_t i = 0; i < g->count; i++) {
		const struct maps_gcp *p = &g->gcps[i];
		json_array_append_new(
			features,
			json_pack("{s:s, s:{s:[f, f]}, s:{s:s, s:[f, f]}}", "type", "Feature",
				  "properties", "resourceCoords", 0.0 + p->x * sx, 0.0 + p->y * sy, "geometry",
				  "type", "Point", "coordinates", p->lon, p->lat));
	}
	return features;
}

json_t *maps_annotation_json(const struct maps_georef *g, const struct maps_canvas *cv)
{
	char *id = g_strdup_printf("%s/annotations/%s/1", cv->canvas_id, MAPS_PAGE_NAME);
	json_t *a = maps_annotation_json_as(g, cv, id);
	g_free(id);
	return a;
}

json_t *maps_annotation_json_as(const struct maps_georef *g, const struct maps_canvas *cv,
				const char *id)
{
	json_t *source = json_pack("{s:s, s:s, s:I, s:I}", "id", cv->canvas_id, "type", "Canvas",
				   "height", (json_int_t)llround(cv->height), "width",
				   (json_int_t)llround(cv->width));
	if (cv->manifest_id)
		json_object_set_new(source, "partOf",
				    json_pack("[{s:s, s:s}]", "id", cv->manifest_id, "type",
					      "Manifest"));
	char *body_id = g_strdup_printf("%s/feature-collection", id);
	json_t *a = json_pack(
		"{s:s, s:s, s:s, s:{s:s, s:o, s:o}, s:{s:s, s:s, s:o, s:o}}", "id", id, "type",
		"Annotation", "motivation", "georeferencing", "target", "type", "SpecificResource",
		"source", source, "selector", maps_svg_selector(g, cv), "body", "id", body_id, "type",
		"FeatureCollection", "transformation", maps_transformation(g), "features",
		maps_features(g, cv));
	g_free(body_id);
	return a;
}

/* The ring's points, with edges cut into steps parts each (Canvas coordinates). */
static double *maps_densify(const double *ring, size_t n, int steps, size_t *out_n)
{
	double *out = g_new(double, 2 * n * (size_t)steps);
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		const double *a = ring + 2 * i, *b = ring + 2 * ((i + 1) % n);
		for (int s = 0; s < steps; s++, k++) {
			out[2 * k] = a[0] + (b[0] - a[0]) * s / steps;
			out[2 * k + 1] = a[1] + (b[1] - a[1]) * s / steps;
		}
	}
	*out_n = k;
	return out;
}

/* Fits g's transformation in Canvas coordinates, like the served GCPs: 0, or -1 when it cannot. */
static int maps_fit_canvas(const struct maps_georef *g, const struct maps_canvas *cv,
			   struct maps_transform *t)
{
	char msg[200];
	struct maps_georef scaled = *g;
	double sx, sy;
	maps_scale(g, cv, &sx, &sy);
	scaled.gcps = g_new(struct maps_gcp, g->count ? g->count : 1);
	for (size_t i = 0; i < g->count; i++) {
		scaled.gcps[i] = g->gcps[i];
		scaled.gcps[i].x *= sx, scaled.gcps[i].y *= sy;
	}
	int rc = maps_transform_fit(&scaled, t, msg, sizeof msg);
	g_free(scaled.gcps);
	return rc;
}

/* The ring pts (m points, lon lat) as GeoJSON Polygon coordinates: closed, counter-clockwise. */
static json_t *maps_polygon_coords(const double *pts, size_t m)
{
	double area = 0;
	for (size_t i = 0; i < m; i++) {
		size_t j = (i + 1) % m;
		area += pts[2 * i] * pts[2 * j + 1] - pts[2 * j] * pts[2 * i + 1];
	}
	json_t *coords = json_array();
	for (size_t k = 0; k <= m; k++) {
		size_t i = area >= 0 ? k % m : (m - k) % m;
		json_array_append_new(coords, json_pack("[f, f]", pts[2 * i], pts[2 * i + 1]));
	}
	return coords;
}

json_t *maps_footprint(const struct maps_georef *g, const struct maps_canvas *cv)
{
	struct maps_transform t;
	if (maps_fit_canvas(g, cv, &t) < 0)
		return NULL;
	size_t n, m;
	double *ring = maps_ring(g, cv, &n);
	bool straight = t.type == MAPS_POLYNOMIAL && t.order == 1;
	double *pts = maps_densify(ring, n, straight ? 1 : MAPS_FOOTPRINT_STEPS, &m);
	bool finite = true;
	for (size_t i = 0; i < m; i++) {
		maps_transform_apply(&t, pts[2 * i], pts[2 * i + 1], &pts[2 * i], &pts[2 * i + 1]);
		finite = finite && isfinite(pts[2 * i]) && isfinite(pts[2 * i + 1]);
	}
	/* a degenerate fit: no footprint rather than a broken one */
	json_t *foot = finite ? json_pack("{s:s, s:{}, s:{s:s, s:[o]}}", "type", "Feature",
					  "properties", "geometry", "type", "Polygon",
					  "coordinates", maps_polygon_coords(pts, m))
			      : NULL;
	g_free(ring);
	g_free(pts);
	maps_transform_release(&t);
	return foot;
}

/*
 * Appends g's annotation (id; NULL: the file's, {canvas}/annotations/georeferencing/1) to items
 * and its footprint, with the id {canvas}/feature/georef[-{key}], to features.
 */
static void maps_decorate_add(json_t *items, json_t *features, const struct maps_georef *g,
			      const struct maps_canvas *cv, const char *id, const char *key)
{
	json_array_append_new(items, id ? maps_annotation_json_as(g, cv, id)
					: maps_annotation_json(g, cv));
	json_t *foot = maps_footprint(g, cv);
	if (!foot)
		return;
	char *feid = g_strdup_printf("%s/feature/georef%s%s", cv->canvas_id, key ? "-" : "",
				     key ? key : "");
	json_object_set_new(foot, "id", json_string(feid));
	json_array_append_new(features, foot);
	g_free(feid);
}

/* The georeferencing of the files next to the image (src->abs), if any, into items/features. */
static void maps_decorate_file(json_t *items, json_t *features, const struct maps_canvas *cv,
			       const struct maps_sources *src)
{
	struct maps_georef g;
	char *source = NULL, msg[512];
	maps_georef_init(&g);
	int rc = maps_load(src->abs, src->companions, src->companion_count, &g, &source, msg,
			   sizeof msg);
	if (rc < 0 && sidecar_report_once(src->abs, "georef"))
		log_warn("%s: georeferencing not served: %s", src->abs, msg);
	if (rc > 0)
		maps_decorate_add(items, features, &g, cv, NULL, NULL);
	g_free(source);
	maps_georef_release(&g);
}

/* The annotations written through the API, into items/features (unreadable ones skipped). */
static void maps_decorate_stored(json_t *items, json_t *features, const struct maps_canvas *cv,
				 const struct maps_sources *src)
{
	for (size_t i = 0; i < src->stored_count; i++) {
		const struct maps_stored *st = &src->stored[i];
		struct maps_georef g;
		struct maps_error err = { 0 };
		maps_georef_init(&g);
		if (st->json && maps_parse_annotation(st->json, strlen(st->json), &g, &err) == 0)
			maps_decorate_add(items, features, &g, cv, st->id, st->key);
		else
			log_warn("%s: stored georeferencing not served: %s", st->id, err.msg);
		maps_georef_release(&g);
	}
}

bool maps_canvas_decorate(json_t *canvas, const struct maps_canvas *cv,
			  const struct maps_sources *src)
{
	json_t *items = json_array(), *features = json_array();
	if (src->abs)
		maps_decorate_file(items, features, cv, src);
	maps_decorate_stored(items, features, cv, src);
	bool any = json_array_size(items) > 0;
	if (any) {
		json_t *annotations = json_object_get(canvas, "annotations");
		if (!annotations) {
			annotations = json_array();
			json_object_set_new(canvas, "annotations", annotations);
		}
		char *id = g_strdup_printf("%s/annotations/%s", cv->canvas_id, MAPS_PAGE_NAME);
		json_array_insert_new(annotations, 0, json_pack("{s:s, s:s, s:O}", "id", id, "type",
								"AnnotationPage", "items", items));
		g_free(id);
	}
	if (any && json_array_size(features) && !json_object_get(canvas, "navPlace")) {
		char *fid = g_strdup_printf("%s/feature-collection/georef", cv->canvas_id);
		json_object_set_new(canvas, "navPlace",
				    json_pack("{s:s, s:s, s:O}", "id", fid, "type",
					      "FeatureCollection", "features", features));
		g_free(fid);
	}
	json_decref(items);
	json_decref(features);
	return any;
}

/* Whether the Canvas carries a Georeference Annotation page. */
static bool maps_is_georeferenced(const json_t *canvas)
{
	size_t i;
	json_t *page;
	json_array_foreach(json_object_get(canvas, "annotations"), i, page) {
		const char *id = json_string_value(json_object_get(page, "id"));
		if (id && g_str_has_suffix(id, "/annotations/" MAPS_PAGE_NAME) &&
		    json_object_get(page, "items"))
			return true;
	}
	return false;
}

void maps_manifest_finish(json_t *manifest, const json_t *items, const char *presentation_context)
{
	json_t *features = json_array();
	bool any = false;
	size_t i;
	json_t *canvas;
	json_array_foreach(items, i, canvas) {
		if (!maps_is_georeferenced(canvas))
			continue;
		any = true;
		json_t *fc = json_object_get(canvas, "navPlace");
		size_t j;
		json_t *f;
		json_array_foreach(json_object_get(fc, "features"), j, f)
			json_array_append(features, f);
	}
	if (any && !json_object_get(manifest, "navPlace") && json_array_size(features)) {
		const char *mid = json_string_value(json_object_get(manifest, "id"));
		char *fid = g_strdup_printf("%s/feature-collection/georef", mid ? mid : "");
		json_object_set_new(manifest, "navPlace",
				    json_pack("{s:s, s:s, s:O}", "id", fid, "type",
					      "FeatureCollection", "features", features));
		g_free(fid);
	}
	json_decref(features);
	if (any)
		json_object_set_new(manifest, "@context",
				    json_pack("[s, s, s]", MAPS_GEOREF_CONTEXT,
					      MAPS_NAVPLACE_CONTEXT, presentation_context));
}
