/*
 * render_tiff.h: the direct render path for tiled JPEG TIFFs: stored tiles read with pread from
 * the tile index the source probe keeps (no libtiff, no libvips per request), decoded with
 * libjpeg-turbo (DCT-scaled when shrinking a lot) through the shared decoded-tile cache, spread
 * over the cores, resampled once by area averaging, encoded with libjpeg-turbo.
 * docs/internals/rendering.md has the measurements behind it.
 */
#ifndef IIIFD_IMAGE_RENDER_TIFF_H
#define IIIFD_IMAGE_RENDER_TIFF_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "image/pipeline.h"

/*
 * Whether render_tiff can answer req: opt->direct on, src a tiled JPEG TIFF whose level for g has
 * a tile index, upright and unmirrored output in default or color quality, as jpg, not upscaled.
 * Everything else goes to libvips (pipeline.c).
 */
bool render_tiff_applies(const struct image_source *src, const struct image_request *req,
			 const struct image_geometry *g, const struct image_encode_options *opt);

/*
 * Renders req as image_pipeline_render does (same errors; *out freed with free() or g_free()).
 * A corrupt tile fails this request only (500, logged with the file name).
 */
int render_tiff(const struct image_source *src, const struct image_request *req,
		const struct image_geometry *g, const struct image_encode_options *opt,
		void **out, size_t *out_len, struct iiifd_error *err);

#endif
