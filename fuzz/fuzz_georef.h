/*
 * fuzz_georef.h: what the georeference fuzz targets share: after a parse, the result must be
 * all or nothing and within the caps; a parsed georeference is then served (annotation JSON
 * and footprint) and the served annotation must parse back to the same GCPs.
 * Header-only so that every fuzz_NAME.c stays one target.
 */
#ifndef IIIFD_FUZZ_GEOREF_H
#define IIIFD_FUZZ_GEOREF_H

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "maps/georef.h"
#include "maps/serve.h"

static void fuzz_georef_check(int rc, struct maps_georef *g)
{
	if (rc < 0) {
		if (g->count || g->gcps || g->mask)
			abort(); /* a failed parse leaves nothing behind */
		return;
	}
	if (g->count > MAPS_MAX_GCPS || (g->mask && g->mask_points < 3) ||
	    g->mask_points > MAPS_MAX_MASK)
		abort();
	if (g->count > 40)
		return; /* the spline's system grows with the cube: keep runs fast */
	struct maps_canvas cv = { .canvas_id = "https://example.org/c/1",
				  .manifest_id = "https://example.org/m", .width = 640,
				  .height = 480 };
	json_t *anno = maps_annotation_json(g, &cv);
	json_decref(maps_footprint(g, &cv));
	char *text = json_dumps(anno, JSON_COMPACT | JSON_REAL_PRECISION(17));
	struct maps_georef back;
	struct maps_error err;
	maps_georef_init(&back);
	if (!text || maps_parse_annotation(text, strlen(text), &back, &err) < 0 ||
	    back.count != g->count)
		abort(); /* what iiifd serves, it reads */
	maps_georef_release(&back);
	free(text);
	json_decref(anno);
}

#endif
