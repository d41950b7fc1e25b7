/*
 * jpeg_codec.h: libjpeg-turbo without libvips for the direct render path: decoding one stored
 * TIFF tile (an abbreviated JPEG whose tables come separately), optionally DCT-scaled, and
 * encoding 8-bit pixels the way IIPImage does (4:2:0 below quality 90, one pass, no extras).
 * Pure: buffers in, buffers out; safe on any thread.
 */
#ifndef IIIFD_IMAGE_JPEG_CODEC_H
#define IIIFD_IMAGE_JPEG_CODEC_H

#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "image/tile_cache.h"

/*
 * Decodes data (a JPEG, or the tile part of an abbreviated one whose DQT/DHT tables are in
 * tables, NULL if none) at 1/denom of its size (denom 1, 2, 4 or 8: libjpeg's DCT scaling).
 * YCbCr and RGB give 3 bands, grey gives 1; anything else, and any corrupt-data warning, is an
 * error (500). On success *out is a new tile (free with tile_cache_tile_free or hand to the cache)
 * of ceil(width / denom) x ceil(height / denom) pixels. width/height_max bound the frame size.
 */
int jpeg_codec_decode_tile(const uint8_t *tables, size_t tables_len, const uint8_t *data,
			   size_t len, int denom, int width_max, int height_max,
			   struct tile_cache_tile **out, struct iiifd_error *err);

/*
 * jpeg_codec_decode_tile(), but only the pixels in part = { x0, y0, x1, y1 } (of the decoded,
 * scaled tile; x1, y1 exclusive) are filled, equal to a full decode's; the others are undefined.
 * Decodes less: no rows below part, no colour conversion or IDCT of columns outside it (give or
 * take an iMCU). The tile is still full-size, so it lies where a whole tile would; never cache it.
 */
int jpeg_codec_decode_tile_part(const uint8_t *tables, size_t tables_len, const uint8_t *data,
				size_t len, int denom, int width_max, int height_max,
				const int part[4], struct tile_cache_tile **out,
				struct iiifd_error *err);

/*
 * Encodes width x height pixels of bands (1 or 3) bands, rows stride bytes apart, at quality:
 * chroma 4:2:0 below 90, 4:4:4 from 90; Huffman tables standard (no optimising pass).
 * On success *out (free with free()) holds *len bytes.
 */
int jpeg_codec_encode(const uint8_t *pixels, int width, int height, int bands, size_t stride,
		      int quality, void **out, size_t *len, struct iiifd_error *err);

#endif
