/*
 * fuzz_georef_points.c: a QGIS georeferencer .points file parsed by src/maps (maps_parse_points); see fuzz_georef.h for the checks.
 */
#include <stdint.h>

#include "fuzz_georef.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct maps_georef g;
	struct maps_error err;
	maps_georef_init(&g);
	int rc = maps_parse_points((const char *)data, size, &g, &err);
	fuzz_georef_check(rc, &g);
	maps_georef_release(&g);
	return 0;
}
