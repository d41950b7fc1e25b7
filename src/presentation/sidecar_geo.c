/*
 * sidecar_geo.c: navPlace from YAML: GeoJSON geometries and Features checked (types, positions,
 * longitude and latitude ranges, closed rings) and gathered into one FeatureCollection.
 */
#include "presentation/sidecar_geo.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define SIDECAR_MAX_JSON_DEPTH 16    /* Feature properties, copied as plain JSON */
#define SIDECAR_MAX_GEOMETRY_DEPTH 4 /* GeometryCollections inside GeometryCollections */

/* A position in a geometry's coordinates, by nesting; each is a list of the next one down. */
enum sidecar_shape {
	SIDECAR_POSITION,
	SIDECAR_POSITIONS, /* MultiPoint */
	SIDECAR_LINE,      /* LineString: two or more positions */
	SIDECAR_RING,      /* a Polygon's ring: four or more positions, closed */
	SIDECAR_LINES,     /* MultiLineString */
	SIDECAR_POLYGON,
	SIDECAR_POLYGONS, /* MultiPolygon */
};

/* [lon, lat] or [lon, lat, altitude] with lon in -180..180 and lat in -90..90. */
static json_t *sidecar_position(struct sidecar_yaml *y, yaml_node_t *n, const char *where)
{
	json_t *pos;
	double v;
	if (!sidecar_yaml_expect(y, n, YAML_SEQUENCE_NODE, where,
				 "a position [longitude, latitude]"))
		return NULL;
	long count = n->data.sequence.items.top - n->data.sequence.items.start;
	if (count < 2 || count > 3) {
		sidecar_yaml_problem(y, n, where, "a position has 2 or 3 numbers, not %ld", count);
		return NULL;
	}
	pos = json_array();
	for (long i = 0; i < count; i++) {
		yaml_node_t *item = sidecar_yaml_node(y, n->data.sequence.items.start[i]);
		json_t *num = sidecar_yaml_number(y, item, where, &v);
		if (num && ((i == 0 && fabs(v) > 180) || (i == 1 && fabs(v) > 90))) {
			sidecar_yaml_problem(y, item, where, "%s %g is outside %s",
					     i ? "latitude" : "longitude", v,
					     i ? "-90..90" : "-180..180");
			json_decref(num);
			num = NULL;
		}
		if (!num) {
			json_decref(pos);
			return NULL;
		}
		json_array_append_new(pos, num);
	}
	return pos;
}

static bool sidecar_same_position(json_t *a, json_t *b)
{
	if (json_array_size(a) != json_array_size(b))
		return false;
	for (size_t i = 0; i < json_array_size(a); i++)
		if (json_number_value(json_array_get(a, i)) !=
		    json_number_value(json_array_get(b, i)))
			return false;
	return true;
}

/* Coordinates of that shape; the first problem inside makes the whole geometry invalid. */
static json_t *sidecar_coordinates(struct sidecar_yaml *y, yaml_node_t *n, const char *where,
				   enum sidecar_shape shape)
{
	static const enum sidecar_shape inner[] = {
		[SIDECAR_POSITIONS] = SIDECAR_POSITION, [SIDECAR_LINE] = SIDECAR_POSITION,
		[SIDECAR_RING] = SIDECAR_POSITION,      [SIDECAR_LINES] = SIDECAR_LINE,
		[SIDECAR_POLYGON] = SIDECAR_RING,       [SIDECAR_POLYGONS] = SIDECAR_POLYGON,
	};
	static const long least[] = {
		[SIDECAR_LINE] = 2,  [SIDECAR_RING] = 4,    [SIDECAR_POSITIONS] = 1,
		[SIDECAR_LINES] = 1, [SIDECAR_POLYGON] = 1, [SIDECAR_POLYGONS] = 1
	};
	if (shape == SIDECAR_POSITION)
		return sidecar_position(y, n, where);
	if (!sidecar_yaml_expect(y, n, YAML_SEQUENCE_NODE, where, "a list of coordinates"))
		return NULL;
	long count = n->data.sequence.items.top - n->data.sequence.items.start;
	if (count < least[shape]) {
		sidecar_yaml_problem(y, n, where, "%s needs at least %ld positions, found %ld",
				     shape == SIDECAR_RING ? "a polygon ring" : "this geometry",
				     least[shape], count);
		return NULL;
	}
	json_t *list = json_array();
	for (long i = 0; i < count; i++) {
		json_t *item = sidecar_coordinates(
			y, sidecar_yaml_node(y, n->data.sequence.items.start[i]), where,
			inner[shape]);
		if (!item) {
			json_decref(list);
			return NULL;
		}
		json_array_append_new(list, item);
	}
	if (shape == SIDECAR_RING &&
	    !sidecar_same_position(json_array_get(list, 0), json_array_get(list, count - 1))) {
		sidecar_yaml_problem(y, n, where, "a polygon ring must end where it starts");
		json_decref(list);
		return NULL;
	}
	return list;
}

