/*
 * fuzz_pagexml.c: the PAGE XML importer (src/annotation/pagexml.c) on a buffer, records counted
 * and checked by a sink (no database): every record names a file and a motivation, its text is
 * UTF-8, and an outline parses back (annotation/polygon.c).
 */
#include <stdint.h>

#include "annotation/polygon.h"
#include "fuzz_sink.h"

static const struct anno_target fuzz_target = {"page.jpg", 0, 1000, 800};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t count = 0;
	struct anno_sink sink = {fuzz_put_outlined, &count};
	struct anno_input in = {"fuzz.xml", NULL, (const char *)data, size};
	struct anno_import_error err;
	anno_is_page_xml(&in);
	anno_parse_page(&in, &fuzz_target, &sink, &err);
	return 0;
}
