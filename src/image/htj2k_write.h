/*
 * htj2k_write.h: writing any source image as a tiled HTJ2K file (JPEG 2000 Part 15, .jph) for
 * `iiifd convert IN OUT.jph`: OpenJPH (htj2k_encode.h) codes the codestream, this module writes
 * the JPH boxes around it (ISO/IEC 15444-15 annex D: signature, ftyp 'jph ', jp2h with ihdr and
 * colr, then jp2c).
 */
#ifndef IIIFD_IMAGE_HTJ2K_WRITE_H
#define IIIFD_IMAGE_HTJ2K_WRITE_H

#include <stdint.h>

#include "core/error.h"
#include "image/source.h"

/* Quantisation step for a quality of 1..100 (100: 1/1024, each 12.5 down doubles it). */
float htj2k_quality_step(int quality);

/* Wavelet levels for a width x height image in tile x tile tiles: enough for the smallest
 * resolution to fit in one tile (deep zoom), no more than a tile can hold (ends at 1 pixel). */
int htj2k_decompositions(int64_t width, int64_t height, int tile);

/*
 * Writes the first page of src, upright, 8-bit sRGB or grey (image_pyramid_load_srgb) to path
 * as tile x tile HTJ2K tiles at quality (see htj2k_quality_step). path is written in place:
 * callers that need atomicity write a temporary name and rename it. Errors are 500 naming the
 * file. Memory: OpenJPH's coded data (about the output size) plus a few tile rows of samples.
 */
int image_htj2k_write(const struct image_source *src, const char *path, int tile, int quality,
		      struct iiifd_error *err);

#endif
