/*
 * fuzz_dataset_remote.c: what `iiifd dataset URL` reads from a remote server's AnnotationPages
 * (src/tools/dataset_remote.c): bodies, motivations, scores, targets with #xywh= and
 * SvgSelector polygons, from a buffer parsed as JSON. Every record kept must name its Canvas
 * and have text, and its region and outline must lie inside the 1000 x 800 Canvas.
 */
#include <glib.h>
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>

#include "annotation/polygon.h"
#include "tools/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_t *doc = json_loadb((const char *)data, size, 0, NULL);
	if (!doc)
		return 0;
	struct dataset_canvas c = {.canvas_id = (char *)"https://x/canvas/1", .width = 1000,
				   .height = 800};
	struct dataset_opts o = {.score_max = 1};
	GHashTable *labels = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	json_t *items = json_is_array(doc) ? doc : json_object_get(doc, "items");
	dataset_remote_read_items(items, &c, &o, labels);
	for (size_t i = 0; i < c.records.count; i++) {
		const struct anno_record *r = &c.records.items[i];
		double *xy;
		size_t n, *rl, rings;
		if (!r->target_file || !r->text)
			abort();
		/* regions are clamped to the Canvas, so crops are too */
		if (r->has_xywh && !(r->x >= 0 && r->y >= 0 && r->w > 0 && r->h > 0 &&
				     r->x + r->w <= 1000 && r->y + r->h <= 800))
			abort();
		if (!r->polygon)
			continue;
		if (polygon_parse(r->polygon, &xy, &n, &rl, &rings) < 0)
			abort();
		for (size_t k = 0; k < n; k++)
			if (xy[2 * k] < 0 || xy[2 * k] > 1000 || xy[2 * k + 1] < 0 || xy[2 * k + 1] > 800)
				abort();
		free(xy);
		free(rl);
	}
	anno_list_release(&c.records);
	g_hash_table_destroy(labels);
	json_decref(doc);
	return 0;
}
