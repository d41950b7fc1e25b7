/*
 * tiles.h: `iiifd tiles IN OUTDIR --id URL`, a static level 0 Image API tree (every tile, the
 * `sizes` images, info.json) rendered by the server's own code, for plain web servers and CDNs.
 */
#ifndef IIIFD_TOOLS_TILES_H
#define IIIFD_TOOLS_TILES_H

#include <stddef.h>
#include <stdint.h>

#include "image/request.h"

/* One tile request: region in full-resolution pixels and the size asked for. */
struct tools_tiles_tile {
	int64_t x, y, w, h;
	int64_t out_w, out_h;
};

/* Tiles needed across an extent of full-resolution pixels: ceil(extent / (tile * s)). */
int64_t tools_tiles_count(int64_t extent, int tile, int s);

/*
 * Tile (col, row) at scale factor s of a width x height image with tile_w x tile_h tiles, as
 * the Image API 3.0 implementation notes (section 3) and viewers compute it: partial tiles on
 * the right and bottom edges, sizes rounded up.
 */
void tools_tiles_tile(int64_t width, int64_t height, int tile_w, int tile_h, int s, int64_t col,
		      int64_t row, struct tools_tiles_tile *t);

/*
 * The region and size path segments a viewer sends for t: "x,y,w,h" and "w,h" (3.0) or
 * "w," (2.1, which viewers use for tiles). Output is truncated to the buffer sizes.
 */
void tools_tiles_params(enum image_api_version version, const struct tools_tiles_tile *t,
			char *region, size_t region_n, char *size, size_t size_n);

/*
 * Runs the command on the arguments after "tiles". Prints errors naming the file to stderr.
 * Returns the exit status: 0 done, 1 failed (OUTDIR untouched), 2 usage error.
 */
int tools_tiles_main(int argc, char **argv);

#endif
