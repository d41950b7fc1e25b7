/*
 * project.h: coordinates of a projected or other geographic system to WGS84 longitude/latitude
 * through PROJ (Debian libproj). Thread-safe: each call uses its own PROJ context.
 */
#ifndef IIIFD_MAPS_PROJECT_H
#define IIIFD_MAPS_PROJECT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Transforms n points xy (x0 y0 x1 y1 ..., easting/northing or the CRS's own axis order
 * normalised to x = east) from crs ("EPSG:32631", WKT or a PROJ string) to WGS84 lon/lat in
 * place. Returns 0, or -1 with msg (unknown CRS, a point that does not transform).
 */
int maps_project_to_wgs84(const char *crs, double *xy, size_t n, char *msg, size_t size);

/* Whether crs (WKT, "EPSG:4326" ...) names WGS84 geographic coordinates (no PROJ call). */
bool maps_project_is_wgs84(const char *crs);

#endif
