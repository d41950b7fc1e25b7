/*
 * georef.h: a map's georeferencing as iiifd keeps it: ground control points (GCPs, a resource
 * pixel and its WGS84 position), the declared transformation and an optional mask polygon, and
 * the parsers that read it from Georeference Annotation JSON, QGIS .points and GCP CSV files.
 * Pure: bytes in, a struct out; every error names its line or JSON path.
 */
#ifndef IIIFD_MAPS_GEOREF_H
#define IIIFD_MAPS_GEOREF_H

#include <stdbool.h>
#include <stddef.h>

#define MAPS_MAX_GCPS 500       /* far above any hand-made set; bounds the spline's system */
#define MAPS_MAX_MASK 10000     /* points of a mask polygon */
#define MAPS_MAX_INPUT (8 << 20) /* bytes of one georeference file */
#define MAPS_MAX_COORD 1e8       /* magnitude of any pixel or map coordinate: beyond any map */

enum maps_transform_type { MAPS_POLYNOMIAL, MAPS_THIN_PLATE_SPLINE };

struct maps_gcp {
	double x, y;     /* resource pixel (x right, y down), in the resource's coordinates */
	double lon, lat; /* WGS84 degrees */
};

struct maps_georef {
	struct maps_gcp *gcps;            /* owned */
	size_t count;
	enum maps_transform_type type;
	int order;                        /* 1..3 for MAPS_POLYNOMIAL */
	double *mask;                     /* owned; x0 y0 x1 y1 ... (NULL: the whole resource) */
	size_t mask_points;
	double width, height;             /* size of the resource the pixels refer to; 0: unknown
					   * (then the image's own size) */
};

/*
 * Where a file went wrong: line (1-based, 0 when not line-based) or JSON path ("$.body.
 * features[2].geometry"), and why.
 */
struct maps_error {
	int line;
	char path[128];
	char msg[256];
};

void maps_georef_init(struct maps_georef *g);
void maps_georef_release(struct maps_georef *g);

/*
 * Appends a GCP; -1 (msg set) past MAPS_MAX_GCPS, for a coordinate beyond MAPS_MAX_COORD or out
 * of memory. Positions outside WGS84's range are kept (iiifd check warns about them).
 */
int maps_georef_add(struct maps_georef *g, double x, double y, double lon, double lat,
		    struct maps_error *err);

/* "file:line: msg" / "file: $.path: msg" / "file: msg" into out. */
void maps_error_format(const struct maps_error *err, const char *file, char *out, size_t size);

/*
 * Parsers: fill g (initialised by the caller, left empty on failure: all or nothing) from
 * data[0..len). Return 0, or -1 with err set.
 *
 * QGIS georeferencer .points: an optional "#CRS: WKT" line (geographic WGS84 when absent or
 * when the CRS is WGS84; other CRSs are reprojected with PROJ), a header
 * "mapX,mapY,sourceX,sourceY,enable,..." (older files: "pixelX,pixelY"), rows with pixel y
 * negative as QGIS writes it; rows with enable 0 are skipped.
 */
int maps_parse_points(const char *data, size_t len, struct maps_georef *g, struct maps_error *err);

/*
 * GCP CSV: a header naming x, y, lon (or lng, longitude), lat (or latitude) in any order, then
 * one row per GCP, pixel y down. In both text formats a line "# transformation: polynomial N"
 * or "# transformation: thinPlateSpline" declares the transformation (default polynomial 1).
 */
int maps_parse_csv(const char *data, size_t len, struct maps_georef *g, struct maps_error *err);

/*
 * A Georeference Annotation (or an AnnotationPage whose first georeferencing item is one):
 * GCPs from body.features, transformation, mask from an SvgSelector (polygon or rect), and the
 * target's width and height when given.
 */
int maps_parse_annotation(const char *data, size_t len, struct maps_georef *g,
			  struct maps_error *err);

/* The same, from JSON already parsed (the write API's body). doc borrowed. */
struct json_t;
int maps_parse_annotation_json(const struct json_t *doc, struct maps_georef *g,
			       struct maps_error *err);

/*
 * A mask: SVG polygon points ("x,y x,y ...") or an <svg> with one <polygon points> or <rect>,
 * as the georef extension allows. Sets g->mask; -1 with err on bad syntax or fewer than 3 points.
 */
int maps_parse_mask(const char *data, size_t len, struct maps_georef *g, struct maps_error *err);

/* The number of GCPs a transformation needs: 3 for order 1 and TPS, 6 for 2, 10 for 3. */
size_t maps_needed_gcps(enum maps_transform_type type, int order);

#endif
