/*
 * annotation_parse.c: Georeference Annotations (the IIIF georef extension, as Allmaps writes
 * them) read into struct maps_georef. Errors name the JSON path of the offending value.
 */
#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "maps/georef.h"

static int maps_json_fail(struct maps_error *err, const char *path, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int maps_json_fail(struct maps_error *err, const char *path, const char *fmt, ...)
{
	err->line = 0;
	snprintf(err->path, sizeof err->path, "%s", path);
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return -1;
}

/* Places an error already in err->msg at path. */
static int maps_json_at(struct maps_error *err, const char *path)
{
	err->line = 0;
	snprintf(err->path, sizeof err->path, "%s", path);
	return -1;
}

/* Reads a [a, b, ...] position of two or more finite numbers into out[0..1]. */
static int maps_json_pair(const json_t *v, double out[2], const char *path, struct maps_error *err)
{
	if (!json_is_array(v) || json_array_size(v) < 2)
		return maps_json_fail(err, path, "must be an array of two numbers");
	for (size_t k = 0; k < 2; k++) {
		const json_t *n = json_array_get(v, k);
		if (!json_is_number(n) || !isfinite(json_number_value(n)))
			return maps_json_fail(err, path, "must be an array of two numbers");
		out[k] = json_number_value(n);
	}
	return 0;
}

static int maps_json_feature(const json_t *f, size_t i, struct maps_georef *g,
			     struct maps_error *err)
{
	char path[96];
	double px[2], ll[2];
	snprintf(path, sizeof path, "$.body.features[%zu]", i);
	if (!json_is_object(f))
		return maps_json_fail(err, path, "must be a GeoJSON Feature");
	const json_t *geom = json_object_get(f, "geometry");
	const char *type = json_string_value(json_object_get(geom, "type"));
	snprintf(path, sizeof path, "$.body.features[%zu].geometry", i);
	if (!type || strcmp(type, "Point"))
		return maps_json_fail(err, path, "must be a GeoJSON Point");
	snprintf(path, sizeof path, "$.body.features[%zu].geometry.coordinates", i);
	if (maps_json_pair(json_object_get(geom, "coordinates"), ll, path, err) < 0)
		return -1;
	snprintf(path, sizeof path, "$.body.features[%zu].properties.resourceCoords", i);
	const json_t *rc = json_object_get(json_object_get(f, "properties"), "resourceCoords");
	if (!rc)
		return maps_json_fail(err, path, "missing (every GCP needs resource coordinates)");
	if (maps_json_pair(rc, px, path, err) < 0)
		return -1;
	if (maps_georef_add(g, px[0], px[1], ll[0], ll[1], err) < 0)
		return maps_json_at(err, path);
	return 0;
}

static int maps_json_transformation(const json_t *t, struct maps_georef *g, struct maps_error *err)
{
	if (!t)
		return 0;
	const char *type = json_string_value(json_object_get(t, "type"));
	if (type && !strcmp(type, "thinPlateSpline")) {
		g->type = MAPS_THIN_PLATE_SPLINE;
		return 0;
	}
	if (!type || strcmp(type, "polynomial"))
		return maps_json_fail(err, "$.body.transformation.type",
				      "must be \"polynomial\" or \"thinPlateSpline\"");
	const json_t *order = json_object_get(json_object_get(t, "options"), "order");
	g->type = MAPS_POLYNOMIAL;
	g->order = 1;
	if (!order)
		return 0;
	if (!json_is_integer(order) || json_integer_value(order) < 1 ||
	    json_integer_value(order) > 3)
		return maps_json_fail(err, "$.body.transformation.options.order", "must be 1, 2 or 3");
	g->order = (int)json_integer_value(order);
	return 0;
}

/* target: a Canvas/Image (URI or object) or a SpecificResource with an SvgSelector. */
static int maps_json_target(const json_t *t, struct maps_georef *g, struct maps_error *err)
{
	const json_t *src = t;
	if (json_is_object(t) && json_object_get(t, "source")) {
		src = json_object_get(t, "source");
		const json_t *sel = json_object_get(t, "selector");
		const char *stype = json_string_value(json_object_get(sel, "type"));
		if (sel && (!stype || strcmp(stype, "SvgSelector")))
			return maps_json_fail(err, "$.target.selector.type", "must be \"SvgSelector\"");
		const char *svg = json_string_value(json_object_get(sel, "value"));
		if (sel && !svg)
			return maps_json_fail(err, "$.target.selector.value", "must be an SVG string");
		if (svg && maps_parse_mask(svg, strlen(svg), g, err) < 0)
			return maps_json_at(err, "$.target.selector.value");
	}
	if (!json_is_string(src) && !json_is_string(json_object_get(src, "id")) &&
	    !json_is_string(json_object_get(src, "@id")))
		return maps_json_fail(err, "$.target", "must name the georeferenced resource (id)");
	const json_t *w = json_object_get(src, "width"), *h = json_object_get(src, "height");
	if (json_is_number(w) && json_is_number(h) && json_number_value(w) >= 1 &&
	    json_number_value(h) >= 1 && json_number_value(w) <= MAPS_MAX_COORD &&
	    json_number_value(h) <= MAPS_MAX_COORD) {
		g->width = json_number_value(w);
		g->height = json_number_value(h);
	}
	return 0;
}

/* The annotation itself, or the first georeferencing item of an AnnotationPage. */
static const json_t *maps_json_annotation(const json_t *doc)
{
	const char *type = json_string_value(json_object_get(doc, "type"));
	if (!type || strcmp(type, "AnnotationPage"))
		return doc;
	size_t i;
	const json_t *item;
	json_array_foreach(json_object_get(doc, "items"), i, item) {
		const char *m = json_string_value(json_object_get(item, "motivation"));
		if (m && !strcmp(m, "georeferencing"))
			return item;
	}
	return NULL;
}

static int maps_json_body(const json_t *anno, struct maps_georef *g, struct maps_error *err)
{
	const json_t *body = json_object_get(anno, "body");
	const char *btype = json_string_value(json_object_get(body, "type"));
	if (!btype || strcmp(btype, "FeatureCollection"))
		return maps_json_fail(err, "$.body", "must be a GeoJSON FeatureCollection");
	const json_t *features = json_object_get(body, "features");
	if (!json_is_array(features))
		return maps_json_fail(err, "$.body.features", "must be an array of Point Features");
	size_t i;
	const json_t *f;
	json_array_foreach(features, i, f) if (maps_json_feature(f, i, g, err) < 0) return -1;
	return maps_json_transformation(json_object_get(body, "transformation"), g, err);
}

int maps_parse_annotation_json(const json_t *doc, struct maps_georef *g, struct maps_error *err)
{
	memset(err, 0, sizeof *err);
	int rc = -1;
	const json_t *anno = json_is_object(doc) ? maps_json_annotation(doc) : NULL;
	const char *motivation = json_string_value(json_object_get(anno, "motivation"));
	if (!anno)
		maps_json_fail(err, "$", "neither a Georeference Annotation nor an AnnotationPage "
					 "holding one");
	else if (motivation && strcmp(motivation, "georeferencing"))
		maps_json_fail(err, "$.motivation", "must be \"georeferencing\"");
	else if (maps_json_target(json_object_get(anno, "target"), g, err) == 0 &&
		 maps_json_body(anno, g, err) == 0)
		rc = 0;
	if (rc < 0)
		maps_georef_release(g);
	return rc;
}

int maps_parse_annotation(const char *data, size_t len, struct maps_georef *g,
			  struct maps_error *err)
{
	memset(err, 0, sizeof *err);
	if (len > MAPS_MAX_INPUT)
		return maps_json_fail(err, "$", "larger than %d bytes", MAPS_MAX_INPUT);
	json_error_t jerr;
	json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		err->line = jerr.line > 0 ? jerr.line : 1;
		snprintf(err->msg, sizeof err->msg, "not JSON: %s", jerr.text);
		return -1;
	}
	int rc = maps_parse_annotation_json(doc, g, err);
	json_decref(doc);
	return rc;
}
