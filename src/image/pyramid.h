/*
 * pyramid.h: writing any source image as the pyramidal, tiled, JPEG-compressed TIFF that iiifd
 * serves fastest (each tile request then reads one stored tile of the nearest level).
 */
#ifndef IIIFD_IMAGE_PYRAMID_H
#define IIIFD_IMAGE_PYRAMID_H

#include <stdint.h>

#include "core/error.h"
#include "image/source.h"

/* Whether a pyramid of a width x height x bands 8-bit image needs BigTIFF (see pyramid.c). */
int image_pyramid_needs_bigtiff(int64_t width, int64_t height, int bands);

/*
 * Writes the first page of src, upright, in 8-bit sRGB (grey stays grey, alpha is flattened onto
 * white) to path with tile x tile JPEG tiles at quality. path is written in place: callers that
 * need atomicity write a temporary name and rename it. Errors are 500 with libvips' reason.
 */
int image_pyramid_write(const struct image_source *src, const char *path, int tile,
			int quality, struct iiifd_error *err);

struct _VipsImage;

/*
 * The first page of src, upright, in 8-bit sRGB (grey stays grey, alpha flattened onto white),
 * no ICC profile, streamed top to bottom: what image_pyramid_write() and the HTJ2K writer
 * (htj2k_write.h) encode. NULL with the reason in libvips' error buffer.
 */
struct _VipsImage *image_pyramid_load_srgb(const struct image_source *src);

/* Copies libvips' error text into err (500, "file: what: reason", its lines joined by "; ")
 * and clears libvips' buffer. Returns -1. */
int image_pyramid_vips_error(struct iiifd_error *err, const char *what, const char *file);

#endif
