/*
 * passthrough.h: answering a tile request with the JPEG bytes already stored in a tiled TIFF,
 * without decoding or re-encoding, when the request maps exactly onto one stored tile.
 */
#ifndef IIIFD_IMAGE_PASSTHROUGH_H
#define IIIFD_IMAGE_PASSTHROUGH_H

#include <stddef.h>

#include "image/request.h"
#include "image/source.h"

/*
 * If req (resolved as g) asks for exactly one whole stored JPEG tile of src in default or color
 * quality, as jpg, unrotated and unmirrored, reads it and makes it a complete JPEG: *out
 * (free with free()) of *len bytes. Returns 1 when served, 0 when the request does not map onto
 * a stored tile or the read failed (the caller then renders it normally).
 */
int image_passthrough(const struct image_source *src, const struct image_request *req,
		      const struct image_geometry *g, void **out, size_t *len);

/*
 * The same for an edge tile, stored padded to the full tile size: only its stored JPEG is
 * decoded, and its valid part is re-encoded at quality (not the bytes as stored, so callers may
 * cache the result like a render).
 */
int image_passthrough_edge(const struct image_source *src, const struct image_request *req,
			   const struct image_geometry *g, int quality, void **out, size_t *len);

#endif
