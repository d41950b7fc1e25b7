/*
 * info.h: the Image Information document (info.json) for Image API 3.0 and 2.1.
 * Pure: builds JSON from a probed source and the server's settings.
 */
#ifndef IIIFD_IMAGE_INFO_H
#define IIIFD_IMAGE_INFO_H

#include <jansson.h>
#include <stdbool.h>

#include "image/request.h"
#include "image/source.h"

struct image_info_options {
	struct image_limits limits;
	int default_tile_size;  /* for sources that are not tiled */
	const char *rights;     /* NULL or "" for none */
	unsigned formats;       /* bit (1 << IMAGE_FORMAT_x) for each format the server can produce */
	bool level0;            /* a static tree: level0 profile, no extra features, formats, qualities */
};

/* Builds info.json for src with id (the service URL). Returns a new reference (json_decref). */
json_t *image_info_build(enum image_api_version version, const char *id,
			 const struct image_source *src, const struct image_info_options *opt);

/*
 * The scale factors advertised for tiles: the stored levels of a pyramid, otherwise powers of two
 * until the whole image fits one tile. Returns the count written to factors (at most max).
 */
int image_info_scale_factors(const struct image_source *src, int tile_w, int tile_h,
			     int *factors, int max);

/*
 * Whether a request resolved as g asks for one of the tiles info.json advertises for src: the
 * region on the tile grid of a scale factor (edge tiles clipped to the image), its size that
 * region divided by the factor (give or take the pixel viewers round differently), no rotation.
 */
bool image_info_is_tile(const struct image_source *src, const struct image_info_options *opt,
			const struct image_request *req, const struct image_geometry *g);

#endif
