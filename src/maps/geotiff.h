/*
 * geotiff.h: georeferencing read from a GeoTIFF's own tags (libgeotiff): ModelTransformation,
 * one tie point with a pixel scale, or several tie points; PixelIsArea and PixelIsPoint;
 * geographic WGS84 directly, any other CRS reprojected to WGS84 through PROJ.
 */
#ifndef IIIFD_MAPS_GEOTIFF_H
#define IIIFD_MAPS_GEOTIFF_H

#include "maps/georef.h"

#define MAPS_GEOTIFF_GRID 5 /* GCPs per side of the grid made when reprojecting */

/*
 * Reads path's GeoTIFF tags into g (initialised by the caller). Affine georeferencing (matrix
 * or tie point + scale) becomes GCPs at the image corners (polynomial 1) in WGS84, or a
 * MAPS_GEOTIFF_GRID x MAPS_GEOTIFF_GRID grid (thin plate spline) when another CRS is
 * reprojected; several tie points become one GCP each (polynomial 1). Pixel positions are
 * resource coordinates: a PixelIsPoint raster position r is the pixel centre r + 0.5.
 * Returns 1 when georeferenced, 0 when the file has no GeoTIFF georeferencing (or is no
 * TIFF), -1 with err for tags that cannot be used.
 */
int maps_geotiff_read(const char *path, struct maps_georef *g, struct maps_error *err);

#endif
