/*
 * jp2.h: JPEG 2000 read directly with libopenjp2, decoding only the codestream tiles a request
 * covers.
 *
 * OpenJPEG, given a whole file, allocates coding parameters for every tile (some 12 KB each: 57 MB
 * for a 300 MP image in 256x256 tiles) and walks every tile-part header before the ones it
 * needs. So iiifd indexes a file once (jp2_index_open: the main header and where each tile-part
 * lies, with a few small reads) and, per request, hands OpenJPEG a codestream made up on the fly
 * of that main header, with the image area narrowed to the covered tiles, and just those tiles'
 * tile-parts, read from the file. Coordinates stay those of the original reference grid, so the
 * pixels are the same as decoding the whole file.
 *
 * A single-tile image is decoded the same way, with OpenJPEG told the area (it then decodes only
 * the code-blocks under it, though it reads the whole tile). Only files this module decodes
 * faithfully are indexed: one or three components (grey, RGB, or sYCC with the chroma
 * subsampled or not) of unsigned precision up to 16 bits, no palette, no channel definitions,
 * no packed packet headers (PPM). Anything else (alpha, palettes) is left to libvips.
 */
#ifndef IIIFD_IMAGE_JP2_H
#define IIIFD_IMAGE_JP2_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/error.h"
#include "image/tile_cache.h"
#include "storage/root.h"

struct _VipsImage;

/* What the codestream header says. */
struct jp2_layout {
	uint32_t width, height;                /* full resolution */
	uint32_t origin_x, origin_y;           /* the image's top-left corner on the reference grid */
	uint32_t tile_origin_x, tile_origin_y; /* where the tile grid starts */
	uint32_t tile_width, tile_height;      /* codestream tiles */
	uint32_t tiles_across, tiles_down;
	int reductions;                        /* resolution reductions: 0 .. reductions-1 */
	int bands;                             /* 1 or 3 */
	int precision;                         /* bits per sample, 1..16 */
	uint8_t step_x[3], step_y[3];          /* component subsampling: 1, or 2 or 4 for chroma */
	bool ycc;                              /* components are sYCC (JP2 colour 18): Y, Cb, Cr */
	bool ht;                               /* HTJ2K (Part 15) code-blocks: a CAP marker, or HT
						* code-block style in a COD/COC of any header */
};

static inline bool jp2_layout_single_tile(const struct jp2_layout *l)
{
	return l->tiles_across == 1 && l->tiles_down == 1;
}

static inline bool jp2_layout_subsampled(const struct jp2_layout *l)
{
	for (int b = 1; b < l->bands; b++)
		if (l->step_x[b] != 1 || l->step_y[b] != 1)
			return true;
	return false;
}

/* A rectangle in the pixels of one reduction level: [x0, x1) x [y0, y1). */
struct jp2_rect {
	int64_t x0, y0, x1, y1;
};

/* One file's main header and tile-part table. Immutable once made; safe to share. */
struct jp2_index;

/*
 * Indexes path (a location, storage/root.h; known: its version as probed, or NULL to stat it:
 * decodes then read that version). Returns 0 with *out set (free with jp2_index_free), 415 when the file is a JPEG
 * 2000 for libvips instead (or not one at all), or -1 with err set: 404 when the file is gone,
 * 500 when its header or tile-part structure is damaged.
 */
int jp2_index_open_at(const char *path, const struct storage_stat *known,
		      struct jp2_index **out, struct iiifd_error *err);
/* jp2_index_open_at(path, NULL, ...). */
int jp2_index_open(const char *path, struct jp2_index **out, struct iiifd_error *err);
void jp2_index_free(struct jp2_index *ix);

/*
 * Whether the JPEG 2000 file at path (known: its version, or NULL) has HT code-blocks (a CAP
 * marker, or HT code-block style in a COD/COC of the main or any tile-part header), also for a
 * file jp2_index_open_at() leaves to libvips. Headers are read up to the first damage (a SOT
 * that is not where the previous tile-part's length says): OpenJPEG stops there too.
 */
bool jp2_index_scan_ht(const char *path, const struct storage_stat *known);

const struct jp2_layout *jp2_index_layout(const struct jp2_index *ix);

/* Size of reduction level `reduce` as OpenJPEG decodes it (may differ by one pixel from halving
 * the full size when the image does not start at the grid's origin). */
void jp2_layout_level_size(const struct jp2_layout *l, int reduce, int64_t *w, int64_t *h);

