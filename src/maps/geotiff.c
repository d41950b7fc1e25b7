/*
 * geotiff.c: raster -> model coordinates from the tags (done here, the formulas are the GeoTIFF
 * specification's), model -> WGS84 through maps/project, the CRS named by its EPSG code or, when
 * user-defined, by the PROJ string libgeotiff derives from the keys.
 */
#include "maps/geotiff.h"

#include <geo_normalize.h>
#include <geotiff.h>
#include <geovalues.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xtiffio.h>

#include "maps/project.h"
#include "storage/root.h"

/*
 * libtiff learns the GeoTIFF tags once, at start-up, before libvips opens any TIFF: otherwise
 * every GeoTIFF it opens logs "unknown field" warnings for them.
 */
__attribute__((constructor)) static void maps_geotiff_register_tags(void)
{
	XTIFFInitialize();
}

/* How raster positions become model coordinates. */
struct maps_raster_model {
	const double *matrix;  /* 16 values, or NULL */
	const double *tie;     /* I J K X Y Z, with scale */
	const double *scale;   /* Sx Sy Sz, or NULL */
};

static void maps_raster_to_model(const struct maps_raster_model *m, double i, double j,
				 double *x, double *y)
{
	if (m->matrix) {
		*x = m->matrix[0] * i + m->matrix[1] * j + m->matrix[3];
		*y = m->matrix[4] * i + m->matrix[5] * j + m->matrix[7];
	} else {
		*x = m->tie[3] + (i - m->tie[0]) * m->scale[0];
		*y = m->tie[4] - (j - m->tie[1]) * m->scale[1];
	}
}

/* The CRS of the model coordinates: "EPSG:n" or a PROJ string; NULL when none is given. */
static char *maps_geotiff_crs(GTIF *gt)
{
	GTIFDefn *defn = GTIFAllocDefn();
	char *crs = NULL;
	if (!defn || !GTIFGetDefn(gt, defn))
		goto out;
	int code = defn->Model == ModelTypeProjected ? (unsigned short)defn->PCS
		 : defn->Model == ModelTypeGeographic ? (unsigned short)defn->GCS : 0;
	if (code && code != KvUserDefined) {
		crs = malloc(16);
		if (crs)
			snprintf(crs, 16, "EPSG:%d", code);
		goto out;
	}
	char *p4 = GTIFGetProj4Defn(defn);
	if (p4 && *p4)
		crs = strdup(p4);
	if (p4)
		GTIFFreeMemory(p4);
out:
	if (defn)
		GTIFFreeDefn(defn);
	return crs;
}

/* Takes n model points in xy to WGS84 unless crs already is. */
static int maps_geotiff_project(const char *crs, double *xy, size_t n, struct maps_error *err)
{
	if (maps_project_is_wgs84(crs))
		return 0;
	if (maps_project_to_wgs84(crs, xy, n, err->msg, sizeof err->msg) < 0)
		return -1;
	return 0;
}

