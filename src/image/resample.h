/*
 * resample.h: one resampling pass for the direct render path, separable, 8-bit in and out.
 * Kernels: Lanczos-3 (windowed sinc, a = 3, stretched by the shrink factor when shrinking, edges
 * extended by copying: the kernel libvips' vips_reduce uses) for shrinks below RESAMPLE_AREA_FROM,
 * and area averaging (a box as wide as the shrink factor, each source pixel weighted by the part
 * of it an output pixel covers) beyond. Pure; a plan may be run by several threads on disjoint
 * rows. The source is one buffer or a grid of tiles (read in place, never pasted together).
 */
#ifndef IIIFD_IMAGE_RESAMPLE_H
#define IIIFD_IMAGE_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#define RESAMPLE_AREA_FROM 8.0

/* 8-bit interleaved pixels; the caller owns them. */
struct resample_image {
	uint8_t *pixels;
	int width, height, bands;
	size_t stride;
};

struct resample_plan;

/*
 * Plans filling a dst_w x dst_h image from the window [x0, x1) x [y0, y1) of a src_w x src_h
 * source, in source pixel units (fractions allowed; inside the source, non-empty). NULL when
 * out of memory or the window is invalid. Free with resample_plan_free().
 */
struct resample_plan *resample_plan_new(int src_w, int src_h, double x0, double y0, double x1,
					double y1, int dst_w, int dst_h);
void resample_plan_free(struct resample_plan *plan);

/* Fills output rows [row_begin, row_end) of dst from src (bands equal); 0, or -1 out of memory. */
int resample_plan_rows(const struct resample_plan *plan, const struct resample_image *src,
		       struct resample_image *dst, int row_begin, int row_end);

/*
 * A source made of a grid of equal tiles (as decoded, edge tiles padded to the full size), read
 * in place: pixel (x, y) of the source is pixel (x + x0, y + y0) of the grid. The caller owns
 * the tiles; every tile the plan's window reaches must be there.
 */
struct resample_tiles {
	const uint8_t *const *pixels; /* cols x rows tiles, row-major */
	const size_t *strides;        /* bytes per row of each tile */
	int cols, rows, tile_w, tile_h, bands;
	int x0, y0;                   /* where the source's (0, 0) lies in the first tile */
	int width, height;            /* the source */
};

/* resample_plan_rows() from a grid of tiles (plan made for src->width x src->height). */
int resample_plan_rows_tiled(const struct resample_plan *plan, const struct resample_tiles *src,
			     struct resample_image *dst, int row_begin, int row_end);

/*
 * The whole pass on this thread. A window of exactly dst's size at whole-pixel offsets is
 * copied. Returns 0, or -1 when out of memory or the window is invalid.
 */
int resample_image(const struct resample_image *src, double x0, double y0, double x1, double y1,
		   struct resample_image *dst);

/*
 * The window (x0, y0)-(x1, y1) of a grid of tiles (a single image is a 1 x 1 grid) to dst, in
 * bands of at least 64 output rows spread over the cores (parallel_for: all on this thread when
 * every core is busy). Returns 0, or -1 when out of memory.
 */
int resample_tiles_over_cores(const struct resample_tiles *src, double x0, double y0, double x1,
			      double y1, struct resample_image *dst);

#endif