/* The level pixels codestream tile (col, row) covers at reduction `reduce`. */
void jp2_layout_tile_span(const struct jp2_layout *l, int reduce, uint32_t col, uint32_t row,
			  struct jp2_rect *span);

/* The codestream tiles under area (level pixels at reduction `reduce`): columns [x0, x1) and
 * rows [y0, y1) in *tiles. -1 when none. */
int jp2_layout_tiles_under(const struct jp2_layout *l, int reduce, const struct jp2_rect *area,
			   struct jp2_rect *tiles);

enum jp2_decode_status {
	JP2_DECODED = 0,
	JP2_FAILED = -1,    /* damaged data, or an area outside the level */
	JP2_TIMED_OUT = -2, /* the deadline passed between tiles */
};

/*
 * Decodes `area` of reduction level `reduce` (0 = full resolution, each step halves both sides)
 * of the file ix indexes (at path) into a new 8-bit (precision <= 8) or 16-bit uncompressed
 * image with its interpretation and ICC profile set. deadline_us is a g_get_monotonic_time()
 * value checked between tiles (0 = none). On failure a reason is left in libvips' error buffer.
 * Safe to call from many threads at once.
 */
enum jp2_decode_status jp2_decode(const struct jp2_index *ix, const char *path, int reduce,
				  const struct jp2_rect *area, int64_t deadline_us,
				  struct _VipsImage **out);

/*
 * jp2_decode() with OpenJPEG told the area in every case (opj_set_decode_area), so that only
 * the code-blocks under it (and the wavelet's reach) are decoded, also in a multi-tile file
 * whose tiles jp2_decode() decodes whole; for the parts of tiles a request needs but the
 * decoded-tile cache would not reuse. Same results and errors as jp2_decode().
 */
enum jp2_decode_status jp2_decode_area_only(const struct jp2_index *ix, const char *path,
					    int reduce, const struct jp2_rect *area,
					    int64_t deadline_us, struct _VipsImage **out);

/*
 * jp2_decode() through the shared cache of decoded tiles (jp2_shared.c): each codestream tile
 * under the area is decoded whole at that reduction, once, and kept in cache under the file's
 * identity (file: dev, ino, mtime and size filled, the rest ignored), then the area is copied
 * out of the tiles; the missing tiles of a request that runs alone are decoded on every core.
 * Files the cache cannot hold (over 8 bits, one tile, subsampled chroma) and a NULL cache go to
 * jp2_decode(). Same results and errors as jp2_decode(); the image is 8-bit.
 */
enum jp2_decode_status jp2_decode_shared(const struct jp2_index *ix, const char *path,
					 int reduce, const struct jp2_rect *area,
					 int64_t deadline_us, struct tile_cache *cache,
					 const struct tile_cache_key *file,
					 struct _VipsImage **out);

/* Whether jp2_decode_shared() decodes ix through the cache (else it hands over to jp2_decode):
 * a non-NULL cache, several codestream tiles, no subsampled chroma, at most 8 bits. */
bool jp2_shared_applies(const struct jp2_index *ix, const struct tile_cache *cache);

/*
 * jp2_decode_shared() for a file jp2_shared_applies() accepts, without the libvips image:
 * *pixels (free with g_free) holds the area, 8-bit, interleaved (the layout's bands), rows
 * (area->x1 - area->x0) * bands bytes apart.
 */
enum jp2_decode_status jp2_decode_shared_pixels(const struct jp2_index *ix, const char *path,
						int reduce, const struct jp2_rect *area,
						int64_t deadline_us, struct tile_cache *cache,
						const struct tile_cache_key *file,
						uint8_t **pixels);

/* Whether the file carries an ICC profile (the JP2 header's colr box, methods 2 and 3). */
bool jp2_index_has_icc(const struct jp2_index *ix);

/* Bytes jp2_decode() of that area is expected to hold at its peak (for admission control). */
int64_t jp2_decode_bytes(const struct jp2_index *ix, int reduce, const struct jp2_rect *area);

/*
 * The full-resolution image of the file ix indexes (at path) as a libvips image whose pixels are
 * decoded as libvips asks for them, a codestream tile at a time (kept in a small cache), for
 * streaming a whole image through libvips, as `iiifd convert` does. ix must outlive the image.
 * NULL on error (in libvips' error buffer).
 */
struct _VipsImage *jp2_image_new(const struct jp2_index *ix, const char *path);

#endif
