/*
 * fuzz_labelstudio.c: the Label Studio importer (src/annotation/labelstudio.c) on a buffer, the
 * images resolved as in the other importers' targets.
 */
#include <stdint.h>

#include "annotation/polygon.h"
#include "fuzz_sink.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t count = 0;
	struct anno_sink sink = {fuzz_put_outlined, &count};
	struct anno_input in = {"fuzz.json", NULL, (const char *)data, size};
	struct anno_import_error err;
	anno_parse_label_studio(&in, fuzz_resolve, NULL, &sink, &err);
	return 0;
}
