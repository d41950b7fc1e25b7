/*
 * passthrough.c: a TIFF JPEG tile is an "abbreviated" JPEG whose quantisation and Huffman tables
 * live once per directory in JPEGTables; the complete JPEG is tables (minus EOI) + tile (minus SOI).
 */
#include "image/passthrough.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#define PASSTHROUGH_MAX_TILE (16u << 20) /* a stored tile larger than this is not trusted */

/* The level that stores the request's output pixels 1:1 (a 1/2^i reduction), or -1. */
static int passthrough_level(const struct image_source *src, const struct image_geometry *g)
{
	for (int i = 0; i < src->nlevels && i < 31; i++) {
		const struct image_source_level *l = &src->levels[i];
		int64_t s = (int64_t)1 << i;
		int exact = l->width == (src->width + s - 1) / s || l->width == src->width / s;
		if (l->jpeg_tiles && exact && g->out_w * s == g->w && g->out_h * s == g->h)
			return i;
	}
	return -1;
}

/* Index of the stored tile that g covers exactly at level l (scale s), or -1. */
static int64_t passthrough_tile(const struct image_source *src, const struct image_source_level *l,
				int64_t s, const struct image_geometry *g)
{
	int64_t tw = src->tile_width, th = src->tile_height;
	if (g->out_w != tw || g->out_h != th || g->x % (tw * s) || g->y % (th * s))
		return -1;
	int64_t col = g->x / (tw * s), row = g->y / (th * s);
	if ((col + 1) * tw > l->width || (row + 1) * th > l->height)
		return -1; /* edge tiles are padded in the file: their stored size is wrong */
	int64_t index = row * l->jpeg_tiles->across + col;
	return index < l->jpeg_tiles->count ? index : -1;
}

/* A local file: open, pread, close; a remote object: its bytes at the probed version. */
static int passthrough_read(const struct image_source *src, uint64_t offset, uint64_t size,
			    uint8_t *dst)
{
	struct storage_file *f;
	if (storage_file_open(src->path, &src->file, &f, NULL) < 0)
		return -1;
	int rc = storage_file_pread(f, dst, size, (int64_t)offset, NULL);
	storage_file_close(f);
	return rc;
}

static int passthrough_is_jpeg(const uint8_t *b, size_t n)
{
	return n >= 4 && b[0] == 0xFF && b[1] == 0xD8 && b[n - 2] == 0xFF && b[n - 1] == 0xD9;
}

/*
 * An RGB (not YCbCr) JPEG without an Adobe marker is only decoded as RGB when its frame header
 * names the components 'R', 'G', 'B', as libjpeg does when libtiff writes RGB tiles.
 */
static int passthrough_components_are_rgb(const uint8_t *b, size_t n)
{
	for (size_t i = 2; i + 4 < n && b[i] == 0xFF;) {
		uint8_t marker = b[i + 1];
		size_t seglen = ((size_t)b[i + 2] << 8) | b[i + 3];
		if (marker >= 0xC0 && marker <= 0xC2) /* SOF0..2 */
			return i + 17 < n && b[i + 9] == 3 && b[i + 10] == 'R' && b[i + 13] == 'G' &&
			       b[i + 16] == 'B';
		if (marker == 0xDA) /* start of scan before any frame header */
			return 0;
		i += 2 + seglen;
	}
	return 0;
}

/* Joins tables and tile into *out; checks the markers so a damaged file is never sent. */
static int passthrough_assemble(const struct image_source *src,
				const struct image_source_jpeg_tiles *jt, int64_t index,
				void **out, size_t *len)
{
	uint64_t size = jt->sizes[index];
	size_t head = jt->tables ? jt->tables_len - 2 : 0; /* the tables without their EOI */
	if (size < 4 || size > PASSTHROUGH_MAX_TILE ||
	    (jt->tables && !passthrough_is_jpeg(jt->tables, jt->tables_len)))
		return 0;
	uint8_t *buf = malloc(head + size);
	if (!buf)
		return 0;
	if (passthrough_read(src, jt->offsets[index], size, buf + head) < 0 ||
	    !passthrough_is_jpeg(buf + head, size) ||
	    (jt->rgb && !passthrough_components_are_rgb(buf + head, size))) {
		free(buf);
		return 0;
	}
	if (head) {
		memcpy(buf, jt->tables, head);
		memmove(buf + head, buf + head + 2, size - 2); /* drop the tile's own SOI */
	}
	*out = buf;
	*len = head ? head + size - 2 : size;
	return 1;
}

