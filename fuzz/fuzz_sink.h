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
