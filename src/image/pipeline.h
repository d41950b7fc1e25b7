/*
 * pipeline.h: producing the bytes of one Image API response with libvips: pick the cheapest
 * stored level, crop, scale, colour-manage to sRGB, mirror/rotate, apply quality, encode.
 */
#ifndef IIIFD_IMAGE_PIPELINE_H
#define IIIFD_IMAGE_PIPELINE_H

#include <stddef.h>

#include "core/error.h"
#include "image/request.h"
#include "image/source.h"

struct image_encode_options {
	int jpeg_quality;
	int webp_quality;
};

/*
 * Renders req (already resolved against src as g). On success *out is a buffer of *out_len bytes
 * that the caller frees with g_free(). Errors: 500 for an undecodable source (logged with the file
 * name), 415 for a format that cannot be produced.
 */
int image_pipeline_render(const struct image_source *src, const struct image_request *req,
			  const struct image_geometry *g, const struct image_encode_options *opt,
			  void **out, size_t *out_len, struct iiifd_error *err);

/* Whether image_pipeline_render can produce format with this libvips build. */
int image_pipeline_can_encode(enum image_format format);

#endif