/*
 * A tile at the right or bottom edge is stored padded to the full tile size. When the request
 * is exactly its valid part, finds it: level, tile index, and the valid width and height.
 */
static int passthrough_edge(const struct image_source *src, const struct image_geometry *g,
			    int *level, int64_t *index, int64_t *vw, int64_t *vh)
{
	int64_t tw = src->tile_width, th = src->tile_height;
	for (int i = 0; i < src->nlevels && i < 31; i++) {
		const struct image_source_level *l = &src->levels[i];
		int64_t s = (int64_t)1 << i, col = g->x / (tw * s), row = g->y / (th * s);
		if (!l->jpeg_tiles || g->x % (tw * s) || g->y % (th * s) ||
		    (l->width != (src->width + s - 1) / s && l->width != src->width / s))
			continue;
		*vw = l->width - col * tw < tw ? l->width - col * tw : tw;
		*vh = l->height - row * th < th ? l->height - row * th : th;
		bool edge = *vw < tw || *vh < th;
		int64_t fw = src->width - g->x < tw * s ? src->width - g->x : tw * s;
		int64_t fh = src->height - g->y < th * s ? src->height - g->y : th * s;
		if (edge && *vw > 0 && *vh > 0 && g->out_w == *vw && g->out_h == *vh && g->w == fw &&
		    g->h == fh) {
			*level = i;
			*index = row * l->jpeg_tiles->across + col;
			return *index < l->jpeg_tiles->count ? 0 : -1;
		}
	}
	return -1;
}

/* Decodes the stored (padded) edge tile, keeps its valid part, encodes it at quality. */
static int passthrough_crop(void **jpeg, size_t *len, int64_t vw, int64_t vh, int quality)
{
	VipsImage *tile = vips_image_new_from_buffer(*jpeg, *len, "", NULL), *part = NULL;
	void *buf = NULL;
	size_t n = 0;
	int rc = !tile || vips_extract_area(tile, &part, 0, 0, (int)vw, (int)vh, NULL) ||
		 vips_jpegsave_buffer(part, &buf, &n, "Q", quality, "strip", TRUE, NULL);
	if (tile)
		g_object_unref(tile);
	if (part)
		g_object_unref(part);
	free(*jpeg);
	*jpeg = NULL;
	if (rc) {
		vips_error_clear();
		g_free(buf);
		return 0;
	}
	*jpeg = malloc(n);
	if (*jpeg)
		memcpy(*jpeg, buf, n);
	*len = n;
	g_free(buf);
	return *jpeg != NULL;
}

/* Only plain jpg output of an upright, unmirrored region can come from stored tiles. */
static bool passthrough_applies(const struct image_source *src, const struct image_request *req)
{
	return req->format == IMAGE_FORMAT_JPG && req->rotation == 0.0 && !req->mirror &&
	       (req->quality == IMAGE_QUALITY_DEFAULT || req->quality == IMAGE_QUALITY_COLOR) &&
	       src->tile_width;
}

int image_passthrough(const struct image_source *src, const struct image_request *req,
		      const struct image_geometry *g, void **out, size_t *len)
{
	if (!passthrough_applies(src, req))
		return 0;
	int level = passthrough_level(src, g);
	if (level < 0)
		return 0;
	const struct image_source_level *l = &src->levels[level];
	int64_t index = passthrough_tile(src, l, (int64_t)1 << level, g);
	return index < 0 ? 0 : passthrough_assemble(src, l->jpeg_tiles, index, out, len);
}

int image_passthrough_edge(const struct image_source *src, const struct image_request *req,
			   const struct image_geometry *g, int quality, void **out, size_t *len)
{
	int level;
	int64_t index, vw, vh;
	if (!passthrough_applies(src, req) ||
	    passthrough_edge(src, g, &level, &index, &vw, &vh) < 0 ||
	    !passthrough_assemble(src, src->levels[level].jpeg_tiles, index, out, len))
		return 0;
	return passthrough_crop(out, len, vw, vh, quality);
}