/* GCPs on a grid (or the corners, grid 2) of the width x height resource. */
static int maps_geotiff_grid(const struct maps_raster_model *m, double shift, const char *crs,
			     int grid, double w, double h, struct maps_georef *g,
			     struct maps_error *err)
{
	double xy[2 * MAPS_GEOTIFF_GRID * MAPS_GEOTIFF_GRID], px[2 * MAPS_GEOTIFF_GRID * MAPS_GEOTIFF_GRID];
	size_t n = 0;
	for (int r = 0; r < grid; r++)
		for (int c = 0; c < grid; c++, n++) {
			px[2 * n] = w * c / (grid - 1);
			px[2 * n + 1] = h * r / (grid - 1);
			maps_raster_to_model(m, px[2 * n] - shift, px[2 * n + 1] - shift, &xy[2 * n],
					     &xy[2 * n + 1]);
		}
	if (maps_geotiff_project(crs, xy, n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (maps_georef_add(g, px[2 * i], px[2 * i + 1], xy[2 * i], xy[2 * i + 1], err) < 0)
			return -1;
	g->type = grid > 2 ? MAPS_THIN_PLATE_SPLINE : MAPS_POLYNOMIAL;
	g->order = 1;
	return 0;
}

/* One GCP per tie point (I J K X Y Z). */
static int maps_geotiff_ties(const double *tie, size_t count, double shift, const char *crs,
			     struct maps_georef *g, struct maps_error *err)
{
	if (count > MAPS_MAX_GCPS) {
		snprintf(err->msg, sizeof err->msg, "more than %d tie points", MAPS_MAX_GCPS);
		return -1;
	}
	double *xy = malloc(2 * count * sizeof *xy);
	if (!xy)
		return -1;
	for (size_t i = 0; i < count; i++)
		xy[2 * i] = tie[6 * i + 3], xy[2 * i + 1] = tie[6 * i + 4];
	int rc = maps_geotiff_project(crs, xy, count, err);
	for (size_t i = 0; rc == 0 && i < count; i++)
		rc = maps_georef_add(g, tie[6 * i] + shift, tie[6 * i + 1] + shift, xy[2 * i],
				     xy[2 * i + 1], err);
	free(xy);
	g->type = MAPS_POLYNOMIAL;
	g->order = 1;
	return rc;
}

/* The tags once the file is open; see maps_geotiff_read(). */
static int maps_geotiff_tags(TIFF *tif, struct maps_georef *g, struct maps_error *err)
{
	uint16_t ntie = 0, nscale = 0, nmatrix = 0;
	double *tie = NULL, *scale = NULL, *matrix = NULL;
	TIFFGetField(tif, TIFFTAG_GEOTIEPOINTS, &ntie, &tie);
	TIFFGetField(tif, TIFFTAG_GEOPIXELSCALE, &nscale, &scale);
	TIFFGetField(tif, TIFFTAG_GEOTRANSMATRIX, &nmatrix, &matrix);
	if ((!tie || ntie < 6) && (!matrix || nmatrix < 16))
		return 0;
	uint32_t w = 0, h = 0;
	TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w);
	TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h);
	GTIF *gt = GTIFNew(tif);
	if (!gt) {
		snprintf(err->msg, sizeof err->msg, "unreadable GeoTIFF keys");
		return -1;
	}
	unsigned short raster = RasterPixelIsArea;
	GTIFKeyGetSHORT(gt, GTRasterTypeGeoKey, &raster, 0, 1);
	double shift = raster == RasterPixelIsPoint ? 0.5 : 0;
	char *crs = maps_geotiff_crs(gt);
	GTIFFree(gt);
	int rc = -1;
	struct maps_raster_model m = { .matrix = matrix && nmatrix >= 16 ? matrix : NULL,
				       .tie = tie, .scale = scale && nscale >= 2 ? scale : NULL };
	g->width = w;
	g->height = h;
	if (!crs)
		snprintf(err->msg, sizeof err->msg, "GeoTIFF without a coordinate reference system");
	else if (m.matrix || m.scale)
		rc = maps_geotiff_grid(&m, shift, crs, maps_project_is_wgs84(crs) ? 2 : MAPS_GEOTIFF_GRID,
				       w, h, g, err);
	else if (ntie / 6 >= 2)
		rc = maps_geotiff_ties(tie, ntie / 6, shift, crs, g, err);
	else
		snprintf(err->msg, sizeof err->msg,
			 "one tie point without ModelPixelScale: no georeferencing");
	free(crs);
	return rc < 0 ? -1 : 1;
}

int maps_geotiff_read(const char *path, struct maps_georef *g, struct maps_error *err)
{
	memset(err, 0, sizeof *err);
	TIFF *tif = NULL;
	if (!storage_spec_is_remote(path)) {
		tif = XTIFFOpen(path, "r");
	} else { /* an object of a remote root, read by range with the GeoTIFF tags known */
		struct iiifd_error why = { 0 };
		XTIFFInitialize();
		tif = storage_tiff_open(path, NULL, &why);
	}
	if (!tif)
		return 0;
	int rc = maps_geotiff_tags(tif, g, err);
	XTIFFClose(tif);
	if (rc < 0)
		maps_georef_release(g);
	return rc;
}
