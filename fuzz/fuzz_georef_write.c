/*
 * fuzz_georef_write.c: a Georeference Annotation sent to the write API, validated against a
 * Manifest's Canvases by src/annotation/georef.c (anno_georef_from_json): a refusal leaves the
 * record empty (nothing half-written); what is accepted is stored as text that serves again
 * (anno_georef_to_json) with the same GCPs, on the Canvas it named.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "annotation/georef.h"
#include "maps/georef.h"

static int fuzz_gcp_count(const json_t *anno)
{
	return (int)json_array_size(json_object_get(json_object_get(anno, "body"), "features"));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pres_canvas_ref items[2] = {
		{ .file = "maps/sheet.png", .page = 0, .width = 640, .height = 480 },
		{ .file = "talk.mp3", .page = 0, .duration = 12.5 },
	};
	struct pres_canvas_index idx = { .manifest_id = "https://example.org/m", .items = items,
					 .count = 2 };
	json_t *doc = json_loadb((const char *)data, size, 0, NULL);
	if (!doc)
		return 0;
	struct anno_record rec;
	struct iiifd_error err = { 0 };
	if (anno_georef_from_json(doc, &idx, &rec, &err) < 0) {
		if (rec.text || rec.target_file || rec.motivation || err.http_status != 400)
			abort(); /* nothing half-made, and a 400 */
	} else {
		size_t n = pres_canvas_index_find(&idx, rec.target_file, rec.page);
		json_t *served = n == 1 && rec.text ? anno_georef_to_json(&rec, &idx, n, "x") : NULL;
		struct maps_georef g;
		struct maps_error merr;
		maps_georef_init(&g);
		if (!served || maps_parse_annotation_json(doc, &g, &merr) < 0 ||
		    (size_t)fuzz_gcp_count(served) != g.count)
			abort(); /* what is stored serves, with every GCP sent */
		maps_georef_release(&g);
		json_decref(served);
	}
	anno_record_release(&rec);
	json_decref(doc);
	return 0;
}
