/*
 * fuzz_coco.c: the COCO importer (src/annotation/coco.c) on a buffer, records counted
 * and checked by a sink (no database). Every record must name a file and a motivation, and its
 * text must be UTF-8: bad input is refused, never stored.
 */
#include <stdint.h>

#include "fuzz_sink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t count = 0;
	struct anno_sink sink = {fuzz_put, &count};
	struct anno_input in = {"fuzz.json", NULL, (const char *)data, size};
	struct anno_import_error err;
	anno_parse_coco(&in, fuzz_resolve, NULL, &sink, &err);
	return 0;
}
