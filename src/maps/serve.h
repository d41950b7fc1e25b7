/*
 * serve.h: a map's georeferencing as the IIIF georef extension serves it (a Georeference
 * Annotation on the Canvas) and as navPlace (the footprint: the mask, or the image border,
 * transformed with the declared transformation).
 */
#ifndef IIIFD_MAPS_SERVE_H
#define IIIFD_MAPS_SERVE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "maps/georef.h"

#define MAPS_GEOREF_CONTEXT "http://iiif.io/api/extension/georef/1/context.json"
#define MAPS_NAVPLACE_CONTEXT "http://iiif.io/api/extension/navplace/context.json"
#define MAPS_PAGE_NAME "georeferencing"  /* {canvas}/annotations/georeferencing */
#define MAPS_FOOTPRINT_STEPS 8           /* points per mask edge when the transform bends */

/* The Canvas a georeference is served on. Strings borrowed. */
struct maps_canvas {
	const char *canvas_id;
	const char *manifest_id; /* partOf; may be NULL */
	double width, height;    /* Canvas size (= the image's, in pixels) */
};

/*
 * The Georeference Annotation: target a SpecificResource (the Canvas with its size, an
 * SvgSelector of the mask or the whole Canvas), body a FeatureCollection of Point Features with
 * resourceCoords in Canvas coordinates, and the declared transformation. New reference.
 */
json_t *maps_annotation_json(const struct maps_georef *g, const struct maps_canvas *cv);

/* The same with another id (an annotation of the store: {manifest}/annotations/{key}). */
json_t *maps_annotation_json_as(const struct maps_georef *g, const struct maps_canvas *cv,
				const char *id);

/*
 * The footprint as a GeoJSON Feature with a Polygon (closed, counter-clockwise), or NULL when
 * no transformation can be fitted (fewer than 3 GCPs, collinear). The ring is the mask (or the
 * Canvas border) with each edge cut into MAPS_FOOTPRINT_STEPS parts, except for polynomial
 * order 1 (straight edges stay straight): then the corners only.
 */
json_t *maps_footprint(const struct maps_georef *g, const struct maps_canvas *cv);

/* A Georeference Annotation written through the write API and kept in the store. Borrowed. */
struct maps_stored {
	const char *id;   /* its URL: {manifest}/annotations/{key} */
	const char *key;  /* the store's id */
	const char *json; /* the annotation as stored (a Georeference Annotation, Canvas pixels) */
};

/*
 * Where a Canvas's georeferencing comes from: the files next to its image abs (companions: the
 * non-image files of its folder; abs NULL: no files looked for), then the store's annotations.
 */
struct maps_sources {
	const char *abs;
	char *const *companions;
	size_t companion_count;
	const struct maps_stored *stored;
	size_t stored_count;
};

/*
 * Adds georeferencing to a Canvas: the embedded AnnotationPage {canvas}/annotations/
 * georeferencing first in its annotations, holding the file's annotation then the stored ones,
 * and navPlace (unless it has one) with the footprint of each. Returns whether the Canvas is
 * georeferenced. Files that cannot be used are logged once per version and left out.
 */
bool maps_canvas_decorate(json_t *canvas, const struct maps_canvas *cv,
			  const struct maps_sources *src);

/*
 * After a Manifest's Canvases are built: when any is georeferenced, the Manifest gets navPlace
 * (their footprints, unless it has its own) and @context [georef, navPlace, Presentation 3].
 */
void maps_manifest_finish(json_t *manifest, const json_t *items, const char *presentation_context);

#endif