static const struct {
	const char *type;
	enum sidecar_shape shape;
} sidecar_geometries[] = {
	{ "Point", SIDECAR_POSITION },  { "MultiPoint", SIDECAR_POSITIONS },
	{ "LineString", SIDECAR_LINE }, { "MultiLineString", SIDECAR_LINES },
	{ "Polygon", SIDECAR_POLYGON }, { "MultiPolygon", SIDECAR_POLYGONS },
};

static json_t *sidecar_geometry(struct sidecar_yaml *y, yaml_node_t *n, const char *where,
				const char *type, int depth);

static json_t *sidecar_geometry_collection(struct sidecar_yaml *y, yaml_node_t *m,
					   const char *where, int depth)
{
	static const char *const keys[] = { "type", "geometries", NULL };
	yaml_node_t *list = sidecar_yaml_get(y, m, "geometries");
	sidecar_yaml_check_keys(y, m, where, keys);
	if (depth >= SIDECAR_MAX_GEOMETRY_DEPTH) {
		sidecar_yaml_problem(y, m, where, "GeometryCollections nested too deeply");
		return NULL;
	}
	if (!sidecar_yaml_expect(y, list, YAML_SEQUENCE_NODE, where,
				 "geometries: a list of geometries"))
		return NULL;
	json_t *geometries = json_array();
	for (yaml_node_item_t *it = list->data.sequence.items.start;
	     it < list->data.sequence.items.top; it++) {
		yaml_node_t *g = sidecar_yaml_node(y, *it);
		yaml_node_t *t =
			g && g->type == YAML_MAPPING_NODE ? sidecar_yaml_get(y, g, "type") : NULL;
		json_t *geometry = sidecar_geometry(y, g, where, sidecar_yaml_scalar(t), depth + 1);
		if (!geometry) {
			json_decref(geometries);
			return NULL;
		}
		json_array_append_new(geometries, geometry);
	}
	return json_pack("{s:s,s:o}", "type", "GeometryCollection", "geometries", geometries);
}

/* A GeoJSON geometry mapping whose type has been read already. */
static json_t *sidecar_geometry(struct sidecar_yaml *y, yaml_node_t *n, const char *where,
				const char *type, int depth)
{
	static const char *const keys[] = { "type", "coordinates", NULL };
	if (!sidecar_yaml_expect(y, n, YAML_MAPPING_NODE, where, "a GeoJSON geometry"))
		return NULL;
	if (type && !strcmp(type, "GeometryCollection"))
		return sidecar_geometry_collection(y, n, where, depth);
	for (size_t i = 0; type && i < sizeof sidecar_geometries / sizeof sidecar_geometries[0];
	     i++) {
		if (strcmp(type, sidecar_geometries[i].type))
			continue;
		sidecar_yaml_check_keys(y, n, where, keys);
		yaml_node_t *coords = sidecar_yaml_get(y, n, "coordinates");
		if (!coords) {
			sidecar_yaml_problem(y, n, where, "'coordinates' is missing");
			return NULL;
		}
		json_t *j = sidecar_coordinates(y, coords, where, sidecar_geometries[i].shape);
		return j ? json_pack("{s:s,s:o}", "type", type, "coordinates", j) : NULL;
	}
	sidecar_yaml_problem(
		y, n, where,
		"type '%.40s' is not a GeoJSON geometry or Feature (Point, MultiPoint, "
		"LineString, MultiLineString, Polygon, MultiPolygon, GeometryCollection, "
		"Feature, FeatureCollection)",
		type ? type : "(missing)");
	return NULL;
}

