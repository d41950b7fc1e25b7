/*
 * fuzz_sink.h: the record sink the importer targets share: it counts records and aborts (a
 * finding) on any record without a file or motivation, or with text that is not UTF-8 — bad
 * input must be refused, never stored. Also a resolver for the formats that name images.
 */
#ifndef IIIFD_FUZZ_SINK_H
#define IIIFD_FUZZ_SINK_H

#include <glib.h>
#include <stdlib.h>

#include "annotation/importers.h"

static int fuzz_put(void *ctx, struct anno_list *batch, char *msg, size_t size)
{
	(void)msg, (void)size;
	for (size_t i = 0; i < batch->count; i++) {
		const struct anno_record *r = &batch->items[i];
		if (!r->target_file || !r->motivation ||
		    (r->text && !g_utf8_validate(r->text, -1, NULL)))
			abort();
	}
	*(size_t *)ctx += batch->count;
	return 0;
}

#ifdef IIIFD_ANNOTATION_POLYGON_H
/* fuzz_put, and every outline must parse back and lie inside its box (and the 1000 x 800 page). */
static int fuzz_put_outlined(void *ctx, struct anno_list *batch, char *msg, size_t size)
{
	for (size_t i = 0; i < batch->count; i++) {
		const struct anno_record *r = &batch->items[i];
		double *xy;
		size_t n, *rl, rings;
		if (!r->polygon)
			continue;
		if (!r->has_xywh || polygon_parse(r->polygon, &xy, &n, &rl, &rings) < 0)
			abort();
		for (size_t k = 0; k < n; k++)
			if (xy[2 * k] < r->x - 1e-6 || xy[2 * k] > r->x + r->w + 1e-6 ||
			    xy[2 * k + 1] < r->y - 1e-6 || xy[2 * k + 1] > r->y + r->h + 1e-6 ||
			    xy[2 * k] > 1000 || xy[2 * k + 1] > 800)
				abort();
		free(xy);
		free(rl);
	}
	return fuzz_put(ctx, batch, msg, size);
}
#endif

/* Every image exists (1000 x 800) except those whose name starts with 'x'. */
static inline int fuzz_resolve(void *ctx, const char *name, struct anno_target *t)
{
	(void)ctx;
	if (name[0] == 'x')
		return -1;
	*t = (struct anno_target){"page.jpg", 0, 1000, 800};
	return 0;
}

#endif
