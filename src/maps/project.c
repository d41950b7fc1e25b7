/*
 * project.c: PROJ wrapped for the two things maps need: is this WGS84, and take these points
 * to WGS84 (axis order normalised so longitude comes first).
 */
#include "maps/project.h"

#include <math.h>
#include <proj.h>
#include <stdio.h>
#include <string.h>

bool maps_project_is_wgs84(const char *crs)
{
	while (*crs == ' ')
		crs++;
	if (!strcmp(crs, "EPSG:4326") || !strcmp(crs, "OGC:CRS84"))
		return true;
	/* WKT of QGIS' WGS84: GEOGCRS["WGS 84", ... ID["EPSG",4326]] */
	return !strncmp(crs, "GEOGCRS[\"WGS 84\"", 16) || !strncmp(crs, "GEOGCS[\"WGS 84\"", 15);
}

int maps_project_to_wgs84(const char *crs, double *xy, size_t n, char *msg, size_t size)
{
	PJ_CONTEXT *ctx = proj_context_create();
	int rc = -1;
	if (!ctx) {
		snprintf(msg, size, "PROJ could not start");
		return -1;
	}
	proj_log_level(ctx, PJ_LOG_NONE);
	PJ *raw = proj_create_crs_to_crs(ctx, crs, "EPSG:4326", NULL);
	PJ *pj = raw ? proj_normalize_for_visualization(ctx, raw) : NULL;
	if (!pj) {
		snprintf(msg, size, "PROJ does not know this coordinate reference system (%.60s)",
			 crs);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		PJ_COORD c = proj_coord(xy[2 * i], xy[2 * i + 1], 0, 0);
		PJ_COORD t = proj_trans(pj, PJ_FWD, c);
		if (!isfinite(t.xy.x) || !isfinite(t.xy.y) || t.xy.x == HUGE_VAL) {
			snprintf(msg, size, "point %.6g, %.6g does not transform to WGS84",
				 xy[2 * i], xy[2 * i + 1]);
			goto out;
		}
		xy[2 * i] = t.lpzt.lam;
		xy[2 * i + 1] = t.lpzt.phi;
	}
	rc = 0;
out:
	proj_destroy(pj);
	proj_destroy(raw);
	proj_context_destroy(ctx);
	return rc;
}