/* YAML as plain JSON (for Feature properties): core-schema nulls, booleans, numbers. */
static json_t *sidecar_plain_json(struct sidecar_yaml *y, yaml_node_t *n, const char *where,
				  int depth)
{
	double v;
	bool integral;
	if (!n)
		return NULL;
	if (depth > SIDECAR_MAX_JSON_DEPTH) {
		sidecar_yaml_problem(y, n, where, "nested too deeply");
		return NULL;
	}
	if (n->type == YAML_SEQUENCE_NODE) {
		json_t *a = json_array();
		for (yaml_node_item_t *it = n->data.sequence.items.start;
		     it < n->data.sequence.items.top; it++)
			json_array_append_new(a, sidecar_plain_json(y, sidecar_yaml_node(y, *it),
								    where, depth + 1));
		return a;
	}
	if (n->type == YAML_MAPPING_NODE) {
		json_t *o = json_object();
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++)
			if (sidecar_yaml_key(y, p))
				json_object_set_new(
					o, sidecar_yaml_key(y, p),
					sidecar_plain_json(y, sidecar_yaml_node(y, p->value), where,
							   depth + 1));
		return o;
	}
	const char *s = sidecar_yaml_scalar(n);
	if (sidecar_yaml_is_null(n))
		return json_null();
	if (sidecar_yaml_plain(n) && (!strcasecmp(s, "true") || !strcasecmp(s, "false")))
		return json_boolean(!strcasecmp(s, "true"));
	if (sidecar_yaml_plain(n) && sidecar_yaml_parse_number(s, &v, &integral))
		return integral && fabs(v) < 9e15 ? json_integer((json_int_t)v) : json_real(v);
	return json_string(s);
}

/* A Feature from a Feature mapping or a bare geometry. */
static json_t *sidecar_feature(struct sidecar_yaml *y, yaml_node_t *n, const char *where)
{
	static const char *const keys[] = { "type", "id", "geometry", "properties", NULL };
	json_t *geometry, *properties = NULL;
	if (!sidecar_yaml_expect(y, n, YAML_MAPPING_NODE, where, "a GeoJSON geometry or Feature"))
		return NULL;
	const char *type = sidecar_yaml_scalar(sidecar_yaml_get(y, n, "type"));
	if (!type || strcmp(type, "Feature")) {
		geometry = sidecar_geometry(y, n, where, type, 0);
		return geometry ? json_pack("{s:s,s:{},s:o}", "type", "Feature", "properties",
					    "geometry", geometry)
				: NULL;
	}
	sidecar_yaml_check_keys(y, n, where, keys);
	yaml_node_t *g = sidecar_yaml_get(y, n, "geometry");
	yaml_node_t *p = sidecar_yaml_get(y, n, "properties");
	yaml_node_t *t = g && g->type == YAML_MAPPING_NODE ? sidecar_yaml_get(y, g, "type") : NULL;
	if (!g || sidecar_yaml_is_null(g)) {
		sidecar_yaml_problem(y, n, where, "the Feature has no geometry");
		return NULL;
	}
	if (!(geometry = sidecar_geometry(y, g, where, sidecar_yaml_scalar(t), 0)))
		return NULL;
	if (p && !sidecar_yaml_is_null(p) &&
	    sidecar_yaml_expect(y, p, YAML_MAPPING_NODE, where, "properties: a mapping"))
		properties = sidecar_plain_json(y, p, where, 1);
	return json_pack("{s:s,s:o,s:o}", "type", "Feature", "properties",
			 properties ? properties : json_object(), "geometry", geometry);
}

/* Always a FeatureCollection, from a geometry, a Feature, a list of them or a FeatureCollection. */
json_t *sidecar_geo_nav_place(struct sidecar_yaml *y, yaml_node_t *n, const char *where)
{
	static const char *const keys[] = { "type", "id", "features", NULL };
	json_t *features = json_array();
	const char *type = n->type == YAML_MAPPING_NODE
				   ? sidecar_yaml_scalar(sidecar_yaml_get(y, n, "type"))
				   : NULL;
	if (n->type == YAML_SEQUENCE_NODE) {
		sidecar_yaml_items(y, n, where, sidecar_feature, features);
	} else if (type && !strcmp(type, "FeatureCollection")) {
		yaml_node_t *list = sidecar_yaml_get(y, n, "features");
		sidecar_yaml_check_keys(y, n, where, keys);
		if (sidecar_yaml_expect(y, list, YAML_SEQUENCE_NODE, where,
					"features: a list of Features"))
			sidecar_yaml_items(y, list, where, sidecar_feature, features);
	} else {
		json_array_append_new(features, sidecar_feature(y, n, where));
	}
	if (json_array_size(features))
		return json_pack("{s:s,s:o}", "type", "FeatureCollection", "features", features);
	json_decref(features);
	return NULL;
}
