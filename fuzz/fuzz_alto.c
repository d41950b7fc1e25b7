/*
 * fuzz_alto.c: the ALTO importer (src/annotation/alto.c) on a buffer, records counted
 * and checked by a sink (no database). Every record must name a file and a motivation, and its
 * text must be UTF-8: bad input is refused, never stored.
 */
#include <glib.h>
#include <stdint.h>
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

static const struct anno_target fuzz_target = {"page.jpg", 0, 1000, 800};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t count = 0;
	struct anno_sink sink = {fuzz_put, &count};
	struct anno_input in = {"fuzz.xml", NULL, (const char *)data, size};
	struct anno_import_error err;
	anno_parse_alto(&in, &fuzz_target, &sink, &err);
	return 0;
}
