/*
 * render_jp2.h: the direct render path for JPEG 2000 and HTJ2K: the region's codestream tiles
 * decoded through the shared decoded-tile cache (jp2_decode_shared_pixels, spread over the
 * cores), resampled once (resample.h) and encoded with libjpeg-turbo (jpeg_codec.h), without a
 * libvips pipeline per request. docs/internals/jpeg2000.md has the measurements behind it.
 */
#ifndef IIIFD_IMAGE_RENDER_JP2_H
#define IIIFD_IMAGE_RENDER_JP2_H

#include <stdbool.h>
#include <stddef.h>

#include "core/error.h"
#include "image/pipeline.h"

/*
 * Whether render_jp2 can answer req: opt->direct on, src an indexed JPEG 2000 that the tile
 * cache holds (jp2_shared_applies: several tiles, 8 bits, no subsampled chroma) without an ICC
 * profile, upright and unmirrored output in default or color quality, as jpg, not upscaled.
 * Everything else goes to libvips (pipeline.c).
 */
bool render_jp2_applies(const struct image_source *src, const struct image_request *req,
			const struct image_geometry *g, const struct image_encode_options *opt);

/*
 * Renders req as image_pipeline_render does (same errors; *out freed with free() or g_free()).
 * A corrupt tile fails this request only (500, logged with the file name).
 */
int render_jp2(const struct image_source *src, const struct image_request *req,
	       const struct image_geometry *g, const struct image_encode_options *opt,
	       void **out, size_t *out_len, struct iiifd_error *err);

#endif
