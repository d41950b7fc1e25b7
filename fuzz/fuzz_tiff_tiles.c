/*
 * fuzz_tiff_tiles.c: the direct render path for tiled JPEG TIFFs. An input that starts like a
 * TIFF is probed as a file (tile index, levels) and a few regions are rendered through
 * render_tiff with a small shared tile cache: hostile offsets, sizes, tables and tile data.
 * Any other input is one stored tile for jpeg_codec: byte 0 picks the DCT scale, bytes 1-2 the
 * length of the JPEGTables part, the rest is the tile, decoded in part (a crop's corner) and
 * whole; a decoded tile is resampled and encoded.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

#include "fuzz_input.h"
#include "image/jpeg_codec.h"
#include "image/render_tiff.h"
#include "image/resample.h"
#include "image/source.h"

static struct tile_cache *fuzz_cache;

static void fuzz_raw_tile(const uint8_t *data, size_t size)
{
	if (size < 3)
		return;
	int denom = 1 << (data[0] & 3);
	size_t tables_len = ((size_t)data[1] << 8 | data[2]) % (size - 2);
	const uint8_t *tables = data + 3, *tile = data + 3 + tables_len;
	size_t tile_len = size - 3 - tables_len;
	struct tile_cache_tile *t = NULL;
	struct iiifd_error err = { 0 };
	static const int part[4] = { 1, 3, 40, 37 }; /* a crop's corner: rows and columns cut */
	if (jpeg_codec_decode_tile_part(tables_len ? tables : NULL, tables_len, tile, tile_len,
					denom, 1024, 1024, part, &t, &err) == 0)
		tile_cache_tile_free(t);
	t = NULL;
	if (jpeg_codec_decode_tile(tables_len ? tables : NULL, tables_len, tile, tile_len, denom,
				   1024, 1024, &t, &err) < 0)
		return;
	struct resample_image src = { .pixels = t->pixels, .width = t->width,
				      .height = t->height, .bands = t->bands, .stride = t->stride };
	struct resample_image dst = { .width = (t->width + 2) / 3, .height = (t->height + 1) / 2,
				      .bands = t->bands };
	dst.stride = (size_t)dst.width * (size_t)dst.bands;
	dst.pixels = malloc(dst.stride * (size_t)dst.height);
	void *out = NULL;
	size_t len = 0;
	if (dst.pixels &&
	    resample_image(&src, 0.5, 0.0, t->width, t->height, &dst) == 0)
		jpeg_codec_encode(dst.pixels, dst.width, dst.height, dst.bands, dst.stride, 80,
				  &out, &len, &err);
	free(out);
	free(dst.pixels);
	tile_cache_tile_free(t);
}

static void fuzz_render(const struct image_source *src, int64_t x, int64_t y, int64_t w,
			int64_t h, int64_t out_w)
{
	struct image_request req = { .format = IMAGE_FORMAT_JPG,
				     .quality = IMAGE_QUALITY_DEFAULT };
	w = w < src->width - x ? w : src->width - x;
	h = h < src->height - y ? h : src->height - y;
	if (w <= 0 || h <= 0 || out_w <= 0)
		return;
	int64_t out_h = h * out_w / w > 0 ? h * out_w / w : 1;
	struct image_geometry g = { .x = x, .y = y, .w = w, .h = h, .out_w = out_w,
				    .out_h = out_h };
	struct image_encode_options opt = { .jpeg_quality = 85, .tiles = fuzz_cache,
					    .direct = true };
	if (out_w * out_h > (1 << 20) || !render_tiff_applies(src, &req, &g, &opt))
		return;
	void *out = NULL;
	size_t len = 0;
	struct iiifd_error err = { 0 };
	if (render_tiff(src, &req, &g, &opt, &out, &len, &err) == 0)
		free(out);
}

static void fuzz_tiff(const uint8_t *data, size_t size)
{
	const char *path = fuzz_input_file("input.tif", data, size);
	struct image_source src;
	struct iiifd_error err = { 0 };
	if (!path || image_source_open(path, 0, &src, &err) < 0)
		return;
	if (src.width > 0 && src.height > 0 && src.width * src.height < (1 << 26)) {
		fuzz_render(&src, 0, 0, src.width, src.height, src.width > 64 ? 64 : src.width);
		fuzz_render(&src, src.width / 3, src.height / 3, src.width, src.height,
			    src.width / 2 > 0 ? src.width / 2 : 1);
		fuzz_render(&src, 1, 1, 37, 29, 37);
	}
	image_source_release(&src);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		if (VIPS_INIT("fuzz"))
			abort();
		fuzz_cache = tile_cache_new(4 << 20);
		ready = 1;
	}
	if (size >= 4 && (!memcmp(data, "II*\0", 4) || !memcmp(data, "MM\0*", 4)))
		fuzz_tiff(data, size);
	else
		fuzz_raw_tile(data, size);
	vips_error_clear();
	return 0;
}
