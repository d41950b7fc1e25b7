/*
 * pipeline.h: producing the bytes of one Image API response with libvips: pick the cheapest
 * stored level, crop, scale, colour-manage to sRGB, mirror/rotate, apply quality, encode.
 */
#ifndef IIIFD_IMAGE_PIPELINE_H
#define IIIFD_IMAGE_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "image/request.h"
#include "image/source.h"
#include "image/tile_cache.h"

struct image_encode_options {
	int jpeg_quality;
	int webp_quality;
	int64_t deadline_us; /* g_get_monotonic_time() after which a render is abandoned; 0 = none */
	struct tile_cache *tiles; /* borrowed; decoded source tiles shared by renders, may be NULL */
	bool direct;              /* tiled JPEG TIFFs may take the direct path (render_tiff.h) */
};

/*
 * Renders req (already resolved against src as g). On success *out is a buffer of *out_len bytes
 * that the caller frees with g_free(). Errors: 500 for an undecodable source (logged with the file
 * name), 415 for a format that cannot be produced, 503 when opt->deadline_us passes.
 */
int image_pipeline_render(const struct image_source *src, const struct image_request *req,
			  const struct image_geometry *g, const struct image_encode_options *opt,
			  void **out, size_t *out_len, struct iiifd_error *err);

/*
 * Bytes a render of req is expected to hold in memory at its peak: the decoded part of the chosen
 * level (all of it for sources that cannot be read piecewise) plus the output.
 */
int64_t image_pipeline_estimate_bytes(const struct image_source *src,
				      const struct image_request *req,
				      const struct image_geometry *g);

/* The stored level a render of g reads: the smallest at or above the output's resolution. */
const struct image_source_level *image_pipeline_level(const struct image_source *src,
						      const struct image_geometry *g);

/* g's region on level lvl (lw x lh pixels), in whole level pixels; never empty. */
void image_pipeline_level_rect(const struct image_source *src,
			       const struct image_source_level *lvl, int64_t lw, int64_t lh,
			       const struct image_geometry *g, int64_t rect[4]);

/* Whether image_pipeline_render can produce format with this libvips build. */
int image_pipeline_can_encode(enum image_format format);

#endif
