/*
 * transform.h: the transformations of the georef extension, fitted to GCPs: polynomial of order
 * 1-3 (least squares) and thin plate spline (exact at every GCP), pixel -> lon/lat.
 */
#ifndef IIIFD_MAPS_TRANSFORM_H
#define IIIFD_MAPS_TRANSFORM_H

#include <stddef.h>

#include "maps/georef.h"

struct maps_transform {
	enum maps_transform_type type;
	int order;
	size_t terms;          /* polynomial: 3, 6 or 10 */
	double cx, cy, scale;  /* pixels are normalised: (p - c) / scale */
	double *coef;          /* owned; polynomial: 2 x terms; TPS: 2 x (n + 3) */
	double *points;        /* owned; TPS: the n normalised control points (x, y) */
	size_t n;
};

/*
 * Fits g's declared transformation to its GCPs. When there are fewer GCPs than it needs, the
 * highest polynomial order they support is used instead (order 1 needs 3). Returns 0, or -1
 * with msg when no transformation is possible (fewer than 3 GCPs, or all collinear).
 * Release with maps_transform_release().
 */
int maps_transform_fit(const struct maps_georef *g, struct maps_transform *t, char *msg,
		       size_t size);

/* lon/lat of pixel (x, y). */
void maps_transform_apply(const struct maps_transform *t, double x, double y, double *lon,
			  double *lat);

void maps_transform_release(struct maps_transform *t);

/* Whether the GCPs' pixels all lie (nearly) on one line: no 2-D transformation fits them. */
int maps_gcps_collinear(const struct maps_georef *g);

#endif
