/*
 * georef.h: Georeference Annotations in the annotation store, written through the write API
 * (api.c). They are validated by the maps parser (maps/georef.h), kept as the annotation they
 * serve (resourceCoords in Canvas pixels, the target's size saying which), and served exactly as
 * the Canvas embeds them (maps/serve.h), next to those of the files beside the image.
 */
#ifndef IIIFD_ANNOTATION_GEOREF_H
#define IIIFD_ANNOTATION_GEOREF_H

#include <jansson.h>
#include <stdbool.h>

#include "annotation/record.h"
#include "core/error.h"
#include "presentation/canvas_index.h"

#define ANNO_GEOREF_MOTIVATION "georeferencing"

/* Whether doc (an annotation sent to the write API) says motivation "georeferencing". */
bool anno_georef_is(const json_t *doc);

/* Whether the stored record r is a Georeference Annotation. */
bool anno_georef_record(const struct anno_record *r);

/*
 * Validates the Georeference Annotation doc against the Manifest's Canvases and fills rec
 * (target_file, page, motivation, text: the annotation as it will be served; not creator).
 * 400 naming the JSON path and the reason ("$.body.features[1].geometry: must be a GeoJSON
 * Point"); the target must be an image Canvas of the Manifest, without a fragment.
 */
int anno_georef_from_json(const json_t *doc, const struct pres_canvas_index *idx,
			  struct anno_record *rec, struct iiifd_error *err);

/*
 * The stored record r on Canvas n (1-based) of idx as served, with id; NULL (logged) if its
 * text no longer parses. New reference.
 */
json_t *anno_georef_to_json(const struct anno_record *r, const struct pres_canvas_index *idx,
			    size_t n, const char *id);

#endif
