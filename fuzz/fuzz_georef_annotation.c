/*
 * fuzz_georef_annotation.c: a Georeference Annotation (JSON, with its SvgSelector mask) parsed by src/maps (maps_parse_annotation); see fuzz_georef.h for the checks.
 */
#include <stdint.h>

#include "fuzz_georef.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maps_georef g;
	struct maps_error err;
	maps_georef_init(&g);
	int rc = maps_parse_annotation((const char *)data, size, &g, &err);
	fuzz_georef_check(rc, &g);
	maps_georef_release(&g);
	return 0;
}
